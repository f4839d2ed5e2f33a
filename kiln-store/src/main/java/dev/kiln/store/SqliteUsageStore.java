package dev.kiln.store;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The embedded usage store: {@code usage.db}, one row per function and hour, added to with an
 * upsert. The connection is guarded by its {@link Jdbc}'s monitor.
 */
public final class SqliteUsageStore implements UsageStore {

  private static final List<String> COLUMNS =
      List.of(
          "function",
          "hour",
          "requests",
          "mb_ms",
          "provisioned_duration_mb_ms",
          "provisioned_mb_ms",
          "storage_mb_ms");

  private final Jdbc db;

  private SqliteUsageStore(Jdbc db) {
    this.db = db;
  }

  public static SqliteUsageStore open(Path file) {
    return new SqliteUsageStore(SqliteDatabase.open(file, "db/usage", "usage store"));
  }

  @Override
  public void add(List<Increment> increments) {
    String addedUp =
        String.join(
            ", ",
            COLUMNS.subList(2, COLUMNS.size()).stream()
                .map(c -> c + " = " + c + " + excluded." + c)
                .toList());
    db.batch(
        db.dialect().upsert("usage_hours", List.of("function", "hour"), COLUMNS, addedUp),
        increments.stream()
            .map(
                i ->
                    new Object[] {
                      i.function(),
                      i.hour(),
                      i.requests(),
                      i.mbMs(),
                      i.provisionedDurationMbMs(),
                      i.provisionedMbMs(),
                      i.storageMbMs()
                    })
            .toList());
  }

  @Override
  public List<Usage> usage(long from, long to, Optional<String> function) {
    return db.list(
        "SELECT function, sum(requests), sum(mb_ms), sum(provisioned_duration_mb_ms),"
            + " sum(provisioned_mb_ms), sum(storage_mb_ms) FROM usage_hours WHERE hour >= ? AND"
            + " hour < ? AND (? IS NULL OR function = ?) GROUP BY function ORDER BY function",
        rs ->
            new Usage(
                rs.getString(1),
                rs.getLong(2),
                rs.getLong(3),
                rs.getLong(4),
                rs.getLong(5),
                rs.getLong(6)),
        from,
        to,
        function,
        function);
  }

  @Override
  public void check() {
    SqliteDatabase.check(db);
  }

  @Override
  public void close() {
    db.close();
  }
}
