package dev.kiln.store;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Where the SQL of Kiln's stores differs between databases. The stores write standard SQL and ask
 * their dialect for the few pieces that are not: an insert that updates or skips a row whose key
 * exists, the two-argument minimum and maximum, the length of a text in bytes, and the lock a claim
 * takes on the rows it picks. SQLite is {@link #SQLITE}; a PostgreSQL dialect answers {@code
 * LEAST}, {@code GREATEST}, {@code octet_length} and {@code FOR UPDATE SKIP LOCKED}.
 */
public interface SqlDialect {

  /** SQLite 3.35 or later (upserts since 3.24, {@code RETURNING} since 3.35). */
  SqlDialect SQLITE =
      new SqlDialect() {
        @Override
        public String least(String a, String b) {
          return "min(" + a + ", " + b + ")";
        }

        @Override
        public String greatest(String a, String b) {
          return "max(" + a + ", " + b + ")";
        }

        @Override
        public String byteLength(String text) {
          return "length(CAST(" + text + " AS BLOB))";
        }

        @Override
        public String claimLock() {
          // a SQLite write transaction already excludes every other writer
          return "";
        }
      };

  /**
   * An insert of one row of {@code columns} (bound in that order) that, when a row with the same
   * {@code key} exists, applies {@code updates} to it instead; {@code updates} names the new values
   * as {@code excluded.column}.
   */
  default String upsert(String table, List<String> key, List<String> columns, String updates) {
    return insert(table, columns)
        + " ON CONFLICT("
        + String.join(", ", key)
        + ") DO UPDATE SET "
        + updates;
  }

  /** An upsert that replaces every non-key column with the new row's value. */
  default String upsertReplacing(String table, List<String> key, List<String> columns) {
    return upsert(
        table,
        key,
        columns,
        columns.stream()
            .filter(c -> !key.contains(c))
            .map(c -> c + " = excluded." + c)
            .collect(Collectors.joining(", ")));
  }

  /** An insert that leaves an existing row with the same {@code key} as it is. */
  default String insertIfAbsent(String table, List<String> key, List<String> columns) {
    return insert(table, columns) + " ON CONFLICT(" + String.join(", ", key) + ") DO NOTHING";
  }

  /** The smaller of two values (NULL if either is). */
  String least(String a, String b);

  /** The larger of two values (NULL if either is). */
  String greatest(String a, String b);

  /** The length in bytes of a text's UTF-8 encoding. */
  String byteLength(String text);

  /**
   * What follows a {@code SELECT} of rows to claim so that two claimants never pick the same row
   * and neither waits for the other's.
   */
  String claimLock();

  private static String insert(String table, List<String> columns) {
    return "INSERT INTO "
        + table
        + "("
        + String.join(", ", columns)
        + ") VALUES ("
        + String.join(", ", java.util.Collections.nCopies(columns.size(), "?"))
        + ")";
  }
}
