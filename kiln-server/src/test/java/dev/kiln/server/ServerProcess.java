package dev.kiln.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code kiln server} as a separate operating-system process, started the way a user starts it, so
 * tests can stop it with real signals (SIGTERM, SIGKILL) and start it again on the same data.
 */
final class ServerProcess implements AutoCloseable {

  final Process process;
  final int port;
  final List<String> output = java.util.Collections.synchronizedList(new ArrayList<>());

  private ServerProcess(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static ServerProcess start(Path dataDir, int port, String... extraArgs) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>();
    command.add(java);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(KilnCli.class.getName());
    command.add("server");
    command.add("--port");
    command.add(Integer.toString(port));
    command.add("--data-dir");
    command.add(dataDir.toString());
    command.addAll(List.of(extraArgs));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    ServerProcess server = new ServerProcess(p, port);
    CompletableFuture<Void> ready = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  server.output.add(line);
                  if (line.contains("aws --endpoint-url")) {
                    ready.complete(null);
                  }
                }
              } catch (IOException e) {
                // process gone
              }
              ready.completeExceptionally(
                  new IllegalStateException("kiln server exited: " + server.output));
            });
    ready.get(60, TimeUnit.SECONDS);
    return server;
  }

  URI endpoint() {
    return URI.create("http://127.0.0.1:" + port);
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
