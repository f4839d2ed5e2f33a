package dev.kiln.bench.jmh;

import dev.kiln.invoke.ConcurrencyBudget;
import dev.kiln.invoke.ScaleGate;
import dev.kiln.time.Ticker;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Taking and giving back the permits an invocation and a new instance need, uncontended (one
 * thread):
 *
 * <ul>
 *   <li>a {@link ConcurrencyBudget} permit, which every invocation takes first: for a function in
 *       the unreserved pool and for one with reserved concurrency;
 *   <li>{@link ScaleGate} admission and release. The gate is passed by each new instance, not by
 *       each invocation, so this one is on the cold path only; its token bucket is made large
 *       enough never to run out here.
 * </ul>
 *
 * <p>Both through their public API, as the server builds them and hands them to the invoker. The
 * warm instance lease that used to be measured here (the pool's acquire and give back) is internal
 * to kiln-invoke's pool; it is measured one level up, inside a whole warm invocation through the
 * public {@code Invocations} port on an in-JVM sandbox, by {@link WarmInvokeBench}.
 *
 * <p>Baseline: a {@link Semaphore} tryAcquire and release, the cheapest way to count permits in the
 * JDK (tryAcquire, because admission refuses at once rather than waits).
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
          Integer.MAX_VALUE, 1_000_000, Duration.ZERO, InstantSource.system(), Ticker.system());

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
  public void scaleGateNewInstance() {
    gate.admit("f", 128);
    gate.release(128);
  }
}
