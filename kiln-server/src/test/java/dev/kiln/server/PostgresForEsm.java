package dev.kiln.server;

import dev.kiln.testing.brokers.PostgresServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * A PostgreSQL set up as docs/esm-postgresql.md tells a user to: database {@link #DB}, a login user
 * with REPLICATION and a password, and the BASIC_AUTH secret file a mapping names.
 */
record PostgresForEsm(PostgresServer server, String password, String secretUri) {

  static final String DB = "shop";
  static final String USER = "kiln_etl";

  static PostgresForEsm start() {
    String password = "pw-" + Long.toHexString(System.nanoTime()) + "-never-shown";
    try {
      PostgresServer pg = PostgresServer.start();
      pg.createDatabase(DB);
      pg.createUser(USER, password, true);
      Path secret = Files.createTempFile("kiln-pg-secret-", ".json");
      Files.writeString(
          secret, "{\"username\":\"" + USER + "\",\"password\":\"" + password + "\"}");
      return new PostgresForEsm(pg, password, secret.toUri().toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException | SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The mapping's POSTGRESQL_URL. */
  String url() {
    return server.url(DB);
  }

  void execute(String... statements) throws SQLException {
    server.execute(DB, statements);
  }

  /** The replication slot of mapping {@code uuid}, as the documentation names it. */
  static String slotOf(String uuid) {
    return "kiln_" + uuid.replace("-", "");
  }

  boolean slotExists(String slot) throws SQLException {
    try (Connection c = server.connect(DB);
        PreparedStatement s =
            c.prepareStatement("SELECT count(*) FROM pg_replication_slots WHERE slot_name = ?")) {
      s.setString(1, slot);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getInt(1) == 1;
      }
    }
  }
}
