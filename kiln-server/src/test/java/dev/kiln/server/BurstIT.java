package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A burst to a cold function: 30 simultaneous calls with no instance yet all succeed (each on a
 * warm or a new instance), and once the function is gone nothing of its instances is left: no
 * process, no instance directory, no {@code /tmp} disk or network namespace beyond the one spare of
 * each kept ready, and none at all once the server has stopped. Counted, as {@link LifecycleLeakIT}
 * counts.
 */
class BurstIT {

  static final int CALLS = 30;

  static final String MARKER = "4245";

  static final String CODE =
      "import subprocess\n"
          + "helper = subprocess.Popen(['sleep', '"
          + MARKER
          + "'])\n"
          + "def handler(e, c):\n    return 'ok'\n";

  static long helpers() {
    return Processes.withArgument(MARKER).size();
  }

  static long entries(Path dir) throws Exception {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (var files = Files.list(dir)) {
      return files.count();
    }
  }

  /** Mounts (the loop-mounted {@code /tmp} disks) under the server's data directory. */
  static long mountsUnder(Path dataDir) throws Exception {
    String prefix = " " + dataDir.toAbsolutePath();
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .filter(l -> l.contains(prefix))
        .count();
  }

  @Test
  void thirtySimultaneousCallsToAColdFunction_allSucceed_andLeaveNothingBehind() throws Exception {
    Path dataDir;
    try (KilnFixture kiln = new KilnFixture()) {
      dataDir = kiln.dataDir;
      Path sandbox = dataDir.resolve("sandbox");
      kiln.python("burst", CODE);
      ExecutorService threads = Executors.newFixedThreadPool(CALLS);
      CountDownLatch go = new CountDownLatch(1);
      List<CompletableFuture<String>> calls = new ArrayList<>();
      for (int i = 0; i < CALLS; i++) {
        calls.add(
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    go.await();
                  } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                  }
                  var r = kiln.lambda.invoke(b -> b.functionName("burst"));
                  return r.statusCode()
                      + " "
                      + r.functionError()
                      + " "
                      + r.payload().asUtf8String();
                },
                threads));
      }
      go.countDown();
      List<String> answers = calls.stream().map(CompletableFuture::join).toList();
      threads.shutdown();
      assertThat(answers).hasSize(CALLS).allMatch(a -> a.equals("200 null \"ok\""));
      assertThat(kiln.server.invoker().instanceCount()).isBetween(1, CALLS);
      if (Files.isDirectory(sandbox.resolve("tmp-disks"))) {
        // the Linux sandbox: the counts below count real disks and namespaces
        assertThat(mountsUnder(dataDir)).as("the instances' disks, mounted").isPositive();
        assertThat(entries(sandbox.resolve("netns"))).as("their namespaces").isPositive();
      }

      kiln.lambda.deleteFunction(b -> b.functionName("burst"));
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                assertThat(helpers()).as("processes").isZero();
                assertThat(kiln.server.invoker().instanceCount()).isZero();
                assertThat(entries(dataDir.resolve("instances"))).as("instance dirs").isZero();
                // what is left is the spares kept ready for the next burst, as /metrics counts
                // them (kiln_sandbox_spares; they shrink back to one after five quiet minutes)
                String scrape = MetricsIT.scrape(kiln);
                long spareDisks =
                    (long)
                        Math.max(
                            0, MetricsIT.value(scrape, "kiln_sandbox_spares{part=\"tmp_disk\"}"));
                long spareNetworks =
                    (long)
                        Math.max(
                            0, MetricsIT.value(scrape, "kiln_sandbox_spares{part=\"network\"}"));
                assertThat(entries(sandbox.resolve("tmp-disks")))
                    .as("/tmp disks beyond the spares")
                    .isEqualTo(spareDisks);
                assertThat(mountsUnder(dataDir))
                    .as("mounted disks beyond the spares")
                    .isEqualTo(spareDisks);
                assertThat(entries(sandbox.resolve("netns")))
                    .as("network namespaces beyond the spares")
                    .isEqualTo(spareNetworks);
              });
    }
    assertThat(mountsUnder(dataDir)).as("mounted disks after stop").isZero();
  }
}
