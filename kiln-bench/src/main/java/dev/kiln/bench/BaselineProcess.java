package dev.kiln.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A baseline HTTP server in a process of its own, on a free loopback port that it prints as its
 * first line: the floor of one HTTP hop, or a function's handler served by a minimal HTTP loop in
 * its own language (Python's {@code http.server}, Node's {@code http}, the JDK's {@code
 * com.sun.net.httpserver}), on the interpreter Kiln runs the language on. Each runs as a separate
 * process so that, like Kiln's instances, it does not share a runtime with the load generator.
 *
 * <p>The Python and Node loops keep connections alive (HTTP/1.1) and switch Nagle's algorithm off,
 * as Kiln does: otherwise the baseline would measure connection set-up or delayed ACKs instead of
 * the handler. They decode the event's JSON, call the handler and encode its result, which is what
 * a runtime does around a handler.
 */
final class BaselineProcess implements AutoCloseable {

  private static final String PYTHON_LOOP =
      """
      import importlib, json, sys
      from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
      sys.path.insert(0, sys.argv[1])
      module, function = sys.argv[2].rsplit(".", 1)
      handler = getattr(importlib.import_module(module), function)
      class Direct(BaseHTTPRequestHandler):
          protocol_version = "HTTP/1.1"
          disable_nagle_algorithm = True
          def do_POST(self):
              length = int(self.headers.get("Content-Length", 0))
              event = json.loads(self.rfile.read(length) or b"null")
              body = json.dumps(handler(event, None)).encode()
              self.send_response(200)
              self.send_header("Content-Type", "application/json")
              self.send_header("Content-Length", str(len(body)))
              self.end_headers()
              self.wfile.write(body)
          def log_message(self, *args):
              pass
      ThreadingHTTPServer.daemon_threads = True
      server = ThreadingHTTPServer(("127.0.0.1", 0), Direct)
      print(server.server_address[1], flush=True)
      server.serve_forever()
      """;

  private static final String NODE_LOOP =
      """
      const http = require("http");
      const path = require("path");
      const [dir, spec] = process.argv.slice(1);
      const dot = spec.lastIndexOf(".");
      const handler = require(path.join(dir, spec.slice(0, dot)))[spec.slice(dot + 1)];
      const server = http.createServer((req, res) => {
        const chunks = [];
        req.on("data", (c) => chunks.push(c));
        req.on("end", async () => {
          const text = Buffer.concat(chunks).toString();
          const result = await handler(text ? JSON.parse(text) : null, {});
          const body = JSON.stringify(result === undefined ? null : result);
          res.writeHead(200, {
            "Content-Type": "application/json",
            "Content-Length": Buffer.byteLength(body),
          });
          res.end(body);
        });
      });
      server.keepAliveTimeout = 3600000;
      server.on("connection", (socket) => socket.setNoDelay(true));
      server.listen(0, "127.0.0.1", () => console.log(server.address().port));
      """;

  private final Process process;
  private final URI uri;
  private final Path handlerDir;

  private BaselineProcess(Process process, URI uri, Path handlerDir) {
    this.process = process;
    this.uri = uri;
    this.handlerDir = handlerDir;
  }

  /** Baseline (a): one loopback HTTP round trip, answered at once. */
  static BaselineProcess floor() throws IOException {
    return start(
        javaCommand(ProcessHandle.current().info().command().orElse("java"), "floor"), null);
  }

  /** Baseline (b): the language's no-op handler behind a minimal HTTP loop of that language. */
  static BaselineProcess direct(Language language) throws IOException {
    Path dir = language.unpack();
    List<String> command =
        switch (language) {
          case PYTHON ->
              List.of(language.interpreter(), "-c", PYTHON_LOOP, dir.toString(), language.handler);
          case NODE ->
              List.of(language.interpreter(), "-e", NODE_LOOP, dir.toString(), language.handler);
          case JAVA ->
              javaCommand(
                  language.interpreter(), "handler", dir.toString(), Language.JAVA_HANDLER_CLASS);
        };
    return start(command, dir);
  }

  /**
   * The JDK baseline runs with the flags Kiln's java runtimes use (C1 only, serial GC), so that the
   * handler's JVM is tuned the same way on both sides.
   */
  private static List<String> javaCommand(String java, String... args) {
    List<String> command = new ArrayList<>();
    command.add(java);
    command.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto"));
    command.addAll(List.of("-cp", System.getProperty("java.class.path")));
    command.add(BaselineServer.class.getName());
    command.addAll(List.of(args));
    return command;
  }

  private static BaselineProcess start(List<String> command, Path handlerDir) throws IOException {
    Path errors = Files.createTempFile("kiln-bench-baseline-", ".txt");
    Process process =
        new ProcessBuilder(command)
            .redirectError(errors.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream()));
    CompletableFuture<String> firstLine =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return out.readLine();
              } catch (IOException e) {
                return null;
              }
            });
    String port;
    try {
      port = firstLine.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      port = null;
    }
    if (port == null || !port.strip().matches("\\d+")) {
      process.destroyForcibly();
      throw new IllegalStateException(
          "baseline " + command.get(0) + " did not start: " + Files.readString(errors));
    }
    Files.deleteIfExists(errors);
    return new BaselineProcess(
        process, URI.create("http://127.0.0.1:" + port.strip() + "/"), handlerDir);
  }

  URI uri() {
    return uri;
  }

  long pid() {
    return process.pid();
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (handlerDir != null) {
      ScratchFiles.deleteTree(handlerDir);
    }
  }
}
