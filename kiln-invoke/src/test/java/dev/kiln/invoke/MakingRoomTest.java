package dev.kiln.invoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.model.Account;
import dev.kiln.model.CodeDigest;
import dev.kiln.model.ConfigPatch;
import dev.kiln.model.FunctionConfig;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import dev.kiln.runtimeapi.RuntimeApiServer;
import dev.kiln.runtimes.RuntimeTable;
import dev.kiln.sandbox.ProcessSandboxDriver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Idle instances give way to new ones: real instances of 128 MB functions on a host of four, a
 * clock the test moves to say which instance was used least recently.
 */
class MakingRoomTest {

  static final String APP =
      "import os, time\n"
          + "def handler(e, c):\n"
          + "    while e.get('hold') and not os.path.exists(e['hold']):\n"
          + "        time.sleep(0.02)\n"
          + "    return os.getpid()\n";

  final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
  final InstantSource clock = () -> now.get();
  Path root;
  Path task;
  RuntimeTable runtimes;
  RuntimeApiServer runtimeApi;
  ScaleGate gate;
  Invoker invoker;

  @BeforeEach
  void start() throws Exception {
    root = dev.kiln.testing.TempDirs.create("kiln-room-");
    task = Files.createDirectories(root.resolve("task"));
    Files.writeString(task.resolve("app.py"), APP);
    runtimes = RuntimeTable.install(root.resolve("runtimes"), Map.of());
    runtimeApi = RuntimeApiServer.start();
    gate =
        new ScaleGate(1000, 4 * 128, Duration.ofMillis(300), clock, dev.kiln.time.Ticker.system());
    invoker =
        Invoker.builder(
                new ProcessSandboxDriver(),
                runtimeApi,
                Files.createDirectories(root.resolve("instances")))
            .clock(clock)
            .scheduler(new dev.kiln.testing.ManualTime())
            .keepAlive(Duration.ofMinutes(5))
            .budget(new ConcurrencyBudget(1000, Map.of()))
            .gate(gate)
            .build();
  }

  @AfterEach
  void stop() {
    invoker.close();
    runtimeApi.close();
  }

  FunctionVersion function(String name) {
    FunctionConfig config =
        FunctionConfig.create(
            name,
            new CodeDigest("00".repeat(32), 1, 1),
            longTimeout(
                ConfigPatch.of("python3.12", "app.handler", "arn:aws:iam::000000000000:role/r")),
            now.get());
    return new FunctionVersion(
        config,
        Account.DEFAULT.functionArn(name),
        task,
        runtimes.launch("python3.12"),
        Optional.empty(),
        true);
  }

  /** Instances held busy by {@link #busy} calls that have not been released. */
  int holding;

  /**
   * Invokes {@code version} and waits until its instance is back (an invocation ends when the
   * runtime asks for its next event, a moment after the answer), so that which instances are idle
   * is settled before the test moves on.
   */
  /** A minute, so that an instance held busy stays busy however slowly the test runs. */
  static ConfigPatch longTimeout(ConfigPatch p) {
    return new ConfigPatch(
        p.runtime(),
        p.handler(),
        p.role(),
        p.description(),
        p.memorySize(),
        Optional.of(60),
        p.environment(),
        p.ephemeralStorageSize(),
        p.architectures(),
        p.packageType(),
        p.tracingMode(),
        p.logging(),
        p.deadLetterTarget(),
        p.layers());
  }

  String invoke(FunctionVersion version, String payload) {
    String answer = call(version, payload);
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> invoker.instancesByState().get("busy") == holding);
    return answer;
  }

  String call(FunctionVersion version, String payload) {
    InvocationResult r =
        invoker.invoke(
            version,
            InvokeRequest.sync(
                FunctionRef.of(version.name()), payload.getBytes(StandardCharsets.UTF_8)));
    assertThat(r).isInstanceOf(InvocationResult.Success.class);
    return new String(r.payload(), StandardCharsets.UTF_8);
  }

  /** An invocation of {@code version} that runs until {@link #release}; returns once it runs. */
  CompletableFuture<String> busy(FunctionVersion version) throws Exception {
    int expected = ++holding;
    String hold = root.resolve("release").toString();
    CompletableFuture<String> call =
        CompletableFuture.supplyAsync(() -> call(version, "{\"hold\": \"" + hold + "\"}"));
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> invoker.instancesByState().get("busy") == expected);
    return call;
  }

  void release() throws Exception {
    Files.writeString(root.resolve("release"), "");
  }

  void provisionOne(FunctionVersion version) {
    invoker.provision(version, 1);
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> invoker.provisioning(version).ready() == 1);
  }

  @Test
  void aStartStopsTheLeastRecentlyUsedIdleInstance_acrossFunctions_neverProvisionedOrBusy()
      throws Exception {
    FunctionVersion older = function("older");
    FunctionVersion newer = function("newer");
    FunctionVersion kept = function("kept");
    FunctionVersion working = function("working");
    FunctionVersion fresh = function("fresh");
    provisionOne(kept); // initialised first: idle the longest of all
    now.set(now.get().plusSeconds(10));
    String olderPid = invoke(older, "{}");
    now.set(now.get().plusSeconds(10));
    String newerPid = invoke(newer, "{}");
    CompletableFuture<String> running = busy(working);
    assertThat(gate.reservedMb()).as("the host is full").isEqualTo(512);

    // one more instance: the least recently used idle one that is not provisioned makes room
    now.set(now.get().plusSeconds(10));
    invoke(fresh, "{}");
    now.set(now.get().plusSeconds(10));
    assertThat(invoke(newer, "{}")).as("the newer idle instance is still warm").isEqualTo(newerPid);
    assertThat(invoker.provisioning(kept).ready()).isEqualTo(1);
    assertThat(running).isNotDone();

    // the older function starts again, and the least recently used is now the fresh one's
    now.set(now.get().plusSeconds(10));
    assertThat(invoke(older, "{}")).as("its instance was stopped").isNotEqualTo(olderPid);
    assertThat(invoke(newer, "{}")).isEqualTo(newerPid);
    assertThat(invoker.provisioning(kept).ready()).isEqualTo(1);
    assertThat(running).isNotDone();
    assertThat(gate.reservedMb()).isEqualTo(512);

    release();
    running.get(30, TimeUnit.SECONDS);
  }

  @Test
  void whenBusyAndProvisionedInstancesHoldTheMemory_aStartIsThrottled() throws Exception {
    FunctionVersion kept = function("kept");
    provisionOne(kept);
    CompletableFuture<String> a = busy(function("a"));
    CompletableFuture<String> b = busy(function("b"));
    CompletableFuture<String> c = busy(function("c"));
    assertThatThrownBy(() -> invoke(function("d"), "{}"))
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> {
              assertThat(e.status()).isEqualTo(429);
              assertThat(e.getMessage()).contains("no memory left").contains("512 of 512 MB");
            });
    assertThat(invoker.provisioning(kept).ready()).isEqualTo(1);
    release();
    for (var call : java.util.List.of(a, b, c)) {
      call.get(30, TimeUnit.SECONDS);
    }
  }
}
