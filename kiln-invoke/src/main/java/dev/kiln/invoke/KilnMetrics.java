package dev.kiln.invoke;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
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
 *       the Init Duration of cold starts, a histogram;
 *   <li>{@code kiln_concurrent_executions{function}}: ConcurrentExecutions, running now.
 *   <li>{@code kiln_provisioned_concurrency_allocated}, {@code _ready}, {@code
 *       kiln_provisioned_concurrent_executions} and {@code
 *       kiln_provisioned_concurrency_utilization{function,version}}: provisioned concurrency asked
 *       for, initialised, busy, and busy over asked for (ProvisionedConcurrencyUtilization); {@code
 *       kiln_provisioned_invocations_total}: invocations that ran on a provisioned instance;
 *   <li>{@code kiln_async_events_received_total}, {@code kiln_async_event_age_seconds} (from
 *       acceptance to each attempt, as AsyncEventAge), {@code
 *       kiln_async_events_dropped_total{reason}} (ended without success: RetriesExhausted,
 *       EventAgeExceeded), {@code kiln_async_events_dead_lettered_total{target}} (sent on to a
 *       dead-letter queue or an on-failure destination), and {@code
 *       kiln_async_queue_depth{function,state}} (waiting or in flight now), per function.
 * </ul>
 *
 * Per node: {@code kiln_instances{state}} (starting, idle, busy), {@code kiln_invocations_waiting}
 * (calls in line for an instance), memory reserved, and {@code kiln_sandbox_start_seconds}, how
 * long the sandbox driver takes to start an instance's process, and {@code
 * kiln_cold_start_phase_seconds{phase}}, a cold start phase by phase (issue 23): {@code prepare}
 * (Kiln's own work before the sandbox: Runtime API channel, environment, credentials), {@code
 * network} (the instance's network namespace, a spare or one made), the sandbox driver's parts
 * ({@code cgroup}, {@code tmp_disk}, {@code spawn}: bubblewrap's fork and exec until the process
 * runs), {@code runtime_init} (from there to the runtime's first {@code GET /next}: interpreter,
 * bootstrap and the handler's import), {@code first_event} (the first invoke's Duration).
 *
 * <p>Gauges whose rows come and go (one per function, per state) are {@link #sampled}: read afresh
 * at each scrape ({@link #refresh}), so a deleted function's rows vanish with it. A deleted
 * function's counters and timers are removed by {@link #forget}.
 *
 * <p>A function's counters exist from the moment it (or a version of it) is {@link #declare
 * declared}, at 0, so a dashboard shows 0 for a function nobody has called yet rather than "No
 * data"; errors are declared with {@code error_type="Function"} and throttles with every reason
 * Kiln gives, the other error types appear when they first happen.
 *
 * <p>Histograms have explicit buckets ({@link #DURATION_BUCKETS}, {@link #EVENT_AGE_BUCKETS}) that
 * span what Lambda allows (1 ms to the 900 s timeout; an asynchronous event's 6 hours), about 20
 * per series instead of Micrometer's 69-bucket percentile histogram, which for every function and
 * version would make a scrape mostly buckets.
 */
public final class KilnMetrics {

  /**
   * Buckets of the duration histograms, on a 1-2.5-5 scale from 1 ms to Lambda's longest timeout.
   */
  public static final Duration[] DURATION_BUCKETS = {
    Duration.ofMillis(1),
    Duration.ofMillis(2),
    Duration.ofMillis(5),
    Duration.ofMillis(10),
    Duration.ofMillis(25),
    Duration.ofMillis(50),
    Duration.ofMillis(100),
    Duration.ofMillis(250),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofMillis(2500),
    Duration.ofSeconds(5),
    Duration.ofSeconds(10),
    Duration.ofSeconds(30),
    Duration.ofSeconds(60),
    Duration.ofSeconds(120),
    Duration.ofSeconds(300),
    Duration.ofSeconds(600),
    Duration.ofSeconds(900),
  };

  /** Buckets of an asynchronous event's age, up to the 6 hours an event may wait. */
  public static final Duration[] EVENT_AGE_BUCKETS = {
    Duration.ofMillis(10),
    Duration.ofMillis(100),
    Duration.ofSeconds(1),
    Duration.ofSeconds(10),
    Duration.ofSeconds(30),
    Duration.ofMinutes(1),
    Duration.ofMinutes(2),
    Duration.ofMinutes(5),
    Duration.ofMinutes(15),
    Duration.ofMinutes(30),
    Duration.ofHours(1),
    Duration.ofHours(3),
    Duration.ofHours(6),
  };

  /** The reasons Kiln throttles for ({@link ConcurrencyBudget}, {@link ScaleGate}). */
  static final List<String> THROTTLE_REASONS =
      List.of(
          "ReservedFunctionConcurrentInvocationLimitExceeded",
          "ConcurrentInvocationLimitExceeded",
          "FunctionInvocationRateLimitExceeded");

  private final MeterRegistry registry;
  private final Set<String> gauged = ConcurrentHashMap.newKeySet();
  private final List<Runnable> samplers = new CopyOnWriteArrayList<>();
  private final Timer sandboxStart;
  private final ConcurrentHashMap<String, Timer> coldStartPhases = new ConcurrentHashMap<>();

  /** The meters of one function version, registered once and kept: no lookup per invocation. */
  private record VersionMeters(
      Counter invocations,
      Timer duration,
      Counter coldStarts,
      Timer initDuration,
      Counter provisionedInvocations,
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
                histogram(
                    Timer.builder("kiln.duration")
                        .description(
                            "Duration of invocations, from the runtime taking the event to its"
                                + " answer")
                        .tags("function", function, "version", version),
                    DURATION_BUCKETS),
                Counter.builder("kiln.cold.starts")
                    .description("Invocations that started a new instance")
                    .tags("function", function, "version", version)
                    .register(registry),
                histogram(
                    Timer.builder("kiln.init.duration")
                        .description("Init Duration of cold starts")
                        .tags("function", function, "version", version),
                    DURATION_BUCKETS),
                Counter.builder("kiln.provisioned.invocations")
                    .description("Invocations that ran on a provisioned-concurrency instance")
                    .tags("function", function, "version", version)
                    .register(registry),
                new ConcurrentHashMap<>()));
  }

  public KilnMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.sandboxStart =
        histogram(
            Timer.builder("kiln.sandbox.start")
                .description("Time the sandbox driver takes to start an instance's process"),
            DURATION_BUCKETS);
  }

  /** A timer published as a histogram with exactly {@code buckets} (and +Inf). */
  private Timer histogram(Timer.Builder timer, Duration[] buckets) {
    return timer
        .serviceLevelObjectives(buckets)
        .minimumExpectedValue(buckets[0])
        .maximumExpectedValue(buckets[buckets.length - 1])
        .register(registry);
  }

  /**
   * Function {@code function}'s {@code version} exists: its counters are registered at 0 (see the
   * class comment), and stay until {@link #forget}.
   */
  void declare(String function, String version) {
    VersionMeters m = meters(function, version);
    error(m, function, version, "Function");
    for (String reason : THROTTLE_REASONS) {
      throttles(function, reason);
    }
  }

  private Counter error(VersionMeters m, String function, String version, String type) {
    return m.errors()
        .computeIfAbsent(
            type,
            t ->
                Counter.builder("kiln.errors")
                    .description("Invocations that ended in an error (function or runtime)")
                    .tags("function", function, "version", version, "error_type", t)
                    .register(registry));
  }

  private Counter throttles(String function, String reason) {
    return Counter.builder("kiln.throttles")
        .description("Invocations refused with TooManyRequestsException")
        .tags("function", function, "reason", reason)
        .register(registry);
  }

  /** Metrics kept in memory only, for tests and embedded use. */
  public static KilnMetrics inMemory() {
    return new KilnMetrics(new SimpleMeterRegistry());
  }

  public MeterRegistry registry() {
    return registry;
  }

  /**
   * One invocation ended, after {@code duration}; {@code errorType} when it failed. Whatever runs
   * an invocation to its end reports it here, once (today each {@code Instance}); the version's
   * meters are made on its first report and found in a concurrent map after; safe from any thread.
   *
   * @param initDuration the init phase, on a cold start: counted as one and timed
   * @param provisioned whether it ran on a provisioned instance
   */
  public void invoked(
      String function,
      String version,
      Duration duration,
      java.util.Optional<Duration> initDuration,
      java.util.Optional<String> errorType,
      boolean provisioned) {
    VersionMeters m = meters(function, version);
    m.invocations().increment();
    if (provisioned) {
      m.provisionedInvocations().increment();
    }
    m.duration().record(duration);
    errorType.ifPresent(type -> error(m, function, version, type).increment());
    initDuration.ifPresent(
        init -> {
          m.coldStarts().increment();
          m.initDuration().record(init);
        });
  }

  /** An invocation was refused with 429. */
  void throttled(String function, String reason) {
    throttles(function, reason).increment();
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

  /** The sandbox driver started an instance's process in {@code took}. */
  void sandboxStarted(Duration took) {
    sandboxStart.record(took);
  }

  /** One phase of a cold start (see the class comment for the names) took {@code took}. */
  void coldStartPhase(String phase, Duration took) {
    coldStartPhases
        .computeIfAbsent(
            phase,
            p ->
                histogram(
                    Timer.builder("kiln.cold.start.phase")
                        .description("A cold start, phase by phase")
                        .tag("phase", p),
                    DURATION_BUCKETS))
        .record(took);
  }

  /** An asynchronous event was accepted into the queue. */
  void asyncReceived(String function) {
    Counter.builder("kiln.async.events.received")
        .description("Events accepted for asynchronous invocation")
        .tag("function", function)
        .register(registry)
        .increment();
  }

  /** An asynchronous event is about to be attempted, {@code age} after it was accepted. */
  void asyncAttempt(String function, Duration age) {
    histogram(
            Timer.builder("kiln.async.event.age")
                .description(
                    "Time from accepting an asynchronous event to each attempt to invoke it")
                .tag("function", function),
            EVENT_AGE_BUCKETS)
        .record(age);
  }

  /** An asynchronous event ended without success, for {@code reason}. */
  void asyncDropped(String function, String reason) {
    Counter.builder("kiln.async.events.dropped")
        .description("Asynchronous events that ended without a successful invocation")
        .tags("function", function, "reason", reason)
        .register(registry)
        .increment();
  }

  /** A failed asynchronous event was sent on to {@code target} (dead-letter-queue, on-failure). */
  void asyncDeadLettered(String function, String target) {
    Counter.builder("kiln.async.events.dead.lettered")
        .description("Failed asynchronous events sent to a dead-letter queue or on-failure target")
        .tags("function", function, "target", target)
        .register(registry)
        .increment();
  }

  /**
   * A gauge with one row per tag set, its rows read from {@code rows} at each {@link #refresh};
   * rows no longer given are removed.
   */
  public void sampled(String name, String description, Supplier<Map<Tags, Number>> rows) {
    MultiGauge gauge = MultiGauge.builder(name).description(description).register(registry);
    samplers.add(
        () ->
            gauge.register(
                rows.get().entrySet().stream()
                    .map(e -> MultiGauge.Row.of(e.getKey(), e.getValue()))
                    .toList(),
                true));
  }

  /** Reads every {@link #sampled} gauge afresh; called before each scrape. */
  public void refresh() {
    for (Runnable sampler : samplers) {
      sampler.run();
    }
  }

  /** Removes every meter of a deleted function. */
  public void forget(String function) {
    versions.keySet().removeIf(k -> k.startsWith(function + "\n"));
    gauged.remove(function);
    for (Meter meter : List.copyOf(registry.getMeters())) {
      if (function.equals(meter.getId().getTag("function"))) {
        registry.remove(meter);
      }
    }
  }

  /** A node-wide gauge. */
  public <T> void gauge(String name, String description, T source, ToDoubleFunction<T> value) {
    Gauge.builder(name, source, value).description(description).register(registry);
  }
}
