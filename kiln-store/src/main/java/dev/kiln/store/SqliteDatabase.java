package dev.kiln.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
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
