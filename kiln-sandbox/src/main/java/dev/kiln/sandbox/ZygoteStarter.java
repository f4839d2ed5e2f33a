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
 * exit value when it ends; in between it writes {@code initialised} once the instance's runtime has
 * initialised, that is asked for its first event (the zygote makes its spares, instances forked
 * ahead of need, only while none is starting). The zygote itself never reads a spec (the init of
 * the spare it is given to does), so nothing of one instance is in the memory the next one is
 * forked from. The instance is built with the same isolation as bubblewrap's: the same {@link
 * LinuxSandboxDriver.RootMount} list, the same namespaces, uid, capabilities and cgroups (joined
 * before anything of the function runs).
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
  private final AtomicInteger forked = new AtomicInteger();
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
        || spec.environment().keySet().stream().anyMatch(ZygoteStarter::readOnlyAtStart)
        || loaderWouldMiss(spec)
        || c.size() != 3
        || !c.get(1).equals(NO_SITE)
        || !c.get(2).equals(LinuxSandboxDriver.RUNTIME_DIR.resolve("bootstrap.py").toString())
        || !Path.of(c.get(0)).getFileName().toString().startsWith("python3")) {
      return Optional.empty();
    }
    Path program = spec.runtimeDir().resolve("zygote.py");
    return Files.isRegularFile(program) ? Optional.of(program) : Optional.empty();
  }

  /**
   * Whether {@code variable} is read by the dynamic loader or the interpreter only as a process
   * starts, so that an instance forked from a zygote would not honour it: {@code LD_PRELOAD},
   * {@code LD_BIND_NOW} and the rest of {@code LD_*}, and Python's own {@code PYTHON*} settings
   * ({@code PYTHONHASHSEED}, {@code PYTHONWARNINGS}, {@code PYTHONDONTWRITEBYTECODE}, ...). An
   * instance whose environment sets one starts through bubblewrap instead. Two are exceptions:
   * {@code LD_LIBRARY_PATH}, which Kiln always sets, is given to the zygote itself (zygotes are
   * kept per value, see {@link #LOADER_PATH}), and {@code PYTHONPATH} and {@code PYTHONUNBUFFERED},
   * which the forked runtime applies itself.
   */
  static boolean readOnlyAtStart(String variable) {
    if (variable.equals(LOADER_PATH)
        || variable.equals("PYTHONPATH")
        || variable.equals("PYTHONUNBUFFERED")) {
      return false;
    }
    return variable.startsWith("LD_") || variable.startsWith("PYTHON");
  }

  /**
   * The loader's search path: glibc reads it once, as a process starts, so {@code dlopen} in a
   * forked instance (a function's {@code ctypes.CDLL('libfoo.so')} from its {@code lib/}, a C
   * extension's own libraries) searches the zygote's. The paths are those inside the sandbox
   * ({@code /var/task/lib}, {@code /opt/lib}), the same for every function of a runtime unless a
   * function sets its own, so the zygote is started with the instance's value and zygotes are kept
   * per value.
   */
  static final String LOADER_PATH = "LD_LIBRARY_PATH";

  /**
   * Whether a forked instance's loader could miss a library a started one finds. glibc notes, for
   * each directory of {@link #LOADER_PATH}, that it does not exist the first time a search finds it
   * missing, and searches it no more: the zygote's own imports search {@code /var/task/lib}, {@code
   * /opt/lib} and {@code /var/runtime} before any instance's are mounted there. So an instance
   * whose code, layers or runtime directory has shared libraries where the loader path points, or
   * whose loader path names a directory Kiln does not set, starts through bubblewrap, which starts
   * a fresh loader.
   */
  static boolean loaderWouldMiss(SandboxSpec spec) {
    String value = spec.environment().get(LOADER_PATH);
    if (value == null) {
      return false;
    }
    Path task = LinuxSandboxDriver.TASK_ROOT;
    Path runtime = LinuxSandboxDriver.RUNTIME_DIR;
    Path opt = LinuxSandboxDriver.OPT;
    for (String entry : value.split(":")) {
      if (entry.isEmpty() || SYSTEM_LIBRARIES.contains(entry)) {
        continue;
      }
      Path inside = Path.of(entry);
      Optional<Path> host;
      if (inside.equals(task) || inside.equals(task.resolve("lib"))) {
        host = Optional.of(spec.taskRoot().resolve(task.relativize(inside)));
      } else if (inside.equals(runtime) || inside.equals(runtime.resolve("lib"))) {
        host = Optional.of(spec.runtimeDir().resolve(runtime.relativize(inside)));
      } else if (inside.equals(opt.resolve("lib"))) {
        host = spec.layers().map(l -> l.resolve("lib"));
      } else {
        return true; // a directory of the function's own choosing
      }
      if (host.isPresent() && hasSharedLibraries(host.get())) {
        return true;
      }
    }
    return false;
  }

  /** The system's directories, which exist for the zygote as for every instance. */
  private static final java.util.Set<String> SYSTEM_LIBRARIES =
      java.util.Set.of("/usr/local/lib", "/usr/lib", "/lib", "/usr/lib64", "/lib64");

  private static boolean hasSharedLibraries(Path dir) {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (var entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        String name = p.getFileName().toString();
        if ((name.endsWith(".so") || name.contains(".so.")) && !Files.isDirectory(p)) {
          return true;
        }
      }
      return false;
    } catch (IOException e) {
      return true; // cannot tell: the fresh loader is always right
    }
  }

  /** Zygotes running now. */
  int running() {
    return (int) zygotes.values().stream().filter(z -> z.process.isAlive()).count();
  }

  /**
   * Instances forked ahead of need and waiting for their spec (zygote.py, "Spares"): a zygote's
   * children less the instances running from it.
   */
  int spares() {
    long children =
        zygotes.values().stream()
            .filter(z -> z.process.isAlive())
            .mapToLong(z -> z.process.children().count())
            .sum();
    return (int) Math.max(0, children - forked.get());
  }

  /** Zygotes that died and were replaced since the driver opened. */
  long restarts() {
    return restarts.get();
  }

  /**
   * A forked instance: its host pid, its exit value (128 + N for death by signal N), and what tells
   * the zygote that its runtime has initialised (the zygote makes spares only while no instance of
   * its is starting).
   */
  record Forked(long pid, CompletableFuture<Integer> exit, Runnable initialised) {}

  Forked start(
      String interpreter, Path program, Path runtimeDir, String loaderPath, String specJson)
      throws IOException {
    String key = interpreter + "\0" + runtimeDir + "\0" + loaderPath;
    Zygote zygote = zygotes.compute(key, (k, z) -> z != null && z.process.isAlive() ? z : null);
    if (zygote == null) {
      zygote = zygoteUnder(key, interpreter, program, runtimeDir, loaderPath);
    }
    SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      channel.connect(UnixDomainSocketAddress.of(zygote.socket));
      writeLine(channel, specJson);
      BufferedReader reader =
          new BufferedReader(
              new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
      String first = reader.readLine();
      if (first == null) {
        throw new IOException("the Python zygote ended before it forked the instance");
      }
      long pid = number(first, "pid");
      CompletableFuture<Integer> exit = new CompletableFuture<>();
      forked.incrementAndGet();
      exit.whenComplete((code, failure) -> forked.decrementAndGet());
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
      Runnable initialised =
          () -> {
            try {
              writeLine(channel, "initialised");
            } catch (IOException e) {
              // the instance or its zygote is gone already: nothing to tell
            }
          };
      return new Forked(pid, exit, initialised);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /** The zygote's answers and the instance specs, one JSON object per line. */
  static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  private static long number(String line, String field) throws IOException {
    com.fasterxml.jackson.databind.JsonNode value;
    try {
      value = JSON.readTree(line).path(field);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw new IOException("unexpected answer from the Python zygote: " + line, e);
    }
    if (!value.canConvertToLong()) {
      throw new IOException("unexpected answer from the Python zygote: " + line);
    }
    return value.asLong();
  }

  /** Writes {@code text} and a newline, whole, to the zygote's connection. */
  private static void writeLine(SocketChannel channel, String text) throws IOException {
    ByteBuffer buffer = ByteBuffer.wrap((text + "\n").getBytes(StandardCharsets.UTF_8));
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
  }

  /** The zygote under {@code key}, started (under the key's compute) when there is none. */
  private Zygote zygoteUnder(
      String key, String interpreter, Path program, Path runtimeDir, String loaderPath)
      throws IOException {
    try {
      return zygotes.computeIfAbsent(
          key,
          k -> {
            try {
              return spawn(k, interpreter, program, runtimeDir, loaderPath);
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          });
    } catch (java.io.UncheckedIOException e) {
      throw e.getCause();
    }
  }

  private Zygote spawn(
      String key, String interpreter, Path program, Path runtimeDir, String loaderPath)
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
    if (loaderPath != null) {
      builder.environment().put(LOADER_PATH, loaderPath);
    }
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
                zygoteUnder(key, interpreter, program, runtimeDir, loaderPath);
              } catch (IOException | RuntimeException e) {
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
}
