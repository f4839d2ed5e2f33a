package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class CgroupsTest {

  @Test
  void cpu_isInProportionToMemory_oneVcpuAt1769Mb() {
    assertThat(CgroupLimits.forMemory(1769).cpuQuotaMicros()).isEqualTo(100_000);
    assertThat(CgroupLimits.forMemory(128).cpuQuotaMicros()).isEqualTo(7_236);
    assertThat(CgroupLimits.forMemory(3538).vcpus()).isEqualTo(2.0);
    assertThat(CgroupLimits.forMemory(10240).vcpus()).isBetween(5.78, 5.79);
    assertThat(CgroupLimits.forMemory(128).memoryBytes()).isEqualTo(128L << 20);
    assertThat(CgroupLimits.forMemory(128).maxProcesses()).isEqualTo(1024);
  }

  @Test
  void groupPath_isReadPerHierarchy() {
    String self = "4:memory:/process_api/abc\n1:cpu,cpuacct:/\n0::/user.slice/kiln.service\n";
    assertThat(Cgroups.groupPath(self, "memory")).contains("/process_api/abc");
    assertThat(Cgroups.groupPath(self, "cpu,cpuacct")).contains("/");
    assertThat(Cgroups.groupPath(self, "")).contains("/user.slice/kiln.service");
    assertThat(Cgroups.groupPath(self, "pids")).isEmpty();
  }

  @Test
  void v1Mounts_areParsedFromMountinfo() {
    Cgroups.V1Mount m =
        Cgroups.V1Mount.parse(
            "35 25 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct");
    assertThat(m.controllers()).containsExactly("cpu", "cpuacct");
    assertThat(m.dirOf("/a/b")).isEqualTo(Path.of("/sys/fs/cgroup/cpu,cpuacct/a/b"));
    assertThat(m.dirOf("/")).isEqualTo(Path.of("/sys/fs/cgroup/cpu,cpuacct"));
    // a container sees its own subtree mounted as the root
    Cgroups.V1Mount sub =
        Cgroups.V1Mount.parse(
            "35 25 0:30 /docker/x /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory");
    assertThat(sub.dirOf("/docker/x/kiln")).isEqualTo(Path.of("/sys/fs/cgroup/memory/kiln"));
    assertThat(Cgroups.V1Mount.parse("22 1 0:21 / /proc rw - proc proc rw")).isNull();
  }

  /** A directory laid out like a delegated cgroup v2 group, as far as Kiln reads and writes it. */
  static Path fakeV2Group() throws Exception {
    Path own = Files.createTempDirectory("kiln-cgroup-");
    Files.writeString(own.resolve("cgroup.controllers"), "cpuset cpu io memory pids\n");
    Files.writeString(own.resolve("cgroup.procs"), "");
    Files.writeString(own.resolve("cgroup.subtree_control"), "");
    Path kiln = Files.createDirectories(own.resolve("kiln"));
    // the kernel echoes enabled controllers back without the +
    Files.writeString(kiln.resolve("cgroup.subtree_control"), "cpu memory pids");
    return own;
  }

  @Test
  void v2_setsMemoryAndProcessLimits_thenTheCpuQuotaOnceInitialised() throws Exception {
    Path own = fakeV2Group();
    CgroupV2 v2 = new CgroupV2(own, "s1");
    assertThat(v2.enforced()).containsExactlyInAnyOrder("memory", "cpu", "pids");
    assertThat(Files.readString(own.resolve("cgroup.subtree_control")))
        .isEqualTo("+memory +cpu +pids");
    Path dir = own.resolve("kiln/s1/i1");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("memory.swap.max"), "max");
    Files.writeString(dir.resolve("cpu.max"), "max 100000");
    Cgroups.InstanceCgroup g = v2.create("i1", CgroupLimits.forMemory(128));
    assertThat(Files.readString(dir.resolve("memory.max"))).isEqualTo(Long.toString(128L << 20));
    assertThat(Files.readString(dir.resolve("memory.swap.max"))).isEqualTo("0");
    assertThat(Files.readString(dir.resolve("pids.max"))).isEqualTo("1024");
    assertThat(Files.readString(dir.resolve("cpu.max")))
        .as("initialisation runs unthrottled")
        .isEqualTo("max 100000");
    g.limitCpu(7236);
    assertThat(Files.readString(dir.resolve("cpu.max"))).isEqualTo("7236 100000");
    assertThat(g.procsFiles()).containsExactly(dir.resolve("cgroup.procs"));
  }

  @Test
  void v2_tellsAnOomKillFromMemoryEvents() throws Exception {
    Path own = fakeV2Group();
    Cgroups.InstanceCgroup g = new CgroupV2(own, "s1").create("i2", CgroupLimits.forMemory(256));
    Path events = own.resolve("kiln/s1/i2/memory.events");
    Files.writeString(events, "low 0\nhigh 0\nmax 12\noom 1\noom_kill 0\n");
    assertThat(g.oomKilled()).isFalse();
    Files.writeString(events, "low 0\nhigh 0\nmax 40\noom 2\noom_kill 1\n");
    assertThat(g.oomKilled()).isTrue();
  }

  @Test
  void v2_withoutDelegatedControllers_enforcesNothing() throws Exception {
    Path own = Files.createTempDirectory("kiln-cgroup-");
    Files.writeString(own.resolve("cgroup.controllers"), "");
    assertThat(new CgroupV2(own, "s1").enforced()).isEmpty();
  }

  @Test
  void twoServersInOneGroup_eachHaveASubTreeOfTheirOwn() throws Exception {
    Path own = fakeV2Group();
    CgroupV2 a = new CgroupV2(own, "aaaa0001");
    CgroupV2 b = new CgroupV2(own, "bbbb0002");
    Cgroups.InstanceCgroup ga = a.create("same-id", CgroupLimits.forMemory(128));
    Cgroups.InstanceCgroup gb = b.create("same-id", CgroupLimits.forMemory(256));
    assertThat(ga.procsFiles()).containsExactly(own.resolve("kiln/aaaa0001/same-id/cgroup.procs"));
    assertThat(gb.procsFiles()).containsExactly(own.resolve("kiln/bbbb0002/same-id/cgroup.procs"));
    assertThat(Files.readString(own.resolve("kiln/bbbb0002/same-id/memory.max")))
        .isEqualTo(Long.toString(256L << 20));
    // a's sweep of its leftovers does not reach b's instance (a real group would be removed; this
    // fake one holds files, so only b's side is checked)
    a.reapLeftover("same-id");
    assertThat(own.resolve("kiln/bbbb0002/same-id")).isDirectory();
    a.reapAllLeftovers();
    assertThat(Files.readString(own.resolve("kiln/bbbb0002/same-id/memory.max")))
        .as("a's sweep of everything it left leaves b's groups as they were")
        .isEqualTo(Long.toString(256L << 20));
  }

  @Test
  void serverId_isShortStableAndPerDataDirectory() throws Exception {
    Path one = Files.createTempDirectory("kiln-data-").resolve("sandbox");
    Path two = Files.createTempDirectory("kiln-data-").resolve("sandbox");
    String id = LinuxSandboxDriver.serverId(one);
    assertThat(id).matches("[0-9a-f]{8}");
    assertThat(LinuxSandboxDriver.serverId(one.getParent().resolve("./sandbox"))).isEqualTo(id);
    assertThat(LinuxSandboxDriver.serverId(two)).isNotEqualTo(id);
  }
}
