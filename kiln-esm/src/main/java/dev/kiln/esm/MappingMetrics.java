package dev.kiln.esm;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One mapping's meters in {@code /metrics}: records by what became of them ({@code
 * kiln_esm_records_total{outcome=polled|filtered|invoked|failed|dropped}}), the sizes of the
 * batches the function was invoked with ({@code kiln_esm_batch_size}), and the source's lag ({@code
 * kiln_esm_lag{measure=...}}: Kafka's offset lag, SQS's backlog or oldest message's age, the
 * replication slot's bytes behind). Every meter is tagged with the mapping's UUID and function. The
 * meters are the mapping's, not a poller's: they keep counting across its pollers (a disable and an
 * enable, a change of settings) and are removed when the mapping goes. Thread-safe: counters are
 * Micrometer's; the lag values sit in a concurrent map the gauges read.
 */
final class MappingMetrics {

  private final MeterRegistry registry;
  private final Tags tags;
  private final Counter polled;
  private final Counter filtered;
  private final Counter invoked;
  private final Counter failed;
  private final Counter dropped;
  private final DistributionSummary batchSize;
  private final Map<String, Double> lag = new ConcurrentHashMap<>();
  private final Map<String, Gauge> lagGauges = new ConcurrentHashMap<>();

  private final String function;

  MappingMetrics(MeterRegistry registry, String uuid, String function, String kind) {
    this.registry = registry;
    this.function = function;
    this.tags = Tags.of("uuid", uuid, "function", function, "source", kind);
    polled = counter("polled");
    filtered = counter("filtered");
    invoked = counter("invoked");
    failed = counter("failed");
    dropped = counter("dropped");
    batchSize =
        DistributionSummary.builder("kiln_esm_batch_size")
            .description("Records in each batch a mapping invoked its function with")
            .tags(tags)
            .register(registry);
  }

  private Counter counter(String outcome) {
    return Counter.builder("kiln_esm_records")
        .description(
            "Records of an event source mapping: polled from the source, filtered out, invoked"
                + " with, failed (in an invocation that failed), dropped (given up on)")
        .tags(tags.and("outcome", outcome))
        .register(registry);
  }

  void polled(int n) {
    polled.increment(n);
  }

  void filtered(int n) {
    filtered.increment(n);
  }

  void invoked(int n) {
    invoked.increment(n);
    batchSize.record(n);
  }

  void failed(int n) {
    failed.increment(n);
  }

  void dropped(int n) {
    dropped.increment(n);
  }

  /** The source's latest lag figures, by measure. */
  void lag(Map<String, Double> measures) {
    measures.forEach(
        (measure, value) -> {
          lag.put(measure, value);
          lagGauges.computeIfAbsent(
              measure,
              m ->
                  Gauge.builder("kiln_esm_lag", lag, l -> l.getOrDefault(m, Double.NaN))
                      .description(
                          "How far an event source mapping is behind its source, by measure")
                      .tags(tags.and("measure", m))
                      .register(registry));
        });
  }

  /** Whether these meters are tagged with {@code functionName}, as its mapping now names it. */
  boolean isFor(String functionName) {
    return function.equals(functionName);
  }

  /** The mapping is gone (or moved to another function): its meters go. */
  void remove() {
    registry.getMeters().stream()
        .filter(m -> m.getId().getName().startsWith("kiln_esm_"))
        .filter(m -> tags.stream().allMatch(t -> t.getValue().equals(m.getId().getTag(t.getKey()))))
        .forEach(registry::remove);
    lagGauges.clear();
  }
}
