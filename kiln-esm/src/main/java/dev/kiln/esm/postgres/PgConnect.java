package dev.kiln.esm.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.esm.source.SourceContext;
import dev.kiln.esm.source.SourceUnavailableException;
import dev.kiln.model.EventSourceMapping;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Optional;
import java.util.Properties;
import org.postgresql.PGProperty;

/**
 * How the PostgreSQL source connects: the credentials a mapping names (its BASIC_AUTH secret, read
 * through {@link SourceContext#secret} each time, never kept; or a user named in the URL for a
 * server that trusts it), the connection properties, and the translation of pgjdbc's errors into
 * the {@link SourceUnavailableException} reasons the mapping's StateTransitionReason shows.
 *
 * <p>Stateless and thread-safe.
 */
final class PgConnect {

  static final String BASIC_AUTH = "BASIC_AUTH";
  private static final ObjectMapper JSON = new ObjectMapper();

  private PgConnect() {}

  record Credentials(String user, Optional<String> password) {
    @Override
    public String toString() {
      return "Credentials[user=" + user + "]";
    }
  }

  static Credentials credentials(
      EventSourceMapping mapping, PostgresEndpoint endpoint, SourceContext context)
      throws SourceUnavailableException {
    Optional<EventSourceMapping.SourceAccess> auth =
        mapping.sourceAccess().stream().filter(a -> a.type().equals(BASIC_AUTH)).findFirst();
    if (auth.isEmpty()) {
      return new Credentials(
          endpoint
              .user()
              .orElseThrow(
                  () ->
                      new SourceUnavailableException(
                          "PROBLEM: No credentials: give a BASIC_AUTH SourceAccessConfiguration"
                              + " or a user in the POSTGRESQL_URL.")),
          Optional.empty());
    }
    String uri = auth.get().uri();
    JsonNode secret;
    try {
      secret = JSON.readTree(context.secret(uri));
    } catch (IOException e) {
      throw new SourceUnavailableException(
          "PROBLEM: The BASIC_AUTH secret " + uri + " is not a JSON object: " + e.getMessage());
    }
    String user = secret == null ? "" : secret.path("username").asText("");
    if (user.isEmpty() || !secret.path("password").isTextual()) {
      throw new SourceUnavailableException(
          "PROBLEM: The BASIC_AUTH secret "
              + uri
              + " must be a JSON object with \"username\" and \"password\".");
    }
    return new Credentials(user, Optional.of(secret.path("password").asText()));
  }

  private static Properties properties(Credentials credentials, String applicationName) {
    Properties p = new Properties();
    PGProperty.USER.set(p, credentials.user());
    credentials.password().ifPresent(pw -> PGProperty.PASSWORD.set(p, pw));
    PGProperty.APPLICATION_NAME.set(p, applicationName);
    PGProperty.CONNECT_TIMEOUT.set(p, 10);
    PGProperty.LOGIN_TIMEOUT.set(p, 15);
    PGProperty.TCP_KEEP_ALIVE.set(p, true);
    return p;
  }

  /** An ordinary connection, for catalog queries and slot management. */
  static Connection sql(PostgresEndpoint endpoint, Credentials credentials, String applicationName)
      throws SQLException {
    Properties p = properties(credentials, applicationName);
    PGProperty.SOCKET_TIMEOUT.set(p, 30);
    return DriverManager.getConnection(endpoint.jdbcUrl(), p);
  }

  /**
   * A logical replication connection to the endpoint's database. The session's output settings make
   * pgoutput's text values unambiguous: ISO dates (pgjdbc's default), hex bytea, ISO-8601
   * intervals, and floats with all their digits.
   */
  static Connection replication(
      PostgresEndpoint endpoint, Credentials credentials, String applicationName)
      throws SQLException {
    Properties p = properties(credentials, applicationName);
    PGProperty.REPLICATION.set(p, "database");
    PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
    PGProperty.PREFER_QUERY_MODE.set(p, "simple");
    PGProperty.OPTIONS.set(
        p, "-c bytea_output=hex -c IntervalStyle=iso_8601 -c extra_float_digits=3");
    return DriverManager.getConnection(endpoint.jdbcUrl(), p);
  }

  /** The reason a failure gives the mapping, in AWS's "PROBLEM: ..." style. */
  static SourceUnavailableException unavailable(
      PostgresEndpoint endpoint, Credentials credentials, SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    String where = "PostgreSQL at " + endpoint.hostPort();
    String detail = e.getMessage() == null ? state : e.getMessage();
    String reason;
    if (state.startsWith("08") || networkCause(e)) {
      reason =
          "PROBLEM: Connection error. Please check your event source connection configuration. "
              + where
              + ": "
              + detail;
    } else if (state.equals("28P01") || state.equals("28000")) {
      reason =
          "PROBLEM: Authentication error. "
              + where
              + " refused user '"
              + credentials.user()
              + "': "
              + detail
              + ". Please check the BASIC_AUTH secret and pg_hba.conf (it must allow"
              + " replication connections for the user).";
    } else if (state.equals("3D000")) {
      reason = "PROBLEM: Database '" + endpoint.database() + "' does not exist at " + where + ".";
    } else if (state.equals("42501")) {
      reason =
          "PROBLEM: Permission denied: "
              + detail
              + ". The user '"
              + credentials.user()
              + "' needs the REPLICATION attribute (ALTER ROLE ... REPLICATION).";
    } else if (state.equals("42704") && detail.contains("publication")) {
      reason =
          "PROBLEM: "
              + detail
              + " in database '"
              + endpoint.database()
              + "'. Create it with CREATE PUBLICATION name FOR TABLE ...";
    } else if (state.equals("55006")) {
      reason = "PROBLEM: The replication slot is in use by another connection: " + detail;
    } else if (state.equals("53300") || state.equals("53400")) {
      reason = "PROBLEM: " + where + " has no connection or replication slot free: " + detail;
    } else {
      reason = "PROBLEM: " + where + " failed (SQLSTATE " + state + "): " + detail;
    }
    return new SourceUnavailableException(reason, e);
  }

  private static boolean networkCause(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConnectException
          || t instanceof UnknownHostException
          || t instanceof NoRouteToHostException
          || t instanceof SocketTimeoutException
          || t instanceof java.io.EOFException
          || t instanceof java.net.SocketException) {
        return true;
      }
    }
    return false;
  }

  static void closeQuietly(AutoCloseable c) {
    if (c != null) {
      try {
        c.close();
      } catch (Exception e) {
        // closing what failed
      }
    }
  }

  /** Quotes an identifier for SQL and for pgoutput's publication_names. */
  static String quoteIdentifier(String name) {
    return "\"" + name.replace("\"", "\"\"") + "\"";
  }
}
