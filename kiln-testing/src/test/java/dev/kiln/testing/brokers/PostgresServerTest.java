package dev.kiln.testing.brokers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class PostgresServerTest {

  @Test
  void startsWithLogicalReplicationChecksPasswordsAndRestarts() throws Exception {
    if (PostgresServer.binaries().isEmpty()) {
      if (Boolean.getBoolean("kiln.requireTools")) {
        throw new AssertionError("PostgreSQL binaries are missing: install postgresql");
      }
      Assumptions.abort("no PostgreSQL binaries");
    }
    try (PostgresServer pg = PostgresServer.start()) {
      pg.createDatabase("shop");
      pg.createUser("etl", "s3cret", true);
      try (Connection c = pg.connect("shop");
          ResultSet rs = c.createStatement().executeQuery("SHOW wal_level")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("logical");
      }
      try (Connection c = DriverManager.getConnection(pg.jdbcUrl("shop"), "etl", "s3cret")) {
        assertThat(c.isValid(5)).isTrue();
      }
      assertThatThrownBy(() -> DriverManager.getConnection(pg.jdbcUrl("shop"), "etl", "wrong"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("password authentication failed");

      pg.stop();
      assertThatThrownBy(() -> pg.connect("shop")).isInstanceOf(SQLException.class);
      pg.restart();
      try (Connection c = pg.connect("shop")) {
        assertThat(c.isValid(5)).isTrue();
      }
    }
  }
}
