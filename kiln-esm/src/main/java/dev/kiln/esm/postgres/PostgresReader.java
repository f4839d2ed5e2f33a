package dev.kiln.esm.postgres;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.esm.postgres.ChangeRecords.Committed;
import dev.kiln.esm.postgres.ChangeRecords.Entry;
import dev.kiln.esm.postgres.ChangeRecords.Row;
import dev.kiln.esm.source.EventSourceReader;
import dev.kiln.esm.source.SourceBatch;
import dev.kiln.esm.source.SourceContext;
import dev.kiln.esm.source.SourceRecord;
import dev.kiln.esm.source.SourceUnavailableException;
import dev.kiln.model.EventSourceMapping;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.postgresql.replication.fluent.logical.ChainedLogicalStreamBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one mapping's publication through its logical replication slot and hands out its changes in
 * commit order, one batch at a time (the slot is the mapping's only lane).
 *
 * <p>Model. {@link #poll} connects when it is not connected: it checks the server (wal_level
 * logical, the publication exists), creates the slot {@code kiln_<uuid>} with the pgoutput plugin
 * if it is missing (so LATEST and TRIM_HORIZON both mean "from the slot's creation"), and starts
 * streaming from the slot's confirmed position. Decoded changes ({@link ChangeRecords}) queue up as
 * rows and commit marks, read ahead up to one batch; a batch is at most BatchSize rows and {@link
 * #PAYLOAD_LIMIT} bytes of JSON, cut when it is full or when the batching window since its first
 * row has passed. A batch may end inside a transaction (a transaction bigger than BatchSize spans
 * several batches); its handle carries the end LSN of the last transaction it finishes, or nothing
 * when it finishes none.
 *
 * <p>Checkpoints. {@link #complete} only queues the batch's handle; the next {@code poll} (or
 * {@link #close}) applies it: the lane is free again, and the slot's confirmed flush LSN moves to
 * the handle's LSN, sent to the server at once in a standby status update. Nothing else moves it,
 * except that when everything read has been completed and no transaction is open, the position the
 * server last reported (keepalives) is confirmed too, so that WAL of unpublished tables is not
 * retained forever. Hence at least once: what was handed out and not completed when the reader
 * stops is sent again to the next reader; a completed transaction never is.
 *
 * <p>Failures. Any error of the connections closes them and is thrown as a {@link
 * SourceUnavailableException} whose message names the problem (unreachable, refused credentials, no
 * REPLICATION attribute, wal_level, missing publication, slot in use); the next poll reconnects. A
 * batch in flight across a reconnection still holds the lane until it is completed, and the records
 * the new session sends again for transactions completed meanwhile are skipped.
 *
 * <p>Threading. pgjdbc's replication stream is not thread-safe: only the poller thread touches the
 * connections ({@code poll} and {@code close} are synchronized); {@code complete} may be called
 * from any thread. While a batch is in flight the next one is read ahead, and a status update is
 * sent every {@link #STATUS_INTERVAL} so that the server's wal_sender_timeout never closes the
 * session. {@link #lag} answers from a value the poll thread refreshes every {@link #LAG_INTERVAL}.
 */
public final class PostgresReader implements EventSourceReader {

  static final Duration STATUS_INTERVAL = Duration.ofSeconds(10);
  static final Duration LAG_INTERVAL = Duration.ofSeconds(3);

  /**
   * The most JSON a batch carries, below Lambda's 6 MB invocation payload: a batch is cut before a
   * record that would pass it (a single record larger than this goes alone).
   */
  static final long PAYLOAD_LIMIT = 5_000_000;

  private static final Logger LOG = LoggerFactory.getLogger(PostgresReader.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What a batch's completion must do: free the lane, confirm {@code confirmLsn} if positive. */
  record Handle(long batchId, long confirmLsn) {}

  private final EventSourceMapping mapping;
  private final SourceContext context;
  private final PostgresEndpoint endpoint;
  private final String slot;
  private final String publication;
  private final String sourceArn;
  private final LinkedBlockingQueue<Handle> completions = new LinkedBlockingQueue<>();
  private volatile Map<String, Double> lag = Map.of();

  // the poll thread's state, under this object's lock
  private PgConnect.Credentials credentials;
  private Connection sql;
  private Connection replication;
  private PGReplicationStream stream;
  private ChangeRecords changes;
  private final ArrayDeque<Entry> pending = new ArrayDeque<>();
  private int pendingRows;
  private long pendingBytes;
  private long firstPendingNanos;
  private Handle inFlight;
  private long batchIds;
  private long confirmed;
  private long lastStatusNanos;
  private long lastLagNanos;

  PostgresReader(EventSourceMapping mapping, SourceContext context) {
    this.mapping = mapping;
    this.context = context;
    this.endpoint = PostgresSource.endpoint(mapping);
    this.slot = PostgresSource.slotName(mapping.uuid());
    this.publication = mapping.topics().get(0);
    this.sourceArn = PostgresSource.sourceArn(mapping, context.region());
  }

  /** The replication slot this reader reads. */
  public String slotName() {
    return slot;
  }

  @Override
  public synchronized List<SourceBatch> poll(Duration wait, int capacity)
      throws SourceUnavailableException, InterruptedException {
    long deadline = System.nanoTime() + Math.max(0, wait.toNanos());
    connect();
    try {
      applyCompletions();
      while (true) {
        refreshLag();
        if (inFlight != null) {
          // read ahead, up to a batch, so that the next batch is ready and the server's
          // keepalives are answered
          readAvailable();
          keepAlive();
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return List.of();
          }
          Handle done =
              completions.poll(
                  Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)), TimeUnit.NANOSECONDS);
          if (done != null) {
            apply(done);
            applyCompletions();
          }
          continue;
        }
        boolean read = readAvailable();
        confirmCompletedCommits();
        confirmIfIdle();
        if (pendingRows >= mapping.batchSize()
            || pendingBytes >= PAYLOAD_LIMIT
            || (pendingRows > 0
                && System.nanoTime() - firstPendingNanos
                    >= TimeUnit.SECONDS.toNanos(mapping.maximumBatchingWindowInSeconds()))) {
          return List.of(takeBatch());
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return List.of();
        }
        if (!read) {
          keepAlive();
          Thread.sleep(Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1, 10));
        }
      }
    } catch (SQLException e) {
      SourceUnavailableException failure = failure(e);
      disconnect();
      throw failure;
    } catch (PgOutputDecoder.MalformedMessageException e) {
      disconnect();
      throw new SourceUnavailableException(
          "PROBLEM: Kiln could not decode the replication stream of slot "
              + slot
              + ": "
              + e.getMessage(),
          e);
    }
  }

  @Override
  public void complete(SourceBatch batch) {
    if (!(batch.handle() instanceof Handle handle)) {
      throw new IllegalArgumentException("not a batch of a PostgreSQL reader: " + batch.lane());
    }
    completions.add(handle);
  }

  @Override
  public byte[] event(SourceBatch batch, List<SourceRecord> records) {
    ObjectNode event = JSON.createObjectNode();
    ArrayNode array = event.putArray("Records");
    records.forEach(r -> array.add(r.eventRecord()));
    try {
      return JSON.writeValueAsBytes(event);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a record that is not JSON", e);
    }
  }

  /**
   * The {@code DDBStreamBatchInfo} member of the OnFailure record, as a DynamoDB stream's: the slot
   * is the shard, the SequenceNumbers the batch's first and last records; the commit LSNs and the
   * publication besides.
   */
  @Override
  public ObjectNode batchInfo(SourceBatch batch, List<SourceRecord> records) {
    ObjectNode wrapper = JSON.createObjectNode();
    ObjectNode info = wrapper.putObject("DDBStreamBatchInfo");
    info.put("shardId", slot);
    if (!records.isEmpty()) {
      SourceRecord first = records.get(0);
      SourceRecord last = records.get(records.size() - 1);
      info.put("startSequenceNumber", first.itemIdentifier());
      info.put("endSequenceNumber", last.itemIdentifier());
      info.put("approximateArrivalOfFirstRecord", first.arrived().toString());
      info.put("approximateArrivalOfLastRecord", last.arrived().toString());
      info.put("startCommitLsn", first.eventRecord().path("commitLsn").asText());
      info.put("endCommitLsn", last.eventRecord().path("commitLsn").asText());
    }
    info.put("batchSize", records.size());
    info.put("streamArn", sourceArn);
    info.put("publication", publication);
    return wrapper;
  }

  @Override
  public Map<String, Double> lag() {
    return lag;
  }

  @Override
  public synchronized void close() {
    try {
      if (stream != null) {
        applyCompletions();
      }
    } catch (SQLException e) {
      LOG.debug("slot {}: could not confirm on close: {}", slot, e.getMessage());
    }
    disconnect();
  }

  // --- connecting ---

  private void connect() throws SourceUnavailableException {
    if (stream != null) {
      return;
    }
    credentials = PgConnect.credentials(mapping, endpoint, context);
    String application = "kiln-esm-" + mapping.uuid();
    try {
      sql = PgConnect.sql(endpoint, credentials, application);
      checkServer();
      long slotPosition = ensureSlot();
      confirmed = Math.max(confirmed, slotPosition);
      replication = PgConnect.replication(endpoint, credentials, application);
      ChainedLogicalStreamBuilder builder =
          replication
              .unwrap(PGConnection.class)
              .getReplicationAPI()
              .replicationStream()
              .logical()
              .withSlotName(slot)
              .withSlotOption("proto_version", "1")
              .withSlotOption("publication_names", PgConnect.quoteIdentifier(publication))
              .withStatusInterval((int) STATUS_INTERVAL.toSeconds(), TimeUnit.SECONDS);
      if (confirmed > 0) {
        builder.withStartPosition(LogSequenceNumber.valueOf(confirmed));
      }
      stream = builder.start();
      changes = new ChangeRecords(context.region(), sourceArn, this::primaryKey);
      pending.clear();
      pendingRows = 0;
      pendingBytes = 0;
      if (confirmed > 0) {
        sendConfirmed();
      }
      lastLagNanos = System.nanoTime() - LAG_INTERVAL.toNanos();
      LOG.info(
          "mapping {}: reading publication {} of {} through slot {} from {}",
          mapping.uuid(),
          publication,
          endpoint.normalized(),
          slot,
          PgOutputDecoder.lsnText(confirmed));
    } catch (SQLException e) {
      SourceUnavailableException failure = failure(e);
      disconnect();
      throw failure;
    } catch (SourceUnavailableException e) {
      disconnect();
      throw e;
    }
  }

  private void checkServer() throws SQLException, SourceUnavailableException {
    try (Statement s = sql.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT current_setting('wal_level'),"
                    + " current_setting('server_version_num')::int")) {
      rs.next();
      if (rs.getInt(2) < 100000) {
        throw new SourceUnavailableException(
            "PROBLEM: PostgreSQL at "
                + endpoint.hostPort()
                + " is older than version 10, which has no pgoutput logical replication.");
      }
      if (!rs.getString(1).equals("logical")) {
        throw new SourceUnavailableException(
            "PROBLEM: PostgreSQL at "
                + endpoint.hostPort()
                + " has wal_level = "
                + rs.getString(1)
                + "; logical replication needs wal_level = logical (set it in postgresql.conf"
                + " and restart the server).");
      }
    }
    try (PreparedStatement s =
        sql.prepareStatement("SELECT 1 FROM pg_publication WHERE pubname = ?")) {
      s.setString(1, publication);
      try (ResultSet rs = s.executeQuery()) {
        if (!rs.next()) {
          throw new SourceUnavailableException(
              "PROBLEM: Publication '"
                  + publication
                  + "' does not exist in database '"
                  + endpoint.database()
                  + "' at "
                  + endpoint.hostPort()
                  + ". Create it with CREATE PUBLICATION "
                  + publication
                  + " FOR TABLE ...");
        }
      }
    }
  }

  /** Creates the slot if it is missing; its confirmed flush LSN. */
  private long ensureSlot() throws SQLException, SourceUnavailableException {
    try (PreparedStatement s =
        sql.prepareStatement(
            "SELECT plugin, database, confirmed_flush_lsn::text FROM pg_replication_slots"
                + " WHERE slot_name = ?")) {
      s.setString(1, slot);
      try (ResultSet rs = s.executeQuery()) {
        if (rs.next()) {
          if (!"pgoutput".equals(rs.getString(1)) || !endpoint.database().equals(rs.getString(2))) {
            throw new SourceUnavailableException(
                "PROBLEM: The replication slot "
                    + slot
                    + " exists for plugin "
                    + rs.getString(1)
                    + " and database "
                    + rs.getString(2)
                    + "; Kiln needs it for pgoutput on "
                    + endpoint.database()
                    + ". Drop it with SELECT pg_drop_replication_slot('"
                    + slot
                    + "').");
          }
          String lsn = rs.getString(3);
          return lsn == null ? 0 : LogSequenceNumber.valueOf(lsn).asLong();
        }
      }
    }
    try (PreparedStatement s =
        sql.prepareStatement(
            "SELECT lsn::text FROM pg_create_logical_replication_slot(?, 'pgoutput')")) {
      s.setString(1, slot);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        LOG.info(
            "mapping {}: created replication slot {} at {}", mapping.uuid(), slot, rs.getString(1));
        return LogSequenceNumber.valueOf(rs.getString(1)).asLong();
      }
    } catch (SQLException e) {
      if ("42710".equals(e.getSQLState())) { // created meanwhile by another reader
        return 0;
      }
      throw e;
    }
  }

  /** The primary key columns of a table, for tables of REPLICA IDENTITY FULL. */
  private Optional<List<String>> primaryKey(int relationOid) {
    try (PreparedStatement s =
        sql.prepareStatement(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
                + " AND a.attnum = ANY (i.indkey) WHERE i.indrelid = ? AND i.indisprimary"
                + " ORDER BY array_position(i.indkey::int2[], a.attnum)")) {
      s.setLong(1, Integer.toUnsignedLong(relationOid));
      List<String> columns = new ArrayList<>();
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          columns.add(rs.getString(1));
        }
      }
      return Optional.of(columns);
    } catch (SQLException e) {
      LOG.debug("slot {}: no primary key for relation {}: {}", slot, relationOid, e.getMessage());
      return Optional.empty();
    }
  }

  private SourceUnavailableException failure(SQLException e) {
    return PgConnect.unavailable(endpoint, credentials, e);
  }

  private void disconnect() {
    PgConnect.closeQuietly(stream);
    PgConnect.closeQuietly(replication);
    PgConnect.closeQuietly(sql);
    stream = null;
    replication = null;
    sql = null;
    changes = null;
    pending.clear();
    pendingRows = 0;
    pendingBytes = 0;
    lag = Map.of();
  }

  // --- reading ---

  /** Reads what the server has sent, up to a full batch of rows; whether anything came. */
  private boolean readAvailable() throws SQLException {
    boolean any = false;
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
    while (pendingRows < mapping.batchSize()
        && pendingBytes < PAYLOAD_LIMIT
        && System.nanoTime() < until) {
      ByteBuffer message = stream.readPending();
      if (message == null) {
        break;
      }
      any = true;
      for (Entry entry : changes.accept(PgOutputDecoder.decode(message))) {
        switch (entry) {
          case Row row -> {
            if (Long.compareUnsigned(row.commitLsn(), confirmed) < 0) {
              continue; // completed before a reconnection; the new session sent it again
            }
            if (pendingRows == 0) {
              firstPendingNanos = System.nanoTime();
            }
            pending.addLast(row);
            pendingRows++;
            pendingBytes += row.jsonBytes();
          }
          case Committed c -> {
            if (Long.compareUnsigned(c.endLsn(), confirmed) > 0) {
              pending.addLast(c);
            }
          }
        }
      }
    }
    return any;
  }

  private SourceBatch takeBatch() {
    List<SourceRecord> records = new ArrayList<>();
    long confirmLsn = 0;
    long bytes = 0;
    while (!pending.isEmpty()) {
      Entry e = pending.peekFirst();
      if (e instanceof Row row) {
        if (records.size() == mapping.batchSize()
            || (!records.isEmpty() && bytes + row.jsonBytes() > PAYLOAD_LIMIT)) {
          break;
        }
        records.add(row.record());
        bytes += row.jsonBytes();
        pendingRows--;
        pendingBytes -= row.jsonBytes();
      } else if (e instanceof Committed c) {
        confirmLsn = c.endLsn();
      }
      pending.pollFirst();
    }
    firstPendingNanos = System.nanoTime();
    inFlight = new Handle(++batchIds, confirmLsn);
    return new SourceBatch(slot, records, inFlight);
  }

  /**
   * With nothing handed out and no row waiting, confirms the commits read (transactions that
   * changed none of the publication's rows) and, outside a transaction, what the server reported.
   */
  private void confirmIfIdle() throws SQLException {
    if (inFlight != null || pendingRows > 0) {
      return;
    }
    long target = confirmed;
    for (Entry e : pending) {
      if (e instanceof Committed c) {
        target = Math.max(target, c.endLsn());
      }
    }
    pending.clear();
    if (!changes.inTransaction()) {
      target = Math.max(target, stream.getLastReceiveLSN().asLong());
    }
    if (target > confirmed) {
      confirmed = target;
      sendConfirmed();
    }
  }

  // --- checkpointing ---

  private void applyCompletions() throws SQLException {
    Handle h;
    while ((h = completions.poll()) != null) {
      apply(h);
    }
  }

  private void apply(Handle h) throws SQLException {
    if (inFlight != null && inFlight.batchId() == h.batchId()) {
      inFlight = null;
    }
    if (h.confirmLsn() > confirmed) {
      confirmed = h.confirmLsn();
      dropConfirmed();
      if (stream != null) {
        sendConfirmed();
      }
    }
    confirmCompletedCommits();
  }

  /**
   * With no batch in flight, commit marks at the head of what was read end transactions all of
   * whose rows were in batches already completed: a batch is cut at its BatchSize-th row, often
   * before that row's commit was read, so its handle cannot carry it. Confirms them, so that a kill
   * after the batch completed does not send that whole transaction again with the next batch.
   */
  private void confirmCompletedCommits() throws SQLException {
    if (inFlight != null) {
      return;
    }
    long target = confirmed;
    while (pending.peekFirst() instanceof Committed c) {
      target = Math.max(target, c.endLsn());
      pending.pollFirst();
    }
    if (target > confirmed) {
      confirmed = target;
      if (stream != null) {
        sendConfirmed();
      }
    }
  }

  /**
   * Forgets what was read ahead of transactions now confirmed: after a reconnection the new session
   * sends again what the batch in flight carried, and that batch has just been completed.
   */
  private void dropConfirmed() {
    var it = pending.iterator();
    while (it.hasNext()) {
      Entry e = it.next();
      if (e instanceof Row row && Long.compareUnsigned(row.commitLsn(), confirmed) < 0) {
        it.remove();
        pendingRows--;
        pendingBytes -= row.jsonBytes();
      } else if (e instanceof Committed c && Long.compareUnsigned(c.endLsn(), confirmed) <= 0) {
        it.remove();
      }
    }
  }

  private void sendConfirmed() throws SQLException {
    LogSequenceNumber lsn = LogSequenceNumber.valueOf(confirmed);
    stream.setFlushedLSN(lsn);
    stream.setAppliedLSN(lsn);
    stream.forceUpdateStatus();
    lastStatusNanos = System.nanoTime();
  }

  private void keepAlive() throws SQLException {
    if (System.nanoTime() - lastStatusNanos >= STATUS_INTERVAL.toNanos()) {
      stream.forceUpdateStatus();
      lastStatusNanos = System.nanoTime();
    }
  }

  /**
   * Measures the slot's lag on the catalog connection. That is also how a server gone away is
   * noticed: pgjdbc's non-blocking read of the replication stream takes a closed socket for "no
   * message yet", so a connection error here fails the poll.
   */
  private void refreshLag() throws SQLException {
    if (sql == null || System.nanoTime() - lastLagNanos < LAG_INTERVAL.toNanos()) {
      return;
    }
    lastLagNanos = System.nanoTime();
    try (PreparedStatement s =
        sql.prepareStatement(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)"
                + " FROM pg_replication_slots WHERE slot_name = ?")) {
      s.setString(1, slot);
      try (ResultSet rs = s.executeQuery()) {
        lag = rs.next() ? Map.of("slot_lag_bytes", Math.max(0, rs.getDouble(1))) : Map.of();
      }
    } catch (SQLException e) {
      lag = Map.of();
      String state = e.getSQLState() == null ? "" : e.getSQLState();
      if (state.startsWith("08") || state.startsWith("57") || sql.isClosed()) {
        throw e;
      }
      LOG.debug("slot {}: no lag: {}", slot, e.getMessage());
    }
    if (stream.isClosed()) {
      throw new SQLException("the replication stream was closed", "08006");
    }
  }
}
