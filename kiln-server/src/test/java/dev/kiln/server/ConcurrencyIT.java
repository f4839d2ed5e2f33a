package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvalidParameterValueException;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.TooManyRequestsException;

/**
 * Reserved concurrency and the account limit under parallel load: exactly as many invocations run
 * as the budget allows, the rest are throttled with 429 and the right reason, never a 5xx.
 */
class ConcurrencyIT {

  static final String SLOW =
      "import time\ndef handler(e, c):\n    time.sleep(e.get('s', 0))\n    return 'ok'\n";

  /** Fires {@code n} invocations together; returns how many ended in each way. */
  static Map<String, Integer> burst(KilnFixture kiln, String function, int n, double seconds) {
    return burst(kiln.lambda, function, n, seconds);
  }

  static Map<String, Integer> burst(
      software.amazon.awssdk.services.lambda.LambdaClient lambda,
      String function,
      int n,
      double seconds) {
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      List<CompletableFuture<String>> calls = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        calls.add(
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    var r =
                        lambda.invoke(
                            b ->
                                b.functionName(function)
                                    .payload(SdkBytes.fromUtf8String("{\"s\": " + seconds + "}")));
                    return r.functionError() == null ? "ok" : "function error";
                  } catch (TooManyRequestsException e) {
                    return e.statusCode() + " " + e.reasonAsString();
                  } catch (LambdaException e) {
                    return e.statusCode() + " " + e.awsErrorDetails().errorCode();
                  }
                },
                pool));
      }
      Map<String, Integer> outcomes = new TreeMap<>();
      calls.forEach(c -> outcomes.merge(c.join(), 1, Integer::sum));
      return outcomes;
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void reservedConcurrency_capsTheFunction_andThrottlesTheRestAtOnce() {
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.python("capped", SLOW);
      kiln.lambda.updateFunctionConfiguration(b -> b.functionName("capped").timeout(20));
      var put =
          kiln.lambda.putFunctionConcurrency(
              b -> b.functionName("capped").reservedConcurrentExecutions(5));
      assertThat(put.reservedConcurrentExecutions()).isEqualTo(5);
      assertThat(
              kiln.lambda
                  .getFunctionConcurrency(b -> b.functionName("capped"))
                  .reservedConcurrentExecutions())
          .isEqualTo(5);
      assertThat(
              kiln.lambda
                  .getFunction(b -> b.functionName("capped"))
                  .concurrency()
                  .reservedConcurrentExecutions())
          .isEqualTo(5);
      var settings = kiln.lambda.getAccountSettings();
      assertThat(settings.accountLimit().concurrentExecutions()).isEqualTo(1000);
      assertThat(settings.accountLimit().unreservedConcurrentExecutions()).isEqualTo(995);

      // 50 together against 5: the 5 admitted sleep long enough for all 50 to arrive
      Map<String, Integer> outcomes = burst(kiln, "capped", 50, 4);
      assertThat(outcomes)
          .containsExactlyInAnyOrderEntriesOf(
              Map.of("ok", 5, "429 ReservedFunctionConcurrentInvocationLimitExceeded", 45));
      assertThat(kiln.server.invoker().instanceCount())
          .as("no instance was started for a throttled call")
          .isEqualTo(5);

      kiln.lambda.deleteFunctionConcurrency(b -> b.functionName("capped"));
      assertThat(
              kiln.lambda
                  .getFunctionConcurrency(b -> b.functionName("capped"))
                  .reservedConcurrentExecutions())
          .isNull();
      assertThat(kiln.lambda.getAccountSettings().accountLimit().unreservedConcurrentExecutions())
          .isEqualTo(1000);
    }
  }

  @Test
  void reservedConcurrencyZero_disablesTheFunction() {
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.python("off", SLOW);
      kiln.lambda.putFunctionConcurrency(
          b -> b.functionName("off").reservedConcurrentExecutions(0));
      assertThatThrownBy(() -> kiln.lambda.invoke(b -> b.functionName("off")))
          .isInstanceOfSatisfying(
              TooManyRequestsException.class,
              e -> {
                assertThat(e.statusCode()).isEqualTo(429);
                assertThat(e.reasonAsString())
                    .isEqualTo("ReservedFunctionConcurrentInvocationLimitExceeded");
                assertThat(e.awsErrorDetails().errorMessage()).isEqualTo("Rate Exceeded.");
                assertThat(e.retryAfterSeconds()).isEqualTo("1");
              });
      assertThat(kiln.server.invoker().instanceCount()).isZero();
    }
  }

  @Test
  void theAccountLimit_isSharedByFunctionsWithoutReservations() {
    try (KilnFixture kiln =
        new KilnFixture(ServerSettings.DEFAULT_KEEP_ALIVE, ServerSettings.SandboxChoice.AUTO, 4)) {
      kiln.python("shared", SLOW);
      kiln.lambda.updateFunctionConfiguration(b -> b.functionName("shared").timeout(20));
      Map<String, Integer> outcomes = burst(kiln, "shared", 12, 4);
      assertThat(outcomes)
          .containsExactlyInAnyOrderEntriesOf(
              Map.of("ok", 4, "429 ConcurrentInvocationLimitExceeded", 8));
    }
  }

  @Test
  void aReservationThatLeavesTooLittleUnreserved_isRefused() {
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.python("greedy", SLOW);
      kiln.python("modest", SLOW);
      kiln.lambda.putFunctionConcurrency(
          b -> b.functionName("modest").reservedConcurrentExecutions(100));
      assertThatThrownBy(
              () ->
                  kiln.lambda.putFunctionConcurrency(
                      b -> b.functionName("greedy").reservedConcurrentExecutions(801)))
          .isInstanceOfSatisfying(
              InvalidParameterValueException.class,
              e ->
                  assertThat(e.awsErrorDetails().errorMessage())
                      .isEqualTo(
                          "Specified ReservedConcurrentExecutions for function decreases"
                              + " account's UnreservedConcurrentExecution below its minimum value"
                              + " of [100]."));
      assertThat(
              kiln.lambda
                  .putFunctionConcurrency(
                      b -> b.functionName("greedy").reservedConcurrentExecutions(800))
                  .reservedConcurrentExecutions())
          .isEqualTo(800);
      assertThatThrownBy(
              () ->
                  kiln.lambda.putFunctionConcurrency(
                      b -> b.functionName("greedy").reservedConcurrentExecutions(-1)))
          .isInstanceOfSatisfying(
              LambdaException.class,
              e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo("ValidationException"));
      assertThat(kiln.lambda.getAccountSettings().accountLimit().unreservedConcurrentExecutions())
          .isEqualTo(100);
    }
  }

  /**
   * A server with extra flags, and a 128 MB function on it; {@code calls} invocations at once that
   * each sleep {@code seconds}.
   */
  static Map<String, Integer> burstOnServer(int calls, double seconds, String... flags)
      throws Exception {
    var data = dev.kiln.testing.TempDirs.create("kiln-scale-");
    try (ServerProcess server = ServerProcess.start(data, ServerProcess.freePort(), flags);
        var lambda = KilnFixture.client(server)) {
      lambda.createFunction(
          b ->
              b.functionName("sleeper")
                  .runtime(software.amazon.awssdk.services.lambda.model.Runtime.PYTHON3_12)
                  .handler("app.handler")
                  .role(KilnFixture.ROLE)
                  .memorySize(128)
                  .timeout(20)
                  .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of("app.py", SLOW)))));
      return burst(lambda, "sleeper", calls, seconds);
    }
  }

  @Test
  void aBurstBeyondTheHostsMemory_isServedByTheInstancesThatFit() throws Exception {
    // room for two 128 MB instances: the third call's start is refused, and it waits in line for
    // one of the two, which is free again after its 3 s
    assertThat(burstOnServer(3, 3, "--instance-memory", "256"))
        .containsExactlyInAnyOrderEntriesOf(Map.of("ok", 3));
  }

  @Test
  void instancesNeverHoldMoreMemoryThanTheHostGivesThem_andACallNoInstanceReachesInTimeIsThrottled()
      throws Exception {
    // the third call's start waits 2 s for room, then 10 s in line; the two busy ones take 14 s
    assertThat(burstOnServer(3, 14, "--instance-memory", "256"))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("ok", 2, "429 ConcurrentInvocationLimitExceeded", 1));
  }

  @Test
  void aFunctionScalesOutNoFasterThanItsRate() throws Exception {
    assertThat(burstOnServer(4, 14, "--scale-out-rate", "2"))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("ok", 2, "429 FunctionInvocationRateLimitExceeded", 2));
  }

  @Test
  void reservations_surviveARestart() throws Exception {
    var data = dev.kiln.testing.TempDirs.create("kiln-reserve-");
    int port = ServerProcess.freePort();
    try (ServerProcess first = ServerProcess.start(data, port);
        var lambda = KilnFixture.client(first)) {
      lambda.createFunction(
          b ->
              b.functionName("kept")
                  .runtime(software.amazon.awssdk.services.lambda.model.Runtime.PYTHON3_12)
                  .handler("app.handler")
                  .role(KilnFixture.ROLE)
                  .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of("app.py", SLOW)))));
      lambda.putFunctionConcurrency(b -> b.functionName("kept").reservedConcurrentExecutions(7));
    }
    try (ServerProcess second = ServerProcess.start(data, port);
        var lambda = KilnFixture.client(second)) {
      assertThat(
              lambda
                  .getFunctionConcurrency(b -> b.functionName("kept"))
                  .reservedConcurrentExecutions())
          .isEqualTo(7);
      assertThat(lambda.getAccountSettings().accountLimit().unreservedConcurrentExecutions())
          .isEqualTo(993);
    }
  }
}
