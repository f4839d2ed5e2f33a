package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.Runtime;
import software.amazon.awssdk.services.lambda.model.TooManyRequestsException;

/**
 * Idle instances never starve new ones (issue 17, item 9): on a host with room for one 256 MB
 * instance ({@code --instance-memory 256}), an idle instance of one function is stopped so that
 * another function starts; only instances that are busy hold their memory against a start.
 */
class MakingRoomIT {

  static final String APP =
      "import os, time\n"
          + "def handler(e, c):\n"
          + "    time.sleep(e.get('s', 0))\n"
          + "    return os.getpid()\n";

  static void create(LambdaClient lambda, String name, int memory) {
    lambda.createFunction(
        b ->
            b.functionName(name)
                .runtime(Runtime.PYTHON3_12)
                .handler("app.handler")
                .role(KilnFixture.ROLE)
                .memorySize(memory)
                .timeout(30)
                .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of("app.py", APP)))));
  }

  static InvokeResponse invoke(LambdaClient lambda, String name, double seconds) {
    return lambda.invoke(
        b ->
            b.functionName(name)
                .logType(LogType.TAIL)
                .payload(SdkBytes.fromUtf8String("{\"s\": " + seconds + "}")));
  }

  static boolean coldStart(InvokeResponse r) {
    return new String(Base64.getDecoder().decode(r.logResult()), StandardCharsets.UTF_8)
        .contains("Init Duration");
  }

  @Test
  void idleInstancesAreStoppedToMakeRoom_busyOnesThrottleAStart() throws Exception {
    var data = dev.kiln.testing.TempDirs.create("kiln-room-");
    try (ServerProcess server =
            ServerProcess.start(data, ServerProcess.freePort(), "--instance-memory", "256");
        LambdaClient lambda = KilnFixture.client(server)) {
      create(lambda, "first", 256);
      create(lambda, "second", 128);
      assertThat(coldStart(invoke(lambda, "first", 0))).isTrue();
      assertThat(coldStart(invoke(lambda, "first", 0))).as("warm").isFalse();

      // the host is full with an idle instance: it is stopped, and the other function starts
      InvokeResponse b = invoke(lambda, "second", 0);
      assertThat(b.functionError()).isNull();
      InvokeResponse again = invoke(lambda, "first", 0);
      assertThat(again.functionError()).isNull();
      assertThat(coldStart(again)).as("its idle instance was stopped for the other").isTrue();

      // busy instances hold their memory: a start that needs it is throttled, and says why
      CompletableFuture<InvokeResponse> busy =
          CompletableFuture.supplyAsync(() -> invoke(lambda, "first", 6));
      Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(30))
          .until(() -> metric(server, "kiln_instances{state=\"busy\"}") == 1);
      assertThatThrownBy(() -> invoke(lambda, "second", 0))
          .isInstanceOfSatisfying(
              TooManyRequestsException.class,
              e -> {
                assertThat(e.statusCode()).isEqualTo(429);
                assertThat(e.reasonAsString()).isEqualTo("ConcurrentInvocationLimitExceeded");
                assertThat(e.getMessage())
                    .contains("no memory left for another 128 MB instance")
                    .contains("256 of 256 MB");
              });
      assertThat(busy.get(60, TimeUnit.SECONDS).functionError()).isNull();
    }
  }

  /** One sample of the server's {@code /metrics}, or -1 when it is not there. */
  static double metric(ServerProcess server, String sample) throws Exception {
    var client = java.net.http.HttpClient.newHttpClient();
    String body =
        client
            .send(
                java.net.http.HttpRequest.newBuilder(server.endpoint().resolve("/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString())
            .body();
    for (String line : body.split("\n")) {
      if (line.startsWith(sample + " ")) {
        return Double.parseDouble(line.substring(sample.length() + 1).trim());
      }
    }
    return -1;
  }
}
