package dev.kiln.invoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.kiln.model.Account;
import dev.kiln.model.CodeDigest;
import dev.kiln.model.ConfigPatch;
import dev.kiln.model.FunctionConfig;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import dev.kiln.runtimeapi.RuntimeApiServer;
import dev.kiln.runtimes.RuntimeTable;
import dev.kiln.sandbox.ExitStatus;
import dev.kiln.testing.FakeSandboxDriver;
import dev.kiln.testing.FakeSandboxDriver.FakeSandbox;
import dev.kiln.testing.FakeSandboxDriver.Reply;
import dev.kiln.testing.ManualTime;
import dev.kiln.time.Ticker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pool's behaviour as a caller sees it (which instance serves, how many there are, what an
 * invocation answers) on fake instances that speak the Runtime API from threads of this JVM, and a
 * clock the test moves. Each fake answers with its own instance id, so "the same instance" is a
 * string compare; {@code "hold"} keeps it busy until the test opens {@link #gate}.
 */
class InstancePoolTest {

  static final Duration KEEP_ALIVE = Duration.ofMinutes(5);

  @TempDir Path root;
  final ManualTime time = new ManualTime();
  final CountDownLatch gate = new CountDownLatch(1);
  RuntimeApiServer runtimeApi;
  FakeSandboxDriver driver;
  Invoker invoker;
  FunctionVersion version;

  @BeforeEach
  void start() throws Exception {
    // the deadline a runtime is told and the one the instance waits for, on the same clock
    runtimeApi = RuntimeApiServer.start(time, Ticker.system());
    driver =
        new FakeSandboxDriver(
            e ->
                switch (e.payloadText()) {
                  case "\"hold\"" -> {
                    gate.await();
                    yield answerWithId(e.instance());
                  }
                  case "\"fail\"" -> Reply.error("ValueError", "bad input");
                  case "\"crash\"" -> Reply.exit(3);
                  case "\"hang\"" -> Reply.hang();
                  default -> answerWithId(e.instance());
                });
    version = function("f", 3);
  }

  @AfterEach
  void stop() {
    gate.countDown();
    if (invoker != null) {
      invoker.close();
    }
    runtimeApi.close();
  }

  static Reply answerWithId(FakeSandbox instance) {
    return Reply.answer("\"" + instance.spec().instanceId() + "\"");
  }

  Invoker invoker(ConcurrencyBudget budget) throws Exception {
    return invoker(budget, ScaleGate.unlimited(time, time));
  }

  Invoker invoker(ConcurrencyBudget budget, ScaleGate gate) throws Exception {
    invoker =
        Invoker.builder(driver, runtimeApi, Files.createDirectories(root.resolve("instances")))
            .clock(time)
            .ticker(time)
            .scheduler(time)
            .keepAlive(KEEP_ALIVE)
            .budget(budget)
            .gate(gate)
            .build();
    return invoker;
  }

  /** A gate that lets the function start one instance (the test's clock never refills it). */
  ScaleGate oneStart() {
    return new ScaleGate(1, 1_000_000, Duration.ZERO, time, Ticker.system());
  }

  Invoker invoker() throws Exception {
    return invoker(new ConcurrencyBudget(1000, Map.of()));
  }

  FunctionVersion function(String name, int timeoutSeconds) throws Exception {
    ConfigPatch p = ConfigPatch.of("python3.12", "app.handler", "arn:aws:iam::000000000000:role/r");
    FunctionConfig config =
        FunctionConfig.create(
            name,
            new CodeDigest("00".repeat(32), 1, 1),
            new ConfigPatch(
                p.runtime(),
                p.handler(),
                p.role(),
                p.description(),
                p.memorySize(),
                Optional.of(timeoutSeconds),
                p.environment(),
                p.ephemeralStorageSize(),
                p.architectures(),
                p.packageType(),
                p.tracingMode(),
                p.logging(),
                p.deadLetterTarget(),
                p.layers()),
            time.instant());
    Path task = Files.createDirectories(root.resolve("task-" + name));
    // never run: the fake driver plays the runtime itself
    RuntimeTable.Launch launch =
        new RuntimeTable.Launch(
            "python3.12",
            RuntimeTable.Family.PYTHON,
            List.of("/usr/bin/python3", "bootstrap.py"),
            Files.createDirectories(root.resolve("runtime")));
    return new FunctionVersion(
        config, Account.DEFAULT.functionArn(name), task, launch, Optional.empty(), true);
  }

  InvocationResult call(String payload) {
    return invoker.invoke(
        version,
        InvokeRequest.sync(
            FunctionRef.of(version.name()), payload.getBytes(StandardCharsets.UTF_8)));
  }

  /** Invokes, expects success, and waits for the instance to be back; returns its id. */
  String invoke() {
    InvocationResult r = call("{}");
    assertThat(r).isInstanceOf(InvocationResult.Success.class);
    awaitNoneBusy();
    return text(r);
  }

  static String text(InvocationResult r) {
    return new String(r.payload(), StandardCharsets.UTF_8).replace("\"", "");
  }

  /** An invocation ends when the runtime asks for its next event, a moment after it answers. */
  void awaitNoneBusy() {
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                invoker.instancesByState().get("busy") == 0
                    && invoker.instancesByState().get("starting") == 0);
  }

  void awaitBusy(int n) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> invoker.instancesByState().get("busy") == n);
  }

  CompletableFuture<InvocationResult> callAsync(String payload) {
    return CompletableFuture.supplyAsync(() -> call(payload));
  }

  String idOf(FakeSandbox s) {
    return s.spec().instanceId();
  }

  @Test
  void aRuntimeThatCallsBeforeItsSandboxIsReturned_isStillRecognisedAsTheInstancesOwn()
      throws Exception {
    // the Runtime API checks a caller against the instance's processes, which the launcher learns
    // only when driver.start returns; the runtime's first GET /next must not be refused meanwhile
    driver.startReturnDelay(Duration.ofMillis(300));
    invoker();
    invoke();
    assertThat(driver.started()).hasSize(1);
    assertThat(driver.started().get(0).onExit()).isNotDone();
  }

  @Test
  void sequentialInvocations_reuseTheOneWarmInstance() throws Exception {
    invoker();
    String first = invoke();
    assertThat(invoke()).isEqualTo(first);
    assertThat(invoke()).isEqualTo(first);
    assertThat(driver.started()).hasSize(1);
    assertThat(invoker.instanceCount()).isEqualTo(1);
    assertThat(driver.started().get(0).events()).isEqualTo(3);
  }

  @Test
  void concurrentInvocations_scaleOut_oneInstanceEach_thenAllStayWarm() throws Exception {
    invoker();
    List<CompletableFuture<InvocationResult>> calls = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      calls.add(callAsync("\"hold\""));
    }
    awaitBusy(3);
    assertThat(driver.started()).hasSize(3);
    gate.countDown();
    var ids = new HashSet<String>();
    for (var c : calls) {
      InvocationResult r = c.get(10, TimeUnit.SECONDS);
      assertThat(r).isInstanceOf(InvocationResult.Success.class);
      ids.add(text(r));
    }
    assertThat(ids).as("each ran on an instance of its own").hasSize(3);
    awaitNoneBusy();
    assertThat(invoker.idleInstanceCount()).isEqualTo(3);

    assertThat(invoke()).as("served warm by one of them").isIn(ids);
    assertThat(driver.started()).hasSize(3);
  }

  @Test
  void theMostRecentlyGivenBackInstance_servesTheNextInvocation() throws Exception {
    invoker();
    CompletableFuture<InvocationResult> held = callAsync("\"hold\"");
    awaitBusy(1);
    String other = text(call("{}")); // a second instance, while the first is held
    awaitBusy(1);
    gate.countDown();
    String first = text(held.get(10, TimeUnit.SECONDS));
    awaitNoneBusy();
    assertThat(first).isNotEqualTo(other);

    assertThat(invoke()).as("the warmest: given back last").isEqualTo(first);
  }

  @Test
  void anIdleInstance_isReapedOnlyOnceTheKeepAliveHasPassedSinceItsLastInvocation()
      throws Exception {
    invoker();
    String first = invoke();

    time.advance(Duration.ofMinutes(4));
    assertThat(invoker.instanceCount()).isEqualTo(1);
    assertThat(invoke()).as("still warm").isEqualTo(first);

    time.advance(Duration.ofMinutes(4)); // 8 minutes since the start, 4 since its last use
    assertThat(invoker.instanceCount()).isEqualTo(1);

    time.advance(Duration.ofMinutes(1).plusSeconds(2));
    assertThat(invoker.instanceCount()).isZero();
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> driver.alive().isEmpty());
    assertThat(driver.started().get(0).onExit().join().describe()).isEqualTo("signal: terminated");

    assertThat(invoke()).as("a cold start").isNotEqualTo(first);
    assertThat(driver.started()).hasSize(2);
  }

  @Test
  void anIdleInstance_isFrozenAfterASecond_andThawedForItsNextInvocation() throws Exception {
    invoker();
    String first = invoke();
    FakeSandbox sandbox = driver.started().get(0);
    assertThat(sandbox.frozen()).isFalse();

    time.advance(Duration.ofSeconds(2));
    assertThat(sandbox.frozen()).isTrue();

    assertThat(invoke()).isEqualTo(first);
    assertThat(sandbox.frozen()).isFalse();
  }

  @Test
  void anInstanceThatCrashesDuringAnInvocation_isRemoved_andTheNextInvocationStartsAFreshOne()
      throws Exception {
    invoker();
    String first = invoke();

    InvocationResult crashed = call("\"crash\"");
    assertThat(crashed)
        .isInstanceOfSatisfying(
            InvocationResult.FunctionError.class,
            e -> assertThat(e.errorType()).isEqualTo("Runtime.ExitError"));
    assertThat(new String(crashed.payload(), StandardCharsets.UTF_8))
        .contains("Runtime exited with error: exit status 3");
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> invoker.instanceCount() == 0);

    String next = invoke();
    assertThat(next).isNotEqualTo(first);
    assertThat(driver.started()).hasSize(2);
    assertThat(invoker.instanceCount()).isEqualTo(1);
  }

  @Test
  void anInstanceThatDiesWhileIdle_isNeverHandedTheNextEvent() throws Exception {
    invoker();
    String first = invoke();
    driver.started().get(0).exit(new ExitStatus(1, 0, false));
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> invoker.instanceCount() == 0);

    assertThat(invoke()).isNotEqualTo(first);
  }

  @Test
  void aFunctionError_leavesTheInstanceWarm() throws Exception {
    invoker();
    String first = invoke();
    InvocationResult failed = call("\"fail\"");
    assertThat(failed)
        .isInstanceOfSatisfying(
            InvocationResult.FunctionError.class,
            e -> assertThat(e.errorType()).isEqualTo("ValueError"));
    awaitNoneBusy();
    assertThat(invoke()).isEqualTo(first);
  }

  @Test
  void anInvocationPastItsTimeout_killsTheInstance_withLambdasTimeoutError() throws Exception {
    version = function("slow", 1);
    invoker();
    InvocationResult r = call("\"hang\"");
    assertThat(r)
        .isInstanceOfSatisfying(
            InvocationResult.FunctionError.class,
            e -> assertThat(e.errorType()).isEqualTo("Sandbox.Timedout"));
    assertThat(new String(r.payload(), StandardCharsets.UTF_8))
        .contains("Task timed out after 1.00 seconds");
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> driver.alive().isEmpty());
    assertThat(driver.started().get(0).onExit().join().describe()).isEqualTo("signal: killed");
    assertThat(invoker.instanceCount()).isZero();
  }

  @Test
  void aRuntimeThatFailsToInitialise_answersWithItsInitError_andIsNotKept() throws Exception {
    driver.initError("Runtime.ImportModuleError");
    invoker();
    InvocationResult r = call("{}");
    assertThat(r)
        .isInstanceOfSatisfying(
            InvocationResult.FunctionError.class,
            e -> assertThat(e.errorType()).isEqualTo("Runtime.ImportModuleError"));
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> invoker.instanceCount() == 0);
  }

  @Test
  void aSlowInitialisation_isWaitedFor_andHappensOnce() throws Exception {
    driver.initDelay(Duration.ofMillis(300));
    invoker();
    String first = invoke();
    assertThat(invoke()).isEqualTo(first);
    assertThat(driver.started()).hasSize(1);
  }

  @Test
  void aCallThatFindsEveryInstanceBusy_takesTheFirstOneFreed_ratherThanWaitForItsOwnStart()
      throws Exception {
    invoker();
    CompletableFuture<InvocationResult> holding = callAsync("\"hold\"");
    awaitBusy(1);
    String busy = idOf(driver.started().get(0));
    // the next instance takes far longer to initialise than the busy one takes to be free
    driver.initDelay(Duration.ofSeconds(20));
    CompletableFuture<InvocationResult> second = callAsync("{}");
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .alias("the call finds every instance busy and asks for a start")
        .until(() -> driver.started().size() == 2);
    gate.countDown();
    assertThat(text(holding.get(10, TimeUnit.SECONDS))).isEqualTo(busy);
    assertThat(text(second.get(10, TimeUnit.SECONDS)))
        .as("served by the instance that became free first, not the one started for it")
        .isEqualTo(busy);
    assertThat(driver.started().get(1).events()).isZero();
    assertThat(invoker.instancesByState().get("starting"))
        .as("the slow start goes on, for whoever comes next")
        .isEqualTo(1);
  }

  @Test
  void aStartThatFinishesWhileItsCallIsServedElsewhere_joinsTheIdleStack_andServesTheNextCall()
      throws Exception {
    invoker();
    CompletableFuture<InvocationResult> holding = callAsync("\"hold\"");
    awaitBusy(1);
    driver.initDelay(Duration.ofMillis(1500));
    CompletableFuture<InvocationResult> second = callAsync("{}");
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> driver.started().size() == 2);
    gate.countDown();
    holding.get(10, TimeUnit.SECONDS);
    second.get(10, TimeUnit.SECONDS);
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> invoker.idleInstanceCount() == 2);
    String late = idOf(driver.started().get(1));
    assertThat(invoke()).as("the most recently idle: the late start").isEqualTo(late);
    assertThat(driver.started()).hasSize(2);
  }

  @Test
  void theHostRunsNoMoreStartsAtOnceThanItsLimit_andTheFirstReadyInstanceServesTheCallsInLine()
      throws Exception {
    invoker(
        new ConcurrencyBudget(1000, Map.of()),
        new ScaleGate(1000, 1_000_000, Duration.ZERO, 1, time, Ticker.system()));
    driver.initDelay(Duration.ofMillis(1500));
    List<CompletableFuture<InvocationResult>> calls = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      calls.add(callAsync("{}"));
    }
    var ids = new ArrayList<String>();
    for (var c : calls) {
      ids.add(text(c.get(10, TimeUnit.SECONDS)));
    }
    String first = idOf(driver.started().get(0));
    assertThat(ids)
        .as("one start at a time: the first instance ready served all three, one after another")
        .containsOnly(first);
    // the second start began only when the first was ready, and serves whoever comes next
    assertThat(driver.started()).hasSize(2);
  }

  @Test
  void aCallWhoseStartIsRefused_waitsInLine_andIsServedByTheBusyInstanceOnceItIsFree()
      throws Exception {
    invoker(new ConcurrencyBudget(1000, Map.of()), oneStart());
    CompletableFuture<InvocationResult> holding = callAsync("\"hold\"");
    awaitBusy(1);
    String busy = idOf(driver.started().get(0));
    CompletableFuture<InvocationResult> second = callAsync("{}");
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> invoker.waitingCalls() == 1);
    gate.countDown();
    assertThat(text(holding.get(10, TimeUnit.SECONDS))).isEqualTo(busy);
    assertThat(second.get(10, TimeUnit.SECONDS))
        .as("not a 429: the busy instance came to it")
        .isInstanceOf(InvocationResult.Success.class);
    assertThat(text(second.get())).isEqualTo(busy);
    assertThat(driver.started()).hasSize(1);
  }

  @Test
  void aCallWhoseStartIsRefused_withNoInstanceThatCouldComeToIt_getsThe429WithItsRetryAfter()
      throws Exception {
    invoker(new ConcurrencyBudget(1000, Map.of()), oneStart());
    assertThat(call("\"crash\"")).isInstanceOf(InvocationResult.FunctionError.class);
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> invoker.instanceCount() == 0);
    LambdaError.Throttled e = catchThrowableOfType(LambdaError.Throttled.class, () -> call("{}"));
    assertThat(e.reason()).isEqualTo("FunctionInvocationRateLimitExceeded");
    assertThat(e.getMessage()).contains("may start at most 1 new instances per 10 seconds");
    assertThat(e.extraMember(LambdaError.RETRY_AFTER_SECONDS)).contains("10");
    assertThat(invoker.waitingCalls()).isZero();
  }

  @Test
  void provisionedInstances_areNeverReapedForIdleness_butOnDemandOnesBesideThemAre()
      throws Exception {
    invoker();
    invoker.provision(version, 1);
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> invoker.provisioning(version).ready() == 1);
    FakeSandbox provisioned = driver.started().get(0);
    assertThat(provisioned.spec().environment())
        .containsEntry("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency");

    // two at once: the provisioned instance and an on-demand one beside it
    CompletableFuture<InvocationResult> a = callAsync("\"hold\"");
    CompletableFuture<InvocationResult> b = callAsync("\"hold\"");
    awaitBusy(2);
    gate.countDown();
    a.get(10, TimeUnit.SECONDS);
    b.get(10, TimeUnit.SECONDS);
    awaitNoneBusy();
    assertThat(invoker.instanceCount()).isEqualTo(2);

    time.advance(KEEP_ALIVE.multipliedBy(3));
    assertThat(invoker.instanceCount()).as("the on-demand one was reaped").isEqualTo(1);
    assertThat(invoker.provisioning(version).ready()).isEqualTo(1);
    assertThat(driver.alive()).containsExactly(provisioned);
    assertThat(invoke()).isEqualTo(idOf(provisioned));
  }

  @Test
  void aProvisionedInstanceThatDies_isReplaced() throws Exception {
    invoker();
    invoker.provision(version, 1);
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> invoker.provisioning(version).ready() == 1);
    driver.started().get(0).exit(new ExitStatus(137, 9, false));

    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> driver.started().size() == 2 && invoker.provisioning(version).ready() == 1);
    assertThat(invoke()).isEqualTo(idOf(driver.started().get(1)));
  }

  @Test
  void beyondTheAccountsConcurrency_anInvocationIsThrottled_andStartsNothing() throws Exception {
    invoker(new ConcurrencyBudget(2, Map.of()));
    CompletableFuture<InvocationResult> a = callAsync("\"hold\"");
    CompletableFuture<InvocationResult> b = callAsync("\"hold\"");
    awaitBusy(2);

    LambdaError.Throttled throttled =
        catchThrowableOfType(LambdaError.Throttled.class, () -> call("{}"));
    assertThat(throttled.status()).isEqualTo(429);
    assertThat(throttled.reason()).isEqualTo("ConcurrentInvocationLimitExceeded");
    assertThat(throttled.getMessage()).isEqualTo("Rate Exceeded.");
    assertThat(driver.started()).hasSize(2);

    gate.countDown();
    a.get(10, TimeUnit.SECONDS);
    b.get(10, TimeUnit.SECONDS);
    awaitNoneBusy();
    assertThat(call("{}")).as("room again").isInstanceOf(InvocationResult.Success.class);
  }

  @Test
  void beyondAFunctionsReservedConcurrency_anInvocationIsThrottled() throws Exception {
    invoker(new ConcurrencyBudget(10, Map.of("f", 1)));
    CompletableFuture<InvocationResult> a = callAsync("\"hold\"");
    awaitBusy(1);

    LambdaError.Throttled throttled =
        catchThrowableOfType(LambdaError.Throttled.class, () -> call("{}"));
    assertThat(throttled.reason()).isEqualTo("ReservedFunctionConcurrentInvocationLimitExceeded");
    gate.countDown();
    assertThat(a.get(10, TimeUnit.SECONDS)).isInstanceOf(InvocationResult.Success.class);
  }

  @Test
  void aRetiredVersion_stopsItsIdleInstances_andTheNextInvocationStartsAFreshOne()
      throws Exception {
    invoker();
    String first = invoke();
    invoker.retire("f", "$LATEST");
    assertThat(invoker.instanceCount()).isZero();
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> driver.alive().isEmpty());
    assertThat(invoke()).isNotEqualTo(first);
  }

  /**
   * Stops go to the task executor the invoker was built with, not to threads the pool makes: while
   * the test holds the executor's tasks, a retired pool's idle instance and, at shutdown, the
   * instances left stay alive; they stop once the test runs what it held.
   */
  @Test
  void stops_runOnTheTaskExecutorTheInvokerWasGiven() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean hold =
        new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.BlockingQueue<Runnable> held =
        new java.util.concurrent.LinkedBlockingQueue<>();
    java.util.concurrent.ThreadFactory threads = Thread.ofVirtual().name("test-task-", 0).factory();
    java.util.concurrent.Executor tasks =
        r -> {
          if (hold.get()) {
            held.add(r);
          } else {
            threads.newThread(r).start();
          }
        };
    Runnable release =
        () -> {
          hold.set(false);
          for (Runnable r; (r = held.poll()) != null; ) {
            threads.newThread(r).start();
          }
        };
    invoker =
        Invoker.builder(driver, runtimeApi, Files.createDirectories(root.resolve("instances")))
            .clock(time)
            .ticker(time)
            .scheduler(time)
            .keepAlive(KEEP_ALIVE)
            .tasks(tasks)
            .build();
    try {
      invoke();

      hold.set(true);
      invoker.retire("f", "$LATEST");
      assertThat(invoker.instanceCount()).as("out of the pool at once").isZero();
      assertThat(held).as("its stop handed to the executor").isNotEmpty();
      Thread.sleep(200);
      assertThat(driver.alive()).as("and not run while the test holds it").hasSize(1);
      release.run();
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> driver.alive().isEmpty());

      invoke(); // a new pool, a new instance
      hold.set(true);
      CompletableFuture<Void> closed = CompletableFuture.runAsync(invoker::close);
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !held.isEmpty());
      Thread.sleep(200);
      assertThat(closed).as("shutdown waits for its stops").isNotDone();
      assertThat(driver.alive()).hasSize(1);
      // the pool's stop runs, and hands its instance's stop to the executor in turn
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> {
                release.run();
                hold.set(true);
                return closed.isDone();
              });
      release.run();
      closed.get(10, TimeUnit.SECONDS);
      assertThat(driver.alive()).isEmpty();
    } finally {
      // whatever failed, nothing is left held for the invoker's close
      release.run();
    }
    invoker = null;
  }
}
