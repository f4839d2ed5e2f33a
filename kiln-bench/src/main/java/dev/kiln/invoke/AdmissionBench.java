package dev.kiln.invoke;

import dev.kiln.runtimeapi.RuntimeApiServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Taking and giving back what an invocation holds, uncontended (one thread):
 *
 * <ul>
 *   <li>a {@link ConcurrencyBudget} permit, which every invocation takes first: for a function in
 *       the unreserved pool and for one with reserved concurrency;
 *   <li>a warm instance of an {@link InstancePool}: {@link InstancePool#acquire} pops the idle one,
 *       claims and thaws it, and closing the {@link Lease} gives it back. The pool holds one real
 *       {@link Instance} (a real Runtime API channel, a sandbox that never exits and cannot freeze,
 *       as the process driver's), seeded once, so acquire never starts anything;
 *   <li>{@link ScaleGate} admission and release. The gate is passed by each new instance, not by
 *       each invocation (see InstanceLauncher), so this one is on the cold path only; its token
 *       bucket is made large enough never to run out here.
 * </ul>
 *
 * <p>In the {@code dev.kiln.invoke} package because the pool, the lease and the instance are
 * package-private. Baseline: a {@link Semaphore} tryAcquire and release, the cheapest way to count
 * permits in the JDK (tryAcquire, because admission refuses at once rather than waits).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class AdmissionBench {

  final Semaphore semaphore = new Semaphore(1000);
  final ConcurrencyBudget budget = new ConcurrencyBudget(1000, Map.of("reserved-fn", 10));
  final ScaleGate gate =
      new ScaleGate(
          Integer.MAX_VALUE,
          1_000_000,
          Duration.ZERO,
          InstantSource.system(),
          dev.kiln.time.Ticker.system());
  RuntimeApiServer runtimeApi;
  Instance instance;
  InstancePool pool;
  Path dir;

  @Setup(Level.Trial)
  public void seedPool() throws IOException {
    dir = Files.createTempDirectory("kiln-jmh-pool-");
    Path output = Files.createFile(dir.resolve("output"));
    FunctionVersion version = BenchFixtures.version("f");
    runtimeApi = RuntimeApiServer.startWithoutPeerChecks();
    instance =
        new Instance(
            "bench-instance",
            version,
            "2026/01/01/[$LATEST]bench",
            new BenchFixtures.IdleSandbox(output),
            runtimeApi.open("bench-instance", java.util.Set::of),
            new InstanceLog(output),
            System.nanoTime(),
            System.nanoTime(),
            InvocationTracer.NONE,
            Instance.Epilogue.NONE,
            FunctionLogs.NONE,
            KilnMetrics.inMemory(),
            UsageMeter.NONE,
            false,
            java.util.Optional.empty(),
            InstantSource.system(),
            dev.kiln.time.Ticker.system());
    // no launcher: the pool always has its one idle instance, so it never starts another
    pool = new InstancePool(version, null, InstantSource.system(), Runnable::run);
    if (!instance.claim()) {
      throw new IllegalStateException("a new instance could not be claimed");
    }
    pool.giveBack(instance);
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    instance.kill("benchmark over");
    runtimeApi.close();
    Files.deleteIfExists(dir.resolve("output"));
    Files.deleteIfExists(dir);
  }

  @Benchmark
  public void baselineSemaphore() {
    if (!semaphore.tryAcquire()) {
      throw new IllegalStateException("no permit");
    }
    semaphore.release();
  }

  @Benchmark
  public void concurrencyBudgetUnreserved() {
    budget.admit("f").close();
  }

  @Benchmark
  public void concurrencyBudgetReserved() {
    budget.admit("reserved-fn").close();
  }

  @Benchmark
  public void instancePoolWarmLease() {
    Lease lease = pool.acquire();
    if (lease.coldStart()) {
      throw new IllegalStateException("the pool started an instance");
    }
    lease.close();
  }

  @Benchmark
  public void scaleGateNewInstance() {
    gate.admit("f", 128);
    gate.release(128);
  }
}
