package dev.kiln.store;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The embedded log store: one SQLite file ({@code logs.db}) beside the metadata, with a group table
 * (which also holds each group's retention), a stream table and an event table. Writes come in
 * batches from a background writer, never from the invocation itself, so the cost of a commit is
 * paid once per batch; the few writes of the API (creating and deleting groups and streams, setting
 * a retention) are single statements.
 *
 * <p>Beside the events, {@code output_read} says how far each running instance's output file has
 * been read into them, written in the same transaction as the events it covers: a Kiln killed with
 * lines still in its writer's memory reads the rest of each file at its next start (see {@code
 * InstanceLog}), and never ingests a line twice. The one connection is guarded by its {@link
 * Jdbc}'s monitor; the time a line was ingested, or a group or stream created, is the injected
 * clock's.
 */
public final class SqliteLogStore implements LogStore {

  private final Jdbc db;
  private final InstantSource clock;

  private SqliteLogStore(Jdbc db, InstantSource clock) {
    this.db = db;
    this.clock = clock;
  }

  public static SqliteLogStore open(Path file, InstantSource clock) {
    return new SqliteLogStore(SqliteDatabase.open(file, "db/logs", "log store"), clock);
  }

  @Override
  public void append(List<Event> events, Map<String, Long> outputRead) {
    if (events.isEmpty() && outputRead.isEmpty()) {
      return;
    }
    long now = clock.millis();
    SqlDialect sql = db.dialect();
    db.inTransaction(
        () -> {
          Map<String, Long> ids = new HashMap<>();
          List<Object[]> inserts = new ArrayList<>();
          List<Object[]> updates = new ArrayList<>();
          for (Event e : events) {
            long stream =
                ids.computeIfAbsent(
                    e.group() + "\n" + e.stream(), k -> streamId(e.group(), e.stream(), now));
            long ts = e.timestamp();
            inserts.add(new Object[] {stream, ts, now, e.message()});
            long bytes = e.message().getBytes(StandardCharsets.UTF_8).length;
            updates.add(new Object[] {ts, ts, ts, ts, now, bytes, stream});
          }
          db.batch(
              "INSERT INTO log_events(stream, ts, ingested, message) VALUES (?, ?, ?, ?)", inserts);
          db.batch(
              "UPDATE log_streams SET first_event = coalesce("
                  + sql.least("first_event", "?")
                  + ", ?), last_event = coalesce("
                  + sql.greatest("last_event", "?")
                  + ", ?), last_ingestion = ?, stored_bytes = stored_bytes + ? WHERE id = ?",
              updates);
          db.batch(
              sql.upsertReplacing(
                  "output_read", List.of("instance"), List.of("instance", "read_to")),
              outputRead.entrySet().stream()
                  .map(r -> new Object[] {r.getKey(), r.getValue()})
                  .toList());
          return null;
        });
  }

  @Override
  public Optional<Long> outputRead(String instance) {
    return db.first(
        "SELECT read_to FROM output_read WHERE instance = ?", rs -> rs.getLong(1), instance);
  }

  @Override
  public void forgetOutput(Collection<String> instances) {
    db.batch(
        "DELETE FROM output_read WHERE instance = ?",
        instances.stream().map(i -> new Object[] {i}).toList());
  }

  @Override
  public void forgetAllOutput() {
    db.update("DELETE FROM output_read");
  }

  private long streamId(String group, String stream, long now) {
    SqlDialect sql = db.dialect();
    db.update(
        sql.insertIfAbsent("log_groups", List.of("name"), List.of("name", "created")), group, now);
    db.update(
        sql.insertIfAbsent(
            "log_streams", List.of("log_group", "name"), List.of("log_group", "name", "created")),
        group,
        stream,
        now);
    return db.first(
            "SELECT id FROM log_streams WHERE log_group = ? AND name = ?",
            rs -> rs.getLong(1),
            group,
            stream)
        .orElseThrow();
  }

  @Override
  public boolean createGroup(String group) {
    return db.update(
            db.dialect().insertIfAbsent("log_groups", List.of("name"), List.of("name", "created")),
            group,
            clock.millis())
        == 1;
  }

  @Override
  public boolean createStream(String group, String stream) {
    // the WHERE clause also tells SQLite's parser that ON CONFLICT belongs to the INSERT
    return db.update(
            "INSERT INTO log_streams(log_group, name, created) SELECT ?, ?, ?"
                + " WHERE EXISTS (SELECT 1 FROM log_groups WHERE name = ?)"
                + " ON CONFLICT(log_group, name) DO NOTHING",
            group,
            stream,
            clock.millis(),
            group)
        == 1;
  }

  @Override
  public boolean deleteGroup(String group) {
    return db.inTransaction(
        () -> {
          // the streams' events go with them (ON DELETE CASCADE)
          db.update("DELETE FROM log_streams WHERE log_group = ?", group);
          return db.update("DELETE FROM log_groups WHERE name = ?", group) == 1;
        });
  }

  @Override
  public boolean deleteStream(String group, String stream) {
    return db.update("DELETE FROM log_streams WHERE log_group = ? AND name = ?", group, stream)
        == 1;
  }

  @Override
  public boolean setRetention(String group, Optional<Integer> days) {
    return db.update("UPDATE log_groups SET retention_days = ? WHERE name = ?", days, group) == 1;
  }

  @Override
  public List<Group> groups(String prefix) {
    return db.list(
        "SELECT g.name, g.created, g.retention_days, (SELECT coalesce(sum(s.stored_bytes), 0)"
            + " FROM log_streams s WHERE s.log_group = g.name) FROM log_groups g"
            + " WHERE substr(g.name, 1, length(?)) = ? ORDER BY g.name",
        rs ->
            new Group(
                rs.getString(1),
                rs.getLong(2),
                Jdbc.optionalLong(rs, 3).map(Long::intValue),
                rs.getLong(4)),
        prefix,
        prefix);
  }

  @Override
  public List<Stream> streams(
      String group, String prefix, boolean byLastEventTime, boolean descending) {
    String order =
        (byLastEventTime ? "coalesce(last_event, 0)" : "name") + (descending ? " DESC" : " ASC");
    return db.list(
        "SELECT name, created, first_event, last_event, last_ingestion, stored_bytes"
            + " FROM log_streams WHERE log_group = ? AND substr(name, 1, length(?)) = ?"
            + " ORDER BY "
            + order,
        rs ->
            new Stream(
                rs.getString(1),
                rs.getLong(2),
                Jdbc.optionalLong(rs, 3),
                Jdbc.optionalLong(rs, 4),
                Jdbc.optionalLong(rs, 5),
                rs.getLong(6)),
        group,
        prefix,
        prefix);
  }

  @Override
  public List<StoredEvent> events(
      String group,
      String stream,
      long start,
      long end,
      Optional<Long> afterId,
      Optional<Long> beforeId,
      int limit,
      boolean fromHead) {
    boolean ascending = LogStore.pageFromStart(afterId, beforeId, fromHead);
    List<StoredEvent> out =
        new ArrayList<>(
            db.list(
                "SELECT e.id, s.name, e.ts, e.ingested, e.message FROM log_events e"
                    + " JOIN log_streams s ON s.id = e.stream"
                    + " WHERE s.log_group = ? AND s.name = ? AND e.ts >= ? AND e.ts < ?"
                    + " AND e.id > ? AND e.id < ? ORDER BY e.id "
                    + (ascending ? "ASC" : "DESC")
                    + " LIMIT ?",
                SqliteLogStore::event,
                group,
                stream,
                start,
                end,
                afterId.orElse(0L),
                beforeId.orElse(Long.MAX_VALUE),
                limit));
    if (!ascending) {
      Collections.reverse(out);
    }
    return out;
  }

  @Override
  public List<StoredEvent> scan(
      String group,
      List<String> streams,
      String streamPrefix,
      long start,
      long end,
      long afterId,
      int limit) {
    String named =
        streams.isEmpty()
            ? ""
            : " AND s.name IN (" + String.join(",", Collections.nCopies(streams.size(), "?")) + ")";
    List<Object> params = new ArrayList<>(List.of(group, streamPrefix, streamPrefix));
    params.addAll(streams);
    params.addAll(List.of(start, end, afterId, limit));
    return db.list(
        "SELECT e.id, s.name, e.ts, e.ingested, e.message FROM log_events e"
            + " JOIN log_streams s ON s.id = e.stream"
            + " WHERE s.log_group = ? AND substr(s.name, 1, length(?)) = ?"
            + named
            + " AND e.ts >= ? AND e.ts < ? AND e.id > ? ORDER BY e.id LIMIT ?",
        SqliteLogStore::event,
        params.toArray());
  }

  @Override
  public void prune(long now, Duration retention, long maxBytes) {
    String bytes = db.dialect().byteLength("message");
    db.inTransaction(
        () -> {
          db.update("DELETE FROM log_events WHERE ts < ?", now - retention.toMillis());
          // then what is past its group's own retention, which can only be shorter in effect
          db.update(
              "DELETE FROM log_events WHERE id IN (SELECT e.id FROM log_groups g"
                  + " JOIN log_streams s ON s.log_group = g.name"
                  + " JOIN log_events e ON e.stream = s.id"
                  + " WHERE g.retention_days IS NOT NULL"
                  + " AND e.ts < ? - g.retention_days * ?)",
              now,
              Duration.ofDays(1).toMillis());
          long total =
              db.first(
                      "SELECT coalesce(sum(" + bytes + "), 0) FROM log_events", rs -> rs.getLong(1))
                  .orElseThrow();
          if (total > maxBytes) {
            // drop the oldest events until a tenth under the limit, so pruning is not constant
            db.update(
                "DELETE FROM log_events WHERE id <= (SELECT max(id) FROM (SELECT id, sum("
                    + bytes
                    + ") OVER (ORDER BY id) AS running FROM log_events) WHERE running <= ?)",
                total - maxBytes + maxBytes / 10);
          }
          db.update(
              "UPDATE log_streams SET stored_bytes = (SELECT coalesce(sum("
                  + bytes
                  + "), 0) FROM log_events WHERE stream = log_streams.id)");
          // streams emptied by pruning go; those created empty (CreateLogStream) stay
          db.update(
              "DELETE FROM log_streams WHERE last_event IS NOT NULL AND NOT EXISTS (SELECT 1"
                  + " FROM log_events WHERE stream = log_streams.id)");
          return null;
        });
  }

  @Override
  public void check() {
    SqliteDatabase.check(db);
  }

  @Override
  public void close() {
    db.close();
  }

  private static StoredEvent event(ResultSet rs) throws SQLException {
    return new StoredEvent(
        rs.getLong(1), rs.getString(2), rs.getLong(3), rs.getLong(4), rs.getString(5));
  }
}
