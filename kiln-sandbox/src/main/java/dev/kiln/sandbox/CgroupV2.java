package dev.kiln.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cgroup v2: one unified hierarchy. An instance has one group with {@code memory.max}, {@code
 * memory.swap.max}, {@code cpu.max} and {@code pids.max}, and {@code cgroup.kill} ends it at once.
 *
 * <p>Version 2 lets only leaf groups hold processes once their parent hands controllers down. So
 * when Kiln's own group is not the root, Kiln first moves its own processes into a leaf {@code
 * kiln-server} beside the instances' parent {@code kiln}, then enables the controllers for both
 * levels: the layout systemd expects of a unit with {@code Delegate=yes}.
 *
 * <p>Below {@code kiln} each server has a sub-tree of its own, {@code kiln/<server id>} (see {@link
 * LinuxSandboxDriver#serverId}), so that two Kiln servers started in one group never see, reap or
 * remove each other's instances' groups.
 */
final class CgroupV2 extends Cgroups {

  private static final Logger LOG = LoggerFactory.getLogger(CgroupV2.class);

  private final Path base;
  private final Set<String> enforced = new LinkedHashSet<>();

  /**
   * @param own the directory of the group Kiln runs in
   * @param serverId the name of this server's sub-tree below {@code kiln}
   */
  CgroupV2(Path own, String serverId) {
    Path shared = own.resolve("kiln");
    this.base = shared.resolve(serverId);
    Set<String> available =
        Set.of(read(own.resolve("cgroup.controllers")).orElse("").trim().split("\\s+"));
    List<String> wanted = CONTROLLERS.stream().filter(available::contains).toList();
    try {
      if (!wanted.isEmpty()) {
        if (!read(own.resolve("cgroup.procs")).orElse("").isBlank()
            && Files.exists(own.resolve("cgroup.type"))) {
          // a group with processes cannot hand controllers down: move Kiln into a leaf first
          Path server = own.resolve("kiln-server");
          Files.createDirectories(server);
          for (String pid : read(own.resolve("cgroup.procs")).orElse("").trim().split("\\s+")) {
            try {
              write(server.resolve("cgroup.procs"), pid);
            } catch (IOException e) {
              // exited meanwhile, or a kernel thread
            }
          }
        }
        enable(own, wanted);
        Files.createDirectories(shared);
        enable(shared, wanted);
        Files.createDirectories(base);
        enable(base, wanted);
        Set<String> delegated =
            Set.of(
                read(base.resolve("cgroup.subtree_control"))
                    .orElse("")
                    .replace("+", "")
                    .trim()
                    .split("\\s+"));
        wanted.stream().filter(delegated::contains).forEach(enforced::add);
      }
    } catch (IOException e) {
      LOG.debug("cgroup v2 group {} is not ours to use: {}", own, e.toString());
    }
  }

  private static void enable(Path group, List<String> controllers) throws IOException {
    StringBuilder line = new StringBuilder();
    controllers.forEach(c -> line.append(line.isEmpty() ? "" : " ").append('+').append(c));
    write(group.resolve("cgroup.subtree_control"), line.toString());
  }

  @Override
  public Set<String> enforced() {
    return Set.copyOf(enforced);
  }

  @Override
  public String describe() {
    return "cgroup v2 (" + String.join(", ", enforced) + ")";
  }

  @Override
  public void close() {
    try {
      Files.deleteIfExists(base); // this server's sub-tree; the shared parent may be in use
    } catch (IOException e) {
      LOG.debug("could not remove {}: {}", base, e.toString());
    }
  }

  @Override
  public InstanceCgroup create(String instanceId, CgroupLimits limits) throws IOException {
    Path dir = base.resolve(instanceId);
    Files.createDirectories(dir);
    if (enforced.contains("memory")) {
      write(dir.resolve("memory.max"), Long.toString(limits.memoryBytes()));
      if (Files.exists(dir.resolve("memory.swap.max"))) {
        write(dir.resolve("memory.swap.max"), "0");
      }
    }
    if (enforced.contains("pids")) {
      write(dir.resolve("pids.max"), Integer.toString(limits.maxProcesses()));
    }
    return new Group(dir);
  }

  @Override
  public void reapAllLeftovers() {
    groupsUnder(base).forEach(this::reapLeftover);
  }

  @Override
  public void reapLeftover(String instanceId) {
    Path dir = base.resolve(instanceId);
    if (Files.isDirectory(dir)) {
      Group g = new Group(dir);
      g.killAll();
      g.remove();
    }
  }

  private record Group(Path dir) implements InstanceCgroup {

    @Override
    public List<Path> procsFiles() {
      return List.of(dir.resolve("cgroup.procs"));
    }

    @Override
    public boolean oomKilled() {
      return keyed(dir.resolve("memory.events"), "oom_kill") > 0;
    }

    @Override
    public long peakMemoryBytes() {
      // memory.peak is there from Linux 5.19
      return number(dir.resolve("memory.peak"));
    }

    @Override
    public boolean freeze(boolean frozen) {
      try {
        write(dir.resolve("cgroup.freeze"), frozen ? "1" : "0");
        return true;
      } catch (IOException e) {
        return false;
      }
    }

    @Override
    public void limitCpu(long quotaMicros) {
      setMax(quotaMicros + " " + CgroupLimits.CPU_PERIOD_MICROS);
    }

    private void setMax(String max) {
      if (Files.exists(dir.resolve("cpu.max"))) {
        try {
          write(dir.resolve("cpu.max"), max);
        } catch (IOException e) {
          // the group is gone: nothing left to limit
        }
      }
    }

    @Override
    public void killAll() {
      setMax("max " + CgroupLimits.CPU_PERIOD_MICROS);
      Path kill = dir.resolve("cgroup.kill");
      if (Files.exists(kill)) {
        try {
          write(kill, "1");
        } catch (IOException e) {
          // fall through to killing one by one
        }
      }
      killListed(dir.resolve("cgroup.procs"));
    }

    @Override
    public void remove() {
      removeDir(dir);
    }
  }
}
