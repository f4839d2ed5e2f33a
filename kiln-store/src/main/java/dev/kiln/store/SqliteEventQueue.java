package dev.kiln.store;

import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;

/**
 * The embedded event queue: a SQLite file of its own ({@code events.db}, so that event traffic
 * never waits behind the control plane's transactions), in WAL mode with {@code synchronous=FULL}:
 * an event Invoke accepted is on disk before the 202 goes out.
 *
 * <p>A claim is the pair {@code claimed_by}, {@code claimed_until} (epoch milliseconds of the
 * queue's clock) on the event's row; an event is held while {@code claimed_until} is in the future,
 * and an acknowledgement matches both columns, so it only ever ends its own claim. The connection
 * is guarded by its {@link Jdbc}'s monitor. The keys of {@link #enqueueOnce} are rows of {@code
 * enqueued_keys}, inserted in the event's transaction and pruned by the same writes.
 */
public final class SqliteEventQueue implements EventQueue {

  private static final String COLUMNS =
      "seq, request_id, function, qualifier, payload, received_at, attempts, throttles, due_at,"
          + " trace_header, claimed_by, claimed_until";

  /** An event no live lease holds, at the moment bound to the one parameter. */
  private static final String UNHELD = "(claimed_until IS NULL OR claimed_until <= ?)";

  private final Jdbc db;
  private final InstantSource clock;

  private SqliteEventQueue(Jdbc db, InstantSource clock) {
    this.db = db;
    this.clock = clock;
  }

  /** Opens (creating and migrating if needed) the queue in {@code file}, telling time by clock. */
  public static SqliteEventQueue open(Path file, InstantSource clock) {
    return new SqliteEventQueue(SqliteDatabase.open(file, "db/events", "event queue"), clock);
  }

  @Override
  public void enqueue(Event event) {
    insert(event);
  }

  @Override
  public boolean enqueueOnce(Event event, String deduplicationKey) {
    long now = clock.millis();
    return db.inTransaction(
        () -> {
          db.update(
              "DELETE FROM enqueued_keys WHERE enqueued_at < ?",
              now - DEDUPLICATION_RETENTION.toMillis());
          int added =
              db.update(
                  db.dialect()
                      .insertIfAbsent(
                          "enqueued_keys",
                          List.of("dedup_key"),
                          List.of("dedup_key", "enqueued_at")),
                  deduplicationKey,
                  now);
          if (added == 0) {
            return false;
          }
          insert(event);
          return true;
        });
  }

  private void insert(Event e) {
    db.update(
        "INSERT INTO events (request_id, function, qualifier, payload, received_at, attempts,"
            + " throttles, due_at, trace_header) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        e.requestId(),
        e.function(),
        e.qualifier(),
        e.payload(),
        e.received().toEpochMilli(),
        e.attempts(),
        e.throttles(),
        e.due().toEpochMilli(),
        e.traceHeader());
  }

  @Override
  public List<Event> claim(String claimant, int max, Duration lease) {
    long now = clock.millis();
    Claim claim = new Claim(claimant, Instant.ofEpochMilli(now + lease.toMillis()));
    return db.inTransaction(
        () -> {
          List<Event> due =
              db.list(
                  "SELECT "
                      + COLUMNS
                      + " FROM events WHERE due_at <= ? AND "
                      + UNHELD
                      + " ORDER BY due_at, seq LIMIT ?"
                      + db.dialect().claimLock(),
                  SqliteEventQueue::event,
                  now,
                  now,
                  max);
          db.batch(
              "UPDATE events SET claimed_by = ?, claimed_until = ? WHERE seq = ?",
              due.stream()
                  .map(e -> new Object[] {claimant, claim.until().toEpochMilli(), e.seq()})
                  .toList());
          return due.stream().map(e -> withClaim(e, claim)).toList();
        });
  }

  @Override
  public boolean retry(Event event) {
    Claim claim = claimOf(event);
    return db.update(
            "UPDATE events SET claimed_by = NULL, claimed_until = NULL, attempts = ?,"
                + " throttles = ?, due_at = ? WHERE seq = ? AND claimed_by = ? AND claimed_until = ?",
            event.attempts(),
            event.throttles(),
            event.due().toEpochMilli(),
            event.seq(),
            claim.claimant(),
            claim.until().toEpochMilli())
        == 1;
  }

  @Override
  public boolean finish(Event event, boolean succeeded, List<Event> followUps) {
    Claim claim = claimOf(event);
    return db.inTransaction(
        () -> {
          int deleted =
              db.update(
                  "DELETE FROM events WHERE seq = ? AND claimed_by = ? AND claimed_until = ?",
                  event.seq(),
                  claim.claimant(),
                  claim.until().toEpochMilli());
          if (deleted == 0) {
            return false;
          }
          followUps.forEach(this::insert);
          db.update(
              db.dialect()
                  .upsert(
                      "outcomes",
                      List.of("function"),
                      List.of("function", "succeeded", "failed"),
                      "succeeded = succeeded + excluded.succeeded,"
                          + " failed = failed + excluded.failed"),
              event.function(),
              succeeded ? 1 : 0,
              succeeded ? 0 : 1);
          return true;
        });
  }

  @Override
  public int releaseAllClaims() {
    return db.update(
        "UPDATE events SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by IS NOT NULL");
  }

  @Override
  public Optional<Instant> nextDue() {
    return db.first(
        "SELECT min("
            + db.dialect().greatest("due_at", "coalesce(claimed_until, 0)")
            + ") FROM events",
        rs -> {
          long due = rs.getLong(1);
          return rs.wasNull() ? null : Instant.ofEpochMilli(due);
        });
  }

  @Override
  public List<Depth> depths() {
    long now = clock.millis();
    return db.list(
        "SELECT function, sum(CASE WHEN "
            + UNHELD
            + " THEN 1 ELSE 0 END), sum(CASE WHEN "
            + UNHELD
            + " THEN 0 ELSE 1 END), min(received_at) FROM events GROUP BY function ORDER BY function",
        rs ->
            new Depth(
                rs.getString(1), rs.getLong(2), rs.getLong(3), Instant.ofEpochMilli(rs.getLong(4))),
        now,
        now);
  }

  @Override
  public Counts counts(String function) {
    long now = clock.millis();
    return db.inTransaction(
        () -> {
          Depth depth =
              depths().stream()
                  .filter(d -> d.function().equals(function))
                  .findFirst()
                  .orElse(new Depth(function, 0, 0, Instant.EPOCH));
          long[] outcomes =
              db.first(
                      "SELECT succeeded, failed FROM outcomes WHERE function = ?",
                      rs -> new long[] {rs.getLong(1), rs.getLong(2)},
                      function)
                  .orElse(new long[2]);
          return new Counts(depth.waiting(), depth.inFlight(), outcomes[0], outcomes[1]);
        });
  }

  @Override
  public int dropFunction(String function) {
    return db.update(
        "DELETE FROM events WHERE function = ? AND " + UNHELD, function, clock.millis());
  }

  @Override
  public void check() {
    SqliteDatabase.check(db);
  }

  @Override
  public void close() {
    db.close();
  }

  private static Claim claimOf(Event event) {
    return event
        .claim()
        .orElseThrow(
            () -> new IllegalArgumentException("event " + event.seq() + " is not claimed"));
  }

  private static Event withClaim(Event e, Claim claim) {
    return new Event(
        e.seq(),
        e.requestId(),
        e.function(),
        e.qualifier(),
        e.payload(),
        e.received(),
        e.attempts(),
        e.throttles(),
        e.due(),
        e.traceHeader(),
        Optional.of(claim));
  }

  private static Event event(ResultSet rs) throws SQLException {
    String claimant = rs.getString(11);
    Optional<Claim> claim =
        claimant == null
            ? Optional.empty()
            : Optional.of(new Claim(claimant, Instant.ofEpochMilli(rs.getLong(12))));
    return new Event(
        rs.getLong(1),
        rs.getString(2),
        rs.getString(3),
        rs.getString(4),
        rs.getBytes(5),
        Instant.ofEpochMilli(rs.getLong(6)),
        rs.getInt(7),
        rs.getInt(8),
        Instant.ofEpochMilli(rs.getLong(9)),
        Optional.ofNullable(rs.getString(10)),
        claim);
  }
}
