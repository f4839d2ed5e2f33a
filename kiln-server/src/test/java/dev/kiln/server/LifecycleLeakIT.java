package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;

/**
 * After every change that retires instances (a configuration update, a code update, a deletion),
 * nothing of the old instances is left: no process, no instance directory. Counted, not assumed.
 */
class LifecycleLeakIT {

  static final String MARKER = "4244";

  static String code(int v) {
    return "import subprocess, time\n"
        + "helper = subprocess.Popen(['sleep', '"
        + MARKER
        + "'])\n"
        + "V = "
        + v
        + "\ndef handler(e, c):\n    time.sleep(e.get('s', 0))\n    return V\n";
  }

  /** Processes the function's instances started: each instance has one such helper. */
  static long helpers() {
    return Processes.withArgument(MARKER).size();
  }

  static void awaitNothingLeft(KilnFixture kiln) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              assertThat(helpers()).isZero();
              assertThat(kiln.server.invoker().instanceCount()).isZero();
              try (var dirs = Files.list(kiln.dataDir.resolve("instances"))) {
                assertThat(dirs).isEmpty();
              }
            });
  }

  static void invokeTogether(KilnFixture kiln, int n) {
    var threads = Executors.newFixedThreadPool(n);
    List<CompletableFuture<Void>> calls = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      calls.add(
          CompletableFuture.runAsync(
              () ->
                  assertThat(
                          kiln.lambda
                              .invoke(
                                  b ->
                                      b.functionName("leaky")
                                          .payload(SdkBytes.fromUtf8String("{\"s\": 1}")))
                              .functionError())
                      .isNull(),
              threads));
    }
    calls.forEach(CompletableFuture::join);
    threads.shutdown();
  }

  @Test
  void updatesAndDeletion_leaveNoProcessOrInstanceBehind() {
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.python("leaky", code(1));
      invokeTogether(kiln, 3);
      assertThat(helpers()).isEqualTo(3);
      assertThat(kiln.server.invoker().instanceCount()).isEqualTo(3);

      kiln.lambda.updateFunctionConfiguration(
          b -> b.functionName("leaky").environment(e -> e.variables(Map.of("ROUND", "2"))));
      awaitNothingLeft(kiln);

      invokeTogether(kiln, 2);
      kiln.lambda.updateFunctionCode(
          b -> b.functionName("leaky").zipFile(SdkBytes.fromByteArray(Zips.of("app.py", code(2)))));
      awaitNothingLeft(kiln);

      invokeTogether(kiln, 2);
      assertThat(helpers()).isEqualTo(2);
      kiln.lambda.deleteFunction(b -> b.functionName("leaky"));
      awaitNothingLeft(kiln);
    }
  }
}
