package dev.kiln.events;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/**
 * The router's meters in {@code /metrics}, one set for every schedule, rule and push endpoint,
 * tagged with its {@code kind} ({@code schedule}, {@code rule}, {@code alarm}, {@code s3}) and
 * {@code name} (the schedule's group/name, the rule's bus/name, the endpoint's receiver):
 *
 * <ul>
 *   <li>{@code kiln_router_events_total{outcome=received|delivered|failed}}: events that came in (a
 *       due time, a matched event, a webhook's alert or record), deliveries accepted into the async
 *       queue, and deliveries that could not be made (a target that is gone, a refused permission);
 *   <li>{@code kiln_router_delivery_delay_seconds}: from when an event was due or received to when
 *       its delivery was durable in the queue.
 * </ul>
 *
 * <p>Thread-safe: Micrometer's meters are, and a meter is looked up or registered per call (the
 * registry keeps one per name and tags).
 */
public final class RouterMetrics {

  private final MeterRegistry registry;

  public RouterMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public void received(String kind, String name) {
    counter(kind, name, "received").increment();
  }

  public void delivered(String kind, String name, Duration delay) {
    counter(kind, name, "delivered").increment();
    Timer.builder("kiln_router_delivery_delay")
        .description(
            "From when a schedule's time was due or an event was received to when its delivery was"
                + " durable in the async queue")
        .tags("kind", kind, "name", name)
        .publishPercentileHistogram()
        .register(registry)
        .record(delay.isNegative() ? Duration.ZERO : delay);
  }

  public void failed(String kind, String name) {
    counter(kind, name, "failed").increment();
  }

  private Counter counter(String kind, String name, String outcome) {
    return Counter.builder("kiln_router_events")
        .description(
            "Events of a schedule, rule or push endpoint: received, delivered into the async"
                + " queue, or failed to be delivered")
        .tags("kind", kind, "name", name, "outcome", outcome)
        .register(registry);
  }
}
