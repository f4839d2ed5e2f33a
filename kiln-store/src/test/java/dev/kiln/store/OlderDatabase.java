package dev.kiln.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import org.flywaydb.core.Flyway;

/** A SQLite file as an older Kiln left it: migrated only up to a version, with rows of its time. */
final class OlderDatabase {

  private OlderDatabase() {}

  /**
   * A new database file migrated with {@code classpath:db/<store>} up to {@code version}, then
   * given {@code rows} (SQL statements in that version's schema).
   */
  static Path at(String store, String version, String... rows) throws Exception {
    Path file = Files.createTempDirectory("kiln-" + store + "-v" + version + "-").resolve("old.db");
    String url = "jdbc:sqlite:" + file.toAbsolutePath();
    Flyway.configure()
        .dataSource(url, null, null)
        .locations("classpath:db/" + store)
        .target(version)
        .loggers("slf4j")
        .load()
        .migrate();
    try (Connection c = DriverManager.getConnection(url);
        Statement st = c.createStatement()) {
      for (String row : rows) {
        st.executeUpdate(row);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("rows of version " + version + ": " + e.getMessage(), e);
    }
    return file;
  }
}
