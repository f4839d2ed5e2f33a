package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.sandbox.LinuxSandboxDriver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Two Kiln servers on one host, each its own process with its own data directory, as two CI jobs or
 * a test and a dev server are: their instances run at the same time in network namespaces of their
 * own without ever sharing an address, and one server killed with -9 and started again leaves the
 * other's running instances alone.
 */
class TwoServersIT {

  static final ObjectMapper JSON = new ObjectMapper();

  /** Says which server ran it and the instance's own address (its end of the veth pair). */
  static final String WHERE_AM_I =
      String.join(
          "\n",
          "import os, socket, time",
          "def handler(event, context):",
          "    print('running ' + event['echo'], flush=True)",
          "    time.sleep(event.get('sleep', 0))",
          "    host = os.environ['AWS_LAMBDA_RUNTIME_API'].split(':')[0]",
          "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
          "    s.connect((host, 9))",
          "    addr = s.getsockname()[0]",
          "    s.close()",
          "    return {'server': os.environ['SERVER'], 'echo': event['echo'], 'addr': addr}",
          "");

  static final int CONCURRENT = 3;

  /** A thread per invocation (the common pool has one thread on a two-core host). */
  static final java.util.concurrent.ExecutorService CALLERS =
      java.util.concurrent.Executors.newCachedThreadPool();

  @Test
  void twoServersSideBySide_neverShareAnAddress_andAKillMinus9LeavesTheOtherRunning()
      throws Exception {
    boolean root = ProcessHandle.current().info().user().map("root"::equals).orElse(false);
    if (!root || Tools.find("bwrap").isEmpty() || Tools.find("nft").isEmpty()) {
      if (Boolean.getBoolean("kiln.requireTools")) {
        throw new AssertionError("CI runs as root with bubblewrap and nft; here root=" + root);
      }
      Assumptions.abort("instance network namespaces need root, bubblewrap and nft");
    }
    Path dataA = dev.kiln.testing.TempDirs.create("kiln-two-a-");
    Path dataB = dev.kiln.testing.TempDirs.create("kiln-two-b-");
    ServerProcess a = ServerProcess.start(dataA, ServerProcess.freePort(), "--sandbox", "linux");
    try (ServerProcess b =
            ServerProcess.start(dataB, ServerProcess.freePort(), "--sandbox", "linux");
        LambdaClient lambdaB = KilnFixture.client(b)) {
      assertThat(a.output()).contains("own network namespace");
      LambdaClient lambdaA = KilnFixture.client(a);
      create(lambdaA, "A");
      create(lambdaB, "B");

      // both servers busy at once, each with several instances: every instance has its own /30
      List<CompletableFuture<JsonNode>> both = new ArrayList<>();
      both.addAll(invokeConcurrently(lambdaA, "A", "first", 2));
      both.addAll(invokeConcurrently(lambdaB, "B", "first", 2));
      Set<String> addresses = new HashSet<>();
      for (CompletableFuture<JsonNode> f : both) {
        JsonNode r = f.get(120, TimeUnit.SECONDS);
        assertThat(r.get("addr").asText()).startsWith("169.254.");
        addresses.add(r.get("addr").asText());
      }
      assertThat(addresses)
          .as("instances running at the same time on two servers have distinct addresses")
          .hasSize(2 * CONCURRENT);

      // B's instances in the middle of their invocations while A is killed and started again
      List<CompletableFuture<JsonNode>> running = invokeConcurrently(lambdaB, "B", "long", 8);
      for (int i = 0; i < CONCURRENT; i++) {
        String marker = "running long-" + i;
        Awaitility.await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> Processes.instanceWhoseLogContains(dataB, marker).isPresent());
      }
      a.process.destroyForcibly(); // SIGKILL: A cleans up nothing
      assertThat(a.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      lambdaA.close();
      a = ServerProcess.start(dataA, ServerProcess.freePort(), "--sandbox", "linux");
      lambdaA = KilnFixture.client(a);
      Set<String> restarted = new HashSet<>();
      for (CompletableFuture<JsonNode> f : invokeConcurrently(lambdaA, "A", "again", 0)) {
        restarted.add(f.get(120, TimeUnit.SECONDS).get("addr").asText());
      }
      Set<String> busyB = new HashSet<>();
      for (CompletableFuture<JsonNode> f : running) {
        busyB.add(f.get(120, TimeUnit.SECONDS).get("addr").asText());
      }
      assertThat(busyB).hasSize(CONCURRENT).doesNotContainAnyElementsOf(restarted);

      // and B's firewall, and its warm instances, are still there and answer
      String tableB = "kiln-" + LinuxSandboxDriver.serverId(dataB.resolve("sandbox"));
      assertThat(
              Tools.run(List.of("nft", "list", "table", "inet", tableB), dataB, Map.of()).output())
          .contains("chain input");
      Set<String> afterB = new HashSet<>();
      for (CompletableFuture<JsonNode> f : invokeConcurrently(lambdaB, "B", "after", 1)) {
        afterB.add(f.get(120, TimeUnit.SECONDS).get("addr").asText());
      }
      assertThat(afterB).as("B's warm instances answer from where they were").isEqualTo(busyB);
      lambdaA.close();
    } finally {
      a.close();
    }
  }

  static void create(LambdaClient lambda, String server) throws Exception {
    lambda.createFunction(
        f ->
            f.functionName("where")
                .runtime(Runtime.PYTHON3_12)
                .handler("app.handler")
                .role(KilnFixture.ROLE)
                .timeout(60)
                .environment(e -> e.variables(Map.of("SERVER", server)))
                .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of("app.py", WHERE_AM_I)))));
  }

  /**
   * {@link #CONCURRENT} invocations at once, each sleeping {@code sleep} seconds (so each needs an
   * instance of its own), whose answers are checked to come from {@code server} for the event sent.
   */
  static List<CompletableFuture<JsonNode>> invokeConcurrently(
      LambdaClient lambda, String server, String tag, int sleep) {
    List<CompletableFuture<JsonNode>> out = new ArrayList<>();
    for (int i = 0; i < CONCURRENT; i++) {
      String echo = tag + "-" + i;
      out.add(
          CompletableFuture.supplyAsync(
              () -> {
                InvokeResponse r =
                    lambda.invoke(
                        b ->
                            b.functionName("where")
                                .payload(
                                    SdkBytes.fromUtf8String(
                                        "{\"echo\":\"" + echo + "\",\"sleep\":" + sleep + "}")));
                assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
                try {
                  JsonNode body = JSON.readTree(r.payload().asUtf8String());
                  assertThat(body.get("server").asText()).isEqualTo(server);
                  assertThat(body.get("echo").asText()).isEqualTo(echo);
                  return body;
                } catch (java.io.IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              },
              CALLERS));
    }
    return out;
  }
}
