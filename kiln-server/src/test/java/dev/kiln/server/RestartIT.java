package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Kiln as an operating-system process: what was stored survives a crash (kill -9) and a restart,
 * and a SIGTERM lets running invocations finish and leaves no instance process behind.
 */
class RestartIT {

  static final String PID_FUNCTION =
      "import time\ndef handler(event, context):\n    time.sleep(event.get('sleep', 0))\n    return context.log_stream_name\n";

  @Test
  void killMinus9ThenRestart_keepsEveryFunctionAndKillsLeftoverInstances() throws Exception {
    Path data = dev.kiln.testing.TempDirs.create("kiln-restart-");
    int port = ServerProcess.freePort();
    long instancePid;
    String sha;
    try (ServerProcess first = ServerProcess.start(data, port);
        LambdaClient lambda = KilnFixture.client(first)) {
      sha =
          lambda
              .createFunction(
                  b ->
                      b.functionName("survivor")
                          .runtime(Runtime.PYTHON3_12)
                          .handler("app.handler")
                          .role(KilnFixture.ROLE)
                          .environment(e -> e.variables(java.util.Map.of("KEPT", "yes")))
                          .code(
                              c ->
                                  c.zipFile(
                                      SdkBytes.fromByteArray(Zips.of("app.py", PID_FUNCTION)))))
              .codeSha256();
      lambda.updateFunctionConfiguration(b -> b.functionName("survivor").timeout(20));
      instancePid =
          Processes.instancePid(
              data,
              lambda
                  .invoke(b -> b.functionName("survivor").payload(SdkBytes.fromUtf8String("{}")))
                  .payload()
                  .asUtf8String());
      first.process.destroyForcibly(); // SIGKILL: no shutdown hook runs
      assertThat(first.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    try (ServerProcess second = ServerProcess.start(data, port);
        LambdaClient lambda = KilnFixture.client(second)) {
      assertThat(Processes.running(instancePid))
          .as("the instance the killed server left running is gone after the restart")
          .isFalse();
      var config = lambda.getFunctionConfiguration(b -> b.functionName("survivor"));
      assertThat(config.codeSha256()).isEqualTo(sha);
      assertThat(config.timeout()).isEqualTo(20);
      assertThat(config.environment().variables()).containsEntry("KEPT", "yes");
      InvokeResponse r =
          lambda.invoke(b -> b.functionName("survivor").payload(SdkBytes.fromUtf8String("{}")));
      assertThat(r.functionError()).isNull();
    }
  }

  @Test
  void sigterm_letsRunningInvocationsFinishAndLeavesNoInstanceBehind() throws Exception {
    Path data = dev.kiln.testing.TempDirs.create("kiln-sigterm-");
    String started = "started-" + System.nanoTime();
    try (ServerProcess server = ServerProcess.start(data, ServerProcess.freePort());
        LambdaClient lambda = KilnFixture.client(server)) {
      for (String name : new String[] {"idler", "finisher"}) {
        lambda.createFunction(
            b ->
                b.functionName(name)
                    .runtime(Runtime.PYTHON3_12)
                    .handler("app.handler")
                    .role(KilnFixture.ROLE)
                    .timeout(30)
                    .code(
                        c ->
                            c.zipFile(
                                SdkBytes.fromByteArray(Zips.of("app.py", MARKING_FUNCTION)))));
      }
      long idlePid =
          Processes.instancePid(
              data,
              lambda
                  .invoke(b -> b.functionName("idler").payload(SdkBytes.fromUtf8String("{}")))
                  .payload()
                  .asUtf8String());
      CompletableFuture<InvokeResponse> running =
          CompletableFuture.supplyAsync(
              () ->
                  lambda.invoke(
                      b ->
                          b.functionName("finisher")
                              .payload(
                                  SdkBytes.fromUtf8String(
                                      "{\"sleep\": 2, \"mark\": \"" + started + "\"}"))));
      // ask Kiln to stop only once the slow invocation is running in its instance
      long busyPid =
          org.awaitility.Awaitility.await()
              .atMost(java.time.Duration.ofSeconds(30))
              .until(() -> Processes.instanceWhoseLogContains(data, started), Optional::isPresent)
              .orElseThrow();
      server.process.destroy(); // SIGTERM
      InvokeResponse r = running.get(60, TimeUnit.SECONDS);
      assertThat(r.functionError()).isNull();
      assertThat(server.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      for (long pid : new long[] {idlePid, busyPid}) {
        assertThat(Processes.running(pid)).as("instance %d is gone after shutdown", pid).isFalse();
      }
      assertThat(server.output()).contains("Kiln stopped");
    }
  }

  @Test
  void sigterm_failsInvocationsStillRunningAfterTheGraceWithAClearError() throws Exception {
    Path data = dev.kiln.testing.TempDirs.create("kiln-grace-");
    String started = "started-" + System.nanoTime();
    try (ServerProcess server =
            ServerProcess.start(data, ServerProcess.freePort(), "--shutdown-grace", "1");
        LambdaClient lambda = KilnFixture.client(server)) {
      lambda.createFunction(
          b ->
              b.functionName("overstayer")
                  .runtime(Runtime.PYTHON3_12)
                  .handler("app.handler")
                  .role(KilnFixture.ROLE)
                  .timeout(60)
                  .code(
                      c -> c.zipFile(SdkBytes.fromByteArray(Zips.of("app.py", MARKING_FUNCTION)))));
      CompletableFuture<Throwable> running =
          CompletableFuture.supplyAsync(
              () ->
                  org.assertj.core.api.Assertions.catchThrowable(
                      () ->
                          lambda.invoke(
                              b ->
                                  b.functionName("overstayer")
                                      .payload(
                                          SdkBytes.fromUtf8String(
                                              "{\"sleep\": 30, \"mark\": \"" + started + "\"}")))));
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(30))
          .until(() -> Processes.instanceWhoseLogContains(data, started).isPresent());
      server.process.destroy(); // SIGTERM
      Throwable failure = running.get(60, TimeUnit.SECONDS);
      assertThat(failure)
          .isInstanceOfSatisfying(
              software.amazon.awssdk.awscore.exception.AwsServiceException.class,
              e -> {
                assertThat(e.statusCode()).isEqualTo(503);
                assertThat(e.awsErrorDetails().errorCode()).isEqualTo("ServiceException");
                assertThat(e.awsErrorDetails().errorMessage())
                    .contains("Kiln is shutting down")
                    .contains("was stopped before it finished");
              });
      assertThat(server.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }
  }

  static final String MARKING_FUNCTION =
      """
      import time
      def handler(event, context):
          if "mark" in event:
              print(event["mark"], flush=True)
          time.sleep(event.get("sleep", 0))
          return context.log_stream_name
      """;
}
