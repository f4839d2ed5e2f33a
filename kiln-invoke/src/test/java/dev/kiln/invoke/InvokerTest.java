package dev.kiln.invoke;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.model.Account;
import dev.kiln.model.CodeDigest;
import dev.kiln.model.ConfigPatch;
import dev.kiln.model.FunctionConfig;
import dev.kiln.model.FunctionRef;
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
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The invoker with real instances but a clock the test moves: keep-alive is decided by the clock,
 * not by sleeping.
 */
class InvokerTest {

  final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
  final InstantSource clock = () -> now.get();
  RuntimeApiServer runtimeApi;
  Invoker invoker;
  FunctionVersion version;

  @BeforeEach
  void start() throws Exception {
    Path root = dev.kiln.testing.TempDirs.create("kiln-invoker-");
    Path task = Files.createDirectories(root.resolve("task"));
    Files.writeString(
        task.resolve("app.py"), "import os\ndef handler(e, c):\n    return os.getpid()\n");
    RuntimeTable runtimes = RuntimeTable.install(root.resolve("runtimes"), Map.of());
    runtimeApi = RuntimeApiServer.start();
    invoker =
        Invoker.builder(
                new ProcessSandboxDriver(),
                runtimeApi,
                Files.createDirectories(root.resolve("instances")))
            .clock(clock)
            .scheduler(new dev.kiln.testing.ManualTime())
            .keepAlive(Duration.ofMinutes(5))
            .budget(new ConcurrencyBudget(1000, java.util.Map.of()))
            .build();
    FunctionConfig config =
        FunctionConfig.create(
            "f",
            new CodeDigest("00".repeat(32), 1, 1),
            ConfigPatch.of("python3.12", "app.handler", "arn:aws:iam::000000000000:role/r"),
            now.get());
    version =
        new FunctionVersion(
            config,
            Account.DEFAULT.functionArn("f"),
            task,
            runtimes.launch("python3.12"),
            java.util.Optional.empty(),
            true);
  }

  @AfterEach
  void stop() {
    invoker.close();
    runtimeApi.close();
  }

  String invoke() {
    InvocationResult r =
        invoker.invoke(
            version,
            InvokeRequest.sync(
                FunctionRef.of(version.name()), "{}".getBytes(StandardCharsets.UTF_8)));
    assertThat(r).isInstanceOf(InvocationResult.Success.class);
    awaitIdle();
    return new String(r.payload(), StandardCharsets.UTF_8);
  }

  /**
   * The caller is answered when the runtime posts its result; the instance is idle again once the
   * runtime asks for its next event, a moment later.
   */
  void awaitIdle() {
    long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (invoker.idleInstanceCount() < invoker.instanceCount() && System.nanoTime() < until) {
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
  }

  @Test
  void reapIdle_stopsInstancesOnlyOnceTheKeepAliveHasPassed() {
    String pid = invoke();
    assertThat(invoker.instanceCount()).isEqualTo(1);

    now.set(now.get().plus(Duration.ofMinutes(4)));
    assertThat(invoker.reapIdle()).isZero();
    assertThat(invoke()).as("still warm: the same instance").isEqualTo(pid);

    now.set(now.get().plus(Duration.ofMinutes(5)).plusSeconds(1));
    assertThat(invoker.reapIdle()).isEqualTo(1);
    assertThat(invoker.instanceCount()).isZero();
    assertThat(invoke()).as("a fresh instance after reaping").isNotEqualTo(pid);
  }

  @Test
  void aSandboxThatCannotStart_isLoggedOnce_withTheFunctionTheInstanceAndTheCause()
      throws Exception {
    var logged =
        new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
    logged.start();
    var root =
        (ch.qos.logback.classic.Logger)
            org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(logged);
    dev.kiln.sandbox.SandboxDriver failing =
        new dev.kiln.sandbox.SandboxDriver() {
          @Override
          public dev.kiln.sandbox.Sandbox start(dev.kiln.sandbox.SandboxSpec spec)
              throws java.io.IOException {
            throw new java.io.IOException("bwrap: Can't mount proc on /newroot/proc");
          }

          @Override
          public String describe() {
            return "failing";
          }

          @Override
          public void reapLeftovers(
              Path instancesRoot, java.util.function.Consumer<Path> salvage) {}
        };
    try (Invoker broken =
        Invoker.builder(failing, runtimeApi, dev.kiln.testing.TempDirs.create("kiln-invoker-"))
            .clock(clock)
            .scheduler(new dev.kiln.testing.ManualTime())
            .keepAlive(Duration.ofMinutes(5))
            .budget(new ConcurrencyBudget(1000, java.util.Map.of()))
            .build()) {
      var request =
          InvokeRequest.sync(FunctionRef.of(version.name()), "{}".getBytes(StandardCharsets.UTF_8));
      var failure =
          org.assertj.core.api.Assertions.catchThrowableOfType(
              dev.kiln.model.LambdaError.class, () -> broken.invoke(version, request));
      assertThat(failure.status()).isEqualTo(500);
    } finally {
      root.detachAppender(logged);
    }
    assertThat(logged.list)
        .filteredOn(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN))
        .extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
        .singleElement()
        .asString()
        .matches("instance [0-9a-f]{32} of function f version \\$LATEST could not start: .*")
        .contains("Can't mount proc");
  }

  @Test
  void retire_stopsIdleInstancesOfThatVersion() {
    invoke();
    assertThat(invoker.idleInstanceCount()).isEqualTo(1);
    invoker.retire("f", "$LATEST");
    assertThat(invoker.instanceCount()).isZero();
  }
}
