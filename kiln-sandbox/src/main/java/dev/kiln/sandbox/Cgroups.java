package dev.kiln.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Control groups: how the Linux driver gives an instance a hard ceiling on memory, a CPU quota and
 * a process count, learns that the kernel OOM-killed it, and kills every process in it at once.
 *
 * <p>Linux has two layouts. Version 1 has one hierarchy per controller ({@code
 * /sys/fs/cgroup/memory}, {@code .../cpu}, {@code .../pids}); older hosts and hybrid set-ups, such
 * as Debian 12 container images, have it. Version 2 has one unified hierarchy with every
 * controller; most current distributions have only it. {@link #detect()} finds which one holds the
 * controllers and returns the matching implementation.
 *
 * <p>Kiln never touches a group it did not make: instances' groups go under {@code kiln/<server
 * id>} below the group Kiln itself runs in (a sub-tree per server, named from its data directory,
 * so that two servers in one group keep apart), so Kiln works the same as root on a bare host,
 * inside a container and in a systemd unit with {@code Delegate=yes}. A controller Kiln cannot
 * write to (a normal user's Kiln without delegation) is simply not in force, and {@link
 * #enforced()} says so for the banner.
 */
public abstract class Cgroups {

  private static final Logger LOG = LoggerFactory.getLogger(Cgroups.class);

  /** The controllers Kiln limits instances with. */
  public static final List<String> CONTROLLERS = List.of("memory", "cpu", "pids");

  /** The controllers (of {@link #CONTROLLERS}) through which limits are in force. */
  public abstract Set<String> enforced();

  /** Short, for the banner: {@code cgroup v1 (memory, cpu, pids)}. */
  public abstract String describe();

  /** Makes the group of one instance, with its limits set, ready for its first process. */
  public abstract InstanceCgroup create(String instanceId, CgroupLimits limits) throws IOException;

  /** Removes this server's sub-tree, if its instances' groups are gone. */
  public abstract void close();

  /**
   * Kills and removes every instance group left in this server's sub-tree, as a start-up sweep
   * does: the sub-tree is this server's alone, so nothing of another server's is touched.
   */
  public abstract void reapAllLeftovers();

  /** The instance groups under {@code base}. */
  static List<String> groupsUnder(Path base) {
    try (var dirs = Files.list(base)) {
      return dirs.filter(Files::isDirectory).map(d -> d.getFileName().toString()).toList();
    } catch (IOException | UncheckedIOException e) {
      return List.of();
    }
  }

  /** Kills whatever is still running in the group of an instance an earlier Kiln left behind. */
  public abstract void reapLeftover(String instanceId);

  /** One instance's group. */
  public interface InstanceCgroup {

    /** The files a process writes its own pid to, to join the group before it execs. */
    List<Path> procsFiles();

    /** Whether the kernel killed a process of the group for going over its memory limit. */
    boolean oomKilled();

    /** Peak memory charged to the group, in bytes; 0 when the kernel does not record it. */
    long peakMemoryBytes();

    /**
     * Freezes ({@code true}) or thaws every process of the group; false when this host cannot
     * freeze it (no freezer).
     */
    boolean freeze(boolean frozen);

    /** Holds the group to its CPU quota; until then (while it initialises) it runs unthrottled. */
    void limitCpu(long quotaMicros);

    /**
     * SIGKILL to every process in the group, until none is left. Lifts the CPU quota first: a dying
     * process still needs CPU to exit, and a throttled one would take seconds.
     */
    void killAll();

    /** Removes the group; call once it is empty. */
    void remove();
  }

  /**
   * The cgroup layout of this host, or empty when there are no cgroups Kiln can use (not Linux, or
   * none of the controllers writable).
   *
   * @param serverId the name of this server's sub-tree
   */
  public static Optional<Cgroups> detect(String serverId) {
    try {
      Path unifiedRoot = Path.of("/sys/fs/cgroup");
      String self = Files.readString(Path.of("/proc/self/cgroup"));
      if (Files.exists(unifiedRoot.resolve("cgroup.controllers"))) {
        String path = groupPath(self, "").orElse("/");
        Cgroups v2 = new CgroupV2(unifiedRoot.resolve(path.substring(1)), serverId);
        return v2.enforced().isEmpty() ? Optional.empty() : Optional.of(v2);
      }
      Map<String, Path> own = new HashMap<>();
      for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
        V1Mount m = V1Mount.parse(line);
        if (m == null) {
          continue;
        }
        for (String controller : m.controllers()) {
          if (CONTROLLERS.contains(controller) || controller.equals("freezer")) {
            groupPath(self, String.join(",", m.controllers()))
                .ifPresent(p -> own.put(controller, m.dirOf(p)));
          }
        }
      }
      Cgroups v1 = new CgroupV1(own, serverId);
      return v1.enforced().isEmpty() ? Optional.empty() : Optional.of(v1);
    } catch (IOException | UncheckedIOException e) {
      LOG.debug("no cgroups: {}", e.toString());
      return Optional.empty();
    }
  }

  /**
   * The path of this process's group in the hierarchy {@code controllers} names (as in {@code
   * /proc/self/cgroup}: {@code 4:memory:/a/b}; the unified hierarchy is {@code 0::/a/b}).
   */
  static Optional<String> groupPath(String procSelfCgroup, String controllers) {
    for (String line : procSelfCgroup.split("\n")) {
      String[] parts = line.split(":", 3);
      if (parts.length == 3 && parts[1].equals(controllers)) {
        return Optional.of(parts[2].trim());
      }
    }
    return Optional.empty();
  }

  /** A cgroup v1 mount from {@code /proc/self/mountinfo}. */
  record V1Mount(Path mountPoint, String root, List<String> controllers) {

    static V1Mount parse(String line) {
      String[] halves = line.split(" - ", 2);
      if (halves.length != 2) {
        return null;
      }
      String[] left = halves[0].split(" ");
      String[] right = halves[1].split(" ");
      if (left.length < 5 || right.length < 3 || !right[0].equals("cgroup")) {
        return null;
      }
      List<String> controllers = new ArrayList<>();
      for (String option : right[2].split(",")) {
        if (!option.equals("rw") && !option.equals("ro") && !option.contains("=")) {
          controllers.add(option);
        }
      }
      return new V1Mount(Path.of(left[4]), left[3], List.copyOf(controllers));
    }

    /** The directory of group {@code path} under this mount, which may show a subtree only. */
    Path dirOf(String path) {
      String inside =
          !root.equals("/") && (path.equals(root) || path.startsWith(root + "/"))
              ? path.substring(root.length())
              : path;
      return inside.isEmpty() || inside.equals("/")
          ? mountPoint
          : mountPoint.resolve(inside.substring(1));
    }
  }

  // ---- small file helpers shared by both layouts ----

  static void write(Path file, String value) throws IOException {
    Files.writeString(file, value);
  }

  static Optional<String> read(Path file) {
    try {
      return Optional.of(Files.readString(file));
    } catch (IOException | UncheckedIOException e) {
      return Optional.empty();
    }
  }

  /** The number after {@code key} in a flat-keyed file such as {@code memory.events}. */
  static long keyed(Path file, String key) {
    for (String line : read(file).orElse("").split("\n")) {
      String[] kv = line.trim().split("\\s+");
      if (kv.length == 2 && kv[0].equals(key)) {
        try {
          return Long.parseLong(kv[1]);
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 0;
  }

  static long number(Path file) {
    try {
      return Long.parseLong(read(file).orElse("0").trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** SIGKILL to every pid listed in {@code procs}, round after round until it is empty. */
  static void killListed(Path procs) {
    for (int round = 0; round < 100 && signalListed(procs); round++) {
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** SIGKILL to every pid listed in {@code procs}, once; false when none was listed. */
  static boolean signalListed(Path procs) {
    String listed = read(procs).orElse("").trim();
    if (listed.isEmpty()) {
      return false;
    }
    for (String pid : listed.split("\\s+")) {
      ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
    }
    return true;
  }

  private static final ScheduledExecutorService CLEANER =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "kiln-cgroup-cleaner");
            t.setDaemon(true);
            return t;
          });

  /**
   * Removes a group directory. The kernel refuses while killed processes are still exiting (a big
   * or forking instance can take a while): a refusal is retried here for up to two seconds, then in
   * the background for a minute.
   */
  static void removeDir(Path dir) {
    for (int attempt = 0; attempt < 100; attempt++) {
      try {
        Files.deleteIfExists(dir);
        return;
      } catch (IOException e) {
        try {
          Thread.sleep(20);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    removeDir(dir, 0);
  }

  private static void removeDir(Path dir, int attempt) {
    try {
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      if (attempt < 600) {
        CLEANER.schedule(() -> removeDir(dir, attempt + 1), 100, TimeUnit.MILLISECONDS);
      } else {
        LOG.warn("could not remove cgroup {}: {}", dir, e.toString());
      }
    }
  }

  /** Makes {@code dir} if it is missing; reports whether it is there and Kiln may write in it. */
  static boolean makeWritable(Path dir) {
    try {
      Files.createDirectories(dir);
      return Files.isWritable(dir.resolve("cgroup.procs"));
    } catch (IOException | UncheckedIOException e) {
      return false;
    }
  }
}
