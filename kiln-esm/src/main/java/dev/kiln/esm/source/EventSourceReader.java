package dev.kiln.esm.source;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A mapping's connection to its source: hands out batches and checkpoints them. It is used by one
 * poller thread ({@link #poll}) while batches it handed out are processed on others; {@link
 * #complete} and {@link #release} may be called from any thread, and a reader whose client is not
 * thread-safe (Kafka's consumer) queues them and applies them on its next {@code poll}.
 *
 * <p>Order: a reader never hands out a lane's next batch before the previous batch of that lane was
 * completed (a Kafka partition, the one PostgreSQL slot). A queue's lanes are independent: an SQS
 * reader may hand out as many batches at once as it is asked for.
 *
 * <p>Positions live in the source (Kafka's committed offsets, SQS's undeleted messages, the
 * replication slot's confirmed LSN), so a reader opened again after a crash goes on from the last
 * checkpoint by itself.
 */
public interface EventSourceReader extends AutoCloseable {

  /**
   * Waits up to {@code wait} for records and returns the batches ready, each of at most the
   * mapping's BatchSize records of one lane, gathered for up to its MaximumBatchingWindowInSeconds.
   * {@code capacity} is how many more batches the poller can run now (at least 1): a queue reader
   * receives no more than that, a stream reader no more than one per free lane. Connects first if
   * it is not connected. Returns an empty list when nothing came.
   *
   * @throws SourceUnavailableException when the source cannot be reached or refuses the reader,
   *     with a reason fit for the mapping's StateTransitionReason; the poller retries with backoff
   */
  List<SourceBatch> poll(Duration wait, int capacity)
      throws SourceUnavailableException, InterruptedException;

  /**
   * Every record of {@code batch} is done with: delivered, filtered out, or given up on (sent to
   * OnFailure). A stream reader commits the lane's position past the batch and frees the lane; a
   * queue reader deletes the messages.
   */
  void complete(SourceBatch batch) throws SourceUnavailableException;

  /**
   * A queue reader only: {@code done} were delivered (delete them), the rest of the batch failed
   * and is left to the source's redelivery. A stream reader is never asked.
   */
  default void release(SourceBatch batch, List<SourceRecord> done)
      throws SourceUnavailableException {
    throw new UnsupportedOperationException("a stream's batches are completed whole");
  }

  /**
   * The poller stopped before it ran {@code batch} (its mapping was disabled, changed or deleted
   * while it polled): nothing of it was delivered. A queue reader makes its messages visible again
   * at once, so that the next poller does not wait out their visibility timeout; a stream reader
   * needs nothing (the batch is not completed, so the next reader reads it again).
   */
  default void giveBack(SourceBatch batch) throws SourceUnavailableException {}

  /** The event the function is invoked with for {@code records}, all of one batch, in order. */
  byte[] event(SourceBatch batch, List<SourceRecord> records);

  /**
   * The source's part of the invocation record sent to OnFailure, e.g. Kafka's {@code
   * KafkaBatchInfo} or a stream's {@code DDBStreamBatchInfo}-like object, naming the batch's first
   * and last positions so that a user can read the records again.
   */
  ObjectNode batchInfo(SourceBatch batch, List<SourceRecord> records);

  /**
   * The source's lag, for metrics: e.g. {@code offset_lag} (Kafka, summed over partitions), {@code
   * approximate_age_seconds} (SQS), {@code slot_lag_bytes} (PostgreSQL). Empty if unknown.
   */
  Map<String, Double> lag();

  /** Disconnects; batches handed out and not completed are read again by the next reader. */
  @Override
  void close();
}
