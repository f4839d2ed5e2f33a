package dev.kiln.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Cgroup v1: one hierarchy per controller, so an instance has one group in each of the memory, cpu
 * and pids hierarchies (and the freezer's, to stop a fork bomb while it is killed), and its
 * processes join all of them.
 */
final class CgroupV1 extends Cgroups {

  /** Controller name to the directory under which Kiln makes instances' groups. */
  private final Map<String, Path> bases = new LinkedHashMap<>();

  /**
   * @param ownGroups controller name to the directory of the group Kiln runs in
   * @param serverId the name of this server's sub-tree below {@code kiln} in each hierarchy
   */
  CgroupV1(Map<String, Path> ownGroups, String serverId) {
    for (String controller : List.of("memory", "cpu", "pids", "freezer")) {
      Path own = ownGroups.get(controller);
      if (own != null && makeWritable(own.resolve("kiln").resolve(serverId))) {
        bases.put(controller, own.resolve("kiln").resolve(serverId));
      }
    }
  }

  @Override
  public void close() {
    for (Path base : bases.values()) {
      try {
        Files.deleteIfExists(base); // this server's sub-tree; the shared parent may be in use
      } catch (IOException e) {
        // an instance's group is still there; the next start of this server reuses the sub-tree
      }
    }
  }

  @Override
  public Set<String> enforced() {
    Set<String> out = new LinkedHashSet<>(bases.keySet());
    out.retainAll(CONTROLLERS);
    return out;
  }

  @Override
  public String describe() {
    return "cgroup v1 (" + String.join(", ", enforced()) + ")";
  }

  @Override
  public InstanceCgroup create(String instanceId, CgroupLimits limits) throws IOException {
    Map<String, Path> dirs = new LinkedHashMap<>();
    for (Map.Entry<String, Path> e : bases.entrySet()) {
      Path dir = e.getValue().resolve(instanceId);
      Files.createDirectories(dir);
      dirs.put(e.getKey(), dir);
    }
    Path memory = dirs.get("memory");
    if (memory != null) {
      write(memory.resolve("memory.limit_in_bytes"), Long.toString(limits.memoryBytes()));
      // with swap the instance could use more than its memory: the swap limit counts both
      Path memsw = memory.resolve("memory.memsw.limit_in_bytes");
      if (Files.exists(memsw)) {
        write(memsw, Long.toString(limits.memoryBytes()));
      }
    }
    Path cpu = dirs.get("cpu");
    if (cpu != null) {
      write(cpu.resolve("cpu.cfs_period_us"), Long.toString(CgroupLimits.CPU_PERIOD_MICROS));
    }
    Path pids = dirs.get("pids");
    if (pids != null) {
      write(pids.resolve("pids.max"), Integer.toString(limits.maxProcesses()));
    }
    return new Group(dirs);
  }

  @Override
  public void reapAllLeftovers() {
    java.util.Set<String> ids = new java.util.TreeSet<>();
    bases.values().forEach(base -> ids.addAll(groupsUnder(base)));
    ids.forEach(this::reapLeftover);
  }

  @Override
  public void reapLeftover(String instanceId) {
    Map<String, Path> dirs = new LinkedHashMap<>();
    bases.forEach(
        (controller, base) -> {
          if (Files.isDirectory(base.resolve(instanceId))) {
            dirs.put(controller, base.resolve(instanceId));
          }
        });
    Group g = new Group(dirs);
    g.killAll();
    g.remove();
  }

  private record Group(Map<String, Path> dirs) implements InstanceCgroup {

    @Override
    public List<Path> procsFiles() {
      List<Path> out = new ArrayList<>();
      dirs.values().forEach(d -> out.add(d.resolve("cgroup.procs")));
      return out;
    }

    @Override
    public boolean oomKilled() {
      Path memory = dirs.get("memory");
      if (memory == null) {
        return false;
      }
      Path control = memory.resolve("memory.oom_control");
      // kernels before 4.13 do not count OOM kills; there a failed charge is the best sign
      return read(control).orElse("").contains("oom_kill ")
          ? keyed(control, "oom_kill") > 0
          : number(memory.resolve("memory.failcnt")) > 0;
    }

    @Override
    public long peakMemoryBytes() {
      Path memory = dirs.get("memory");
      return memory == null ? 0 : number(memory.resolve("memory.max_usage_in_bytes"));
    }

    @Override
    public boolean freeze(boolean frozen) {
      Path freezer = dirs.get("freezer");
      if (freezer == null) {
        return false;
      }
      try {
        write(freezer.resolve("freezer.state"), frozen ? "FROZEN" : "THAWED");
        return true;
      } catch (IOException e) {
        return false;
      }
    }

    @Override
    public void limitCpu(long quotaMicros) {
      setQuota(Long.toString(quotaMicros));
    }

    private void setQuota(String quota) {
      Path cpu = dirs.get("cpu");
      if (cpu != null) {
        try {
          write(cpu.resolve("cpu.cfs_quota_us"), quota);
        } catch (IOException e) {
          // the group is gone: nothing left to limit
        }
      }
    }

    @Override
    public void killAll() {
      setQuota("-1");
      // any hierarchy lists every process of the instance, since each joined all of them
      Path freezer = dirs.get("freezer");
      Path listing =
          dirs.values().stream().findFirst().map(d -> d.resolve("cgroup.procs")).orElse(null);
      if (listing == null) {
        return;
      }
      if (freezer != null) {
        // frozen, nothing can fork while its siblings are being killed; the kills land on thaw
        try {
          write(freezer.resolve("freezer.state"), "FROZEN");
          signalListed(listing);
        } catch (IOException e) {
          // no freezer after all: the rounds below still get everything
        } finally {
          try {
            write(freezer.resolve("freezer.state"), "THAWED");
          } catch (IOException e) {
            // the group is gone already
          }
        }
      }
      killListed(listing);
    }

    @Override
    public void remove() {
      dirs.values().forEach(Cgroups::removeDir);
    }
  }
}
