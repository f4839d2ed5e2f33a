package dev.kiln.runtimeapi;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Supplier;

/**
 * One instance's side of the Runtime API: a mailbox holding at most one event.
 *
 * <p>The invoker {@link #submit submits} an event; the runtime's long-polling {@code GET /next}
 * takes it (that moment fixes the deadline and completes {@link Submission#deadline}); the
 * runtime's {@code POST .../response} or {@code .../error} completes {@link Submission#answer}; its
 * next {@code GET /next} completes {@link Submission#runtimeDone}: the invocation is over (the
 * runtime may print after answering, and that is still the invocation's). An {@code /init/error}
 * before any event is kept and answers the first submission. Closing the channel releases a runtime
 * blocked in {@code /next} (with 410); the instance closes it only once its runtime has stopped, so
 * that a graceful stop reaches the runtime as SIGTERM, not as a 410.
 *
 * <p>A channel is bound to an address that only its own instance should use, and to the set of
 * process ids of that instance, which the server checks callers against.
 *
 * <p>The instance's extensions (Extensions API 2020-01-01) share the channel: init is over only
 * when the runtime and every extension have asked for their next event, an event the runtime takes
 * goes to the extensions registered for {@code INVOKE} too, and the instance is free again once
 * they are all back in next (see {@link Extensions}).
 */
public final class RuntimeChannel implements AutoCloseable {

  /**
   * An event on its way through the runtime: taken ({@code handoff}), answered ({@code answer}),
   * and over ({@code runtimeDone}: the runtime asked for its next event, so whatever it printed
   * after answering belongs to this invocation, as on Lambda; completes with the time on Kiln's
   * monotonic clock, or when the channel closes).
   */
  public record Submission(
      RuntimeEvent event,
      CompletableFuture<Handoff> handoff,
      CompletableFuture<RuntimeAnswer> answer,
      CompletableFuture<Long> runtimeDone) {

    Submission(RuntimeEvent event) {
      this(event, new CompletableFuture<>(), new CompletableFuture<>(), new CompletableFuture<>());
    }
  }

  /**
   * The moment the runtime took the event: its deadline (epoch milliseconds, as the runtime is
   * told) and when it happened on Kiln's monotonic clock, where the invocation's duration starts.
   */
  public record Handoff(long deadlineEpochMillis, long atNanos) {}

  private static final Submission CLOSED = new Submission(null);

  private final String instanceId;
  private final String address;
  private final Supplier<Set<Long>> pids;
  private final String peerAddress;
  private final RuntimeApiServer server;
  private final LinkedBlockingQueue<Submission> mailbox = new LinkedBlockingQueue<>(1);
  private final Set<Integer> verifiedPorts = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private volatile Submission current;

  /** The last event the runtime took, until it asks for the next one. */
  private volatile Submission lastTaken;

  private volatile RuntimeAnswer.InitError initError;
  private final CompletableFuture<RuntimeAnswer.InitError> initFailure = new CompletableFuture<>();
  private volatile boolean closed;
  private final CompletableFuture<Long> firstPoll = new CompletableFuture<>();
  private final CompletableFuture<Void> closedSignal = new CompletableFuture<>();
  private final CompletableFuture<RuntimeAnswer.InitError> extensionFailure =
      new CompletableFuture<>();
  private volatile Extensions extensions = new Extensions(Set.of());
  private volatile FunctionInfo functionInfo;

  /** What an extension is told about the function when it registers. */
  public record FunctionInfo(
      String functionName, String functionVersion, String handler, String accountId) {}

  RuntimeChannel(
      String instanceId, String address, Supplier<Set<Long>> pids, RuntimeApiServer server) {
    this(instanceId, address, pids, null, server);
  }

  /**
   * @param pids the instance's processes, to check callers against; null when the instance has a
   *     network of its own
   * @param peerAddress the instance's own address, the only one its calls may come from; null when
   *     it shares the host's network
   */
  RuntimeChannel(
      String instanceId,
      String address,
      Supplier<Set<Long>> pids,
      String peerAddress,
      RuntimeApiServer server) {
    this.instanceId = instanceId;
    this.address = address;
    this.pids = pids;
    this.peerAddress = peerAddress;
    this.server = server;
    watchReadiness();
  }

  /** Init is over when the runtime and every registered extension have called next. */
  private void watchReadiness() {
    Extensions current = extensions;
    current.ready().thenRun(() -> firstPoll.complete(server.ticker().read()));
  }

  /**
   * Sets up the instance's extensions, before it starts: the external ones that were started (their
   * file names) and what they are told when they register.
   */
  public void expectExtensions(Set<String> external, FunctionInfo info) {
    this.functionInfo = info;
    this.extensions = new Extensions(external);
    watchReadiness();
  }

  /** Completes when every external extension has registered: the runtime may start. */
  public CompletableFuture<Void> extensionsRegistered() {
    return extensions.allRegistered();
  }

  /**
   * Completes when every extension is done with the last event (back in next): the instance may
   * take another.
   */
  public CompletableFuture<Void> extensionsIdle() {
    return extensions.idle();
  }

  /** Whether some extension asked for {@code SHUTDOWN}. */
  public boolean extensionsWantShutdown() {
    return extensions.wantShutdown();
  }

  /**
   * Sends {@code SHUTDOWN} to the extensions that asked for it; completes when they are done.
   *
   * @param reason {@code spindown}, {@code timeout} or {@code failure}
   */
  public CompletableFuture<Void> shutdownExtensions(String reason, long deadlineEpochMillis) {
    return extensions.shutdown(reason, deadlineEpochMillis);
  }

  /** Completes when an extension reports {@code init/error} or {@code exit/error}. */
  public CompletableFuture<RuntimeAnswer.InitError> extensionFailure() {
    return extensionFailure;
  }

  Extensions extensions() {
    return extensions;
  }

  Optional<FunctionInfo> functionInfo() {
    return Optional.ofNullable(functionInfo);
  }

  /** An extension failed: whatever the instance was doing fails with its error. */
  void extensionFailed(RuntimeAnswer.InitError error) {
    initFailed(error);
    extensionFailure.complete(error);
  }

  /** The instance's own address when it has a network of its own, which identifies its calls. */
  Optional<String> peerAddress() {
    return Optional.ofNullable(peerAddress);
  }

  public String instanceId() {
    return instanceId;
  }

  /** The value of {@code AWS_LAMBDA_RUNTIME_API} for this instance: {@code host:port}. */
  public String runtimeApiAddress() {
    return address + ":" + server.port();
  }

  /**
   * Completes, with the time on Kiln's monotonic clock, when the runtime first asks for an event:
   * its initialisation is over.
   */
  public CompletableFuture<Long> firstPoll() {
    return firstPoll;
  }

  /**
   * Completes when the runtime reports that it could not initialise ({@code /init/error}), before
   * or instead of its first request for an event.
   */
  public CompletableFuture<RuntimeAnswer.InitError> initFailure() {
    return initFailure;
  }

  /** Offers the instance its next event. One at a time: the previous one must be answered. */
  public Submission submit(RuntimeEvent event) {
    Submission submission = new Submission(event);
    RuntimeAnswer.InitError failed = initError;
    if (failed != null) {
      submission.answer().complete(failed);
      return submission;
    }
    if (closed || !mailbox.offer(submission)) {
      throw new IllegalStateException("instance " + instanceId + " is not ready for an event");
    }
    return submission;
  }

  /** Forgets the current event (answered, timed out or abandoned); late answers are refused. */
  public void finish(Submission submission) {
    mailbox.remove(submission);
    if (current == submission) {
      current = null;
    }
  }

  @Override
  public void close() {
    closed = true;
    mailbox.clear();
    mailbox.offer(CLOSED);
    closedSignal.complete(null);
    Submission last = lastTaken;
    if (last != null) {
      last.runtimeDone().complete(server.ticker().read());
    }
    extensions.close();
    server.unregister(this);
  }

  String address() {
    return address;
  }

  Set<Long> pids() {
    return pids.get();
  }

  Set<Integer> verifiedPorts() {
    return verifiedPorts;
  }

  /** Blocks the runtime's {@code GET /next} until there is an event; empty once closed. */
  Optional<Submission> take() throws InterruptedException {
    // asking for the next event ends the runtime's work on the last one
    Submission last = lastTaken;
    if (last != null) {
      lastTaken = null;
      last.runtimeDone().complete(server.ticker().read());
    }
    if (!firstPoll.isDone()) {
      extensions.runtimePolled();
      // no event before every extension is through its init too
      try {
        CompletableFuture.anyOf(firstPoll, closedSignal).get();
      } catch (java.util.concurrent.ExecutionException e) {
        throw new IllegalStateException(e);
      }
    }
    if (closed) {
      return Optional.empty();
    }
    Submission next = mailbox.take();
    if (next == CLOSED) {
      mailbox.offer(CLOSED);
      return Optional.empty();
    }
    current = next;
    lastTaken = next;
    return Optional.of(next);
  }

  Optional<Submission> current(String requestId) {
    Submission s = current;
    return s != null && s.event().requestId().equals(requestId) ? Optional.of(s) : Optional.empty();
  }

  void initFailed(RuntimeAnswer.InitError error) {
    initError = error;
    initFailure.complete(error);
    Submission waiting = mailbox.poll();
    if (waiting != null && waiting != CLOSED) {
      waiting.answer().complete(error);
    }
    Submission taken = current;
    if (taken != null) {
      taken.answer().complete(error);
    }
  }
}
