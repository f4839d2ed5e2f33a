package dev.kiln.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Optional;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/**
 * What only the SQLite log store has to show: its migrations keep what older files held. What every
 * log store promises is {@code LogStoreContract}, run against this store in kiln-testing.
 */
class SqliteLogStoreTest {

  @Test
  void upgradingFromVersion1_makesAGroupOfEachGroupOfStreams() throws Exception {
    Path old = Files.createTempDirectory("kiln-logs-v1-").resolve("logs.db");
    String url = "jdbc:sqlite:" + old.toAbsolutePath();
    Flyway.configure()
        .dataSource(url, null, null)
        .locations("classpath:db/logs")
        .target("1")
        .loggers("slf4j")
        .load()
        .migrate();
    try (Connection c = DriverManager.getConnection(url);
        Statement st = c.createStatement()) {
      st.executeUpdate(
          "INSERT INTO log_streams(log_group, name, created, stored_bytes) VALUES"
              + " ('/aws/lambda/f', 'one', 2000, 3), ('/aws/lambda/f', 'two', 1000, 4),"
              + " ('/aws/lambda/g', 'one', 5000, 0)");
    }

    try (SqliteLogStore upgraded = SqliteLogStore.open(old, java.time.InstantSource.system())) {
      assertThat(upgraded.groups(""))
          .containsExactly(
              new LogStore.Group("/aws/lambda/f", 1000, Optional.empty(), 7),
              new LogStore.Group("/aws/lambda/g", 5000, Optional.empty(), 0));
    }
  }
}
