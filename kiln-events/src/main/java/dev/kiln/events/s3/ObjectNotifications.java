package dev.kiln.events.s3;

import dev.kiln.events.EventPublisher;
import dev.kiln.events.RouterMetrics;
import dev.kiln.invoke.AsyncInvocations;
import dev.kiln.model.Account;
import dev.kiln.model.FunctionRef;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;

/**
 * The object-storage notification receiver: one push of an S3-compatible store ({@link
 * StoreRecord}), delivered as S3 delivers its notifications. For each record, the bucket's
 * notification configuration ({@link BucketNotifications}) decides: every Lambda function
 * configuration whose events and key filter match gets the record, one record per invocation as S3
 * sends them, queued through the durable async queue; with {@code EventBridgeConfiguration} the
 * record also goes to the default bus as {@code Object Created} / {@code Object Deleted}. A record
 * of a bucket with no configuration, or that no configuration matches, is received and goes
 * nowhere, as on S3. Everything is queued before the push is answered.
 *
 * <p>A malformed push is refused whole before anything is queued (400). A function that was deleted
 * after its configuration was put is a failed delivery (S3 drops the event), counted in {@code
 * kiln_router_events_total{kind="s3",outcome="failed"}}. Metrics: kind {@code s3}, name the bucket.
 * Thread-safe: it keeps no state of its own.
 */
public final class ObjectNotifications {

  /** What one push did. */
  public record Outcome(int records, int invocations, int busEvents, int failed) {}

  private final BucketNotifications configurations;
  private final AsyncInvocations async;
  private final Optional<EventPublisher> bus;
  private final RouterMetrics metrics;
  private final Account account;
  private final InstantSource clock;

  public ObjectNotifications(
      BucketNotifications configurations,
      AsyncInvocations async,
      Optional<EventPublisher> bus,
      RouterMetrics metrics,
      Account account,
      InstantSource clock) {
    this.configurations = configurations;
    this.async = async;
    this.bus = bus;
    this.metrics = metrics;
    this.account = account;
    this.clock = clock;
  }

  public Outcome receive(byte[] body) {
    Instant received = clock.instant();
    List<StoreRecord> records = StoreRecord.parse(body);
    int invocations = 0;
    int busEvents = 0;
    int failed = 0;
    for (StoreRecord record : records) {
      metrics.received("s3", record.bucket());
      NotificationConfiguration configuration = configurations.configuration(record.bucket());
      for (NotificationConfiguration.FunctionConfiguration f : configuration.functions()) {
        if (!f.matches(record.eventName(), record.key())) {
          continue;
        }
        Optional<FunctionRef> function =
            configurations.deliverable(record.bucket(), f.functionArn());
        if (function.isEmpty()) {
          failed++;
          metrics.failed("s3", record.bucket());
          continue;
        }
        byte[] payload =
            S3Events.lambdaEvent(record, f.id(), account)
                .toString()
                .getBytes(StandardCharsets.UTF_8);
        async.accept(function.get(), payload, Optional.empty());
        invocations++;
        metrics.delivered("s3", record.bucket(), Duration.between(received, clock.instant()));
      }
      if (configuration.eventBridge() && bus.isPresent()) {
        Optional<dev.kiln.events.BusEvent> event = S3Events.busEvent(record, account);
        if (event.isPresent()) {
          bus.get().publish(EventPublisher.DEFAULT_BUS, event.get());
          busEvents++;
        }
      }
    }
    return new Outcome(records.size(), invocations, busEvents, failed);
  }
}
