package dev.kiln.esm.postgres;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * A mapping's {@code POSTGRESQL_URL}: {@code postgresql://[user@]host[:port]/database[?sslmode=..]}
 * (also written {@code postgres://} or {@code jdbc:postgresql://}). The URL may name the user but
 * never a password: that comes from the BASIC_AUTH secret, so that the API's answers, which echo
 * the endpoints, never show one. Of the query parameters, only those that choose TLS are taken.
 *
 * <p>Immutable.
 */
record PostgresEndpoint(
    String host, int port, String database, Optional<String> user, Map<String, String> params) {

  static final String FIELD = "SelfManagedEventSource.Endpoints.POSTGRESQL_URL";

  private static final Set<String> PARAMS = Set.of("sslmode", "sslrootcert");
  private static final Set<String> SSL_MODES =
      Set.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full");

  PostgresEndpoint {
    params = Map.copyOf(params);
  }

  /**
   * Parses a URL.
   *
   * @throws IllegalArgumentException with a message naming the field and what is wrong
   */
  static PostgresEndpoint parse(String url) {
    String text = url.trim();
    if (text.startsWith("jdbc:")) {
      text = text.substring("jdbc:".length());
    }
    if (!text.startsWith("postgresql://") && !text.startsWith("postgres://")) {
      throw new IllegalArgumentException(
          FIELD + " must be a postgresql://host[:port]/database URL, got: " + url);
    }
    URI uri;
    try {
      uri = new URI(text);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(FIELD + " is not a valid URL: " + e.getMessage());
    }
    String userInfo = uri.getRawUserInfo();
    Optional<String> user = Optional.empty();
    if (userInfo != null) {
      if (userInfo.contains(":")) {
        throw new IllegalArgumentException(
            FIELD
                + " must not contain a password; give the credentials as a BASIC_AUTH"
                + " SourceAccessConfiguration (a secret with username and password)");
      }
      if (!userInfo.isEmpty()) {
        user = Optional.of(decode(userInfo));
      }
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw new IllegalArgumentException(FIELD + " has no host: " + url);
    }
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    if (path.length() < 2 || path.indexOf('/', 1) >= 0) {
      throw new IllegalArgumentException(
          FIELD + " must name one database as its path (postgresql://host:5432/database)");
    }
    Map<String, String> params = new TreeMap<>();
    if (uri.getRawQuery() != null && !uri.getRawQuery().isEmpty()) {
      for (String pair : uri.getRawQuery().split("&")) {
        int eq = pair.indexOf('=');
        String key = decode(eq < 0 ? pair : pair.substring(0, eq));
        String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
        if (!PARAMS.contains(key)) {
          throw new IllegalArgumentException(
              FIELD
                  + " takes only the parameters sslmode and sslrootcert, not "
                  + key
                  + (key.equalsIgnoreCase("password")
                      ? " (give the password as a BASIC_AUTH SourceAccessConfiguration)"
                      : ""));
        }
        if (key.equals("sslmode") && !SSL_MODES.contains(value)) {
          throw new IllegalArgumentException(
              FIELD
                  + ": sslmode must be one of disable, allow, prefer, require, verify-ca,"
                  + " verify-full");
        }
        params.put(key, value);
      }
    }
    String host = uri.getHost();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1); // an IPv6 literal
    }
    return new PostgresEndpoint(
        host.toLowerCase(Locale.ROOT),
        uri.getPort() < 0 ? 5432 : uri.getPort(),
        decode(path.substring(1)),
        user,
        params);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  /** The URL without user and parameters, for the mapping's source key and ARN. */
  String normalized() {
    return "postgresql://" + hostPort() + "/" + database;
  }

  String hostPort() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  /** The JDBC URL pgjdbc connects to (credentials are given as properties). */
  String jdbcUrl() {
    StringBuilder url = new StringBuilder("jdbc:postgresql://").append(hostPort()).append('/');
    url.append(java.net.URLEncoder.encode(database, StandardCharsets.UTF_8).replace("+", "%20"));
    String sep = "?";
    for (Map.Entry<String, String> p : params.entrySet()) {
      url.append(sep)
          .append(p.getKey())
          .append('=')
          .append(java.net.URLEncoder.encode(p.getValue(), StandardCharsets.UTF_8));
      sep = "&";
    }
    return url.toString();
  }
}
