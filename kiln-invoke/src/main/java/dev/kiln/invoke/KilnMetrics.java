package dev.kiln.invoke;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * What Kiln counts and times, with the meanings of Lambda's CloudWatch metrics, in a Micrometer
 * registry (Prometheus text at {@code /metrics}):
 *
 * <ul>
 *   <li>{@code kiln_invocations_total{function,version}}: Invocations, counted when an invocation
 *       ends, whatever its outcome (Lambda counts function errors, not throttles);
 *   <li>{@code kiln_errors_total{function,version,error_type}}: Errors, the function's own errors
 *       and the runtime's (timeouts, crashes, init errors);
 *   <li>{@code kiln_throttles_total{function,reason}}: Throttles, invocations refused with 429;
 *   <li>{@code kiln_duration_seconds{function,version}}: Duration, a histogram;
 *   <li>{@code kiln_cold_starts_total} and {@code kiln_init_duration_seconds{function,version}}:
 *       the Init Duration of cold starts;
 *   <li>{@code kiln_concurrent_executions{function}}: ConcurrentExecutions, running now.
 * </ul>
 *
 * Per node, registered by the server: instances, idle instances and memory reserved.
 */
public final class KilnMetrics {

  private final MeterRegistry registry;
  private final Set<String> gauged = ConcurrentHashMap.newKeySet();

  /** The meters of one function version, registered once and kept: no lookup per invocation. */
  private record VersionMeters(
      Counter invocations,
      Timer duration,
      Counter coldStarts,
      Timer initDuration,
      ConcurrentHashMap<String, Counter> errors) {}

  private final ConcurrentHashMap<String, VersionMeters> versions = new ConcurrentHashMap<>();

  private VersionMeters meters(String function, String version) {
    return versions.computeIfAbsent(
        function + "\n" + version,
        k ->
            new VersionMeters(
                Counter.builder("kiln.invocations")
                    .description("Invocations that ran, whatever their outcome")
                    .tags("function", function, "version", version)
                    .register(registry),
                Timer.builder("kiln.duration")
                    .description(
                        "Duration of invocations, from the runtime taking the event to its answer")
                    .tags("function", function, "version", version)
                    .publishPercentileHistogram()
                    .register(registry),
                Counter.builder("kiln.cold.starts")
                    .description("Invocations that started a new instance")
                    .tags("function", function, "version", version)
                    .register(registry),
                Timer.builder("kiln.init.duration")
                    .description("Init Duration of cold starts")
                    .tags("function", function, "version", version)
                    .register(registry),
                new ConcurrentHashMap<>()));
  }

  public KilnMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Metrics kept in memory only, for tests and embedded use. */
  public static KilnMetrics inMemory() {
    return new KilnMetrics(new SimpleMeterRegistry());
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** One invocation ended, after {@code duration}; {@code errorType} when it failed. */
  void invoked(
      String function,
      String version,
      Duration duration,
      java.util.Optional<Duration> initDuration,
      java.util.Optional<String> errorType) {
    VersionMeters m = meters(function, version);
    m.invocations().increment();
    m.duration().record(duration);
    errorType.ifPresent(
        type ->
            m.errors()
                .computeIfAbsent(
                    type,
                    t ->
                        Counter.builder("kiln.errors")
                            .description("Invocations that ended in an error (function or runtime)")
                            .tags("function", function, "version", version, "error_type", t)
                            .register(registry))
                .increment());
    initDuration.ifPresent(
        init -> {
          m.coldStarts().increment();
          m.initDuration().record(init);
        });
  }

  /** An invocation was refused with 429. */
  void throttled(String function, String reason) {
    Counter.builder("kiln.throttles")
        .description("Invocations refused with TooManyRequestsException")
        .tags("function", function, "reason", reason)
        .register(registry)
        .increment();
  }

  /** Gauges {@code kiln_concurrent_executions} for a function, once. */
  void watchConcurrency(String function, ConcurrencyBudget budget) {
    if (gauged.add(function)) {
      Gauge.builder("kiln.concurrent.executions", budget, b -> b.running(function))
          .description("Invocations of the function running now")
          .tag("function", function)
          .register(registry);
    }
  }

  /** A node-wide gauge. */
  public <T> void gauge(String name, String description, T source, ToDoubleFunction<T> value) {
    Gauge.builder(name, source, value).description(description).register(registry);
  }
}
