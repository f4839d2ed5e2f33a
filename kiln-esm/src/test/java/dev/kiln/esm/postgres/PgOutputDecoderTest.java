package dev.kiln.esm.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.esm.postgres.ChangeRecords.Committed;
import dev.kiln.esm.postgres.ChangeRecords.Entry;
import dev.kiln.esm.postgres.ChangeRecords.Row;
import dev.kiln.esm.postgres.PgOutputDecoder.Begin;
import dev.kiln.esm.postgres.PgOutputDecoder.Column;
import dev.kiln.esm.postgres.PgOutputDecoder.Commit;
import dev.kiln.esm.postgres.PgOutputDecoder.Delete;
import dev.kiln.esm.postgres.PgOutputDecoder.Insert;
import dev.kiln.esm.postgres.PgOutputDecoder.MalformedMessageException;
import dev.kiln.esm.postgres.PgOutputDecoder.Message;
import dev.kiln.esm.postgres.PgOutputDecoder.Other;
import dev.kiln.esm.postgres.PgOutputDecoder.Relation;
import dev.kiln.esm.postgres.PgOutputDecoder.Truncate;
import dev.kiln.esm.postgres.PgOutputDecoder.Type;
import dev.kiln.esm.postgres.PgOutputDecoder.Update;
import dev.kiln.esm.postgres.PgOutputDecoder.Value;
import dev.kiln.esm.postgres.PgOutputDecoder.ValueKind;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The decoder against messages built byte by byte after the PostgreSQL manual's "Logical
 * Replication Message Formats" (protocol version 1), and the records those messages make.
 */
class PgOutputDecoderTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Builds one message: big-endian numbers, NUL-terminated strings. */
  private static final class Msg {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final DataOutputStream out = new DataOutputStream(bytes);

    Msg b(int v) throws IOException {
      out.writeByte(v);
      return this;
    }

    Msg i16(int v) throws IOException {
      out.writeShort(v);
      return this;
    }

    Msg i32(int v) throws IOException {
      out.writeInt(v);
      return this;
    }

    Msg i64(long v) throws IOException {
      out.writeLong(v);
      return this;
    }

    Msg str(String s) throws IOException {
      out.write(s.getBytes(StandardCharsets.UTF_8));
      out.writeByte(0);
      return this;
    }

    /** TupleData: 'n' for null, 'u' for unchanged TOAST, anything else as a text value. */
    Msg tuple(String... values) throws IOException {
      i16(values.length);
      for (String v : values) {
        if (v == null) {
          b('n');
        } else if (v.equals("\u0000u")) {
          b('u');
        } else {
          byte[] text = v.getBytes(StandardCharsets.UTF_8);
          b('t').i32(text.length);
          out.write(text);
        }
      }
      return this;
    }

    ByteBuffer buffer() {
      return ByteBuffer.wrap(bytes.toByteArray());
    }

    Message decode() {
      ByteBuffer buf = buffer();
      Message m = PgOutputDecoder.decode(buf);
      assertThat(buf.remaining()).as("the whole message is consumed").isZero();
      return m;
    }
  }

  private static final String TOAST = "\u0000u";

  /** 2024-05-01T10:00:00Z in microseconds since 2000-01-01. */
  private static final long COMMIT_MICROS =
      (Instant.parse("2024-05-01T10:00:00Z").getEpochSecond() - 946_684_800L) * 1_000_000L
          + 250_000L;

  @Test
  void decodesBeginAndCommit() throws IOException {
    Message begin = new Msg().b('B').i64(0x16B3748L).i64(COMMIT_MICROS).i32(731).decode();
    assertThat(begin)
        .isEqualTo(new Begin(0x16B3748L, Instant.parse("2024-05-01T10:00:00.250Z"), 731));

    Message commit =
        new Msg().b('C').b(0).i64(0x16B3748L).i64(0x16B3778L).i64(COMMIT_MICROS).decode();
    assertThat(commit)
        .isEqualTo(
            new Commit(0, 0x16B3748L, 0x16B3778L, Instant.parse("2024-05-01T10:00:00.250Z")));
    assertThat(PgOutputDecoder.lsnText(0x16B3748L)).isEqualTo("0/16B3748");
    assertThat(PgOutputDecoder.lsnText(0x1_0000_00FFL)).isEqualTo("1/FF");
  }

  @Test
  void decodesRelationWithKeyFlagsAndTypeMessages() throws IOException {
    Message relation = ordersRelation('d').decode();
    assertThat(relation)
        .isEqualTo(
            new Relation(
                16384,
                "public",
                "orders",
                'd',
                List.of(
                    new Column(true, "id", 23, -1),
                    new Column(false, "status", 25, -1),
                    new Column(false, "total", 1700, 655366),
                    new Column(false, "meta", 3802, -1))));

    Message type = new Msg().b('Y').i32(16390).str("public").str("mood").decode();
    assertThat(type).isEqualTo(new Type(16390, "public", "mood"));
  }

  private static Msg ordersRelation(char identity) throws IOException {
    return new Msg()
        .b('R')
        .i32(16384)
        .str("public")
        .str("orders")
        .b(identity)
        .i16(4)
        .b(1)
        .str("id")
        .i32(23)
        .i32(-1)
        .b(0)
        .str("status")
        .i32(25)
        .i32(-1)
        .b(0)
        .str("total")
        .i32(1700)
        .i32(655366)
        .b(0)
        .str("meta")
        .i32(3802)
        .i32(-1);
  }

  @Test
  void decodesInsertUpdateDeleteAndTheirTuples() throws IOException {
    Insert insert =
        (Insert) new Msg().b('I').i32(16384).b('N').tuple("1", "new", null, TOAST).decode();
    assertThat(insert.relationOid()).isEqualTo(16384);
    assertThat(insert.newTuple().values())
        .extracting(Value::kind)
        .containsExactly(ValueKind.TEXT, ValueKind.TEXT, ValueKind.NULL, ValueKind.UNCHANGED_TOAST);
    assertThat(insert.newTuple().values().get(1).text()).isEqualTo("new");
    assertThat(insert.newTuple().sizeBytes()).isEqualTo(4);

    Update plain = (Update) new Msg().b('U').i32(16384).b('N').tuple("1", "paid").decode();
    assertThat(plain.oldKind()).isEqualTo((char) 0);
    assertThat(plain.oldTuple()).isEmpty();

    Update full =
        (Update)
            new Msg().b('U').i32(16384).b('O').tuple("1", "new").b('N').tuple("1", "paid").decode();
    assertThat(full.oldKind()).isEqualTo('O');
    assertThat(full.oldTuple().orElseThrow().values().get(1).text()).isEqualTo("new");
    assertThat(full.newTuple().values().get(1).text()).isEqualTo("paid");

    Update keyChanged =
        (Update)
            new Msg().b('U').i32(16384).b('K').tuple("1", null).b('N').tuple("2", "x").decode();
    assertThat(keyChanged.oldKind()).isEqualTo('K');

    Delete delete = (Delete) new Msg().b('D').i32(16384).b('K').tuple("7", null).decode();
    assertThat(delete.oldKind()).isEqualTo('K');
    assertThat(delete.oldTuple().values().get(0).text()).isEqualTo("7");
  }

  @Test
  void decodesTruncateAndSkipsMessagesItDoesNotInterpret() throws IOException {
    Message truncate = new Msg().b('T').i32(2).b(3).i32(16384).i32(16390).decode();
    assertThat(truncate).isEqualTo(new Truncate(3, List.of(16384, 16390)));

    Message logical = new Msg().b('M').b(1).i64(5).str("prefix").i32(1).b('x').decode();
    assertThat(logical).isEqualTo(new Other('M'));
  }

  @Test
  void refusesMalformedMessages() throws IOException {
    assertThatThrownBy(() -> PgOutputDecoder.decode(new Msg().b('B').i64(1).buffer()))
        .isInstanceOf(MalformedMessageException.class)
        .hasMessageContaining("ends early");
    assertThatThrownBy(() -> PgOutputDecoder.decode(new Msg().b('I').i32(1).b('X').buffer()))
        .isInstanceOf(MalformedMessageException.class)
        .hasMessageContaining("expected N");
    assertThatThrownBy(
            () -> PgOutputDecoder.decode(new Msg().b('I').i32(1).b('N').i16(1).b('z').buffer()))
        .hasMessageContaining("unknown column kind");
    assertThatThrownBy(
            () ->
                PgOutputDecoder.decode(
                    new Msg().b('I').i32(1).b('N').i16(1).b('t').i32(99).b('a').buffer()))
        .hasMessageContaining("99 bytes");
    assertThatThrownBy(() -> PgOutputDecoder.decode(new Msg().b('Y').i32(1).b('a').b('b').buffer()))
        .hasMessageContaining("NUL terminator");
  }

  // --- from messages to records ---

  private static List<Entry> feed(ChangeRecords records, Msg... messages) {
    List<Entry> out = new ArrayList<>();
    for (Msg m : messages) {
      out.addAll(records.accept(m.decode()));
    }
    return out;
  }

  private static Msg begin(long finalLsn) throws IOException {
    return new Msg().b('B').i64(finalLsn).i64(COMMIT_MICROS).i32(900);
  }

  private static Msg commit(long lsn, long end) throws IOException {
    return new Msg().b('C').b(0).i64(lsn).i64(end).i64(COMMIT_MICROS);
  }

  @Test
  void aTransactionBecomesRecordsInOrderThenItsCommitMark() throws Exception {
    ChangeRecords records =
        new ChangeRecords(
            "eu-west-1", "arn:aws:kiln:eu-west-1::postgresql/db/pub", oid -> Optional.empty());
    List<Entry> entries =
        feed(
            records,
            ordersRelation('d'),
            begin(0x5000L),
            new Msg().b('I').i32(16384).b('N').tuple("1", "new", "12.50", "{\"a\":[1,2]}"),
            new Msg().b('U').i32(16384).b('N').tuple("1", "paid", "12.50", TOAST),
            new Msg().b('D').i32(16384).b('K').tuple("1", null, null, null),
            commit(0x5000L, 0x5030L));
    assertThat(entries).hasSize(4);
    assertThat(entries.get(3)).isEqualTo(new Committed(0x5030L, 0x5000L));

    JsonNode insert = ((Row) entries.get(0)).record().eventRecord();
    assertThat(JSON.writeValueAsString(insert))
        .isEqualTo(
            JSON.writeValueAsString(
                JSON.readTree(
                    """
                {"eventID":"0/5000-0","eventName":"INSERT","eventVersion":"1.0",
                 "eventSource":"kiln:postgresql","awsRegion":"eu-west-1",
                 "dynamodb":{"ApproximateCreationDateTime":1714557600,"Keys":{"id":1},
                   "NewImage":{"id":1,"status":"new","total":"12.50","meta":{"a":[1,2]}},
                   "SequenceNumber":"0000000000000002048000000000","SizeBytes":20,
                   "StreamViewType":"NEW_IMAGE"},
                 "eventSourceARN":"arn:aws:kiln:eu-west-1::postgresql/db/pub",
                 "table":"public.orders","commitTime":"2024-05-01T10:00:00.250Z",
                 "commitLsn":"0/5000","xid":900}
                """)));
    Row update = (Row) entries.get(1);
    assertThat(update.record().eventRecord().path("eventName").asText()).isEqualTo("MODIFY");
    assertThat(update.record().eventRecord().path("dynamodb").path("NewImage"))
        .as("the unchanged TOAST value is left out")
        .isEqualTo(JSON.readTree("{\"id\":1,\"status\":\"paid\",\"total\":\"12.50\"}"));
    assertThat(update.record().eventRecord().path("dynamodb").has("OldImage")).isFalse();
    assertThat(update.record().itemIdentifier()).isEqualTo("0000000000000002048000000001");
    assertThat(update.record().arrived()).isEqualTo(Instant.parse("2024-05-01T10:00:00.250Z"));
    assertThat(update.commitLsn()).isEqualTo(0x5000L);

    JsonNode remove = ((Row) entries.get(2)).record().eventRecord().path("dynamodb");
    assertThat(((Row) entries.get(2)).record().eventRecord().path("eventName").asText())
        .isEqualTo("REMOVE");
    assertThat(remove.path("Keys")).isEqualTo(JSON.readTree("{\"id\":1}"));
    assertThat(remove.path("OldImage")).isEqualTo(JSON.readTree("{\"id\":1}"));
    assertThat(remove.has("NewImage")).isFalse();
    assertThat(records.inTransaction()).isFalse();
  }

  @Test
  void replicaIdentityFullGivesOldImagesAndThePrimaryKeyAsKeys() throws Exception {
    ChangeRecords records =
        new ChangeRecords(
            "us-east-1",
            "arn",
            oid -> oid == 16384 ? Optional.of(List.of("id")) : Optional.empty());
    // under FULL every column is flagged as part of the identity
    Msg relation =
        new Msg()
            .b('R')
            .i32(16384)
            .str("public")
            .str("orders")
            .b('f')
            .i16(2)
            .b(1)
            .str("id")
            .i32(23)
            .i32(-1)
            .b(1)
            .str("note")
            .i32(25)
            .i32(-1);
    List<Entry> entries =
        feed(
            records,
            relation,
            begin(0x6000L),
            new Msg().b('U').i32(16384).b('O').tuple("4", "long text").b('N').tuple("4", TOAST),
            new Msg().b('D').i32(16384).b('O').tuple("4", "long text"),
            commit(0x6000L, 0x6040L));
    JsonNode update = ((Row) entries.get(0)).record().eventRecord().path("dynamodb");
    assertThat(update.path("Keys")).isEqualTo(JSON.readTree("{\"id\":4}"));
    assertThat(update.path("OldImage"))
        .isEqualTo(JSON.readTree("{\"id\":4,\"note\":\"long text\"}"));
    assertThat(update.path("NewImage"))
        .as("the unchanged TOAST value is taken from the full old row")
        .isEqualTo(JSON.readTree("{\"id\":4,\"note\":\"long text\"}"));
    assertThat(update.path("StreamViewType").asText()).isEqualTo("NEW_AND_OLD_IMAGES");
    JsonNode delete = ((Row) entries.get(1)).record().eventRecord().path("dynamodb");
    assertThat(delete.path("OldImage"))
        .isEqualTo(JSON.readTree("{\"id\":4,\"note\":\"long text\"}"));
    assertThat(delete.path("Keys")).isEqualTo(JSON.readTree("{\"id\":4}"));
  }

  @Test
  void aTruncateIsARecordPerTable() throws Exception {
    ChangeRecords records = new ChangeRecords("us-east-1", "arn", oid -> Optional.empty());
    List<Entry> entries =
        feed(
            records,
            ordersRelation('d'),
            begin(0x7000L),
            new Msg().b('T').i32(1).b(2).i32(16384),
            commit(0x7000L, 0x7010L));
    JsonNode truncate = ((Row) entries.get(0)).record().eventRecord();
    assertThat(truncate.path("eventName").asText()).isEqualTo("TRUNCATE");
    assertThat(truncate.path("table").asText()).isEqualTo("public.orders");
    assertThat(truncate.path("truncate"))
        .isEqualTo(JSON.readTree("{\"cascade\":false,\"restartIdentity\":true}"));
  }

  @Test
  void aChangeOfAnUnknownRelationOrOutsideATransactionIsRefused() throws Exception {
    ChangeRecords records = new ChangeRecords("us-east-1", "arn", oid -> Optional.empty());
    assertThatThrownBy(() -> feed(records, begin(1), new Msg().b('I').i32(99).b('N').tuple("1")))
        .isInstanceOf(MalformedMessageException.class)
        .hasMessageContaining("relation 99");
    ChangeRecords fresh = new ChangeRecords("us-east-1", "arn", oid -> Optional.empty());
    assertThatThrownBy(
            () -> feed(fresh, ordersRelation('d'), new Msg().b('I').i32(16384).b('N').tuple("1")))
        .hasMessageContaining("outside a transaction");
  }

  @Test
  void sequenceNumbersSortInCommitOrder() {
    List<String> numbers =
        List.of(
            ChangeRecords.sequenceNumber(0x1FFL, 12),
            ChangeRecords.sequenceNumber(0x200L, 0),
            ChangeRecords.sequenceNumber(0x200L, 1),
            ChangeRecords.sequenceNumber(0x1_0000_0000L, 0));
    assertThat(numbers).isSorted();
    assertThat(numbers).allSatisfy(n -> assertThat(n).hasSize(28).containsOnlyDigits());
  }
}
