package dev.kiln.invoke;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.model.Account;
import dev.kiln.model.EventInvokeConfig;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import dev.kiln.store.EventQueue;
import dev.kiln.store.EventQueue.Event;
import io.micrometer.core.instrument.Tags;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers asynchronous events: takes due events from the durable {@link EventQueue}, invokes the
 * function through the same {@link Invoker} as synchronous calls (sharing its concurrency), and
 * records each event's outcome.
 *
 * <p>As on Lambda: a function error or timeout is a failed attempt, retried after 1 minute and then
 * 2 minutes (the base is configurable), up to the function's {@code MaximumRetryAttempts}; an
 * attempt refused for want of concurrency (429) is not an attempt, and is retried with exponential
 * backoff from 1 second up to 5 minutes, for as long as the event is younger than its {@code
 * MaximumEventAgeInSeconds}. The request id stays the same across attempts: it is the idempotency
 * key. A success goes to the {@code OnSuccess} destination, a final failure to {@code OnFailure}
 * or, without one, to the function's dead-letter function; both as new events, stored in the same
 * transaction that deletes the finished one. Delivery is at least once: an event whose invocation
 * was running when Kiln crashed runs again after the restart.
 *
 * <p>Threads, all given to it by its {@link Builder}: one loop thread, made by the {@link
 * ThreadFactory} it was given when {@link #start} is called, claims due events and hands each to
 * the worker {@link Executor} it was given, at most {@code workers} at a time (the semaphore {@code
 * free}); between claims it sleeps on the monitor {@code wakeUp}, which {@link #wake} notifies when
 * an event arrives. The defaults are the builder's: a platform daemon thread named {@code
 * async-dispatcher} for the loop, and {@code workers} platform daemon threads named {@code
 * async-worker}. The events themselves are guarded by the queue's transactions, not by anything
 * here, so that a second dispatcher (another node) can share the queue.
 *
 * <p>The dispatcher claims events under a name of its own ({@link #claimant}) and a lease of {@link
 * #CLAIM_LEASE}, longer than any invocation may run, so a claim outlives its attempt; should this
 * node die, the leases run out and the events are claimed again (by this node, released at its
 * restart; by another, when there are others).
 */
public final class AsyncDispatcher implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(AsyncDispatcher.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  static final Duration MAX_THROTTLE_BACKOFF = Duration.ofMinutes(5);

  /**
   * How long a claim on an event lasts: Lambda's longest timeout (15 minutes) and a minute, so an
   * attempt always ends (and acknowledges its claim) while the claim is still its own.
   */
  static final Duration CLAIM_LEASE = Duration.ofMinutes(16);

  /** What the dispatcher needs from the rest of Kiln; a test can put a fake in its place. */
  interface Target {
    InvocationResult invoke(Event event);

    EventInvokeConfig config(String function, String qualifier);

    Optional<String> deadLetter(String function, String qualifier);

    String functionArn(String function, String qualifier);

    /** The function a destination or dead-letter ARN names. */
    FunctionRef function(String arn);
  }

  private final EventQueue queue;
  private final KilnMetrics metrics;
  private final Target target;
  private final InstantSource clock;
  private final Duration retryBase;
  private final Semaphore free;
  private final Executor pool;
  private final ThreadFactory loopThread;
  private final Object wakeUp = new Object();

  /** The name this dispatcher's claims go by, unique to it. */
  private final String claimant = "dispatcher-" + UUID.randomUUID();

  private volatile boolean closed;
  private Thread loop;

  AsyncDispatcher(
      EventQueue queue,
      Target target,
      InstantSource clock,
      Duration retryBase,
      int workers,
      Executor pool,
      ThreadFactory loopThread,
      KilnMetrics metrics) {
    this.loopThread = loopThread;
    this.metrics = metrics;
    this.queue = queue;
    this.target = target;
    this.clock = clock;
    this.retryBase = retryBase;
    this.free = new Semaphore(workers);
    this.pool = pool;
  }

  /**
   * The dispatcher of a running server: events run through {@code invocations}, their settings come
   * from {@code configs}. By default on the system's clock, with a retry base of one minute, 16
   * workers, in-memory metrics, and threads of the builder's.
   */
  public static Builder builder(
      EventQueue queue, EventInvokeConfigs configs, Account account, Invocations invocations) {
    return new Builder(queue, configs, account, invocations);
  }

  /** See {@link AsyncDispatcher#builder}. */
  public static final class Builder {
    private final EventQueue queue;
    private final EventInvokeConfigs configs;
    private final Account account;
    private final Invocations invocations;
    private InstantSource clock = InstantSource.system();
    private Duration retryBase = Duration.ofMinutes(1);
    private int workers = 16;
    private Executor workerPool;
    private ThreadFactory loopThread;
    private KilnMetrics metrics;

    private Builder(
        EventQueue queue, EventInvokeConfigs configs, Account account, Invocations invocations) {
      this.queue = queue;
      this.configs = configs;
      this.account = account;
      this.invocations = invocations;
    }

    public Builder clock(InstantSource clock) {
      this.clock = clock;
      return this;
    }

    /** How long an event waits after its first failed attempt; twice as long after its second. */
    public Builder retryBase(Duration retryBase) {
      this.retryBase = retryBase;
      return this;
    }

    /** How many attempts run at once at most. */
    public Builder workers(int workers) {
      this.workers = workers;
      return this;
    }

    /**
     * What runs the attempts, up to {@link #workers} at once; shut down with the dispatcher if it
     * is an {@link ExecutorService}. By default {@code workers} platform daemon threads named
     * {@code async-worker}.
     */
    public Builder workerPool(Executor workerPool) {
      this.workerPool = workerPool;
      return this;
    }

    /**
     * What makes the dispatch loop's thread at {@link #start}; by default a platform daemon thread
     * named {@code async-dispatcher}.
     */
    public Builder loopThread(ThreadFactory loopThread) {
      this.loopThread = loopThread;
      return this;
    }

    public Builder metrics(KilnMetrics metrics) {
      this.metrics = metrics;
      return this;
    }

    public AsyncDispatcher build() {
      return new AsyncDispatcher(
          queue,
          target(configs, account, invocations),
          clock,
          retryBase,
          workers,
          workerPool != null
              ? workerPool
              : Executors.newFixedThreadPool(
                  workers, Thread.ofPlatform().daemon().name("async-worker").factory()),
          loopThread != null
              ? loopThread
              : Thread.ofPlatform().daemon().name("async-dispatcher").factory(),
          metrics != null ? metrics : KilnMetrics.inMemory());
    }
  }

  /** The rest of Kiln as a running server's dispatcher sees it. */
  private static Target target(
      EventInvokeConfigs configs, Account account, Invocations invocations) {
    return new Target() {
      @Override
      public InvocationResult invoke(Event e) {
        return invocations.run(
            InvokeRequest.async(queuedFor(e), e.payload(), e.requestId(), e.received())
                .withTraceHeader(e.traceHeader()));
      }

      @Override
      public EventInvokeConfig config(String function, String qualifier) {
        return configs.effective(function, qualifier);
      }

      @Override
      public Optional<String> deadLetter(String function, String qualifier) {
        return configs.deadLetterTarget(function, qualifier);
      }

      @Override
      public String functionArn(String function, String qualifier) {
        return account.functionArn(queuedFor(function, qualifier));
      }

      @Override
      public FunctionRef function(String arn) {
        return FunctionRef.parse(arn, "destination", account);
      }
    };
  }

  /**
   * The function an event was queued for, as the caller named it: a queued event keeps the
   * qualifier it was sent with, and one sent unqualified is stored as {@code $LATEST} and invoked
   * (and its ARN shown) unqualified, as on Lambda.
   */
  static FunctionRef queuedFor(Event e) {
    return queuedFor(e.function(), e.qualifier());
  }

  private static FunctionRef queuedFor(String function, String qualifier) {
    return new FunctionRef(
        function, qualifier.equals(FunctionRef.LATEST) ? Optional.empty() : Optional.of(qualifier));
  }

  /** Counts an event that {@link AsyncInvocations} accepted. */
  void accepted(String function) {
    metrics.asyncReceived(function);
  }

  /** Gauges the queue's depth per function, read at each scrape. */
  public void watchQueue() {
    metrics.sampled(
        "kiln.async.queue.depth",
        "Asynchronous events not yet finished: waiting for an attempt, or in flight",
        () -> {
          Map<Tags, Number> rows = new HashMap<>();
          for (EventQueue.Depth d : queue.depths()) {
            rows.put(Tags.of("function", d.function(), "state", "waiting"), d.waiting());
            rows.put(Tags.of("function", d.function(), "state", "in_flight"), d.inFlight());
          }
          return rows;
        });
  }

  /** Runs the dispatch loop in the background, after re-queuing what a crash left in flight. */
  public void start() {
    int requeued = queue.releaseAllClaims();
    if (requeued > 0) {
      LOG.info("{} asynchronous event(s) in flight at the last stop will run again", requeued);
    }
    loop = loopThread.newThread(this::run);
    loop.start();
  }

  /** Tells the loop an event was enqueued, so it need not wait for its next look. */
  public void wake() {
    synchronized (wakeUp) {
      wakeUp.notifyAll();
    }
  }

  private void run() {
    while (!closed) {
      try {
        int started = dispatchDue();
        if (started == 0) {
          long waitMillis = 1000;
          Optional<Instant> next = queue.nextDue();
          if (next.isPresent()) {
            waitMillis = Math.max(1, Math.min(1000, next.get().toEpochMilli() - clock.millis()));
          }
          if (free.availablePermits() == 0) {
            waitMillis = Math.min(waitMillis, 20);
          }
          synchronized (wakeUp) {
            wakeUp.wait(waitMillis);
          }
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        LOG.error("asynchronous dispatch failed; trying again", e);
        try {
          Thread.sleep(1000);
        } catch (InterruptedException ie) {
          return;
        }
      }
    }
  }

  /**
   * Claims as many due events as there are free workers and hands each to the worker executor;
   * returns how many it started. A caller-runs executor (tests: {@code Runnable::run}) makes this
   * return only when they are done.
   */
  int dispatchDue() {
    int room = free.availablePermits();
    if (room == 0) {
      return 0;
    }
    List<Event> due = queue.claim(claimant, room, CLAIM_LEASE);
    for (Event e : due) {
      free.acquireUninterruptibly();
      pool.execute(
          () -> {
            try {
              process(e);
            } finally {
              free.release();
              wake();
            }
          });
    }
    return due.size();
  }

  /** One attempt at one event, and whatever follows from its result. */
  void process(Event e) {
    Instant now = clock.instant();
    EventInvokeConfig config;
    try {
      config = target.config(e.function(), e.qualifier());
    } catch (LambdaError gone) {
      LOG.info("dropping event {}: {}", e.requestId(), gone.getMessage());
      queue.finish(e, false, List.of());
      return;
    }
    if (Duration.between(e.received(), now).getSeconds() > config.maxEventAgeSeconds()) {
      fail(e, config, "EventAgeExceeded", Optional.empty(), e.attempts());
      return;
    }
    metrics.asyncAttempt(e.function(), Duration.between(e.received(), now));
    InvocationResult result;
    try {
      result = target.invoke(e);
    } catch (LambdaError.Throttled throttled) {
      long backoff =
          Math.min(MAX_THROTTLE_BACKOFF.toMillis(), 1000L << Math.min(e.throttles(), 20));
      queue.retry(e.retried(e.attempts(), e.throttles() + 1, now.plusMillis(backoff)));
      return;
    } catch (LambdaError.NotFound gone) {
      LOG.info("dropping event {}: {}", e.requestId(), gone.getMessage());
      queue.finish(e, false, List.of());
      return;
    } catch (LambdaError error) {
      // Kiln could not run it (shutting down, a start failure): try again shortly, not an attempt
      queue.retry(e.retried(e.attempts(), e.throttles() + 1, now.plusSeconds(1)));
      return;
    }
    int attempts = e.attempts() + 1;
    if (result instanceof InvocationResult.Success) {
      List<Event> followUps = new ArrayList<>();
      config
          .onSuccess()
          .ifPresent(d -> followUps.add(record(d, e, "Success", Optional.of(result), attempts)));
      queue.finish(e, true, followUps);
    } else if (attempts > config.maxRetryAttempts()) {
      fail(e, config, "RetriesExhausted", Optional.of(result), attempts);
    } else {
      // Lambda waits 1 minute before the first retry and 2 before the second
      queue.retry(e.retried(attempts, e.throttles(), now.plus(retryBase.multipliedBy(attempts))));
    }
  }

  private void fail(
      Event e,
      EventInvokeConfig config,
      String condition,
      Optional<InvocationResult> last,
      int attempts) {
    metrics.asyncDropped(e.function(), condition);
    List<Event> followUps = new ArrayList<>();
    if (config.onFailure().isPresent()) {
      followUps.add(record(config.onFailure().get(), e, condition, last, attempts));
      metrics.asyncDeadLettered(e.function(), "on-failure");
    } else {
      target
          .deadLetter(e.function(), e.qualifier())
          .ifPresent(
              dlq -> {
                metrics.asyncDeadLettered(e.function(), "dead-letter-queue");
                FunctionRef to = target.function(dlq);
                followUps.add(
                    Event.accepted(
                        UUID.randomUUID().toString(),
                        to.name(),
                        to.qualifierOrLatest(),
                        e.payload(),
                        clock.instant(),
                        e.traceHeader()));
              });
    }
    queue.finish(e, false, followUps);
  }

  /** The invocation record AWS sends to a destination, as a new event for its function. */
  private Event record(
      String destinationArn,
      Event e,
      String condition,
      Optional<InvocationResult> result,
      int attempts) {
    ObjectNode doc = JSON.createObjectNode();
    doc.put("version", "1.0");
    doc.put("timestamp", clock.instant().toString());
    ObjectNode request = doc.putObject("requestContext");
    request.put("requestId", e.requestId());
    // the record names the version qualified, $LATEST included, as AWS's does
    String arn = target.functionArn(e.function(), e.qualifier());
    request.put("functionArn", arn.endsWith(":" + e.qualifier()) ? arn : arn + ":" + e.qualifier());
    request.put("condition", condition);
    request.put("approximateInvokeCount", attempts);
    doc.set("requestPayload", json(e.payload()));
    if (result.isPresent()) {
      ObjectNode response = doc.putObject("responseContext");
      response.put("statusCode", 200);
      response.put("executedVersion", result.get().executedVersion());
      if (result.get() instanceof InvocationResult.FunctionError) {
        response.put("functionError", "Unhandled");
      }
      doc.set("responsePayload", json(result.get().payload()));
    }
    FunctionRef to = target.function(destinationArn);
    return Event.accepted(
        UUID.randomUUID().toString(),
        to.name(),
        to.qualifierOrLatest(),
        doc.toString().getBytes(StandardCharsets.UTF_8),
        clock.instant(),
        e.traceHeader());
  }

  private static JsonNode json(byte[] bytes) {
    try {
      return JSON.readTree(bytes);
    } catch (java.io.IOException ex) {
      return JSON.getNodeFactory().textNode(new String(bytes, StandardCharsets.UTF_8));
    }
  }

  @Override
  public void close() {
    closed = true;
    wake();
    if (loop != null) {
      loop.interrupt();
    }
    if (pool instanceof ExecutorService threads) {
      threads.shutdownNow();
      try {
        threads.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
