package dev.kiln.testing;

import dev.kiln.sandbox.ExitStatus;
import dev.kiln.sandbox.Sandbox;
import dev.kiln.sandbox.SandboxDriver;
import dev.kiln.sandbox.SandboxSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A sandbox driver whose instances are threads of the test's own JVM, not processes: each one is a
 * Lambda runtime in miniature that speaks the Runtime API over HTTP to the address its environment
 * gives it ({@code AWS_LAMBDA_RUNTIME_API}), exactly as a real runtime does, and answers each event
 * with the {@link Handler} the test supplies. So everything between the invoker and the runtime
 * (channels, hand-offs, deadlines, the pool's bookkeeping) runs for real, in milliseconds, with
 * nothing spawned.
 *
 * <p>A handler scripts what a function does with an event: answer it, fail it ({@link
 * Reply#error}), never answer ({@link Reply#hang}), or take the whole instance down ({@link
 * Reply#exit}). {@link #initDelay} makes initialisation slow, {@link #initError} makes it fail. A
 * test may also end an instance from outside ({@link FakeSandbox#exit}), as a crash while idle.
 *
 * <p>The contract is the real drivers': {@link Sandbox#onExit} completes once, with the status the
 * instance ended with ({@code signal: killed} after {@link Sandbox#kill}, {@code signal:
 * terminated} after {@link Sandbox#terminate}); the instance's connections to the Runtime API close
 * when it ends, as a dead process's sockets do; {@link Sandbox#pids} is this JVM's pid while the
 * instance lives (the Runtime API checks a caller's socket against it) and empty after; a sandbox
 * started {@link SandboxSpec#heldAtStart held} waits for {@link Sandbox#releaseStart}; a frozen one
 * takes no further event until thawed; {@link Sandbox#removeFiles} deletes the instance's directory
 * once it has ended. It has no network isolation and no spares.
 *
 * <p>Thread safety: every field a test reads is volatile or a concurrent list; each instance's life
 * is the one thread that runs it, and its end is decided by one compare-and-set on its exit future.
 */
public final class FakeSandboxDriver implements SandboxDriver {

  /** What a fake function does with one event. Runs on the instance's own thread. */
  @FunctionalInterface
  public interface Handler {
    Reply handle(Event event) throws Exception;
  }

  /**
   * One event as the runtime received it from {@code GET /next}.
   *
   * @param instance the sandbox running it, to print to its log or read its environment
   */
  public record Event(
      String requestId,
      byte[] payload,
      long deadlineEpochMillis,
      String invokedArn,
      FakeSandbox instance) {

    public String payloadText() {
      return new String(payload, StandardCharsets.UTF_8);
    }
  }

  /** What the runtime does once the handler returns. */
  public sealed interface Reply {

    /** Posts {@code body} to {@code /response}. */
    record Answer(byte[] body) implements Reply {}

    /** Posts Lambda's error document to {@code /error}, with the error type in its header. */
    record Error(String errorType, String errorMessage) implements Reply {}

    /** Never answers: the instance stays busy until it is killed. */
    record Hang() implements Reply {}

    /** The instance's main process exits with {@code status}, without answering. */
    record Exit(ExitStatus status) implements Reply {}

    static Reply answer(String json) {
      return new Answer(json.getBytes(StandardCharsets.UTF_8));
    }

    static Reply error(String errorType, String errorMessage) {
      return new Error(errorType, errorMessage);
    }

    static Reply hang() {
      return new Hang();
    }

    /** Exits with exit status {@code code} ({@code Runtime exited with error: exit status N}). */
    static Reply exit(int code) {
      return new Exit(new ExitStatus(code, 0, false));
    }
  }

  private final Handler handler;
  private volatile Duration initDelay = Duration.ZERO;
  private volatile Optional<String> initError = Optional.empty();
  private volatile Duration startReturnDelay = Duration.ZERO;
  private final List<FakeSandbox> started = new CopyOnWriteArrayList<>();

  /** Instances that answer every event with {@code handler}. */
  public FakeSandboxDriver(Handler handler) {
    this.handler = Objects.requireNonNull(handler, "handler");
  }

  /** Instances that answer every event with its own payload. */
  public static FakeSandboxDriver echo() {
    return new FakeSandboxDriver(e -> new Reply.Answer(e.payload()));
  }

  /**
   * Instances started from now on take {@code delay} (real time) to initialise before they ask for
   * their first event.
   */
  public FakeSandboxDriver initDelay(Duration delay) {
    this.initDelay = delay;
    return this;
  }

  /**
   * Instances started from now on fail to initialise: they post {@code errorType} to {@code
   * /init/error} and then exit with status 1, as a runtime whose handler cannot be imported does.
   */
  public FakeSandboxDriver initError(String errorType) {
    this.initError = Optional.of(errorType);
    return this;
  }

  /**
   * {@link #start} returns only {@code delay} after the instance's runtime began to run, as a
   * loaded host may let a process run, and call the Runtime API, before the call that spawned it
   * returns.
   */
  public FakeSandboxDriver startReturnDelay(Duration delay) {
    this.startReturnDelay = delay;
    return this;
  }

  /** Every sandbox this driver started, in order, ended ones included. */
  public List<FakeSandbox> started() {
    return List.copyOf(started);
  }

  /** The sandboxes that have not ended. */
  public List<FakeSandbox> alive() {
    return started.stream().filter(s -> !s.onExit().isDone()).toList();
  }

  @Override
  public Sandbox start(SandboxSpec spec) throws IOException {
    String address = spec.environment().get("AWS_LAMBDA_RUNTIME_API");
    if (address == null) {
      throw new IOException("no AWS_LAMBDA_RUNTIME_API in the instance's environment");
    }
    Files.createDirectories(spec.instanceDir().resolve("tmp"));
    Path output = spec.instanceDir().resolve("output.log");
    Files.write(output, new byte[0], StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    FakeSandbox sandbox = new FakeSandbox(spec, address, output, handler, initDelay, initError);
    started.add(sandbox);
    sandbox.run();
    try {
      Thread.sleep(startReturnDelay);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while starting", e);
    }
    return sandbox;
  }

  @Override
  public String describe() {
    return "fake sandbox: instances are threads of this JVM";
  }

  @Override
  public void reapLeftovers(Path instancesRoot, Consumer<Path> salvage) {
    // nothing of a fake instance outlives the JVM but its directory
    if (!Files.isDirectory(instancesRoot)) {
      return;
    }
    try (Stream<Path> dirs = Files.list(instancesRoot)) {
      for (Path dir : dirs.filter(Files::isDirectory).toList()) {
        salvage.accept(dir);
        deleteTree(dir);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One fake instance: a thread that plays the runtime. */
  public static final class FakeSandbox implements Sandbox {

    /** As the JDK reports a process killed by signal N: 128 + N. */
    static final ExitStatus KILLED = ExitStatus.fromExitValue(128 + 9);

    static final ExitStatus TERMINATED = ExitStatus.fromExitValue(128 + 15);

    private final SandboxSpec spec;
    private final String base;
    private final Path output;
    private final Handler handler;
    private final Duration initDelay;
    private final Optional<String> initError;
    private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    private final CountDownLatch released = new CountDownLatch(1);
    private final HttpClient http;
    private volatile Thread thread;
    private volatile boolean frozen;
    private volatile int events;

    FakeSandbox(
        SandboxSpec spec,
        String address,
        Path output,
        Handler handler,
        Duration initDelay,
        Optional<String> initError) {
      this.spec = spec;
      this.base = "http://" + address + "/2018-06-01/runtime";
      this.output = output;
      this.handler = handler;
      this.initDelay = initDelay;
      this.initError = initError;
      this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      if (!spec.heldAtStart()) {
        released.countDown();
      }
      // the process is gone: so are its connections
      exit.whenComplete((status, e) -> http.shutdownNow());
    }

    private void run() {
      thread = Thread.ofVirtual().name("fake-instance-" + spec.instanceId()).start(this::serve);
    }

    /** The runtime's life: initialise, then take events until the instance ends. */
    private void serve() {
      try {
        released.await();
        Thread.sleep(initDelay);
        if (initError.isPresent()) {
          post(base + "/init/error", initError.get(), errorDocument(initError.get(), "init"));
          exit(new ExitStatus(1, 0, false));
          return;
        }
        while (!exit.isDone()) {
          HttpResponse<byte[]> next =
              http.send(
                  HttpRequest.newBuilder(URI.create(base + "/invocation/next")).GET().build(),
                  HttpResponse.BodyHandlers.ofByteArray());
          if (next.statusCode() != 200) {
            // 410: the instance is being stopped; a real runtime exits
            exit(new ExitStatus(0, 0, false));
            return;
          }
          awaitThaw();
          events++;
          Event event =
              new Event(
                  next.headers().firstValue("Lambda-Runtime-Aws-Request-Id").orElseThrow(),
                  next.body(),
                  next.headers()
                      .firstValueAsLong("Lambda-Runtime-Deadline-Ms")
                      .orElse(Long.MAX_VALUE),
                  next.headers().firstValue("Lambda-Runtime-Invoked-Function-Arn").orElse(""),
                  this);
          answer(event, handler.handle(event));
        }
      } catch (InterruptedException | IOException e) {
        // killed, or the Runtime API went away: the process dies as a runtime would
        exit(KILLED);
      } catch (Exception e) {
        // the handler itself blew up: a runtime reports that as the function's error
        print("handler threw " + e);
        exit(new ExitStatus(1, 0, false));
      }
    }

    private void answer(Event event, Reply reply) throws IOException, InterruptedException {
      String invocation = base + "/invocation/" + event.requestId();
      switch (reply) {
        case Reply.Answer a -> post(invocation + "/response", null, a.body());
        case Reply.Error e ->
            post(
                invocation + "/error",
                e.errorType(),
                errorDocument(e.errorType(), e.errorMessage()));
        case Reply.Hang h -> exit.join();
        case Reply.Exit x -> exit(x.status());
      }
    }

    private void post(String uri, String errorType, byte[] body)
        throws IOException, InterruptedException {
      HttpRequest.Builder request =
          HttpRequest.newBuilder(URI.create(uri))
              .POST(HttpRequest.BodyPublishers.ofByteArray(body));
      if (errorType != null) {
        request.header("Lambda-Runtime-Function-Error-Type", errorType);
      }
      http.send(request.build(), HttpResponse.BodyHandlers.discarding());
    }

    private static byte[] errorDocument(String type, String message) {
      return ("{\"errorType\":\"" + type + "\",\"errorMessage\":\"" + message + "\"}")
          .getBytes(StandardCharsets.UTF_8);
    }

    private synchronized void awaitThaw() throws InterruptedException {
      while (frozen) {
        wait();
      }
    }

    /** What the instance was started with: its id, environment, directories, memory. */
    public SandboxSpec spec() {
      return spec;
    }

    /** How many events its runtime has taken. */
    public int events() {
      return events;
    }

    public boolean frozen() {
      return frozen;
    }

    /** Appends a line to the instance's output, as a function's print does. */
    public void print(String line) {
      try {
        Files.writeString(output, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /**
     * The instance's main process ends with {@code status}, now, whatever it was doing: a crash
     * from outside. Only the first end counts.
     */
    public void exit(ExitStatus status) {
      if (exit.complete(status)) {
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
          t.interrupt();
        }
      }
    }

    @Override
    public long pid() {
      return ProcessHandle.current().pid();
    }

    @Override
    public Path outputFile() {
      return output;
    }

    @Override
    public CompletableFuture<ExitStatus> onExit() {
      return exit;
    }

    @Override
    public Set<Long> pids() {
      return exit.isDone() ? Set.of() : Set.of(ProcessHandle.current().pid());
    }

    @Override
    public long maxMemoryUsedBytes() {
      return 0;
    }

    @Override
    public void removeFiles() {
      exit.thenRun(() -> deleteTree(spec.instanceDir()));
    }

    @Override
    public synchronized boolean freeze(boolean frozen) {
      this.frozen = frozen;
      notifyAll();
      return true;
    }

    @Override
    public Optional<Path> tmpOnHost() {
      return Optional.of(spec.instanceDir().resolve("tmp"));
    }

    @Override
    public void releaseStart() {
      released.countDown();
    }

    @Override
    public void kill() {
      exit(KILLED);
    }

    @Override
    public void terminate(Duration grace) {
      // a runtime that handles SIGTERM by exiting at once
      exit(TERMINATED);
    }

    @Override
    public String toString() {
      return "fake instance " + spec.instanceId();
    }
  }
}
