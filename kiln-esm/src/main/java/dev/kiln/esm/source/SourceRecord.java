package dev.kiln.esm.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.Objects;

/**
 * One record as its source read it.
 *
 * @param itemIdentifier what a function names in {@code batchItemFailures} to say this record
 *     failed: the SQS messageId, the Kafka offset, the PostgreSQL record's SequenceNumber
 * @param eventRecord the record as it appears in the function's event (one element of SQS's {@code
 *     Records}, of a Kafka {@code records} list, of the PostgreSQL {@code Records})
 * @param filterView what FilterCriteria patterns are matched against, as Lambda shapes it per
 *     source: the record's metadata with its {@code body} (SQS) or {@code value} (Kafka) parsed as
 *     JSON when it is JSON, or the {@code dynamodb}-like images (PostgreSQL)
 * @param arrived when the record entered the source, for MaximumRecordAgeInSeconds
 * @param handle the reader's own coordinates of the record (offset, receipt handle, LSN)
 */
public record SourceRecord(
    String itemIdentifier,
    ObjectNode eventRecord,
    JsonNode filterView,
    Instant arrived,
    Object handle) {

  public SourceRecord {
    Objects.requireNonNull(itemIdentifier, "itemIdentifier");
    Objects.requireNonNull(eventRecord, "eventRecord");
    Objects.requireNonNull(filterView, "filterView");
    Objects.requireNonNull(arrived, "arrived");
  }
}
