package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;

/**
 * Network namespaces and {@code /tmp} disks are made ahead of need in proportion to recent starts,
 * are counted in {@code kiln_sandbox_spares{part}}, and are kept for the next burst rather than
 * undone the moment the starts stop (docs/sandbox.md, "Spare parts").
 */
class SandboxSparesIT {

  @Test
  void partsAreMadeAheadAsStartsComeIn_countedInMetrics_andKeptForTheNextBurst() throws Exception {
    requireRootSandbox();
    Path dataDir;
    List<String> namespaces;
    // bubblewrap-started instances, which take mounted disks; a forked one mounts an image itself
    // (the last test)
    try (KilnFixture kiln =
        new KilnFixture(Duration.ofMinutes(5), ServerSettings.SandboxChoice.LINUX, false)) {
      dataDir = kiln.dataDir;
      // a quiet server keeps one of each
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                String scrape = MetricsIT.scrape(kiln);
                assertThat(spares(scrape, "network")).isEqualTo(1.0);
                assertThat(spares(scrape, "tmp_disk")).isEqualTo(1.0);
              });

      startTogether(kiln.lambda, List.of("s1", "s2", "s3", "s4", "s5"));
      // five starts at once: five of each are made ready for the next ones
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                String scrape = MetricsIT.scrape(kiln);
                assertThat(spares(scrape, "network")).isEqualTo(5.0);
                assertThat(spares(scrape, "tmp_disk")).isEqualTo(5.0);
              });
      // the gauge counts what is on the host: the five instances' namespaces and the five spares
      // are this server's, and so are their mounted disks
      Path sandbox = kiln.dataDir.resolve("sandbox");
      assertThat(entries(sandbox.resolve("netns"))).isEqualTo(10);
      assertThat(mountsUnder(sandbox.resolve("tmp-disks"))).isEqualTo(10);

      // well past the second in which the old count forgot them, they are still ready
      Thread.sleep(Duration.ofSeconds(13));
      String later = MetricsIT.scrape(kiln);
      assertThat(spares(later, "network")).as("kept for the next burst").isEqualTo(5.0);
      assertThat(spares(later, "tmp_disk")).as("kept for the next burst").isEqualTo(5.0);

      // the next start takes a ready one and one is made in its place
      kiln.python("s6", "def handler(event, context):\n    return 'ok'\n");
      assertThat(invoke(kiln.lambda, "s6")).isEqualTo("\"ok\"");
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> assertThat(spares(MetricsIT.scrape(kiln), "network")).isEqualTo(5.0));
      assertThat(entries(sandbox.resolve("netns"))).isEqualTo(11);
      namespaces = names(sandbox.resolve("netns"));
    }
    // a server that stops undoes everything it made: its instances' parts and its spares
    assertThat(namespaces).noneMatch(n -> Files.exists(Path.of("/run/netns", n)));
    assertThat(mountsUnder(dataDir)).isZero();
  }

  /**
   * The spares a Kiln killed with -9 held (five of each, after five starts at once) are swept at
   * its next start like its instances' parts: no namespace of the dead server stays on the host,
   * and the new one holds only what it made itself.
   */
  @Test
  void aServerKilledHoldingSpares_leavesNoneOfThemAfterItsNextStart() throws Exception {
    requireRootSandbox();
    Path data = dev.kiln.testing.TempDirs.create("kiln-spares-kill-");
    int port = ServerProcess.freePort();
    Path sandbox = data.resolve("sandbox");
    List<String> heldByTheDead;
    try (ServerProcess first = ServerProcess.start(data, port, "--sandbox", "linux");
        var lambda = KilnFixture.client(first)) {
      startTogether(lambda, List.of("k1", "k2", "k3", "k4", "k5"));
      // a namespace is recorded before it is made (so that a crash while it is made is swept):
      // the spares being made are counted once they exist
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                assertThat(entries(sandbox.resolve("netns"))).isEqualTo(10);
                assertThat(names(sandbox.resolve("netns")))
                    .allMatch(n -> Files.exists(Path.of("/run/netns", n)));
              });
      heldByTheDead = names(sandbox.resolve("netns"));
      first.process.destroyForcibly(); // SIGKILL: no shutdown hook undoes anything
      assertThat(first.process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    }
    assertThat(heldByTheDead)
        .as("what the killed server held is still on the host until something sweeps it")
        .allMatch(n -> Files.exists(Path.of("/run/netns", n)));

    try (ServerProcess second = ServerProcess.start(data, port, "--sandbox", "linux")) {
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                assertThat(heldByTheDead)
                    .as("the dead server's namespaces, instances' and spares' alike")
                    .noneMatch(n -> Files.exists(Path.of("/run/netns", n)));
                // a fresh server keeps one of each ready, and nothing else
                assertThat(entries(sandbox.resolve("netns"))).isEqualTo(1);
                assertThat(mountsUnder(sandbox.resolve("tmp-disks"))).isEqualTo(1);
              });
    }
  }

  /**
   * An instance forked from a zygote that finds no mounted spare disk gets its {@code /tmp} as an
   * image that its init mounts through a loop device of its own, inside the instance's mount
   * namespace only: the host shows no mount of it, and when the instance ends the kernel unmounts
   * it and frees the loop device, with nothing for Kiln to undo. (One that finds a spare ready
   * binds it, as bubblewrap does.)
   */
  @Test
  void aForkedInstancesTmp_isMountedOnlyInsideIt_andItsLoopDeviceGoesWithIt() throws Exception {
    requireRootSandbox();
    Path dataDir;
    try (KilnFixture kiln =
        new KilnFixture(Duration.ofMinutes(5), ServerSettings.SandboxChoice.LINUX, true)) {
      dataDir = kiln.dataDir;
      Path disks = dataDir.resolve("sandbox").resolve("tmp-disks");
      String code =
          "import os\n"
              + "def handler(event, context):\n"
              + "    with open('/tmp/note', 'w') as f:\n"
              + "        f.write('x' * 4096)\n"
              + "    line = [l for l in open('/proc/self/mountinfo') if l.split()[4] == '/tmp'][0]\n"
              + "    s = os.statvfs('/tmp')\n"
              + "    return {'source': line.split(' - ')[1].split()[:2],\n"
              + "            'mb': s.f_blocks * s.f_frsize // (1024 * 1024)}\n";
      List<String> functions = List.of("t1", "t2", "t3", "t4");
      for (String name : functions) {
        kiln.python(name, code);
      }
      for (String answer : invokeTogether(kiln.lambda, functions)) {
        assertThat(answer)
            .as("its /tmp is an ext4 disk on a loop device")
            .contains("[\"ext4\", \"/dev/loop");
        int mb = Integer.parseInt(answer.replaceAll(".*\"mb\": (\\d+).*", "$1"));
        assertThat(mb)
            .as("the function's EphemeralStorage, 512 MB, and ext4's metadata")
            .isBetween(512, 540);
      }
      // four starts at once, one spare ready: at least two of them mounted images themselves
      assertThat(loopsBackedUnder(dataDir) - mountsUnder(disks))
          .as("loop devices mounted only inside instances")
          .isGreaterThanOrEqualTo(2);
    }
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(loopsBackedUnder(dataDir))
                    .as("the loop devices are freed with the instances and the spares")
                    .isZero());
    assertThat(mountsUnder(dataDir)).isZero();
  }

  /**
   * Starts that find no spare namespace get only its host's side made (one {@code ip} run shared by
   * the starts waiting together); the inside is set up by bubblewrap's start with an {@code ip} run
   * of its own, or by a forked instance's init: either way the instance sees the same network as
   * one started on a spare (its address on eth0, lo up, a permanent neighbour entry for the host's
   * end, and a default route only when it may reach beyond the host).
   */
  @Test
  void startsThatFindNoSpare_seeTheSameNetworkInside_forkedOrNot() throws Exception {
    requireRootSandbox();
    try (KilnFixture kiln =
        new KilnFixture(Duration.ofMinutes(5), ServerSettings.SandboxChoice.LINUX, true)) {
      String code =
          "import socket\n"
              + "def handler(event, context):\n"
              + "    routes = [l.split() for l in open('/proc/net/route').readlines()[1:]]\n"
              + "    arp = [l.split() for l in open('/proc/net/arp').readlines()[1:]]\n"
              + "    s = socket.socket()\n"
              + "    s.bind(('127.0.0.1', 0))\n"
              + "    s.listen(1)\n"
              + "    socket.create_connection(s.getsockname(), timeout=2).close()\n"
              + "    return {'default': any(r[1] == '00000000' for r in routes),\n"
              + "            'eth0': any(r[0] == 'eth0' for r in routes),\n"
              + "            'neighbours': [[a[0], a[2], a[5]] for a in arp]}\n";
      List<String> names = List.of("f1", "f2", "f3", "offline", "b1", "b2", "b3");
      for (String name : names) {
        kiln.lambda.createFunction(
            b ->
                b.functionName(name)
                    .runtime(software.amazon.awssdk.services.lambda.model.Runtime.PYTHON3_12)
                    .handler("app.handler")
                    .role(KilnFixture.ROLE)
                    .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of("app.py", code))))
                    // a variable Python reads only at start: bubblewrap starts these
                    .environment(
                        e ->
                            e.variables(
                                name.startsWith("b")
                                    ? java.util.Map.of("PYTHONHASHSEED", "0")
                                    : java.util.Map.of()))
                    .tags(
                        name.equals("offline")
                            ? java.util.Map.of("kiln:outbound-network", "off")
                            : java.util.Map.of()));
      }
      List<String> answers = invokeTogether(kiln.lambda, names);
      for (int i = 0; i < names.size(); i++) {
        String name = names.get(i);
        String answer = answers.get(i);
        assertThat(answer).as(name).contains("\"eth0\": true");
        assertThat(answer)
            .as(name + ": the host's end, known from the start")
            .containsPattern("\\[\\[\"169\\.254\\.[0-9.]+\", \"0x6\", \"eth0\"\\]\\]");
        assertThat(answer)
            .as(name + ": a default route unless it is tagged offline")
            .contains(name.equals("offline") ? "\"default\": false" : "\"default\": true");
      }
      assertThat(MetricsIT.value(MetricsIT.scrape(kiln), "kiln_zygotes")).isGreaterThanOrEqualTo(1);
    }
  }

  /** Loop devices whose backing file is under {@code dir} (deleted or not). */
  private static long loopsBackedUnder(Path dir) throws java.io.IOException {
    String prefix = dir.toAbsolutePath() + "/";
    long n = 0;
    try (var devices = Files.newDirectoryStream(Path.of("/sys/block"), "loop*")) {
      for (Path device : devices) {
        try {
          if (Files.readString(device.resolve("loop/backing_file")).startsWith(prefix)) {
            n++;
          }
        } catch (java.nio.file.NoSuchFileException notAttached) {
          // a free loop device has no backing file
        }
      }
    }
    return n;
  }

  private static void requireRootSandbox() {
    boolean root = ProcessHandle.current().info().user().map("root"::equals).orElse(false);
    if (!root || Tools.find("bwrap").isEmpty() || Tools.find("ip").isEmpty()) {
      if (Boolean.getBoolean("kiln.requireTools")) {
        throw new AssertionError("CI runs as root with bubblewrap and iproute2; here root=" + root);
      }
      Assumptions.abort("spare parts need the Linux sandbox as root");
    }
  }

  private static List<String> names(Path dir) throws java.io.IOException {
    try (var files = Files.list(dir)) {
      return files.map(f -> f.getFileName().toString()).toList();
    }
  }

  private static double spares(String scrape, String part) {
    return MetricsIT.value(scrape, "kiln_sandbox_spares{part=\"" + part + "\"}");
  }

  /** Makes a Python function of each name and invokes them all at once: as many cold starts. */
  private static void startTogether(
      software.amazon.awssdk.services.lambda.LambdaClient lambda, List<String> functions)
      throws Exception {
    for (String name : functions) {
      KilnFixture.python(lambda, name, "def handler(event, context):\n    return 'ok'\n");
    }
    assertThat(invokeTogether(lambda, functions)).containsOnly("\"ok\"");
  }

  /** Invokes every one of {@code functions} at once; their answers, in the same order. */
  private static List<String> invokeTogether(
      software.amazon.awssdk.services.lambda.LambdaClient lambda, List<String> functions)
      throws Exception {
    try (var calls = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      var sent = functions.stream().map(f -> calls.submit(() -> invoke(lambda, f))).toList();
      List<String> answers = new java.util.ArrayList<>();
      for (var answer : sent) {
        answers.add(answer.get());
      }
      return answers;
    }
  }

  private static String invoke(
      software.amazon.awssdk.services.lambda.LambdaClient lambda, String function) {
    InvokeResponse r =
        lambda.invoke(b -> b.functionName(function).payload(SdkBytes.fromUtf8String("{}")));
    assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
    return r.payload().asUtf8String();
  }

  private static long entries(Path dir) throws java.io.IOException {
    try (var files = Files.list(dir)) {
      return files.count();
    }
  }

  private static long mountsUnder(Path dir) throws java.io.IOException {
    String prefix = " " + dir.toAbsolutePath() + "/";
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .filter(l -> l.contains(prefix))
        .count();
  }
}
