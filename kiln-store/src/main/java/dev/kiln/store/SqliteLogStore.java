package dev.kiln.store;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
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
 * InstanceLog}), and never ingests a line twice. All methods are synchronized on the store: the one
 * connection is used by one thread at a time.
 */
public final class SqliteLogStore implements LogStore {

  private final Connection db;

  private SqliteLogStore(Connection db) {
    this.db = db;
  }

  public static SqliteLogStore open(Path file) {
    return new SqliteLogStore(SqliteDatabase.open(file, "db/logs", "log store"));
  }

  @Override
  public synchronized void append(List<Event> events, Map<String, Long> outputRead) {
    if (events.isEmpty() && outputRead.isEmpty()) {
      return;
    }
    long now = System.currentTimeMillis();
    SqliteDatabase.inTransaction(
        db,
        () -> {
          Map<String, Long> ids = new HashMap<>();
          try (PreparedStatement insert =
                  db.prepareStatement(
                      "INSERT INTO log_events(stream, ts, ingested, message) VALUES (?, ?, ?, ?)");
              PreparedStatement update =
                  db.prepareStatement(
                      "UPDATE log_streams SET first_event = coalesce(min(first_event, ?), ?),"
                          + " last_event = coalesce(max(last_event, ?), ?), last_ingestion = ?,"
                          + " stored_bytes = stored_bytes + ? WHERE id = ?")) {
            for (Event e : events) {
              String key = e.group() + "\n" + e.stream();
              Long stream = ids.get(key);
              if (stream == null) {
                stream = streamId(e.group(), e.stream(), now);
                ids.put(key, stream);
              }
              insert.setLong(1, stream);
              insert.setLong(2, e.timestamp());
              insert.setLong(3, now);
              insert.setString(4, e.message());
              insert.addBatch();
              update.setLong(1, e.timestamp());
              update.setLong(2, e.timestamp());
              update.setLong(3, e.timestamp());
              update.setLong(4, e.timestamp());
              update.setLong(5, now);
              update.setLong(6, e.message().getBytes(StandardCharsets.UTF_8).length);
              update.setLong(7, stream);
              update.addBatch();
            }
            insert.executeBatch();
            update.executeBatch();
          }
          try (PreparedStatement read =
              db.prepareStatement(
                  "INSERT INTO output_read(instance, read_to) VALUES (?, ?)"
                      + " ON CONFLICT(instance) DO UPDATE SET read_to = excluded.read_to")) {
            for (Map.Entry<String, Long> r : outputRead.entrySet()) {
              read.setString(1, r.getKey());
              read.setLong(2, r.getValue());
              read.addBatch();
            }
            read.executeBatch();
          }
          return null;
        },
        "log store");
  }

  @Override
  public synchronized Optional<Long> outputRead(String instance) {
    return read(
            "SELECT read_to FROM output_read WHERE instance = ?",
            st -> st.setString(1, instance),
            rs -> rs.getLong(1))
        .stream()
        .findFirst();
  }

  @Override
  public synchronized void forgetOutput(java.util.Collection<String> instances) {
    if (instances.isEmpty()) {
      return;
    }
    SqliteDatabase.inTransaction(
        db,
        () -> {
          try (PreparedStatement st =
              db.prepareStatement("DELETE FROM output_read WHERE instance = ?")) {
            for (String i : instances) {
              st.setString(1, i);
              st.addBatch();
            }
            st.executeBatch();
          }
          return null;
        },
        "log store");
  }

  @Override
  public synchronized void forgetAllOutput() {
    write("DELETE FROM output_read", st -> {});
  }

  private long streamId(String group, String stream, long now) throws SQLException {
    try (PreparedStatement st =
        db.prepareStatement(
            "INSERT INTO log_groups(name, created) VALUES (?, ?) ON CONFLICT(name) DO NOTHING")) {
      st.setString(1, group);
      st.setLong(2, now);
      st.executeUpdate();
    }
    try (PreparedStatement st =
        db.prepareStatement(
            "INSERT INTO log_streams(log_group, name, created) VALUES (?, ?, ?)"
                + " ON CONFLICT(log_group, name) DO NOTHING")) {
      st.setString(1, group);
      st.setString(2, stream);
      st.setLong(3, now);
      st.executeUpdate();
    }
    try (PreparedStatement st =
        db.prepareStatement("SELECT id FROM log_streams WHERE log_group = ? AND name = ?")) {
      st.setString(1, group);
      st.setString(2, stream);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  @Override
  public synchronized boolean createGroup(String group) {
    return write(
            "INSERT INTO log_groups(name, created) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
            st -> {
              st.setString(1, group);
              st.setLong(2, System.currentTimeMillis());
            })
        == 1;
  }

  @Override
  public synchronized boolean createStream(String group, String stream) {
    // the WHERE clause also tells SQLite's parser that ON CONFLICT belongs to the INSERT
    return write(
            "INSERT INTO log_streams(log_group, name, created) SELECT ?, ?, ?"
                + " WHERE EXISTS (SELECT 1 FROM log_groups WHERE name = ?)"
                + " ON CONFLICT(log_group, name) DO NOTHING",
            st -> {
              st.setString(1, group);
              st.setString(2, stream);
              st.setLong(3, System.currentTimeMillis());
              st.setString(4, group);
            })
        == 1;
  }

  @Override
  public synchronized boolean deleteGroup(String group) {
    return SqliteDatabase.inTransaction(
        db,
        () -> {
          // the streams' events go with them (ON DELETE CASCADE)
          try (PreparedStatement st =
              db.prepareStatement("DELETE FROM log_streams WHERE log_group = ?")) {
            st.setString(1, group);
            st.executeUpdate();
          }
          try (PreparedStatement st =
              db.prepareStatement("DELETE FROM log_groups WHERE name = ?")) {
            st.setString(1, group);
            return st.executeUpdate() == 1;
          }
        },
        "log store");
  }

  @Override
  public synchronized boolean deleteStream(String group, String stream) {
    return write(
            "DELETE FROM log_streams WHERE log_group = ? AND name = ?",
            st -> {
              st.setString(1, group);
              st.setString(2, stream);
            })
        == 1;
  }

  @Override
  public synchronized boolean setRetention(String group, Optional<Integer> days) {
    return write(
            "UPDATE log_groups SET retention_days = ? WHERE name = ?",
            st -> {
              if (days.isPresent()) {
                st.setInt(1, days.get());
              } else {
                st.setNull(1, java.sql.Types.INTEGER);
              }
              st.setString(2, group);
            })
        == 1;
  }

  @Override
  public synchronized List<Group> groups(String prefix) {
    return read(
        "SELECT g.name, g.created, g.retention_days, (SELECT coalesce(sum(s.stored_bytes), 0)"
            + " FROM log_streams s WHERE s.log_group = g.name) FROM log_groups g"
            + " WHERE substr(g.name, 1, length(?)) = ? ORDER BY g.name",
        st -> {
          st.setString(1, prefix);
          st.setString(2, prefix);
        },
        rs ->
            new Group(
                rs.getString(1),
                rs.getLong(2),
                optionalLong(rs, 3).map(Long::intValue),
                rs.getLong(4)));
  }

  @Override
  public synchronized List<Stream> streams(
      String group, String prefix, boolean byLastEventTime, boolean descending) {
    String order =
        (byLastEventTime ? "coalesce(last_event, 0)" : "name") + (descending ? " DESC" : " ASC");
    return read(
        "SELECT name, created, first_event, last_event, last_ingestion, stored_bytes"
            + " FROM log_streams WHERE log_group = ? AND substr(name, 1, length(?)) = ?"
            + " ORDER BY "
            + order,
        st -> {
          st.setString(1, group);
          st.setString(2, prefix);
          st.setString(3, prefix);
        },
        rs ->
            new Stream(
                rs.getString(1),
                rs.getLong(2),
                optionalLong(rs, 3),
                optionalLong(rs, 4),
                optionalLong(rs, 5),
                rs.getLong(6)));
  }

  @Override
  public synchronized List<StoredEvent> events(
      String group,
      String stream,
      long start,
      long end,
      Optional<Long> afterId,
      Optional<Long> beforeId,
      int limit,
      boolean fromHead) {
    boolean ascending = afterId.isPresent() || (beforeId.isEmpty() && fromHead);
    List<StoredEvent> out =
        read(
            "SELECT e.id, s.name, e.ts, e.ingested, e.message FROM log_events e"
                + " JOIN log_streams s ON s.id = e.stream"
                + " WHERE s.log_group = ? AND s.name = ? AND e.ts >= ? AND e.ts < ?"
                + " AND e.id > ? AND e.id < ? ORDER BY e.id "
                + (ascending ? "ASC" : "DESC")
                + " LIMIT ?",
            st -> {
              st.setString(1, group);
              st.setString(2, stream);
              st.setLong(3, start);
              st.setLong(4, end);
              st.setLong(5, afterId.orElse(0L));
              st.setLong(6, beforeId.orElse(Long.MAX_VALUE));
              st.setInt(7, limit);
            },
            SqliteLogStore::event);
    if (!ascending) {
      java.util.Collections.reverse(out);
    }
    return out;
  }

  @Override
  public synchronized List<StoredEvent> scan(
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
            : " AND s.name IN ("
                + String.join(",", java.util.Collections.nCopies(streams.size(), "?"))
                + ")";
    return read(
        "SELECT e.id, s.name, e.ts, e.ingested, e.message FROM log_events e"
            + " JOIN log_streams s ON s.id = e.stream"
            + " WHERE s.log_group = ? AND substr(s.name, 1, length(?)) = ?"
            + named
            + " AND e.ts >= ? AND e.ts < ? AND e.id > ? ORDER BY e.id LIMIT ?",
        st -> {
          int i = 1;
          st.setString(i++, group);
          st.setString(i++, streamPrefix);
          st.setString(i++, streamPrefix);
          for (String s : streams) {
            st.setString(i++, s);
          }
          st.setLong(i++, start);
          st.setLong(i++, end);
          st.setLong(i++, afterId);
          st.setInt(i, limit);
        },
        SqliteLogStore::event);
  }

  @Override
  public synchronized void prune(long now, Duration retention, long maxBytes) {
    SqliteDatabase.inTransaction(
        db,
        () -> {
          try (PreparedStatement st = db.prepareStatement("DELETE FROM log_events WHERE ts < ?")) {
            st.setLong(1, now - retention.toMillis());
            st.executeUpdate();
          }
          // then what is past its group's own retention, which can only be shorter in effect
          try (PreparedStatement st =
              db.prepareStatement(
                  "DELETE FROM log_events WHERE id IN (SELECT e.id FROM log_groups g"
                      + " JOIN log_streams s ON s.log_group = g.name"
                      + " JOIN log_events e ON e.stream = s.id"
                      + " WHERE g.retention_days IS NOT NULL"
                      + " AND e.ts < ? - g.retention_days * ?)")) {
            st.setLong(1, now);
            st.setLong(2, Duration.ofDays(1).toMillis());
            st.executeUpdate();
          }
          long total;
          try (PreparedStatement st =
                  db.prepareStatement(
                      "SELECT coalesce(sum(length(CAST(message AS BLOB))), 0) FROM log_events");
              ResultSet rs = st.executeQuery()) {
            rs.next();
            total = rs.getLong(1);
          }
          if (total > maxBytes) {
            // drop the oldest events until a tenth under the limit, so pruning is not constant
            long toDrop = total - maxBytes + maxBytes / 10;
            try (PreparedStatement st =
                db.prepareStatement(
                    "DELETE FROM log_events WHERE id <= (SELECT max(id) FROM (SELECT id,"
                        + " sum(length(CAST(message AS BLOB))) OVER (ORDER BY id) AS running"
                        + " FROM log_events) WHERE running <= ?)")) {
              st.setLong(1, toDrop);
              st.executeUpdate();
            }
          }
          try (PreparedStatement st =
              db.prepareStatement(
                  "UPDATE log_streams SET stored_bytes = (SELECT coalesce(sum(length(CAST(message"
                      + " AS BLOB))), 0) FROM log_events WHERE stream = log_streams.id)")) {
            st.executeUpdate();
          }
          // streams emptied by pruning go; those created empty (CreateLogStream) stay
          try (PreparedStatement st =
              db.prepareStatement(
                  "DELETE FROM log_streams WHERE last_event IS NOT NULL AND NOT EXISTS (SELECT 1"
                      + " FROM log_events WHERE stream = log_streams.id)")) {
            st.executeUpdate();
          }
          return null;
        },
        "log store");
  }

  @Override
  public synchronized void check() {
    SqliteDatabase.check(db, "log store");
  }

  @Override
  public synchronized void close() {
    try {
      db.close();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs one statement as a transaction; returns how many rows it changed. */
  private int write(String sql, SqliteDatabase.Binder binder) {
    return SqliteDatabase.inTransaction(
        db,
        () -> {
          try (PreparedStatement st = db.prepareStatement(sql)) {
            binder.bind(st);
            return st.executeUpdate();
          }
        },
        "log store");
  }

  private <T> List<T> read(String sql, SqliteDatabase.Binder binder, SqliteDatabase.Row<T> row) {
    return SqliteDatabase.query(db, sql, binder, row, "log store");
  }

  private static StoredEvent event(ResultSet rs) throws SQLException {
    return new StoredEvent(
        rs.getLong(1), rs.getString(2), rs.getLong(3), rs.getLong(4), rs.getString(5));
  }

  private static Optional<Long> optionalLong(ResultSet rs, int column) throws SQLException {
    long v = rs.getLong(column);
    return rs.wasNull() ? Optional.empty() : Optional.of(v);
  }
}
