package dev.kiln.esm.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.esm.source.EventSourceReader;
import dev.kiln.esm.source.SourceContext;
import dev.kiln.esm.source.SourceUnavailableException;
import dev.kiln.model.EventSourceMapping;
import dev.kiln.testing.brokers.PostgresServer;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** A server whose wal_level is not logical is refused with a reason that says how to fix it. */
class PostgresWalLevelTest {

  @Test
  void aServerWithoutLogicalWalIsUnavailableAndLeftUntouched() throws Exception {
    if (PostgresServer.binaries().isEmpty()) {
      if (Boolean.getBoolean("kiln.requireTools")) {
        throw new AssertionError("PostgreSQL binaries are missing: install postgresql");
      }
      Assumptions.abort("no PostgreSQL binaries");
    }
    try (PostgresServer pg = PostgresServer.start("wal_level=replica")) {
      pg.createDatabase("shop");
      pg.execute("shop", "CREATE TABLE t (id int PRIMARY KEY)", "CREATE PUBLICATION p FOR TABLE t");
      PostgresSource source = new PostgresSource();
      EventSourceMapping m =
          source.complete(
              new EventSourceMapping.Builder(
                      UUID.randomUUID().toString(), "postgresql", "f", Instant.now())
                  .topics(List.of("p"))
                  .endpoints(
                      Map.of(
                          "POSTGRESQL_URL",
                          List.of(
                              pg.url("shop")
                                  .replace("://", "://" + PostgresServer.SUPERUSER + "@"))))
                  .startingPosition(Optional.of("LATEST")),
              Set.of(),
              true);
      SourceContext context = dev.kiln.esm.source.TestSourceContext.of("us-east-1");
      try (EventSourceReader reader = source.open(m, context)) {
        assertThatThrownBy(() -> reader.poll(Duration.ofMillis(100), 1))
            .isInstanceOf(SourceUnavailableException.class)
            .hasMessageContaining(
                "has wal_level = replica; logical replication needs wal_level = logical");
      }
      try (var c = pg.connect("shop");
          ResultSet rs =
              c.createStatement().executeQuery("SELECT count(*) FROM pg_replication_slots")) {
        rs.next();
        assertThat(rs.getInt(1)).as("no slot was made").isZero();
      }
    }
  }
}
