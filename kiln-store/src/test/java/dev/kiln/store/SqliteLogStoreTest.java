package dev.kiln.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * What only the SQLite log store has to show: its migrations keep what older files held. What every
 * log store promises is {@code LogStoreContract}, run against this store in kiln-testing.
 */
class SqliteLogStoreTest {

  @Test
  void upgradingFromVersion1_makesAGroupOfEachGroupOfStreams() throws Exception {
    Path old =
        OlderDatabase.at(
            "logs",
            "1",
            "INSERT INTO log_streams(log_group, name, created, stored_bytes) VALUES"
                + " ('/aws/lambda/f', 'one', 2000, 3), ('/aws/lambda/f', 'two', 1000, 4),"
                + " ('/aws/lambda/g', 'one', 5000, 0)");

    try (SqliteLogStore upgraded = SqliteLogStore.open(old, java.time.InstantSource.system())) {
      assertThat(upgraded.groups(""))
          .containsExactly(
              new LogStore.Group("/aws/lambda/f", 1000, Optional.empty(), 7),
              new LogStore.Group("/aws/lambda/g", 5000, Optional.empty(), 0));
    }
  }
}
