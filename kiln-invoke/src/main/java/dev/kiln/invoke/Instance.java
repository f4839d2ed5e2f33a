package dev.kiln.invoke;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.model.LambdaError;
import dev.kiln.runtimeapi.ResponseStream;
import dev.kiln.runtimeapi.RuntimeAnswer;
import dev.kiln.runtimeapi.RuntimeApiServer;
import dev.kiln.runtimeapi.RuntimeChannel;
import dev.kiln.runtimeapi.RuntimeEvent;
import dev.kiln.sandbox.ExitStatus;
import dev.kiln.sandbox.Sandbox;
import dev.kiln.time.Ticker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * One execution environment of one {@link FunctionVersion}: a sandboxed runtime process, its
 * Runtime API channel and its log. It runs one invocation at a time, for as long as it stays
 * healthy.
 *
 * <p>Its life is one state machine, kept here and nowhere else:
 *
 * <pre>
 *   STARTING ──handed to a waiting call──▶ BUSY ⇄ IDLE ──reaped / retired / shut down──▶ DEAD
 *       └──initialised, no call waiting──▶ IDLE    BUSY ──timeout, crash, init failure──▶ DEAD
 * </pre>
 *
 * The pool hands a STARTING instance to a waiting call once it is ready, or has failed to
 * initialise (the call then answers with the failure), or is past the init limit (the call waits
 * for it as a cold start may take); its first event carries its init either way.
 *
 * <p>A dead instance never runs again: a timeout or a crash kills its whole process tree, and the
 * pool starts a fresh one for the next event.
 *
 * <p><b>When an invocation ends.</b> The caller is answered when the runtime posts its result, but
 * the invocation is over only when the runtime asks for its next event, as on Lambda: what it
 * prints in between is the invocation's (its log is cut, and {@code END} and {@code REPORT} are
 * written, then), and the instance is given back only then ({@link #settled}). A caller who wants
 * the log's tail waits for that, briefly ({@link #TAIL_WAIT}).
 *
 * <p><b>Stopping.</b> {@link #terminate} is Lambda's graceful stop: the runtime gets SIGTERM while
 * its {@code /next} is still pending, its channel is closed only once its processes are gone, and
 * what it printed on its way out goes to its log stream. {@link #kill} is the other kind.
 *
 * <p><b>Deaths.</b> Each death is written once to Kiln's own log, at the moment the state becomes
 * DEAD: at WARN when the platform failed the function (its runtime exited or was killed, it failed
 * to initialise, an extension failed), at INFO for a timeout (the function's own limit), at DEBUG
 * for the stops Kiln chose (keep-alive, retirement, shutdown). A handler's exception leaves the
 * instance alive and is the function's business, in the function's log only.
 *
 * <p><b>Concurrency.</b> The state is one atomic reference, changed only by compare-and-set, so
 * exactly one caller moves an instance to DEAD. The instance's monitor guards {@code frozen}, so a
 * freeze never lands on an instance that was just claimed and thawed. The rest is written by the
 * one invocation that holds the instance and read through volatile fields.
 *
 * <p><b>Threads.</b> An instance makes none: what it does after an invocation has answered (the
 * write-up once the runtime is back in next, a late timeout, an extension that overran the
 * deadline) runs on the {@code writeUps} executor it is given, the invoker's (see {@link
 * Invoker.Builder#tasks}).
 */
final class Instance {

  private static final Logger LOG = LoggerFactory.getLogger(Instance.class);

  enum State {
    STARTING,
    IDLE,
    BUSY,
    DEAD
  }

  /** How long a runtime may take to initialise before its first event, as on Lambda. */
  static final Duration INIT_LIMIT = Duration.ofSeconds(10);

  /**
   * How long a warm instance's runtime, which was already waiting in {@code GET /next}, is given to
   * take an event before the event can no longer move to another instance should it turn out dead.
   */
  private static final Duration TAKE_WAIT = Duration.ofSeconds(2);

  /** The cause given when Kiln itself stops an instance on its way down. */
  static final String SHUTDOWN = "Kiln is shutting down";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int TAIL_BYTES = 4096;
  private static final Duration TERMINATE_GRACE = Duration.ofMillis(500);

  /** How long extensions have for {@code SHUTDOWN} before the instance is stopped, as on Lambda. */
  static final Duration EXTENSION_SHUTDOWN_LIMIT = Duration.ofSeconds(2);

  /**
   * How long a caller who asked for the log's tail ({@code LogType: Tail}) waits, after the
   * runtime's answer, for the runtime to ask for its next event, which ends the invocation's log.
   */
  static final Duration TAIL_WAIT = Duration.ofSeconds(2);

  /**
   * Where the end of an invocation is written up, once the runtime is back in next (and a late
   * timeout is carried out): the invoker's {@link Invoker.Tasks#writeUps}, passed down through the
   * launcher.
   */
  private final java.util.concurrent.Executor writeUps;

  /**
   * Done when the last invocation is over and written up: its runtime asked for the next event (or
   * died, or ran past its deadline). Until then the instance is not given back.
   */
  private volatile CompletableFuture<Void> wrappedUp = CompletableFuture.completedFuture(null);

  /** The end of the answered invocation whose runtime is not yet back in {@code /next}. */
  private volatile CompletableFuture<End> openEnd;

  /** The stream the open invocation is still writing, ended with a timeout at the deadline. */
  private volatile ResponseStream openStream;

  /** The wall clock: deadlines, as the runtime is told them, and log timestamps. */
  private final InstantSource clock;

  /** The monotonic clock, shared with the Runtime API: durations. */
  private final Ticker ticker;

  private final String id;
  private final FunctionVersion version;
  private final String logStreamName;
  private final Sandbox sandbox;
  private final RuntimeChannel channel;
  private final InstanceLog log;
  private final long startedNanos;
  private final long sandboxReadyNanos;
  private final InvocationTracer tracer;
  private final AtomicReference<State> state = new AtomicReference<>(State.STARTING);
  private volatile Instant idleSince;
  private volatile String deathCause;
  private volatile long lastDeadlineEpochMillis;
  private volatile boolean running;

  /** Whether the instance has been given an event yet; written by the invocation holding it. */
  private volatile boolean served;

  /** The request the instance is running, for the log line of a death during it; else null. */
  private volatile String requestId;

  private final Epilogue epilogue;
  private final FunctionLogs logs;
  private final KilnMetrics metrics;
  private final UsageMeter usage;
  private final boolean provisioned;

  /** The instance's temporary key ({@link InstanceCredentials}); empty without one. */
  private final Optional<InstanceCredentials.Issued> key;

  /**
   * How far into the time it can serve a provisioned instance hands over to its replacement: a
   * fraction of its own, so that instances provisioned together are not all replaced at once.
   */
  private final double handoverFraction =
      0.6 + 0.2 * java.util.concurrent.ThreadLocalRandom.current().nextDouble();

  private final PlatformLog platformLog;

  /** What else happens when the instance stops, once its processes are gone. */
  interface Epilogue {

    Epilogue NONE = (sandbox, graceful) -> {};

    /** How long the runtime may take to exit after SIGTERM before it is killed. */
    default Duration terminateGrace() {
      return TERMINATE_GRACE;
    }

    /** What of the output the runtime printed on its way out goes to its log stream. */
    default String lastWords(String output) {
      return output;
    }

    /**
     * The instance stopped: gracefully (SIGTERM, and its processes have exited, before its files
     * are removed) or not (killed, crashed, or exited by itself).
     */
    void stopped(Sandbox sandbox, boolean graceful);
  }

  Instance(
      String id,
      FunctionVersion version,
      String logStreamName,
      Sandbox sandbox,
      RuntimeChannel channel,
      InstanceLog log,
      long startedNanos,
      long sandboxReadyNanos,
      InvocationTracer tracer,
      Epilogue epilogue,
      FunctionLogs logs,
      KilnMetrics metrics,
      UsageMeter usage,
      boolean provisioned,
      Optional<InstanceCredentials.Issued> key,
      InstantSource clock,
      Ticker ticker,
      java.util.concurrent.Executor writeUps) {
    this.writeUps = writeUps;
    this.clock = clock;
    this.ticker = ticker;
    this.usage = usage;
    this.key = key;
    this.provisioned = provisioned;
    this.platformLog =
        new PlatformLog(
            version.config().logging(),
            version.name(),
            version.version(),
            version.launch().runtimeVersion(),
            "kiln:" + (version.launch().custom() ? "bootstrap" : version.launch().command().get(0)),
            dev.kiln.runtimes.Architectures.runsOn(
                dev.kiln.runtimes.Architectures.requested(version.config().architectures()),
                version.launch().custom()
                    ? InstanceLauncher.customBootstrapOnHost(version)
                    : Optional.empty()));
    this.epilogue = epilogue;
    this.logs = logs;
    this.metrics = metrics;
    this.id = id;
    this.version = version;
    this.logStreamName = logStreamName;
    this.sandbox = sandbox;
    this.channel = channel;
    this.log = log;
    this.startedNanos = startedNanos;
    this.sandboxReadyNanos = sandboxReadyNanos;
    this.tracer = tracer;
    // a runtime that dies while idle must not be handed the next event
    sandbox.onExit().thenAccept(this::exited);
    // one listener for the instance's life ends whichever answered invocation is still open
    sandbox.onExit().thenRunAsync(this::exitedAfterAnswering, writeUps);
    // initialisation runs at full speed, the invocations at the function's share of CPU
    channel.firstPoll().thenRun(sandbox::initialised);
    // an extension that reports an error leaves the instance unusable: a running invocation fails
    // with the error (and the instance with it); otherwise the instance is killed at once, whether
    // idle, still initialising ahead of demand, or waiting for its extensions after an invocation
    channel
        .extensionFailure()
        .thenRun(
            () -> {
              if (!running) {
                kill("an extension reported an error");
              }
            });
  }

  /**
   * Completes when the instance has finished with its last event: at once without extensions,
   * otherwise when each extension is back in next. Extensions that are still busy at the
   * invocation's deadline get the instance killed, as a timeout would.
   */
  CompletableFuture<Void> settled() {
    CompletableFuture<Void> written = wrappedUp;
    return written.isDone() ? extensionsSettled() : written.thenCompose(v -> extensionsSettled());
  }

  private CompletableFuture<Void> extensionsSettled() {
    CompletableFuture<Void> idle = channel.extensionsIdle();
    if (idle.isDone() || state.get() == State.DEAD) {
      return CompletableFuture.completedFuture(null);
    }
    long remaining = Math.max(0, lastDeadlineEpochMillis - clock.millis());
    return idle.copy()
        .orTimeout(remaining, TimeUnit.MILLISECONDS)
        .exceptionallyAsync(
            timedOut -> {
              kill("an extension did not finish before the deadline");
              return null;
            },
            writeUps);
  }

  /** Completes when the runtime has initialised: its first request for an event. */
  CompletableFuture<?> initialised() {
    return channel.firstPoll();
  }

  /**
   * Completes when the instance has come as far as it will before an event: its runtime
   * initialised, reported that it could not, or exited. An instance still STARTING then has failed,
   * and the invocation it is handed to answers with why ({@link #invoke}).
   */
  CompletableFuture<Void> ready() {
    return CompletableFuture.anyOf(channel.firstPoll(), channel.initFailure(), sandbox.onExit())
        .thenApply(x -> null);
  }

  /** Whether the runtime initialised and has not failed since: it can take an event. */
  boolean initialisedAndAlive() {
    return channel.firstPoll().isDone()
        && !channel.initFailure().isDone()
        && state.get() != State.DEAD;
  }

  /** STARTING → IDLE, once its runtime has initialised; false if it died meanwhile. */
  boolean becomeIdle(Instant now) {
    idleSince = now;
    return state.compareAndSet(State.STARTING, State.IDLE);
  }

  /** Completes when the instance's main process has exited. */
  CompletableFuture<ExitStatus> onExit() {
    return sandbox.onExit();
  }

  private void exited(ExitStatus exit) {
    boolean initialised = channel.firstPoll().isDone();
    if (state.compareAndSet(State.IDLE, State.DEAD)
        || state.compareAndSet(State.STARTING, State.DEAD)) {
      deathCause = "Runtime exited while idle";
      logDeath(
          Level.WARN,
          (initialised ? "Runtime exited while idle: " : "Runtime exited before it initialised: ")
              + exit.describe());
      channel.close();
      epilogue.stopped(sandbox, false);
    }
  }

  /** One line in Kiln's own log for the death of this instance, naming what it was and why. */
  private void logDeath(Level level, String cause) {
    String request = requestId;
    LOG.atLevel(level)
        .log(
            "instance {} of function {} version {} {}: {}",
            id,
            version.name(),
            version.version(),
            (level == Level.WARN ? "died" : "stopped")
                + (request == null ? "" : " during request " + request),
            cause);
  }

  String id() {
    return id;
  }

  State state() {
    return state.get();
  }

  Instant idleSince() {
    return idleSince;
  }

  /** When the instance's temporary key ends; empty without one. */
  Optional<Instant> keyExpires() {
    return key.map(InstanceCredentials.Issued::expires);
  }

  /**
   * When a provisioned instance should have its replacement started: between 60 % and 80 % of the
   * time its key lets it serve ({@code reserve} is what must be left of the key when an invocation
   * starts). Empty without a key.
   */
  Optional<Instant> handoverAt(Duration reserve) {
    return key.map(
        k -> {
          Duration serving = Duration.between(k.issued(), k.expires()).minus(reserve);
          return k.issued().plusMillis((long) (serving.toMillis() * handoverFraction));
        });
  }

  String logStreamName() {
    return logStreamName;
  }

  private boolean frozen;

  /**
   * Freezes the instance if it is still idle (it then uses no CPU, as an idle Lambda execution
   * environment does not); under the same lock as {@link #thaw}, so a freeze can never land on an
   * instance that was just claimed and thawed.
   */
  synchronized void freezeIfIdle() {
    if (!frozen && state.get() == State.IDLE) {
      frozen = sandbox.freeze(true);
    }
  }

  /** Thaws the instance if it was frozen; call after {@link #claim}, before the event. */
  synchronized void thaw() {
    if (frozen) {
      sandbox.freeze(false);
      frozen = false;
    }
  }

  synchronized boolean isFrozen() {
    return frozen;
  }

  /** STARTING or IDLE → BUSY; false if the instance died meanwhile. */
  boolean claim() {
    return state.compareAndSet(State.IDLE, State.BUSY)
        || state.compareAndSet(State.STARTING, State.BUSY);
  }

  /** BUSY → IDLE; false if the invocation left the instance dead. */
  boolean release(Instant now) {
    idleSince = now;
    return state.compareAndSet(State.BUSY, State.IDLE);
  }

  /**
   * Kills the process tree; whatever it was doing fails with {@code cause}. A failure of the
   * platform, logged at WARN.
   */
  void kill(String cause) {
    kill(cause, Level.WARN);
  }

  /** Kills the process tree, logging {@code cause} at {@code level} (see the class's essay). */
  void kill(String cause, Level level) {
    if (state.getAndSet(State.DEAD) != State.DEAD) {
      deathCause = cause;
      logDeath(level, cause);
      channel.close();
      sandbox.kill();
      epilogue.stopped(sandbox, false);
    }
  }

  private final java.util.concurrent.atomic.AtomicBoolean filesRemoved =
      new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Frees the instance's files once its processes are gone; its last log has been read. Only the
   * first call does anything.
   */
  void removeFiles() {
    if (!filesRemoved.compareAndSet(false, true)) {
      return;
    }
    // what was recorded last (END and REPORT, the last words) is committed with its offset first:
    // forgotten before that, a Kiln killed now would neither have those lines nor ingest them
    logs.sync();
    // then forgotten, so that a Kiln killed from here on does not ingest the file again
    log.forget();
    logs.forget(id);
    sandbox.removeFiles();
  }

  /**
   * Stops the instance as Lambda does: {@code SHUTDOWN} to the extensions that asked for it, then
   * SIGTERM to the runtime, whose {@code GET /next} stays pending meanwhile (answered only once the
   * processes are gone), so that a runtime's SIGTERM handler runs rather than its reaction to a
   * 410; whatever is left after the grace period is killed. What the runtime printed on its way out
   * goes to its log stream.
   */
  void terminate(String cause) {
    if (state.getAndSet(State.DEAD) != State.DEAD) {
      deathCause = cause;
      logDeath(Level.DEBUG, cause);
      shutDownExtensions();
      sandbox.terminate(epilogue.terminateGrace());
      channel.close();
      keepLastWords();
      epilogue.stopped(sandbox, true);
    }
  }

  /** Records what the instance printed after its last invocation (on SIGTERM, say). */
  private void keepLastWords() {
    CompletableFuture<Void> written = wrappedUp;
    try {
      // a last invocation still being written up takes its own output first
      written.get(1, TimeUnit.SECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // written up or not, the rest is read now
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    InstanceLog.Cut cut = log.cut();
    String output = platformLog.output(epilogue.lastWords(cut.text()));
    if (!output.isEmpty()) {
      // with the offset read to, so that a crash before removeFiles does not ingest it again
      logs.record(
          version.config().logging().logGroup(),
          logStreamName,
          clock.millis(),
          output,
          id,
          cut.end());
    }
  }

  /**
   * Sends {@code SHUTDOWN} to the extensions that asked for it and gives them {@link
   * #EXTENSION_SHUTDOWN_LIMIT} to call next again. Unlike Lambda, which signals the runtime at the
   * same moment, Kiln stops the runtime after the extensions are done: they are the runtime's
   * children, and SIGTERM goes to the whole tree.
   */
  private void shutDownExtensions() {
    if (!channel.extensionsWantShutdown()) {
      return;
    }
    thaw();
    long limit = EXTENSION_SHUTDOWN_LIMIT.toMillis();
    try {
      channel
          .shutdownExtensions("spindown", clock.millis() + limit)
          .copy()
          .get(limit, TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // out of time: the instance is stopped all the same
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Whether an invocation is running in the instance now; false when it is idle, and while its
   * extensions finish with the last event.
   */
  boolean running() {
    return running;
  }

  /** Runs one event to its end: answered, failed, timed out or crashed. */
  InvocationResult invoke(InvokeRequest request, String invokedArn) {
    return invoke(request, invokedArn, false, false).result();
  }

  /**
   * As {@link #invoke(InvokeRequest, String)}, but when {@code mayHandOn} and this warm instance
   * turns out to have died before its runtime took the event, throws {@link NotTaken} instead of
   * failing the invocation, for the caller to run it on another instance.
   */
  InvocationResult invoke(InvokeRequest request, String invokedArn, boolean mayHandOn) {
    return invoke(request, invokedArn, false, mayHandOn).result();
  }

  /**
   * Runs one invocation for a caller that takes the response as a stream: a runtime that streams is
   * answered chunk by chunk as it writes, and a buffered answer comes as one chunk. {@code
   * mayHandOn} as for {@link #invoke(InvokeRequest, String, boolean)}.
   */
  InvocationStream invokeStreaming(InvokeRequest request, String invokedArn, boolean mayHandOn) {
    Ran ran = invoke(request, invokedArn, true, mayHandOn);
    return ran.stream() != null ? ran.stream() : InvocationStream.buffered(ran.result());
  }

  /**
   * The instance, warm and idle as far as the pool knew, had died before its runtime took the
   * event: the function never saw it, so it can run on another instance. An instance's runtime can
   * exit while idle (a timer calling {@code os._exit}, a kill from outside) a moment before Kiln
   * hears of the exit; the next event handed to it would otherwise fail with {@code
   * Runtime.ExitError} for a death it had no part in. Never thrown for the event of a cold start,
   * whose death during init is the invocation's to report, as on Lambda.
   */
  static final class NotTaken extends RuntimeException {
    NotTaken(String why) {
      super(why, null, false, false);
    }
  }

  /** An invocation's answer: a whole result, or (for a streaming caller) a stream. */
  private record Ran(InvocationResult result, InvocationStream stream) {

    static Ran of(InvocationResult result) {
      return new Ran(result, null);
    }
  }

  private Ran invoke(
      InvokeRequest request, String invokedArn, boolean streaming, boolean mayHandOn) {
    running = true;
    String thisRequest = request.requestId().orElseGet(() -> UUID.randomUUID().toString());
    requestId = thisRequest;
    try {
      return run(request, invokedArn, thisRequest, streaming, mayHandOn);
    } finally {
      running = false;
      if (channel.extensionFailure().isDone()) {
        // an extension failed after the runtime had answered: nothing more runs here
        kill("an extension reported an error");
      }
      requestId = null;
    }
  }

  private Ran run(
      InvokeRequest request,
      String invokedArn,
      String requestId,
      boolean streaming,
      boolean mayHandOn) {
    // the first event of an instance started on demand carries its init, as on Lambda, whether
    // its runtime initialised before the event came (it waited in the pool) or is initialising
    // still; a provisioned instance initialised ahead of demand, on nobody's time
    boolean cold = !served && !provisioned;
    served = true;
    long timeoutMillis = version.config().timeout() * 1000L;
    InvocationTracer.Trace trace =
        tracer.begin(
            request.traceHeader(),
            version,
            invokedArn,
            requestId,
            request.queuedSince(),
            cold,
            cold ? startedNanos : ticker.read(),
            clock,
            ticker);
    RuntimeEvent event =
        new RuntimeEvent(
            requestId,
            request.payload(),
            timeoutMillis,
            invokedArn,
            trace.header(),
            request.clientContext(),
            Optional.empty());
    long began = ticker.read();
    RuntimeChannel.Submission submission;
    try {
      submission = channel.submit(event);
    } catch (IllegalStateException e) {
      // the runtime died before it could take the event
      if (mayHandOn && !cold) {
        throw diedUntaken();
      }
      Outcome crash =
          sandbox.onExit().isDone()
              ? crashed(requestId, sandbox.onExit().join())
              : crashed(requestId, "Runtime exited before it took the event");
      String all = finish(requestId, began, ticker.read(), cold, crash, trace);
      return Ran.of(
          result(requestId, crash, request.tailLog() ? Optional.of(tail(all)) : Optional.empty()));
    }
    if (mayHandOn && !cold && awaitTakenUnlessDead(submission)) {
      channel.finish(submission);
      throw diedUntaken();
    }
    Outcome answered = await(submission, requestId, timeoutMillis);
    // a caller that wants the whole answer gets a streamed one whole, within the buffered limit
    Outcome outcome =
        answered.stream != null && !streaming
            ? drain(answered.stream, requestId, timeoutMillis, submission)
            : answered;
    channel.finish(submission);
    lastDeadlineEpochMillis =
        submission.handoff().isDone()
            ? submission.handoff().join().deadlineEpochMillis()
            : clock.millis();
    // the duration runs from the moment the runtime took the event, as Lambda bills it
    long handedOut = submission.handoff().isDone() ? submission.handoff().join().atNanos() : began;
    if (outcome.kind == InvocationKind.FATAL
        || !submission.handoff().isDone()
        || state.get() == State.DEAD) {
      // nothing runs on in the instance: the invocation's log ends here
      String all = finish(requestId, handedOut, ticker.read(), cold, outcome, trace);
      return Ran.of(
          result(
              requestId, outcome, request.tailLog() ? Optional.of(tail(all)) : Optional.empty()));
    }
    if (outcome.stream != null) {
      return new Ran(
          null,
          streamOn(request, requestId, submission, timeoutMillis, handedOut, cold, outcome, trace));
    }
    // answered, but the invocation runs on until the runtime asks for its next event: what it
    // prints meanwhile is this invocation's, and END and REPORT follow it, as on Lambda
    CompletableFuture<End> end = endOf(submission, requestId, timeoutMillis);
    if (request.tailLog()) {
      // the tail must hold what the runtime prints after answering: wait for it, a little
      long wait =
          Math.min(TAIL_WAIT.toMillis(), Math.max(0, lastDeadlineEpochMillis - clock.millis()));
      try {
        end.get(wait, TimeUnit.MILLISECONDS);
      } catch (TimeoutException | ExecutionException e) {
        // still running: the tail has what it printed so far
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (end.isDone()) {
        End e = end.join();
        String all = finish(requestId, handedOut, e.atNanos(), cold, e.outcome(outcome), trace);
        return Ran.of(result(requestId, outcome, Optional.of(tail(all))));
      }
    }
    Optional<String> soFar =
        request.tailLog()
            ? Optional.of(tail(logSoFar(requestId, handedOut, cold)))
            : Optional.empty();
    wrappedUp =
        end.thenAcceptAsync(
                e -> finish(requestId, handedOut, e.atNanos(), cold, e.outcome(outcome), trace),
                writeUps)
            .exceptionally(
                t -> {
                  LOG.warn("could not write up invocation {} of instance {}", requestId, id, t);
                  return null;
                });
    return Ran.of(result(requestId, outcome, soFar));
  }

  /**
   * A streaming answer for a streaming caller: handed over now, while the runtime is still writing.
   * The invocation is over, and written up, once the runtime asks for its next event; a stream
   * still open at the deadline ends with {@code Sandbox.Timedout}.
   */
  private InvocationStream streamOn(
      InvokeRequest request,
      String requestId,
      RuntimeChannel.Submission submission,
      long timeoutMillis,
      long handedOut,
      boolean cold,
      Outcome outcome,
      InvocationTracer.Trace trace) {
    ResponseStream stream = outcome.stream;
    openStream = stream;
    CompletableFuture<Optional<String>> tail = new CompletableFuture<>();
    CompletableFuture<End> end = endOf(submission, requestId, timeoutMillis);
    wrappedUp =
        end.thenAcceptAsync(
                e -> {
                  openStream = null;
                  Outcome how = e.changed().orElseGet(() -> streamed(stream));
                  String all = finish(requestId, handedOut, e.atNanos(), cold, how, trace);
                  tail.complete(request.tailLog() ? Optional.of(tail(all)) : Optional.empty());
                },
                writeUps)
            .exceptionally(
                t -> {
                  LOG.warn("could not write up invocation {} of instance {}", requestId, id, t);
                  tail.complete(Optional.empty());
                  return null;
                });
    return new InvocationStream(requestId, version.version(), stream, tail);
  }

  /** How a finished stream is written up: a success, or the error it ended with. */
  private static Outcome streamed(ResponseStream stream) {
    ResponseStream.End end = stream.end().getNow(null);
    if (end == null || !end.failed()) {
      return new Outcome(InvocationKind.SUCCESS, null, new byte[0], null);
    }
    return new Outcome(InvocationKind.FUNCTION_ERROR, end.errorType().get(), end.errorBody(), null);
  }

  /** A streamed answer read whole, for a caller that wants a buffered one. */
  private Outcome drain(
      ResponseStream stream,
      String requestId,
      long timeoutMillis,
      RuntimeChannel.Submission submission) {
    java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
    long deadline =
        submission.handoff().isDone()
            ? submission.handoff().join().deadlineEpochMillis()
            : clock.millis() + timeoutMillis;
    try {
      while (true) {
        long remaining = Math.max(1, deadline - clock.millis());
        Optional<byte[]> chunk = stream.next(Duration.ofMillis(remaining));
        if (chunk.isEmpty()) {
          break;
        }
        if (all.size() + chunk.get().length > RuntimeApiServer.MAX_RESPONSE_BYTES) {
          stream.cancel();
          return fromAnswer(
              new RuntimeAnswer.ResponseTooLarge(all.size() + chunk.get().length), requestId);
        }
        all.writeBytes(chunk.get());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stream.cancel();
    } catch (IllegalStateException e) {
      stream.cancel();
      kill("timed out after " + seconds(timeoutMillis) + " s", Level.INFO);
      return new Outcome(
          InvocationKind.FATAL,
          "Sandbox.Timedout",
          errorDocument(
              "Sandbox.Timedout",
              "RequestId: " + requestId + " Error: " + timeoutMessage(timeoutMillis)),
          timeoutLogLine(requestId, timeoutMillis));
    }
    ResponseStream.End end = stream.end().join();
    if (end.failed()) {
      return new Outcome(
          InvocationKind.FUNCTION_ERROR, end.errorType().get(), end.errorBody(), null);
    }
    return new Outcome(InvocationKind.SUCCESS, null, all.toByteArray(), null);
  }

  /**
   * When an answered invocation ended, and its outcome if that changed (it ran past its deadline).
   */
  private record End(long atNanos, Optional<Outcome> changed) {

    Outcome outcome(Outcome answered) {
      return changed.orElse(answered);
    }
  }

  /**
   * Completes when the runtime is done with an answered event: it asks for its next one, or exits
   * (the instance is then of no further use), or is still busy at the deadline, when it is killed
   * and the invocation ends as a timeout, as on Lambda.
   */
  private CompletableFuture<End> endOf(
      RuntimeChannel.Submission submission, String requestId, long timeoutMillis) {
    CompletableFuture<End> end = new CompletableFuture<>();
    // (the callbacks hold no payload: one of them may stay registered as long as the instance)
    submission.runtimeDone().thenAccept(at -> end.complete(new End(at, Optional.empty())));
    // a callback per invocation on the instance's exit would pile up for its whole life: one
    // listener (exitedAfterAnswering) ends the open invocation instead, or this check if it is over
    openEnd = end;
    if (sandbox.onExit().isDone()) {
      exitedAfterAnswering();
    }
    long remaining = Math.max(0, lastDeadlineEpochMillis - clock.millis());
    end.copy()
        .orTimeout(remaining, TimeUnit.MILLISECONDS)
        .exceptionallyAsync(
            timedOut -> {
              Outcome late =
                  new Outcome(
                      InvocationKind.FATAL,
                      "Sandbox.Timedout",
                      null,
                      timeoutLogLine(requestId, timeoutMillis));
              if (end.complete(new End(ticker.read(), Optional.of(late)))) {
                ResponseStream open = openStream;
                if (open != null) {
                  open.fail(
                      "Sandbox.Timedout",
                      errorDocument(
                          "Sandbox.Timedout",
                          "RequestId: " + requestId + " Error: " + timeoutMessage(timeoutMillis)));
                }
                kill("timed out after answering", Level.INFO);
              }
              return null;
            },
            writeUps);
    return end;
  }

  /** The runtime exited: an answered invocation still waiting for its next {@code /next} ends. */
  private void exitedAfterAnswering() {
    CompletableFuture<End> end = openEnd;
    if (end != null && end.complete(new End(ticker.read(), Optional.empty()))) {
      kill("Runtime exited after answering");
    }
  }

  /** The invocation's log as far as it goes now, for a tail sent before it ends. */
  private String logSoFar(String requestId, long began, boolean cold) {
    long now = clock.millis();
    long nowNanos = ticker.read();
    StringBuilder all = new StringBuilder();
    if (cold) {
      all.append(platformLog.initStart(now - (nowNanos - startedNanos) / 1_000_000, provisioned));
    }
    all.append(platformLog.start(now - (nowNanos - began) / 1_000_000, requestId));
    all.append(platformLog.output(log.peek()));
    return all.toString();
  }

  private InvocationResult result(String requestId, Outcome outcome, Optional<String> tail) {
    return switch (outcome.kind) {
      case SUCCESS ->
          new InvocationResult.Success(requestId, version.version(), outcome.payload, tail);
      case FUNCTION_ERROR, FATAL ->
          new InvocationResult.FunctionError(
              requestId, version.version(), outcome.errorType, outcome.payload, tail);
    };
  }

  /** The end of an invocation, before it is written up. */
  private record Outcome(
      InvocationKind kind,
      String errorType,
      byte[] payload,
      String logLine,
      ResponseStream stream) {

    Outcome(InvocationKind kind, String errorType, byte[] payload, String logLine) {
      this(kind, errorType, payload, logLine, null);
    }
  }

  private enum InvocationKind {
    SUCCESS,
    FUNCTION_ERROR,
    FATAL
  }

  /** Marks the instance dead for an event its runtime never took, to be run elsewhere. */
  private NotTaken diedUntaken() {
    kill("Runtime exited before it took the event");
    return new NotTaken("the instance died before it took the event");
  }

  /**
   * Waits for a warm instance's runtime to take the event, for as long as it may take to ask for
   * it; true if the runtime's process exited first, with the event untaken.
   */
  private boolean awaitTakenUnlessDead(RuntimeChannel.Submission submission) {
    CompletableFuture<ExitStatus> exit = sandbox.onExit();
    try {
      CompletableFuture.anyOf(submission.handoff(), submission.answer(), exit)
          .get(TAKE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // still not taken: await below treats it as it always did
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return exit.isDone() && !submission.handoff().isDone() && !submission.answer().isDone();
  }

  private Outcome await(
      RuntimeChannel.Submission submission, String requestId, long timeoutMillis) {
    CompletableFuture<ExitStatus> exit = sandbox.onExit();
    try {
      // until the runtime takes the event, it may still be initialising
      long initWaitMillis = INIT_LIMIT.toMillis() + timeoutMillis;
      CompletableFuture.anyOf(submission.handoff(), submission.answer(), exit)
          .get(initWaitMillis, TimeUnit.MILLISECONDS);
      if (!submission.answer().isDone() && submission.handoff().isDone()) {
        long remaining = submission.handoff().join().deadlineEpochMillis() - clock.millis();
        CompletableFuture.anyOf(submission.answer(), exit)
            .get(Math.max(remaining, 0), TimeUnit.MILLISECONDS);
      }
    } catch (TimeoutException e) {
      // handled below: no answer in time
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      // futures here do not fail
    }
    if (submission.answer().isDone()) {
      return fromAnswer(submission.answer().join(), requestId);
    }
    if (SHUTDOWN.equals(deathCause)) {
      throw LambdaError.unavailable(
          "Kiln is shutting down: invocation " + requestId + " was stopped before it finished");
    }
    if (exit.isDone()) {
      return crashed(requestId, exit.join());
    }
    if (deathCause != null) {
      return crashed(requestId, deathCause);
    }
    kill("timed out after " + seconds(timeoutMillis) + " s", Level.INFO);
    return new Outcome(
        InvocationKind.FATAL,
        "Sandbox.Timedout",
        errorDocument(
            "Sandbox.Timedout",
            "RequestId: " + requestId + " Error: " + timeoutMessage(timeoutMillis)),
        timeoutLogLine(requestId, timeoutMillis));
  }

  private static String seconds(long millis) {
    return String.format(Locale.ROOT, "%.2f", millis / 1000.0);
  }

  /** Lambda's words for an invocation that ran out of time. */
  private static String timeoutMessage(long timeoutMillis) {
    return "Task timed out after " + seconds(timeoutMillis) + " seconds";
  }

  /** The line Lambda writes to the function's log when an invocation runs out of time. */
  private String timeoutLogLine(String requestId, long timeoutMillis) {
    return PlatformLog.timestamp(clock.instant())
        + " "
        + requestId
        + " "
        + timeoutMessage(timeoutMillis);
  }

  private Outcome fromAnswer(RuntimeAnswer answer, String requestId) {
    return switch (answer) {
      case RuntimeAnswer.Response r -> new Outcome(InvocationKind.SUCCESS, null, r.body(), null);
      case RuntimeAnswer.Streaming st ->
          new Outcome(InvocationKind.SUCCESS, null, new byte[0], null, st.stream());
      case RuntimeAnswer.FunctionError f ->
          new Outcome(InvocationKind.FUNCTION_ERROR, f.errorType(), f.body(), null);
      case RuntimeAnswer.ResponseTooLarge t ->
          new Outcome(
              InvocationKind.FUNCTION_ERROR,
              "Function.ResponseSizeTooLarge",
              errorDocument(
                  "Function.ResponseSizeTooLarge",
                  "Response payload size exceeded maximum allowed payload size (6291556 bytes)."),
              null);
      case RuntimeAnswer.InitError i -> {
        // a runtime that could not initialise is of no further use
        kill("init error: " + i.errorType());
        yield new Outcome(InvocationKind.FATAL, i.errorType(), i.body(), null);
      }
    };
  }

  private Outcome crashed(String requestId, String why) {
    return crashed(requestId, why, "Runtime.ExitError");
  }

  /**
   * The runtime died: {@code Runtime.ExitError}, or {@code Runtime.OutOfMemory} when the kernel
   * killed it for going over the memory limit, as Lambda tells them apart.
   */
  private Outcome crashed(String requestId, ExitStatus exit) {
    return crashed(
        requestId,
        "Runtime exited with error: " + exit.describe(),
        exit.outOfMemory() ? "Runtime.OutOfMemory" : "Runtime.ExitError");
  }

  private Outcome crashed(String requestId, String why, String errorType) {
    kill(errorType.equals("Runtime.ExitError") ? why : why + " (" + errorType + ")");
    String message = "RequestId: " + requestId + " Error: " + why;
    return new Outcome(
        InvocationKind.FATAL,
        errorType,
        errorDocument(errorType, message),
        message + "\n" + errorType);
  }

  /**
   * Writes the invocation up once it is over (at {@code ended}, on Kiln's monotonic clock): its
   * log, metrics, usage and trace. Returns the log as it was recorded.
   */
  private String finish(
      String requestId,
      long began,
      long ended,
      boolean cold,
      Outcome outcome,
      InvocationTracer.Trace trace) {
    long endedAt = clock.millis() - (ticker.read() - ended) / 1_000_000;
    double durationMs = (ended - began) / 1_000_000.0;
    long billedMs = (long) Math.ceil(durationMs);
    // init output (cold) and the handler's output, as the runtime wrote it
    InstanceLog.Cut cut = log.cut();
    String output = cut.text();
    Optional<Duration> init = Optional.empty();
    if (cold) {
      // a runtime that never asked for an event was initialising all along
      long initEnded = channel.firstPoll().getNow(ended);
      init = Optional.of(Duration.ofNanos(initEnded - startedNanos));
      trace.phase("sandbox", startedNanos, sandboxReadyNanos);
      trace.phase("init", sandboxReadyNanos, initEnded);
      metrics.coldStartPhase("runtime_init", Duration.ofNanos(initEnded - sandboxReadyNanos));
      metrics.coldStartPhase("first_event", Duration.ofNanos(ended - began));
    }
    trace.phase("invoke", began, ended);
    trace.end(
        ended,
        outcome.kind == InvocationKind.SUCCESS
            ? Optional.empty()
            : Optional.of(outcome.errorType == null ? "Runtime" : outcome.errorType));
    usage.record(
        version.name(),
        endedAt,
        billedMs,
        version.config().memorySize(),
        version.config().ephemeralStorageSize(),
        provisioned);
    metrics.invoked(
        version.name(),
        version.version(),
        Duration.ofNanos(ended - began),
        init,
        switch (outcome.kind) {
          case SUCCESS -> Optional.empty();
          case FUNCTION_ERROR -> Optional.of("Function");
          case FATAL -> Optional.of(outcome.errorType == null ? "Runtime" : outcome.errorType);
        },
        provisioned);
    PlatformLog.Report report =
        new PlatformLog.Report(
            requestId,
            durationMs,
            billedMs,
            version.config().memorySize(),
            Math.max(1, sandbox.maxMemoryUsedBytes() / (1024 * 1024)),
            init.map(d -> d.toNanos() / 1_000_000.0),
            switch (outcome.kind) {
              case SUCCESS -> "success";
              case FUNCTION_ERROR -> "error";
              case FATAL -> "Sandbox.Timedout".equals(outcome.errorType) ? "timeout" : "failure";
            },
            Optional.ofNullable(outcome.errorType));
    // each part of the log at the time it happened: init, the start, and the end
    long startedAt = endedAt - (ended - began) / 1_000_000;
    StringBuilder all = new StringBuilder();
    String group = version.config().logging().logGroup();
    if (cold) {
      long initAt = endedAt - (ended - startedNanos) / 1_000_000;
      String initStart = platformLog.initStart(initAt, provisioned);
      logs.record(group, logStreamName, initAt, initStart);
      all.append(initStart);
    }
    String start = platformLog.start(startedAt, requestId);
    logs.record(group, logStreamName, startedAt, start);
    String rest = platformLog.end(endedAt, output, Optional.ofNullable(outcome.logLine), report);
    logs.record(group, logStreamName, endedAt, rest, id, cut.end());
    if (cut.full()) {
      // emptied only once what it held is in the store, or a crash now would lose it
      logs.sync();
      if (log.empty(cut.end())) {
        logs.record(group, logStreamName, endedAt, "", id, 0);
      }
    }
    all.append(start).append(rest);
    return all.toString();
  }

  /** Base64 of the log's last 4 KB, as {@code X-Amz-Log-Result} carries it. */
  static String tail(String log) {
    byte[] bytes = log.getBytes(StandardCharsets.UTF_8);
    int from = Math.max(0, bytes.length - TAIL_BYTES);
    return Base64.getEncoder()
        .encodeToString(java.util.Arrays.copyOfRange(bytes, from, bytes.length));
  }

  static byte[] errorDocument(String type, String message) {
    ObjectNode doc = JSON.createObjectNode().put("errorType", type).put("errorMessage", message);
    return doc.toString().getBytes(StandardCharsets.UTF_8);
  }
}
