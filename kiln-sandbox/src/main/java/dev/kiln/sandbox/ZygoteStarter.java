package dev.kiln.sandbox;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts Python instances by forking them from a zygote: a Python process per interpreter that has
 * already imported what Kiln's bootstrap imports and compiled the bootstrap, so an instance skips
 * the interpreter's start and those imports (the program is {@code zygote.py}, shipped beside
 * {@code bootstrap.py}; its docstring says what the child does, step by step).
 *
 * <p>The model. A zygote runs as root, a child of Kiln (it dies with Kiln), listening on a unix
 * socket in the driver's state directory. One connection is one instance: Kiln writes the
 * instance's spec as one JSON line (output file, cgroups, network namespace, the root's mounts, the
 * uid, environment, argv) and reads back two lines, the instance's pid on the host at once and its
 * exit value when it ends. The zygote itself never reads a spec (its child does), so nothing of one
 * instance is in the memory the next one is forked from. The instance is built with the same
 * isolation as bubblewrap's: the same {@link LinuxSandboxDriver.RootMount} list, the same
 * namespaces, uid, capabilities and cgroups (joined before anything of the function runs).
 *
 * <p>A zygote that dies (killed, crashed) takes its running instances with it (their parent-death
 * signal, as bubblewrap's {@code --die-with-parent} ties instances to Kiln): their connections end
 * without an exit line, which reads as death by SIGKILL. It is replaced at once, logged, and
 * counted in {@link #restarts}.
 *
 * <p>Locks: {@link #zygotes} is a concurrent map, a zygote being made under its key's compute; the
 * counters are atomic. A start holds no lock while it talks to the zygote.
 */
final class ZygoteStarter {

  private static final Logger LOG = LoggerFactory.getLogger(ZygoteStarter.class);

  /** The interpreter's argument Kiln's Python runtimes start with: no site-packages. */
  static final String NO_SITE = "-S";

  private final Path stateDir;
  private final Map<String, Zygote> zygotes = new ConcurrentHashMap<>();
  private final AtomicLong restarts = new AtomicLong();
  private final AtomicInteger made = new AtomicInteger();
  private volatile boolean closed;

  ZygoteStarter(Path stateDir) {
    this.stateDir = stateDir;
  }

  /**
   * The zygote program to fork {@code spec}'s instance from, when its command is a Python runtime
   * Kiln ships ({@code python3 -S /var/runtime/bootstrap.py}) and nothing holds it at start.
   */
  static Optional<Path> zygoteFor(SandboxSpec spec) {
    List<String> c = spec.command();
    if (spec.heldAtStart()
        || c.size() != 3
        || !c.get(1).equals(NO_SITE)
        || !c.get(2).equals(LinuxSandboxDriver.RUNTIME_DIR.resolve("bootstrap.py").toString())
        || !Path.of(c.get(0)).getFileName().toString().startsWith("python3")) {
      return Optional.empty();
    }
    Path program = spec.runtimeDir().resolve("zygote.py");
    return Files.isRegularFile(program) ? Optional.of(program) : Optional.empty();
  }

  /** Zygotes running now. */
  int running() {
    return (int) zygotes.values().stream().filter(z -> z.process.isAlive()).count();
  }

  /** Zygotes that died and were replaced since the driver opened. */
  long restarts() {
    return restarts.get();
  }

  /** A forked instance: its host pid and its exit value (128 + N for death by signal N). */
  record Forked(long pid, CompletableFuture<Integer> exit) {}

  Forked start(String interpreter, Path program, Path runtimeDir, String specJson)
      throws IOException {
    String key = interpreter + "\0" + runtimeDir;
    Zygote zygote = zygotes.compute(key, (k, z) -> z != null && z.process.isAlive() ? z : null);
    if (zygote == null) {
      try {
        zygote =
            zygotes.computeIfAbsent(
                key,
                k -> {
                  try {
                    return spawn(k, interpreter, program, runtimeDir);
                  } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                  }
                });
      } catch (java.io.UncheckedIOException e) {
        throw e.getCause();
      }
    }
    SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      channel.connect(UnixDomainSocketAddress.of(zygote.socket));
      byte[] line = (specJson + "\n").getBytes(StandardCharsets.UTF_8);
      ByteBuffer buffer = ByteBuffer.wrap(line);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      BufferedReader reader =
          new BufferedReader(
              new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
      String first = reader.readLine();
      if (first == null) {
        throw new IOException("the Python zygote ended before it forked the instance");
      }
      long pid = number(first, "pid");
      CompletableFuture<Integer> exit = new CompletableFuture<>();
      Thread.ofVirtual()
          .name("kiln-zygote-exit-" + pid)
          .start(
              () -> {
                try (channel) {
                  String last = reader.readLine();
                  // no exit line: the zygote died, and its instances with it (SIGKILL)
                  exit.complete(last == null ? 137 : (int) number(last, "exit"));
                } catch (IOException | RuntimeException e) {
                  exit.complete(137);
                }
              });
      return new Forked(pid, exit);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  private static long number(String line, String field) throws IOException {
    var m = java.util.regex.Pattern.compile("\"" + field + "\":\\s*(-?\\d+)").matcher(line);
    if (!m.find()) {
      throw new IOException("unexpected answer from the Python zygote: " + line);
    }
    return Long.parseLong(m.group(1));
  }

  private Zygote spawn(String key, String interpreter, Path program, Path runtimeDir)
      throws IOException {
    int n = made.incrementAndGet();
    Path socket = stateDir.resolve("zygote-" + n + ".sock");
    Path log = stateDir.resolve("zygote-" + n + ".log");
    ProcessBuilder builder =
        new ProcessBuilder(
            interpreter,
            NO_SITE,
            program.toString(),
            socket.toString(),
            runtimeDir.resolve("bootstrap.py").toString());
    builder.environment().clear();
    builder.redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Process process = ProcessSpawner.start(builder);
    String ready;
    try (var out =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      ready = out.readLine();
    }
    if (!"ready".equals(ready)) {
      process.destroyForcibly();
      String why = Files.exists(log) ? Files.readString(log).strip() : "";
      throw new IOException("the Python zygote did not start: " + why);
    }
    Zygote zygote = new Zygote(process, socket);
    LOG.info("Python zygote {} ready for {} (pid {})", n, interpreter, process.pid());
    process
        .onExit()
        .thenRun(
            () -> {
              zygotes.remove(key, zygote);
              try {
                Files.deleteIfExists(socket);
              } catch (IOException e) {
                // a stale socket is replaced by the next zygote's bind
              }
              if (closed) {
                return;
              }
              restarts.incrementAndGet();
              LOG.warn(
                  "the Python zygote for {} (pid {}) died with exit value {}; starting another",
                  interpreter,
                  process.pid(),
                  process.exitValue());
              try {
                zygotes.computeIfAbsent(
                    key,
                    k -> {
                      try {
                        return spawn(k, interpreter, program, runtimeDir);
                      } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                      }
                    });
              } catch (RuntimeException e) {
                LOG.warn("could not replace the Python zygote now (the next start tries): {}", e);
              }
            });
    return zygote;
  }

  void close() {
    closed = true;
    zygotes.values().forEach(z -> z.process.destroyForcibly());
    zygotes.clear();
  }

  private record Zygote(Process process, Path socket) {}

  /** {@code value} as a JSON string. */
  static String json(String value) {
    if (value == null) {
      return "null";
    }
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < value.length(); i++) {
      char ch = value.charAt(i);
      switch (ch) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        default -> {
          if (ch < 0x20) {
            b.append(String.format("\\u%04x", (int) ch));
          } else {
            b.append(ch);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
