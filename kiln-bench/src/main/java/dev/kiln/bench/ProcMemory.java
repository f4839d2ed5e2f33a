package dev.kiln.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What Linux's {@code /proc} and cgroup file systems say about processes' memory, for the density
 * suite. Read from outside, so it works for processes in other pid namespaces (a sandboxed
 * instance's runtime is visible in the host's {@code /proc} under its host pid) and costs the
 * measured processes nothing.
 *
 * <ul>
 *   <li><b>RSS</b> ({@code VmRSS} in {@code /proc/<pid>/status}): the pages a process has resident,
 *       shared ones included, so summing it over processes counts a shared library once per
 *       process. It is what {@code ps} and {@code top} show.
 *   <li><b>PSS</b> ({@code Pss} in {@code /proc/<pid>/smaps_rollup}): the same with every shared
 *       page divided among the processes that map it, so a sum over processes is the memory they
 *       really take together. This is the figure to multiply by an instance count.
 *   <li><b>cgroup usage</b> ({@code memory.usage_in_bytes} in v1, {@code memory.current} in v2):
 *       what the kernel charges the group: every page once, page cache and kernel memory included.
 * </ul>
 */
final class ProcMemory {

  private static final Path PROC = Path.of("/proc");
  private static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");

  private ProcMemory() {}

  /** Resident set size in bytes; 0 when the process is gone. */
  static long rssBytes(long pid) {
    return kibField(PROC.resolve(pid + "/status"), "VmRSS:");
  }

  /** Proportional set size in bytes; 0 when the process is gone or the kernel has no rollup. */
  static long pssBytes(long pid) {
    return kibField(PROC.resolve(pid + "/smaps_rollup"), "Pss:");
  }

  /** The number of threads of a process. */
  static long threads(long pid) {
    return field(PROC.resolve(pid + "/status"), "Threads:");
  }

  /** {@code MemAvailable} of {@code /proc/meminfo}: what the host can still give, in bytes. */
  static long memAvailableBytes() {
    return kibField(PROC.resolve("meminfo"), "MemAvailable:");
  }

  /** The command name of a process ({@code /proc/<pid>/comm}), or "" when it is gone. */
  static String comm(long pid) {
    try {
      return Files.readString(PROC.resolve(pid + "/comm")).strip();
    } catch (IOException e) {
      return "";
    }
  }

  /**
   * The command line of a process ({@code /proc/<pid>/cmdline}, arguments separated by NULs), or ""
   * when it is gone.
   */
  static String cmdline(long pid) {
    try {
      return Files.readString(PROC.resolve(pid + "/cmdline"));
    } catch (IOException e) {
      return "";
    }
  }

  /** Every living descendant of a process (children, their children, ...), found by parent pid. */
  static List<Long> descendants(long root) {
    Map<Long, List<Long>> children = new HashMap<>();
    try (var dirs = Files.list(PROC)) {
      for (Path dir : dirs.toList()) {
        String name = dir.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) {
          continue;
        }
        long parent = parentPid(dir);
        if (parent > 0) {
          children.computeIfAbsent(parent, p -> new ArrayList<>()).add(Long.parseLong(name));
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot list /proc", e);
    }
    List<Long> found = new ArrayList<>();
    List<Long> todo = new ArrayList<>(List.of(root));
    while (!todo.isEmpty()) {
      for (long child : children.getOrDefault(todo.remove(todo.size() - 1), List.of())) {
        found.add(child);
        todo.add(child);
      }
    }
    return found;
  }

  /**
   * The memory cgroup of a process as a directory of the cgroup file system, when the process is in
   * one: from the {@code memory} line of {@code /proc/<pid>/cgroup} (v1) or its {@code 0::} line
   * (v2, the unified hierarchy).
   */
  static Optional<Path> memoryCgroup(long pid) {
    try {
      for (String line : Files.readAllLines(PROC.resolve(pid + "/cgroup"))) {
        String[] parts = line.split(":", 3);
        if (parts.length < 3) {
          continue;
        }
        boolean v1Memory = List.of(parts[1].split(",")).contains("memory");
        Path dir =
            v1Memory
                ? CGROUP_ROOT.resolve("memory").resolve(parts[2].substring(1))
                : CGROUP_ROOT.resolve(parts[2].substring(1));
        if ((v1Memory && Files.exists(dir.resolve("memory.usage_in_bytes")))
            || (parts[0].equals("0") && Files.exists(dir.resolve("memory.current")))) {
          return Optional.of(dir);
        }
      }
    } catch (IOException e) {
      // the process is gone
    }
    return Optional.empty();
  }

  /** What the kernel charges a memory cgroup now, in bytes (v1 or v2). */
  static long cgroupUsageBytes(Path dir) {
    for (String file : List.of("memory.usage_in_bytes", "memory.current")) {
      try {
        return Long.parseLong(Files.readString(dir.resolve(file)).strip());
      } catch (IOException | NumberFormatException e) {
        // not this version's file
      }
    }
    return 0;
  }

  /** The parent pid of a living process; -1 when it is gone. */
  static long parent(long pid) {
    return parentPid(PROC.resolve(Long.toString(pid)));
  }

  private static long parentPid(Path procDir) {
    try {
      String stat = Files.readString(procDir.resolve("stat"));
      // pid (comm) state ppid ...; comm may hold spaces and parentheses, so parse after the last
      // ')'
      String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(after[1]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private static long kibField(Path file, String key) {
    return field(file, key) * 1024;
  }

  private static long field(Path file, String key) {
    try {
      for (String line : Files.readAllLines(file)) {
        if (line.startsWith(key)) {
          return Long.parseLong(line.substring(key.length()).strip().split("\\s+")[0]);
        }
      }
    } catch (IOException | NumberFormatException e) {
      // the process is gone, or this kernel has no such field
    }
    return 0;
  }
}
