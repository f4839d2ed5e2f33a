package dev.kiln.server;

import dev.kiln.model.Account;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * How a Kiln server is set up; checked once when the server starts, then fixed.
 *
 * @param port 0 picks a free port (tests)
 * @param keepAlive how long an idle instance stays warm
 * @param shutdownGrace how long running invocations may take to finish when Kiln stops
 * @param interpreters runtime identifier to interpreter path, overriding the host's defaults
 */
public record ServerSettings(
    String bind,
    int port,
    Path dataDir,
    Account account,
    Duration keepAlive,
    Duration shutdownGrace,
    Map<String, String> interpreters) {

  public static final int DEFAULT_PORT = 9000;
  public static final Duration DEFAULT_KEEP_ALIVE = Duration.ofMinutes(5);
  public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(10);

  public ServerSettings {
    interpreters = Map.copyOf(interpreters);
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("--port must be between 0 and 65535, got " + port);
    }
    if (keepAlive.isNegative() || keepAlive.isZero()) {
      throw new IllegalArgumentException("--keep-alive must be positive, got " + keepAlive);
    }
  }

  public static ServerSettings defaults(Path dataDir) {
    return new ServerSettings(
        "127.0.0.1",
        DEFAULT_PORT,
        dataDir,
        Account.DEFAULT,
        DEFAULT_KEEP_ALIVE,
        DEFAULT_SHUTDOWN_GRACE,
        Map.of());
  }

  public ServerSettings withPort(int newPort) {
    return new ServerSettings(
        bind, newPort, dataDir, account, keepAlive, shutdownGrace, interpreters);
  }

  public ServerSettings withKeepAlive(Duration newKeepAlive) {
    return new ServerSettings(
        bind, port, dataDir, account, newKeepAlive, shutdownGrace, interpreters);
  }
}
