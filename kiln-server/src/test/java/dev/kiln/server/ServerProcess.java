package dev.kiln.server;

import dev.kiln.testing.FreePorts;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * {@code kiln server} as a separate operating-system process, started the way a user starts it, so
 * tests can stop it with real signals (SIGTERM, SIGKILL) and start it again on the same data. Its
 * console output goes to a file, which outlives the process and can be read whole after it.
 */
final class ServerProcess implements AutoCloseable {

  final Process process;
  final int port;
  private final Path console;

  final Path dataDir;

  private ServerProcess(Process process, int port, Path console, Path dataDir) {
    this.dataDir = dataDir;
    this.process = process;
    this.port = port;
    this.console = console;
  }

  static int freePort() {
    return FreePorts.next();
  }

  static ServerProcess start(Path dataDir, int port, String... extraArgs) throws Exception {
    return start(List.of(), System.getProperty("java.class.path"), dataDir, port, extraArgs);
  }

  /**
   * {@code kiln server} as a normal user ({@code nobody}), started by a root test through {@code
   * setpriv}: the classes are copied where that user can read them, and the data directory is
   * handed to it.
   */
  static ServerProcess startAsNobody(Path dataDir, int port, String... extraArgs) throws Exception {
    Path copy = dev.kiln.testing.TempDirs.create("kiln-classpath-");
    List<String> entries = new ArrayList<>();
    int n = 0;
    for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
      Path source = Path.of(entry);
      if (!Files.exists(source)) {
        continue;
      }
      Path target = copy.resolve(n++ + (Files.isDirectory(source) ? "" : ".jar"));
      try (var walk = Files.walk(source)) {
        for (Path p : walk.toList()) {
          Files.copy(p, target.resolve(source.relativize(p).toString()));
        }
      }
      entries.add(target.toString());
    }
    Tools.run(List.of("chmod", "-R", "a+rX", copy.toString()), copy, java.util.Map.of());
    Tools.run(
        List.of("chown", "-R", NOBODY + ":" + NOBODY, dataDir.toString()),
        dataDir,
        java.util.Map.of());
    return start(
        List.of(
            "setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups", "--reset-env"),
        String.join(java.io.File.pathSeparator, entries),
        dataDir,
        port,
        extraArgs);
  }

  static final int NOBODY = 65534;

  /** The start of a command line that runs Kiln's CLI on this test's JVM and {@code classpath}. */
  static List<String> kilnCli(String classpath) {
    return List.of(
        ProcessHandle.current().info().command().orElse("java"),
        "-cp",
        classpath,
        KilnCli.class.getName());
  }

  private static ServerProcess start(
      List<String> prefix, String classpath, Path dataDir, int port, String... extraArgs)
      throws Exception {
    List<String> command = new ArrayList<>(prefix);
    command.addAll(kilnCli(classpath));
    command.add("server");
    command.add("--port");
    command.add(Integer.toString(port));
    command.add("--data-dir");
    command.add(dataDir.toString());
    command.addAll(List.of(extraArgs));
    Path console = Files.createTempFile("kiln-console-", ".txt");
    Process p =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(console.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    ServerProcess server = new ServerProcess(p, port, console, dataDir);
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              if (!p.isAlive()) {
                throw new IllegalStateException("kiln server exited: " + server.output());
              }
              return server.output().contains(" lambda list-functions");
            });
    return server;
  }

  URI endpoint() {
    return URI.create("http://127.0.0.1:" + port);
  }

  String output() throws IOException {
    return Files.readString(console);
  }

  @Override
  public void close() throws Exception {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
