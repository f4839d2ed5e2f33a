package dev.kiln.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import org.flywaydb.core.Flyway;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * How Kiln's embedded SQLite stores open their files: WAL mode with {@code synchronous=FULL} (a
 * commit that returned is on disk), foreign keys enforced, migrated by Flyway, and worked on
 * through one {@link Jdbc} connection each.
 */
final class SqliteDatabase {

  private SqliteDatabase() {}

  /**
   * Opens (creating and migrating if needed) the database in {@code file}.
   *
   * @param migrations the classpath folder of its Flyway migrations
   * @param what what the database is, for error messages
   */
  static Jdbc open(Path file, String migrations, String what) {
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
      return new Jdbc(connection, SqlDialect.SQLITE, what);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot open " + what + " " + file, e);
    }
  }

  /**
   * Reads the database's first page (its schema), which answers at once on a healthy file: what a
   * health check asks of a store. Throws when the file cannot be read.
   */
  static void check(Jdbc db) {
    db.check("SELECT 1 FROM sqlite_master LIMIT 1");
  }
}
