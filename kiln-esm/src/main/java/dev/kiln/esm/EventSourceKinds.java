package dev.kiln.esm;

import dev.kiln.esm.source.EventSourceKind;
import dev.kiln.model.LambdaError;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** The kinds of source this Kiln reads, found by a request's ARN and endpoints or by name. */
public record EventSourceKinds(List<EventSourceKind> kinds) {

  public EventSourceKinds {
    kinds = List.copyOf(kinds);
  }

  /** The kinds Kiln reads: SQS queues, self-managed Kafka topics, PostgreSQL publications. */
  public static EventSourceKinds builtIn() {
    return new EventSourceKinds(
        List.of(
            new dev.kiln.esm.sqs.SqsSource(),
            new dev.kiln.esm.kafka.KafkaSource(),
            new dev.kiln.esm.postgres.PostgresSource()));
  }

  /**
   * The kind a Create request is for; refuses one Kiln cannot consume as AWS refuses an event
   * source it does not support.
   */
  public EventSourceKind forRequest(String eventSourceArn, Set<String> endpointTypes) {
    for (EventSourceKind k : kinds) {
      if (k.claims(eventSourceArn, endpointTypes)) {
        return k;
      }
    }
    if (eventSourceArn == null && endpointTypes.isEmpty()) {
      throw LambdaError.invalidParameter(
          "Unrecognized event source, must be either an ARN or a self-managed event source"
              + " (SelfManagedEventSource).");
    }
    throw LambdaError.invalidParameter(
        eventSourceArn != null
            ? "Unrecognized event source: Kiln cannot consume "
                + eventSourceArn
                + " (it reads SQS queues, self-managed Kafka topics and PostgreSQL publications)."
            : "Unrecognized event source: SelfManagedEventSource.Endpoints must name"
                + " KAFKA_BOOTSTRAP_SERVERS or POSTGRESQL_URL, not "
                + endpointTypes
                + ".");
  }

  public Optional<EventSourceKind> named(String name) {
    return kinds.stream().filter(k -> k.name().equals(name)).findFirst();
  }
}
