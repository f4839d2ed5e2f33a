package dev.kiln.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * Metered use, kept per function and hour in {@code usage.db}: requests; billed duration times
 * memory, and the part of it that ran on provisioned instances; provisioned concurrency kept
 * (instances times memory times time); and ephemeral storage above 512 MB times billed duration.
 * All in milliseconds times megabytes, from which GB-seconds follow. Written in batches by the
 * metering writer; read by the usage report.
 */
public final class SqliteUsageStore implements AutoCloseable {

  /** One function's use over a period. */
  public record Usage(
      String function,
      long requests,
      long mbMs,
      long provisionedDurationMbMs,
      long provisionedMbMs,
      long storageMbMs) {

    /** GB-seconds of duration, as AWS bills them: billed seconds times memory in GB (1024 MB). */
    public double gbSeconds() {
      return gbSeconds(mbMs);
    }

    /** The part of {@link #gbSeconds} that ran on provisioned instances. */
    public double provisionedDurationGbSeconds() {
      return gbSeconds(provisionedDurationMbMs);
    }

    /** GB-seconds of provisioned concurrency kept, used or not. */
    public double provisionedGbSeconds() {
      return gbSeconds(provisionedMbMs);
    }

    /** GB-seconds of ephemeral storage above the free 512 MB. */
    public double storageGbSeconds() {
      return gbSeconds(storageMbMs);
    }

    private static double gbSeconds(long mbMs) {
      return mbMs / 1000.0 / 1024.0;
    }
  }

  /** What to add to an hour of one function. */
  public record Increment(
      String function,
      long hour,
      long requests,
      long mbMs,
      long provisionedDurationMbMs,
      long provisionedMbMs,
      long storageMbMs) {}

  private final Connection db;

  private SqliteUsageStore(Connection db) {
    this.db = db;
  }

  public static SqliteUsageStore open(Path file) {
    return new SqliteUsageStore(SqliteDatabase.open(file, "db/usage", "usage store"));
  }

  public synchronized void add(List<Increment> increments) {
    if (increments.isEmpty()) {
      return;
    }
    SqliteDatabase.inTransaction(
        db,
        () -> {
          try (PreparedStatement st =
              db.prepareStatement(
                  "INSERT INTO usage_hours(function, hour, requests, mb_ms,"
                      + " provisioned_duration_mb_ms, provisioned_mb_ms, storage_mb_ms)"
                      + " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(function, hour) DO UPDATE SET"
                      + " requests = requests + excluded.requests, mb_ms = mb_ms + excluded.mb_ms,"
                      + " provisioned_duration_mb_ms = provisioned_duration_mb_ms +"
                      + " excluded.provisioned_duration_mb_ms, provisioned_mb_ms ="
                      + " provisioned_mb_ms + excluded.provisioned_mb_ms, storage_mb_ms ="
                      + " storage_mb_ms + excluded.storage_mb_ms")) {
            for (Increment i : increments) {
              st.setString(1, i.function());
              st.setLong(2, i.hour());
              st.setLong(3, i.requests());
              st.setLong(4, i.mbMs());
              st.setLong(5, i.provisionedDurationMbMs());
              st.setLong(6, i.provisionedMbMs());
              st.setLong(7, i.storageMbMs());
              st.addBatch();
            }
            st.executeBatch();
          }
          return null;
        },
        "usage store");
  }

  /** Use per function over the hours starting in {@code [from, to)}, by function name. */
  public synchronized List<Usage> usage(long from, long to, Optional<String> function) {
    return SqliteDatabase.query(
        db,
        "SELECT function, sum(requests), sum(mb_ms), sum(provisioned_duration_mb_ms),"
            + " sum(provisioned_mb_ms), sum(storage_mb_ms) FROM usage_hours WHERE hour >= ? AND"
            + " hour < ? AND (? IS NULL OR function = ?) GROUP BY function ORDER BY function",
        st -> {
          st.setLong(1, from);
          st.setLong(2, to);
          st.setString(3, function.orElse(null));
          st.setString(4, function.orElse(null));
        },
        rs ->
            new Usage(
                rs.getString(1),
                rs.getLong(2),
                rs.getLong(3),
                rs.getLong(4),
                rs.getLong(5),
                rs.getLong(6)),
        "usage store");
  }

  /** Answers at once when the store can be read; throws when it cannot (a health check). */
  public synchronized void check() {
    SqliteDatabase.check(db, "usage store");
  }

  @Override
  public synchronized void close() {
    try {
      db.close();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
