package dev.kiln.esm.source;

import dev.kiln.model.EventSourceMapping;

/**
 * One kind of event source (Kafka, SQS, PostgreSQL): what a mapping on it may say, and how to read
 * it. The API layer finds a request's kind with {@link #claims}, lets the kind fill in its defaults
 * and refuse what it cannot take ({@link #complete}), and the pollers {@link #open} a reader for
 * each enabled mapping.
 *
 * <p>A kind holds no state of its own; everything a poller needs is in the mapping and the {@link
 * SourceContext}.
 */
public interface EventSourceKind {

  /** The stored name of the kind ({@link EventSourceMapping#kind()}): kafka, sqs, postgresql. */
  String name();

  /**
   * Whether a Create request with this {@code EventSourceArn} (may be null) and these {@code
   * SelfManagedEventSource.Endpoints} keys is for this kind.
   */
  boolean claims(String eventSourceArn, java.util.Set<String> endpointTypes);

  /**
   * Fills in the kind's defaults for what the request left out (BatchSize, the batching window,
   * StartingPosition, the consumer group) and refuses, with AWS's {@code
   * InvalidParameterValueException} and its message ({@link dev.kiln.model.LambdaError}), what the
   * kind does not take: a batch size or window out of its range, a StartingPosition it has no use
   * for or lacks, missing Topics or endpoints, ReportBatchItemFailures or a destination where it
   * does not apply. {@code creating} is false for an update, whose request may not change what
   * names the source.
   *
   * @param requested the fields the request set, the others at the builder's neutral values
   * @param explicit the names of the request's fields that were present (e.g. "BatchSize")
   */
  EventSourceMapping complete(
      EventSourceMapping.Builder requested, java.util.Set<String> explicit, boolean creating);

  /**
   * What makes two mappings read the same source, for refusing a second mapping of one function on
   * it: the queue ARN; the bootstrap servers and topic; the database and publication.
   */
  String sourceKey(EventSourceMapping mapping);

  /**
   * A reader for {@code mapping}, not yet connected: {@link EventSourceReader#poll} connects, so
   * that a source that is down at create time leaves the mapping enabled and retrying.
   */
  EventSourceReader open(EventSourceMapping mapping, SourceContext context);

  /**
   * What the function's execution role must allow on the event source ARN for Lambda to create the
   * mapping, in the order AWS checks them (SQS: ReceiveMessage, DeleteMessage, GetQueueAttributes).
   * Empty for a source whose access is not the role's (self-managed Kafka, PostgreSQL: their
   * credentials are the SourceAccessConfigurations').
   */
  default java.util.List<String> roleActions() {
    return java.util.List.of();
  }

  /**
   * The mapping was deleted: give back what the source keeps for it (PostgreSQL's replication
   * slot). Kafka's consumer group and an SQS queue are the user's and stay. Best effort: a source
   * that is down is logged and left.
   */
  default void deleted(EventSourceMapping mapping, SourceContext context) {}

  /**
   * How failures are handled: a {@link Semantics#QUEUE} leaves a failed message to the source's own
   * redelivery (SQS's visibility timeout and redrive policy), a {@link Semantics#STREAM} retries
   * the batch in place, in order, under MaximumRetryAttempts and MaximumRecordAgeInSeconds,
   * bisecting when asked, and then sends it to OnFailure and moves past it.
   */
  Semantics semantics();

  enum Semantics {
    QUEUE,
    STREAM
  }
}
