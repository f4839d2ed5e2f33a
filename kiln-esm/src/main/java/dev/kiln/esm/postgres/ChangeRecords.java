package dev.kiln.esm.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.esm.postgres.PgOutputDecoder.Begin;
import dev.kiln.esm.postgres.PgOutputDecoder.Column;
import dev.kiln.esm.postgres.PgOutputDecoder.Commit;
import dev.kiln.esm.postgres.PgOutputDecoder.Delete;
import dev.kiln.esm.postgres.PgOutputDecoder.Insert;
import dev.kiln.esm.postgres.PgOutputDecoder.Message;
import dev.kiln.esm.postgres.PgOutputDecoder.Relation;
import dev.kiln.esm.postgres.PgOutputDecoder.Truncate;
import dev.kiln.esm.postgres.PgOutputDecoder.TupleData;
import dev.kiln.esm.postgres.PgOutputDecoder.Update;
import dev.kiln.esm.postgres.PgOutputDecoder.Value;
import dev.kiln.esm.source.SourceRecord;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * Turns a replication session's decoded pgoutput messages into the records of Kiln's PostgreSQL
 * event ({@code Records} modelled on DynamoDB Streams; see docs/event-sources-postgresql.md), and
 * marks where each transaction ends so that the reader knows which positions it may confirm.
 *
 * <p>Model: the session is a sequence of whole committed transactions. {@link Relation} messages
 * are remembered by OID for the rest of the session (a new session gets them again); each change of
 * the open transaction becomes a {@link Row} carrying the transaction's commit LSN, its index in
 * the transaction and the commit time from {@link Begin}; {@link Commit} becomes a {@link
 * Committed} with the commit's end LSN, the position that says "this transaction is done with".
 *
 * <p>Keys are the relation's replica identity columns, which are the primary key under REPLICA
 * IDENTITY DEFAULT. Under FULL every column is flagged as a key column, so the primary key is asked
 * for ({@code primaryKey}, by relation OID) and used instead when the table has one.
 *
 * <p>Not thread-safe: one reader's poll thread feeds it.
 */
final class ChangeRecords {

  /** What a message turns into. */
  sealed interface Entry permits Row, Committed {}

  /**
   * One row change (or one truncated table), a record of the event; {@code jsonBytes} its size in
   * the event.
   */
  record Row(SourceRecord record, long commitLsn, int jsonBytes) implements Entry {}

  /** The transaction whose commit record ends at {@code endLsn} is complete. */
  record Committed(long endLsn, long commitLsn) implements Entry {}

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  private final String region;
  private final String sourceArn;
  private final IntFunction<Optional<List<String>>> primaryKey;
  private final Map<Integer, Table> tables = new HashMap<>();
  private Begin open;
  private int index;

  /**
   * @param primaryKey the primary key columns of a relation, by OID, for tables of REPLICA IDENTITY
   *     FULL; empty when it has none or it cannot be told
   */
  ChangeRecords(String region, String sourceArn, IntFunction<Optional<List<String>>> primaryKey) {
    this.region = region;
    this.sourceArn = sourceArn;
    this.primaryKey = primaryKey;
  }

  private record Table(Relation relation, Set<String> keys) {
    String qualifiedName() {
      return relation.namespace() + "." + relation.name();
    }

    boolean full() {
      return relation.replicaIdentity() == 'f';
    }
  }

  /** Whether a transaction was begun and not yet committed. */
  boolean inTransaction() {
    return open != null;
  }

  /** The entries {@code message} makes, in order: none for most, several for a Truncate. */
  List<Entry> accept(Message message) {
    switch (message) {
      case Begin b -> {
        open = b;
        index = 0;
        return List.of();
      }
      case Commit c -> {
        open = null;
        return List.of(new Committed(c.endLsn(), c.commitLsn()));
      }
      case Relation r -> {
        Set<String> keys = new java.util.LinkedHashSet<>();
        Optional<List<String>> pk =
            r.replicaIdentity() == 'f' ? primaryKey.apply(r.oid()) : Optional.empty();
        if (pk.isPresent() && !pk.get().isEmpty()) {
          keys.addAll(pk.get());
        } else {
          r.columns().stream().filter(Column::key).forEach(col -> keys.add(col.name()));
        }
        tables.put(r.oid(), new Table(r, keys));
        return List.of();
      }
      case Insert i -> {
        Table t = table(i.relationOid());
        ObjectNode image = image(t, i.newTuple(), false);
        return List.of(row(t, "INSERT", keys(t, image), image, null, i.newTuple().sizeBytes()));
      }
      case Update u -> {
        Table t = table(u.relationOid());
        ObjectNode newImage = image(t, u.newTuple(), false);
        ObjectNode oldImage = null;
        if (u.oldTuple().isPresent()) {
          oldImage = image(t, u.oldTuple().get(), u.oldKind() == 'K');
          if (u.oldKind() == 'O') {
            // unchanged TOAST values were not sent in the new tuple; the full old row has them
            for (Map.Entry<String, JsonNode> e : oldImage.properties()) {
              if (!newImage.has(e.getKey())) {
                newImage.set(e.getKey(), e.getValue());
              }
            }
          }
        }
        int size = u.newTuple().sizeBytes() + u.oldTuple().map(TupleData::sizeBytes).orElse(0);
        return List.of(row(t, "MODIFY", keys(t, newImage), newImage, oldImage, size));
      }
      case Delete d -> {
        Table t = table(d.relationOid());
        ObjectNode oldImage = image(t, d.oldTuple(), d.oldKind() == 'K');
        return List.of(
            row(t, "REMOVE", keys(t, oldImage), null, oldImage, d.oldTuple().sizeBytes()));
      }
      case Truncate tr -> {
        List<Entry> rows = new ArrayList<>();
        for (int oid : tr.relationOids()) {
          Row row = row(table(oid), "TRUNCATE", NODES.objectNode(), null, null, 0);
          ObjectNode truncate = row.record().eventRecord().putObject("truncate");
          truncate.put("cascade", (tr.options() & 1) != 0);
          truncate.put("restartIdentity", (tr.options() & 2) != 0);
          rows.add(row);
        }
        return rows;
      }
      default -> {
        return List.of();
      }
    }
  }

  private Table table(int oid) {
    Table t = tables.get(oid);
    if (t == null) {
      throw new PgOutputDecoder.MalformedMessageException(
          "a change of relation " + oid + " before its Relation message");
    }
    return t;
  }

  /** The row image: column name → JSON value; only the key columns when {@code keysOnly}. */
  private static ObjectNode image(Table t, TupleData tuple, boolean keysOnly) {
    List<Column> columns = t.relation().columns();
    if (tuple.values().size() > columns.size()) {
      throw new PgOutputDecoder.MalformedMessageException(
          "a tuple of "
              + tuple.values().size()
              + " columns for "
              + t.qualifiedName()
              + " of "
              + columns.size());
    }
    ObjectNode image = NODES.objectNode();
    for (int i = 0; i < tuple.values().size(); i++) {
      Column column = columns.get(i);
      if (keysOnly && !column.key()) {
        continue;
      }
      Value v = tuple.values().get(i);
      switch (v.kind()) {
        case NULL -> image.putNull(column.name());
        case UNCHANGED_TOAST -> {
          // not sent by the server because it did not change: omitted (see the docs)
        }
        case TEXT -> image.set(column.name(), PgTypes.toJson(column.typeOid(), v.text()));
        case BINARY -> image.put(column.name(), Base64.getEncoder().encodeToString(v.bytes()));
      }
    }
    return image;
  }

  private static ObjectNode keys(Table t, ObjectNode image) {
    ObjectNode keys = NODES.objectNode();
    for (String k : t.keys()) {
      if (image.has(k)) {
        keys.set(k, image.get(k));
      }
    }
    return keys;
  }

  private Row row(
      Table t,
      String eventName,
      ObjectNode keys,
      ObjectNode newImage,
      ObjectNode oldImage,
      int size) {
    if (open == null) {
      throw new PgOutputDecoder.MalformedMessageException("a change outside a transaction");
    }
    int n = index++;
    long lsn = open.finalLsn();
    Instant commitTime = open.commitTime();
    String sequenceNumber = sequenceNumber(lsn, n);

    ObjectNode record = NODES.objectNode();
    record.put("eventID", PgOutputDecoder.lsnText(lsn) + "-" + n);
    record.put("eventName", eventName);
    record.put("eventVersion", "1.0");
    record.put("eventSource", "kiln:postgresql");
    record.put("awsRegion", region);
    ObjectNode ddb = record.putObject("dynamodb");
    ddb.put("ApproximateCreationDateTime", commitTime.getEpochSecond());
    ddb.set("Keys", keys);
    if (newImage != null) {
      ddb.set("NewImage", newImage);
    }
    if (oldImage != null) {
      ddb.set("OldImage", oldImage);
    }
    ddb.put("SequenceNumber", sequenceNumber);
    ddb.put("SizeBytes", size);
    ddb.put("StreamViewType", t.full() ? "NEW_AND_OLD_IMAGES" : "NEW_IMAGE");
    record.put("eventSourceARN", sourceArn);
    record.put("table", t.qualifiedName());
    record.put("commitTime", commitTime.toString());
    record.put("commitLsn", PgOutputDecoder.lsnText(lsn));
    record.put("xid", Integer.toUnsignedLong(open.xid()));
    int jsonBytes;
    try {
      jsonBytes = JSON.writeValueAsBytes(record).length + 1;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("a record that is not JSON", e);
    }
    return new Row(
        new SourceRecord(sequenceNumber, record, record, commitTime, lsn), lsn, jsonBytes);
  }

  /**
   * A record's SequenceNumber: the commit LSN as 20 decimal digits, then the record's index in its
   * transaction as 8, so that SequenceNumbers compare in commit order as strings and as numbers,
   * like DynamoDB's.
   */
  static String sequenceNumber(long commitLsn, int index) {
    String lsn = Long.toUnsignedString(commitLsn);
    return "0".repeat(Math.max(0, 20 - lsn.length())) + lsn + String.format("%08d", index);
  }
}
