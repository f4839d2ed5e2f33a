package dev.kiln.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * What Kiln's embedded SQLite stores do alike: open a file in WAL mode with {@code
 * synchronous=FULL} (a commit that returned is on disk), migrated by Flyway, and run work as one
 * transaction on the single connection each store keeps.
 */
final class SqliteDatabase {

  private SqliteDatabase() {}

  /** Work on the connection that may throw {@link SQLException}. */
  interface Work<T> {
    T run() throws SQLException;
  }

  /**
   * Opens (creating and migrating if needed) the database in {@code file}.
   *
   * @param migrations the classpath folder of its Flyway migrations
   * @param what what the database is, for error messages
   */
  static Connection open(Path file, String migrations, String what) {
    SQLiteConfig config = new SQLiteConfig();
    config.setJournalMode(SQLiteConfig.JournalMode.WAL);
    config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
    config.enforceForeignKeys(true);
    config.setBusyTimeout(10_000);
    SQLiteDataSource source = new SQLiteDataSource(config);
    source.setUrl("jdbc:sqlite:" + file.toAbsolutePath());
    Flyway.configure()
        .dataSource(source)
        .locations("classpath:" + migrations)
        .loggers("slf4j")
        .load()
        .migrate();
    try {
      Connection connection = source.getConnection();
      connection.setAutoCommit(false);
      return connection;
    } catch (SQLException e) {
      throw new IllegalStateException("cannot open " + what + " " + file, e);
    }
  }

  /** Sets the parameters of a statement. */
  interface Binder {
    void bind(PreparedStatement st) throws SQLException;
  }

  /** Reads one row of a result. */
  interface Row<T> {
    T map(ResultSet rs) throws SQLException;
  }

  /** Runs a query as one transaction and returns its rows. */
  static <T> List<T> query(Connection db, String sql, Binder binder, Row<T> row, String what) {
    return inTransaction(
        db,
        () -> {
          try (PreparedStatement st = db.prepareStatement(sql)) {
            binder.bind(st);
            List<T> out = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                out.add(row.map(rs));
              }
            }
            return out;
          }
        },
        what);
  }

  /**
   * Reads the database's first page (its schema), which answers at once on a healthy file: what a
   * health check asks of a store. Throws when the file cannot be read.
   */
  static void check(Connection db, String what) {
    query(db, "SELECT 1 FROM sqlite_master LIMIT 1", st -> {}, rs -> 1, what);
  }

  /** Runs {@code work} as one transaction: committed when it returns, rolled back if it throws. */
  static <T> T inTransaction(Connection db, Work<T> work, String what) {
    try {
      T result = work.run();
      db.commit();
      return result;
    } catch (SQLException e) {
      rollback(db);
      throw new IllegalStateException(what + " failure: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      rollback(db);
      throw e;
    }
  }

  private static void rollback(Connection db) {
    try {
      db.rollback();
    } catch (SQLException ignored) {
      // the original failure is the one worth reporting
    }
  }
}
