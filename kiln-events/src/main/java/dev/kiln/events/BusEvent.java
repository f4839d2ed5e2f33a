package dev.kiln.events;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One event as it is put on a bus, before the bus gives it its id and account: the fields of
 * EventBridge's {@code PutEventsRequestEntry} that say what happened ({@code source}, {@code
 * detail-type}, {@code detail}, {@code resources}, {@code time}). PutEvents builds one from each
 * entry; the push sources (alarms, object-storage notifications) build theirs in the shape AWS's
 * own services send ({@code aws.cloudwatch}, {@code aws.s3}).
 *
 * @param time when it happened; empty means when the bus took it
 */
public record BusEvent(
    String source,
    String detailType,
    JsonNode detail,
    List<String> resources,
    Optional<Instant> time) {

  public BusEvent {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(detailType, "detailType");
    Objects.requireNonNull(detail, "detail");
    resources = List.copyOf(resources);
    Objects.requireNonNull(time, "time");
  }
}
