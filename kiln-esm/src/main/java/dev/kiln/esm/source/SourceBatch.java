package dev.kiln.esm.source;

import java.util.List;
import java.util.Objects;

/**
 * Records of one lane, in the lane's order, handed out together.
 *
 * @param lane the unit of order: {@code topic-partition} for Kafka, the slot for PostgreSQL, a
 *     receive call's id for SQS (whose lanes are unordered)
 * @param handle what the reader needs to checkpoint the batch (offsets, receipt handles, an LSN);
 *     opaque to the poller
 */
public record SourceBatch(String lane, List<SourceRecord> records, Object handle) {

  public SourceBatch {
    Objects.requireNonNull(lane, "lane");
    records = List.copyOf(records);
  }

  /** The part of this batch from {@code from} (inclusive) to {@code to} (exclusive). */
  public List<SourceRecord> slice(int from, int to) {
    return records.subList(from, to);
  }
}
