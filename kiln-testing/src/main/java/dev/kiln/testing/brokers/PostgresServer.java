package dev.kiln.testing.brokers;

import dev.kiln.sandbox.ProcessSpawner;
import dev.kiln.testing.FreePorts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throwaway PostgreSQL server for tests, made of the machine's own PostgreSQL binaries (Debian's
 * {@code postgresql} package, under {@code /usr/lib/postgresql/<version>/bin}; the newest version
 * found is used), with {@code wal_level=logical} so that logical replication can be tested.
 *
 * <p>Model: {@link #start()} runs {@code initdb} into a fresh temporary directory and starts the
 * server on a free port of 127.0.0.1, with its Unix socket in that directory too; {@link #close}
 * stops it and deletes the directory. {@link #stop} and {@link #restart} stop and start the same
 * server on the same port and data, for tests of a database that goes away and comes back.
 *
 * <p>PostgreSQL refuses to run as root. When the tests run as root, the server runs as the {@code
 * postgres} user if the machine has one, else as {@code nobody}, through util-linux's {@code
 * setpriv}; otherwise it runs as the current user.
 *
 * <p>Users: {@link #SUPERUSER} connects from 127.0.0.1 without a password (trust), for setting up
 * databases, publications and users; every other user must give its password (SCRAM), so tests can
 * check a wrong password is refused. Replication connections follow the same two rules.
 *
 * <p>Its commands are started through {@link ProcessSpawner}, as every process of Kiln's is; {@code
 * pg_ctl} detaches the server itself.
 *
 * <p>Not thread-safe: one test class drives one server.
 */
public final class PostgresServer implements AutoCloseable {

  /** The superuser initdb creates, trusted from 127.0.0.1. */
  public static final String SUPERUSER = "kiln";

  private final Path bin;
  private final Path dir;
  private final Path data;
  private final Path socketDir;
  private final Path log;
  private final int port;
  private final List<String> asUser;
  private boolean running;

  private final List<String> settings;

  private PostgresServer(Path bin, Path dir, int port, List<String> asUser, List<String> settings) {
    this.settings = settings;
    this.bin = bin;
    this.dir = dir;
    this.data = dir.resolve("data");
    this.socketDir = dir.resolve("sock");
    this.log = dir.resolve("postgres.log");
    this.port = port;
    this.asUser = asUser;
  }

  /** The directory holding {@code initdb}, {@code pg_ctl} and {@code postgres}, if installed. */
  public static Optional<Path> binaries() {
    Path root = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(root)) {
      try (Stream<Path> versions = Files.list(root)) {
        Optional<Path> newest =
            versions
                .map(v -> v.resolve("bin"))
                .filter(b -> Files.isExecutable(b.resolve("initdb")))
                .filter(b -> Files.isExecutable(b.resolve("pg_ctl")))
                .max(Comparator.comparing(PostgresServer::majorVersion));
        if (newest.isPresent()) {
          return newest;
        }
      } catch (IOException e) {
        // fall through to PATH
      }
    }
    for (String p : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!p.isEmpty() && Files.isExecutable(Path.of(p, "initdb"))) {
        return Optional.of(Path.of(p));
      }
    }
    return Optional.empty();
  }

  private static int majorVersion(Path bin) {
    try {
      return Integer.parseInt(bin.getParent().getFileName().toString());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /**
   * Initializes and starts a server. Takes a few seconds.
   *
   * @throws IllegalStateException when no PostgreSQL binaries are installed
   */
  public static PostgresServer start() throws IOException, InterruptedException {
    return start(new String[0]);
  }

  /**
   * Initializes and starts a server with {@code settings} ({@code name=value}, e.g. {@code
   * wal_level=replica}) over the defaults.
   */
  public static PostgresServer start(String... settings) throws IOException, InterruptedException {
    Path bin =
        binaries()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "no PostgreSQL binaries: install the postgresql package"
                            + " (initdb under /usr/lib/postgresql/<version>/bin)"));
    List<String> asUser = List.of();
    Optional<String> runAs = Optional.empty();
    if ("root".equals(System.getProperty("user.name"))) {
      String user = userExists("postgres") ? "postgres" : "nobody";
      runAs = Optional.of(user);
      asUser =
          List.of(
              "setpriv",
              "--reuid=" + user,
              "--regid=" + primaryGroup(user),
              "--clear-groups",
              "--");
    }
    Path dir = Files.createTempDirectory(Path.of("/tmp"), "kiln-pg-");
    PostgresServer server =
        new PostgresServer(bin, dir, FreePorts.next(), asUser, List.of(settings));
    try {
      Files.createDirectories(server.socketDir);
      if (runAs.isPresent()) {
        chown(dir, runAs.get());
        chown(server.socketDir, runAs.get());
      }
      server.run(
          List.of(
              bin.resolve("initdb").toString(),
              "-D",
              server.data.toString(),
              "-U",
              SUPERUSER,
              "-A",
              "trust",
              "-E",
              "UTF8",
              "--no-locale",
              "--no-sync"),
          120);
      Path hba = server.data.resolve("pg_hba.conf");
      Files.writeString(
          hba,
          String.join(
              "\n",
              "local all all trust",
              "host all " + SUPERUSER + " 127.0.0.1/32 trust",
              "host replication " + SUPERUSER + " 127.0.0.1/32 trust",
              "host all all 127.0.0.1/32 scram-sha-256",
              "host replication all 127.0.0.1/32 scram-sha-256",
              ""),
          StandardCharsets.UTF_8);
      if (runAs.isPresent()) {
        chown(hba, runAs.get());
      }
      server.startServer();
      return server;
    } catch (IOException | InterruptedException | RuntimeException e) {
      server.close();
      throw e;
    }
  }

  public String host() {
    return "127.0.0.1";
  }

  public int port() {
    return port;
  }

  /** A JDBC URL of {@code database} on this server (no user in it). */
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://" + host() + ":" + port + "/" + database;
  }

  /** A {@code postgresql://} URL of {@code database}, as a mapping's POSTGRESQL_URL names it. */
  public String url(String database) {
    return "postgresql://" + host() + ":" + port + "/" + database;
  }

  /** A connection as the superuser to {@code database}. */
  public Connection connect(String database) throws SQLException {
    return DriverManager.getConnection(jdbcUrl(database) + "?user=" + SUPERUSER);
  }

  /** Runs statements as the superuser in {@code database}, each in its own transaction. */
  public void execute(String database, String... statements) throws SQLException {
    try (Connection c = connect(database);
        Statement s = c.createStatement()) {
      for (String sql : statements) {
        s.execute(sql);
      }
    }
  }

  public void createDatabase(String name) throws SQLException {
    execute("postgres", "CREATE DATABASE \"" + name + "\"");
  }

  /** Creates a login user with {@code password}, with the REPLICATION attribute if asked. */
  public void createUser(String name, String password, boolean replication) throws SQLException {
    execute(
        "postgres",
        "CREATE USER \""
            + name
            + "\" WITH LOGIN "
            + (replication ? "REPLICATION " : "")
            + "PASSWORD '"
            + password.replace("'", "''")
            + "'");
  }

  /**
   * Stops the server (fast shutdown: clients are disconnected, but a logical replication client
   * that is connected and not reading holds the shutdown until it confirms what it was sent, or
   * until wal_sender_timeout); {@link #restart} starts it.
   */
  public void stop() throws IOException, InterruptedException {
    if (running) {
      run(
          List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "fast", "stop"),
          60);
      running = false;
    }
  }

  /**
   * Kills the server as a crash would (immediate shutdown: no checkpoint, clients cut off), without
   * waiting for replication clients to confirm what they were sent, as a fast stop does; {@link
   * #restart} recovers it.
   */
  public void crash() throws IOException, InterruptedException {
    if (running) {
      run(
          List.of(
              bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "stop"),
          60);
      running = false;
    }
  }

  /** Starts the stopped server again on the same port, with the same data. */
  public void restart() throws IOException, InterruptedException {
    if (!running) {
      startServer();
    }
  }

  public boolean running() {
    return running;
  }

  /** The server's log so far, for a failing test's message. */
  public String log() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() {
    try {
      stop();
    } catch (IOException | InterruptedException e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
    }
    deleteTree(dir);
  }

  private void startServer() throws IOException, InterruptedException {
    List<String> all =
        new ArrayList<>(
            List.of(
                "-p " + port,
                "-k " + socketDir,
                "-c listen_addresses=" + host(),
                "-c wal_level=logical",
                "-c max_replication_slots=10",
                "-c max_wal_senders=10",
                "-c max_connections=40",
                "-c shared_buffers=16MB",
                "-c fsync=off",
                "-c full_page_writes=off",
                "-c synchronous_commit=off"));
    settings.forEach(setting -> all.add("-c " + setting));
    String options = String.join(" ", all);
    run(
        List.of(
            bin.resolve("pg_ctl").toString(),
            "-D",
            data.toString(),
            "-l",
            log.toString(),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start"),
        90);
    running = true;
  }

  private void run(List<String> command, int timeoutSeconds)
      throws IOException, InterruptedException {
    List<String> full = new ArrayList<>(asUser);
    full.addAll(command);
    Path out = Files.createTempFile("kiln-pg-cmd-", ".log");
    try {
      Process p =
          ProcessSpawner.start(
              new ProcessBuilder(full)
                  .directory(Path.of("/tmp").toFile())
                  .redirectErrorStream(true)
                  .redirectOutput(out.toFile()));
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(
            "timed out after " + timeoutSeconds + " s: " + full + "\n" + Files.readString(out));
      }
      if (p.exitValue() != 0) {
        throw new IOException(
            "failed ("
                + p.exitValue()
                + "): "
                + full
                + "\n"
                + Files.readString(out)
                + "\nserver log:\n"
                + log());
      }
    } finally {
      Files.deleteIfExists(out);
    }
  }

  private static boolean userExists(String user) throws IOException {
    return Files.readAllLines(Path.of("/etc/passwd")).stream()
        .anyMatch(line -> line.startsWith(user + ":"));
  }

  private static String primaryGroup(String user) throws IOException, InterruptedException {
    Process p =
        ProcessSpawner.start(new ProcessBuilder("id", "-gn", user).redirectErrorStream(true));
    String group = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (p.waitFor() != 0 || group.isEmpty()) {
      throw new IOException("cannot find the group of " + user + ": " + group);
    }
    return group;
  }

  private static void chown(Path path, String user) throws IOException {
    UserPrincipalLookupService lookup = FileSystems.getDefault().getUserPrincipalLookupService();
    UserPrincipal owner = lookup.lookupPrincipalByName(user);
    Files.setOwner(path, owner);
    try {
      GroupPrincipal group = lookup.lookupPrincipalByGroupName(primaryGroup(user));
      Files.getFileAttributeView(path, PosixFileAttributeView.class).setGroup(group);
    } catch (IOException | InterruptedException e) {
      // the owner is what PostgreSQL checks
    }
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths
          .sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  // best effort
                }
              });
    } catch (IOException e) {
      // best effort
    }
  }
}
