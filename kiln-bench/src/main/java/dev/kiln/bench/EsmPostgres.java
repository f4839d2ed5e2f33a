package dev.kiln.bench;

import dev.kiln.testing.brokers.PostgresServer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.PGReplicationStream;
import software.amazon.awssdk.services.lambda.model.CreateEventSourceMappingRequest;

/**
 * PostgreSQL table changes for the {@code esm} suite: kiln-testing's throwaway server (the
 * machine's PostgreSQL binaries, {@code wal_level=logical}), one table and one publication per
 * stream, rows inserted with pgjdbc (100 rows per transaction when filling, one per transaction
 * when paced), and as the baseline pgjdbc's own logical replication stream on a slot of its own
 * ({@code pgoutput}, the plugin Kiln reads), counting the INSERT messages, taking {@code t} from
 * each new row and confirming each message's LSN as flushed, as a mapping confirms its batches.
 */
final class EsmPostgres implements EsmSource {

  private static final String DATABASE = "bench";
  private final PostgresServer pg;
  private final Connection writer;

  EsmPostgres() throws Exception {
    pg = PostgresServer.start();
    pg.createDatabase(DATABASE);
    writer = pg.connect(DATABASE);
  }

  /** Whether this machine has PostgreSQL's binaries to start a server with. */
  static boolean available() {
    return PostgresServer.binaries().isPresent();
  }

  @Override
  public String name() {
    return "PostgreSQL";
  }

  @Override
  public String baselineDescription() {
    return "PostgreSQL: pgjdbc's logical replication stream (pgoutput, proto_version 1) on a slot"
        + " of its own, flushed LSN set after each INSERT message; a throwaway server of the"
        + " machine's PostgreSQL binaries (fsync off)";
  }

  private static String table(String tag, Side side) {
    return "rows_" + tag.replace('-', '_') + "_" + side.name().toLowerCase();
  }

  private static String publication(String tag, Side side) {
    return "pub_" + tag.replace('-', '_') + "_" + side.name().toLowerCase();
  }

  @Override
  public void prepare(String tag) throws Exception {
    for (Side side : Side.values()) {
      pg.execute(
          DATABASE,
          "CREATE TABLE " + table(tag, side) + " (n int PRIMARY KEY, t bigint NOT NULL)",
          "CREATE PUBLICATION " + publication(tag, side) + " FOR TABLE " + table(tag, side));
    }
  }

  @Override
  public void mapping(CreateEventSourceMappingRequest.Builder b, String tag, int batchSize) {
    // the server trusts its superuser from 127.0.0.1, so the URL names the user and no secret
    String url = "postgresql://" + PostgresServer.SUPERUSER + "@" + pg.host() + ":" + pg.port();
    b.topics(publication(tag, Side.KILN))
        .startingPosition("LATEST")
        .selfManagedEventSource(
            s -> s.endpointsWithStrings(Map.of("POSTGRESQL_URL", List.of(url + "/" + DATABASE))));
  }

  @Override
  public void awaitHeld(String uuid, Duration timeout) throws Exception {
    String slot = "kiln_" + uuid.replace("-", "");
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try (PreparedStatement s =
          writer.prepareStatement(
              "SELECT count(*) FROM pg_replication_slots WHERE slot_name = ?")) {
        s.setString(1, slot);
        try (ResultSet r = s.executeQuery()) {
          r.next();
          if (r.getInt(1) == 1) {
            return;
          }
        }
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("the mapping made no replication slot " + slot);
  }

  @Override
  public void produce(String tag, Side side, int n) throws Exception {
    writer.setAutoCommit(false);
    try (PreparedStatement insert =
        writer.prepareStatement(
            "INSERT INTO "
                + table(tag, side)
                + " (n, t) SELECT g, 0 FROM generate_series(?, ?) g")) {
      for (int from = 0; from < n; from += 100) {
        insert.setInt(1, from);
        insert.setInt(2, Math.min(n, from + 100) - 1);
        insert.executeUpdate();
        writer.commit();
      }
    } finally {
      writer.setAutoCommit(true);
    }
  }

  @Override
  public void produceOne(String tag, Side side, int index, long micros) throws Exception {
    try (PreparedStatement insert =
        writer.prepareStatement("INSERT INTO " + table(tag, side) + " (n, t) VALUES (?, ?)")) {
      insert.setInt(1, index);
      insert.setLong(2, micros);
      insert.executeUpdate();
    }
  }

  @Override
  public Consumer openBaseline(String tag, int batchSize) throws Exception {
    Properties props = new Properties();
    PGProperty.USER.set(props, PostgresServer.SUPERUSER);
    PGProperty.REPLICATION.set(props, "database");
    PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
    PGProperty.PREFER_QUERY_MODE.set(props, "simple");
    Connection connection = DriverManager.getConnection(pg.jdbcUrl(DATABASE), props);
    PGConnection replication = connection.unwrap(PGConnection.class);
    String slot = "baseline_" + tag.replace('-', '_');
    replication
        .getReplicationAPI()
        .createReplicationSlot()
        .logical()
        .withSlotName(slot)
        .withOutputPlugin("pgoutput")
        .make();
    PGReplicationStream stream =
        replication
            .getReplicationAPI()
            .replicationStream()
            .logical()
            .withSlotName(slot)
            .withSlotOption("proto_version", "1")
            .withSlotOption("publication_names", publication(tag, Side.BASELINE))
            .withStatusInterval(1, TimeUnit.SECONDS)
            .start();
    return new Consumer() {
      @Override
      public void read(int n, LongConsumer sent) throws Exception {
        int got = 0;
        while (got < n) {
          ByteBuffer message = stream.read();
          if (message.get(message.position()) == 'I') {
            sent.accept(insertedT(message));
            got++;
          }
          stream.setFlushedLSN(stream.getLastReceiveLSN());
          stream.setAppliedLSN(stream.getLastReceiveLSN());
        }
      }

      @Override
      public void close() throws Exception {
        stream.close();
        try (var s = connection.createStatement()) {
          s.execute("SELECT pg_drop_replication_slot('" + slot + "')");
        } catch (Exception e) {
          // a slot left behind goes with the server at the end of the run
        }
        connection.close();
      }
    };
  }

  /**
   * The {@code t} column (the second) of a pgoutput INSERT message: {@code 'I'}, the relation's
   * oid, {@code 'N'}, the column count, then per column a kind byte ({@code 't'}: a length and the
   * value as text).
   */
  private static long insertedT(ByteBuffer message) {
    ByteBuffer b = message.duplicate();
    b.get(); // 'I'
    b.getInt(); // relation oid
    b.get(); // 'N'
    int columns = b.getShort();
    for (int c = 0; c < columns; c++) {
      byte kind = b.get();
      if (kind != 't') {
        continue;
      }
      int length = b.getInt();
      byte[] text = new byte[length];
      b.get(text);
      if (c == 1) {
        return Long.parseLong(new String(text, StandardCharsets.US_ASCII));
      }
    }
    throw new IllegalStateException("an INSERT without t");
  }

  @Override
  public void close() throws Exception {
    writer.close();
    pg.close();
  }
}
