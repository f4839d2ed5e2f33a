package dev.kiln.bench.jmh;

import dev.kiln.invoke.KilnMetrics;
import dev.kiln.invoke.UsageMeter;
import dev.kiln.store.SqliteUsageStore;
import dev.kiln.store.UsageStore;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
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
 * What every invocation adds to Kiln's metrics and metering once it has ended, wired as the server
 * wires them: {@link KilnMetrics#invoked} on a Prometheus registry (the version's meters are
 * registered on the first call and looked up after; a counter and a timer with a percentile
 * histogram are updated) and {@link UsageMeter#record} into a meter backed by a real SQLite usage
 * store in a scratch directory (its flusher writes every 2 s, off the measured thread). Measured
 * together, as an invocation pays both, and each alone.
 *
 * <p>Through the public recording methods of kiln-invoke's two accountants, {@link
 * KilnMetrics#invoked} and {@link UsageMeter#record}, which whatever runs an invocation to its end
 * (an instance, today) reports it to. Baseline: one {@link LongAdder} increment, the cheapest
 * contention-safe count in the JDK and what the usage meter's tallies are made of: the ratio is how
 * many such counts an invocation's accounting is worth.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class MeteringBench {

  private static final Duration DURATION = Duration.ofNanos(1_370_000);

  final LongAdder adder = new LongAdder();
  KilnMetrics metrics;
  UsageStore store;
  UsageMeter usage;
  Path dir;

  @Setup(Level.Trial)
  public void open() throws IOException {
    dir = Files.createTempDirectory("kiln-jmh-usage-");
    metrics = new KilnMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    store = SqliteUsageStore.open(dir.resolve("usage.db"));
    usage = UsageMeter.builder(store).build();
  }

  @TearDown(Level.Trial)
  public void close() throws Exception {
    usage.close();
    store.close();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Benchmark
  public void baselineLongAdder() {
    adder.increment();
  }

  @Benchmark
  public void metricsAndUsage() {
    long now = System.currentTimeMillis();
    usage.record("f", now, 2, 128, 512, false);
    metrics.invoked("f", "$LATEST", DURATION, Optional.empty(), Optional.empty(), false);
  }

  @Benchmark
  public void metricsInvoked() {
    metrics.invoked("f", "$LATEST", DURATION, Optional.empty(), Optional.empty(), false);
  }

  @Benchmark
  public void usageRecord() {
    usage.record("f", System.currentTimeMillis(), 2, 128, 512, false);
  }
}
