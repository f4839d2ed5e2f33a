package dev.kiln.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The embedded event queue: a SQLite file of its own ({@code events.db}, so that event traffic
 * never waits behind the control plane's transactions), in WAL mode with {@code synchronous=FULL}:
 * an event Invoke accepted is on disk before the 202 goes out.
 */
public final class SqliteEventQueue implements EventQueue {

  private final Connection db;

  private SqliteEventQueue(Connection db) {
    this.db = db;
  }

  public static SqliteEventQueue open(Path file) {
    return new SqliteEventQueue(SqliteDatabase.open(file, "db/events", "event queue"));
  }

  @Override
  public synchronized void enqueue(Event event) {
    inTransaction(
        () -> {
          insert(event);
          return null;
        });
  }

  private void insert(Event e) throws SQLException {
    try (PreparedStatement st =
        db.prepareStatement(
            "INSERT INTO events (request_id, function, qualifier, payload, received_at, attempts,"
                + " throttles, due_at, in_flight, trace_header) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0,"
                + " ?)")) {
      st.setString(1, e.requestId());
      st.setString(2, e.function());
      st.setString(3, e.qualifier());
      st.setBytes(4, e.payload());
      st.setLong(5, e.received().toEpochMilli());
      st.setInt(6, e.attempts());
      st.setInt(7, e.throttles());
      st.setLong(8, e.due().toEpochMilli());
      st.setString(9, e.traceHeader().orElse(null));
      st.executeUpdate();
    }
  }

  @Override
  public synchronized List<Event> claim(Instant now, int max) {
    return inTransaction(
        () -> {
          List<Event> out = new ArrayList<>();
          try (PreparedStatement st =
              db.prepareStatement(
                  "SELECT seq, request_id, function, qualifier, payload, received_at, attempts,"
                      + " throttles, due_at, trace_header FROM events WHERE in_flight = 0 AND"
                      + " due_at <= ?"
                      + " ORDER BY due_at, seq LIMIT ?")) {
            st.setLong(1, now.toEpochMilli());
            st.setInt(2, max);
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new Event(
                        rs.getLong(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getBytes(5),
                        Instant.ofEpochMilli(rs.getLong(6)),
                        rs.getInt(7),
                        rs.getInt(8),
                        Instant.ofEpochMilli(rs.getLong(9)),
                        Optional.ofNullable(rs.getString(10))));
              }
            }
          }
          try (PreparedStatement st =
              db.prepareStatement("UPDATE events SET in_flight = 1 WHERE seq = ?")) {
            for (Event e : out) {
              st.setLong(1, e.seq());
              st.addBatch();
            }
            st.executeBatch();
          }
          return out;
        });
  }

  @Override
  public synchronized void retry(Event event) {
    inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement(
                  "UPDATE events SET in_flight = 0, attempts = ?, throttles = ?, due_at = ?"
                      + " WHERE seq = ?")) {
            st.setInt(1, event.attempts());
            st.setInt(2, event.throttles());
            st.setLong(3, event.due().toEpochMilli());
            st.setLong(4, event.seq());
            st.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public synchronized void finish(Event event, boolean succeeded, List<Event> followUps) {
    inTransaction(
        () -> {
          try (PreparedStatement st = db.prepareStatement("DELETE FROM events WHERE seq = ?")) {
            st.setLong(1, event.seq());
            st.executeUpdate();
          }
          for (Event f : followUps) {
            insert(f);
          }
          try (PreparedStatement st =
              db.prepareStatement(
                  "INSERT INTO outcomes (function, succeeded, failed) VALUES (?, ?, ?)"
                      + " ON CONFLICT(function) DO UPDATE SET succeeded = succeeded +"
                      + " excluded.succeeded, failed = failed + excluded.failed")) {
            st.setString(1, event.function());
            st.setInt(2, succeeded ? 1 : 0);
            st.setInt(3, succeeded ? 0 : 1);
            st.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public synchronized int requeueInFlight() {
    return inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement("UPDATE events SET in_flight = 0 WHERE in_flight = 1")) {
            return st.executeUpdate();
          }
        });
  }

  @Override
  public synchronized Optional<Instant> nextDue() {
    return inTransaction(
        () -> {
          try (PreparedStatement st =
                  db.prepareStatement("SELECT MIN(due_at) FROM events WHERE in_flight = 0");
              ResultSet rs = st.executeQuery()) {
            rs.next();
            long due = rs.getLong(1);
            return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(due));
          }
        });
  }

  @Override
  public synchronized List<Depth> depths() {
    return SqliteDatabase.query(
        db,
        "SELECT function, sum(1 - in_flight), sum(in_flight), min(received_at) FROM events"
            + " GROUP BY function ORDER BY function",
        st -> {},
        rs ->
            new Depth(
                rs.getString(1), rs.getLong(2), rs.getLong(3), Instant.ofEpochMilli(rs.getLong(4))),
        "event queue");
  }

  @Override
  public synchronized Counts counts(String function) {
    return inTransaction(
        () -> {
          long queued = 0;
          long inFlight = 0;
          try (PreparedStatement st =
              db.prepareStatement(
                  "SELECT in_flight, COUNT(*) FROM events WHERE function = ? GROUP BY in_flight")) {
            st.setString(1, function);
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                if (rs.getInt(1) == 1) {
                  inFlight = rs.getLong(2);
                } else {
                  queued = rs.getLong(2);
                }
              }
            }
          }
          long succeeded = 0;
          long failed = 0;
          try (PreparedStatement st =
              db.prepareStatement("SELECT succeeded, failed FROM outcomes WHERE function = ?")) {
            st.setString(1, function);
            try (ResultSet rs = st.executeQuery()) {
              if (rs.next()) {
                succeeded = rs.getLong(1);
                failed = rs.getLong(2);
              }
            }
          }
          return new Counts(queued, inFlight, succeeded, failed);
        });
  }

  @Override
  public synchronized int dropFunction(String function) {
    return inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement("DELETE FROM events WHERE function = ? AND in_flight = 0")) {
            st.setString(1, function);
            return st.executeUpdate();
          }
        });
  }

  @Override
  public synchronized void check() {
    SqliteDatabase.check(db, "event queue");
  }

  @Override
  public synchronized void close() {
    try {
      db.close();
    } catch (SQLException e) {
      // closing anyway
    }
  }

  private <T> T inTransaction(SqliteDatabase.Work<T> work) {
    return SqliteDatabase.inTransaction(db, work, "event queue");
  }
}
