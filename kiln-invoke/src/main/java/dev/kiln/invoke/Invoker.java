package dev.kiln.invoke;

import dev.kiln.model.Account;
import dev.kiln.model.LambdaError;
import dev.kiln.runtimeapi.RuntimeApiServer;
import dev.kiln.sandbox.SandboxDriver;
import dev.kiln.time.Scheduler;
import dev.kiln.time.Ticker;
import io.micrometer.core.instrument.Tags;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs invocations: finds the pool of the function version being invoked, leases an instance from
 * it, runs the event on it and gives it back.
 *
 * <p>This is the hot path, and it is kept free of anything that does not need to be on it: the
 * version arrives resolved (from {@link Functions#resolve}'s memory, not the database), pools are
 * found in a concurrent map, a warm lease is a pop from a stack, and the only waiting is for the
 * runtime itself. Everything else (reaping idle instances, retiring pools of changed functions)
 * happens beside it.
 *
 * <p>Shutdown is orderly: new invocations are refused with 503, running ones get a grace period to
 * finish, and then every instance's process tree is killed, so that nothing Kiln started outlives
 * it.
 *
 * <p>Threads: the invoker makes none of its own. Everything it and its pools and instances run
 * beside an invocation comes in through its {@link Builder}: the {@link Scheduler} that runs the
 * reaper, the {@code background} executor that starts provisioned instances, and the {@code tasks}
 * executor that runs the short tasks (giving an instance back once its runtime is back in next,
 * writing up an invocation's end, stopping instances). The defaults (a reaper thread, a cached pool
 * of daemon threads, a virtual thread per task) are the builder's.
 *
 * <p>The invoker takes no lock of its own: pools sit in a concurrent map (made with {@code
 * computeIfAbsent}, so a version has one pool however many callers arrive at once), the count of
 * invocations in flight is an atomic, and {@code closing} is volatile. Each pool guards its own
 * instances with its own monitor ({@link InstancePool}); the invoker never holds two.
 */
public final class Invoker implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Invoker.class);

  private final InstanceLauncher launcher;
  private final Account account;
  private final KilnMetrics metrics;
  private final UsageMeter usage;
  private final ConcurrencyBudget budget;

  /** Starts provisioned instances, off the invocation path. */
  private final java.util.concurrent.ExecutorService background;

  /** The short tasks: given to every pool and instance. */
  private final Tasks tasks;

  private final InstantSource clock;
  private final Ticker ticker;
  private final Duration keepAlive;
  private final ConcurrentHashMap<String, InstancePool> pools = new ConcurrentHashMap<>();

  /**
   * Retired pools whose busy instances have not all come back yet (an invocation still running, or
   * extensions finishing with one), so that shutdown stops those instances too.
   */
  private final java.util.Set<InstancePool> draining = ConcurrentHashMap.newKeySet();

  private final AtomicInteger inFlight = new AtomicInteger();

  /** Runs {@link #reapIdle}; a test's {@code ManualTime} runs it when the test moves time. */
  private final Scheduler reaper;

  private volatile boolean closing;

  /**
   * An invoker's configuration: what it runs on, and the defaults a test leaves alone (no limits
   * beyond the account's 1,000, no logs, metrics in memory, no usage, no traces, no keys, the
   * system's clocks, a reaper thread, provisioner threads and a virtual thread per short task).
   *
   * @param driver the sandbox instances run in
   * @param runtimeApi the Runtime API server instances talk to
   * @param instancesRoot where instances keep their private directories
   */
  public static Builder builder(
      SandboxDriver driver, RuntimeApiServer runtimeApi, Path instancesRoot) {
    return new Builder(driver, runtimeApi, instancesRoot);
  }

  /** See {@link Invoker#builder}. */
  public static final class Builder {
    private final SandboxDriver driver;
    private final RuntimeApiServer runtimeApi;
    private final Path instancesRoot;
    private Account account = Account.DEFAULT;
    private InstantSource clock = InstantSource.system();
    private Ticker ticker = Ticker.system();
    private Scheduler scheduler;
    private java.util.concurrent.ExecutorService background;
    private Executor tasks;
    private Duration keepAlive = Duration.ofMinutes(5);
    private ConcurrencyBudget budget;
    private ScaleGate gate;
    private FunctionLogs logs = FunctionLogs.NONE;
    private KilnMetrics metrics;
    private UsageMeter usage = UsageMeter.NONE;
    private InvocationTracer tracer = InvocationTracer.NONE;
    private InstanceCredentials credentials = InstanceCredentials.NONE;

    private Builder(SandboxDriver driver, RuntimeApiServer runtimeApi, Path instancesRoot) {
      this.driver = driver;
      this.runtimeApi = runtimeApi;
      this.instancesRoot = instancesRoot;
    }

    public Builder account(Account account) {
      this.account = account;
      return this;
    }

    /** The wall clock: idle times, key lifetimes, deadlines. */
    public Builder clock(InstantSource clock) {
      this.clock = clock;
      return this;
    }

    /** The monotonic clock: durations and waits. */
    public Builder ticker(Ticker ticker) {
      this.ticker = ticker;
      return this;
    }

    /** What runs the reaper of idle instances; by default a thread of the invoker's own. */
    public Builder scheduler(Scheduler scheduler) {
      this.scheduler = scheduler;
      return this;
    }

    /**
     * What starts provisioned instances and carries out the pools' slower decisions (stops, file
     * removal) off the caller's thread; shut down with the invoker. By default a cached pool of the
     * invoker's own daemon threads.
     */
    public Builder background(java.util.concurrent.ExecutorService background) {
      this.background = background;
      return this;
    }

    /**
     * What runs the short tasks beside invocations: giving an instance back once its runtime has
     * asked for the next event, writing up an invocation's end, an invocation's late timeout, and
     * stopping instances (gracefully in the background, and all of them at shutdown). It must run
     * each task on a thread other than the caller's, without a bound (a give-back may answer the
     * very call that completed it, and a shutdown's stops wait for each other). By default a new
     * virtual thread per task, named for what it does: {@code give-back}, {@code invocation-end},
     * {@code stop-N}.
     */
    public Builder tasks(Executor tasks) {
      this.tasks = tasks;
      return this;
    }

    /** How long an idle instance is kept warm before it is stopped. */
    public Builder keepAlive(Duration keepAlive) {
      this.keepAlive = keepAlive;
      return this;
    }

    public Builder budget(ConcurrencyBudget budget) {
      this.budget = budget;
      return this;
    }

    public Builder gate(ScaleGate gate) {
      this.gate = gate;
      return this;
    }

    public Builder logs(FunctionLogs logs) {
      this.logs = logs;
      return this;
    }

    public Builder metrics(KilnMetrics metrics) {
      this.metrics = metrics;
      return this;
    }

    public Builder usage(UsageMeter usage) {
      this.usage = usage;
      return this;
    }

    public Builder tracer(InvocationTracer tracer) {
      this.tracer = tracer;
      return this;
    }

    public Builder credentials(InstanceCredentials credentials) {
      this.credentials = credentials;
      return this;
    }

    public Invoker build() {
      ScaleGate g = gate != null ? gate : ScaleGate.unlimited(clock, ticker);
      KilnMetrics m = metrics != null ? metrics : KilnMetrics.inMemory();
      Tasks t =
          tasks != null
              ? new Tasks(tasks, tasks, tasks)
              : new Tasks(
                  virtualThreads(Thread.ofVirtual().name("give-back").factory()),
                  virtualThreads(Thread.ofVirtual().name("invocation-end").factory()),
                  virtualThreads(Thread.ofVirtual().name("stop-", 0).factory()));
      Invoker invoker =
          new Invoker(
              new InstanceLauncher(
                  driver,
                  runtimeApi,
                  instancesRoot,
                  account,
                  g,
                  logs,
                  m,
                  usage,
                  tracer,
                  credentials,
                  clock,
                  ticker,
                  t.writeUps()),
              account,
              clock,
              ticker,
              keepAlive,
              scheduler != null ? scheduler : Scheduler.onThread("instance-reaper"),
              background != null
                  ? background
                  : Executors.newCachedThreadPool(
                      r -> Thread.ofPlatform().daemon().name("instance-provisioner").unstarted(r)),
              t,
              budget != null ? budget : new ConcurrencyBudget(1000, Map.of()),
              m,
              usage);
      // the gate decides which idle instances to stop when a start needs their memory
      g.reclaimFrom(invoker::idleInstances);
      return invoker;
    }

    /** A new thread of {@code factory} per task. */
    private static Executor virtualThreads(java.util.concurrent.ThreadFactory factory) {
      return r -> factory.newThread(r).start();
    }
  }

  /**
   * Where the short tasks go, by kind; one executor for all three unless the builder's defaults
   * name each kind's threads.
   *
   * @param giveBacks giving an instance back once it has settled ({@link Lease})
   * @param writeUps an invocation's end and late timeout ({@link Instance})
   * @param stops stopping instances ({@link InstancePool}, and the invoker at shutdown)
   */
  record Tasks(Executor giveBacks, Executor writeUps, Executor stops) {}

  private Invoker(
      InstanceLauncher launcher,
      Account account,
      InstantSource clock,
      Ticker ticker,
      Duration keepAlive,
      Scheduler reaper,
      java.util.concurrent.ExecutorService background,
      Tasks tasks,
      ConcurrencyBudget budget,
      KilnMetrics metrics,
      UsageMeter usage) {
    this.metrics = metrics;
    this.usage = usage;
    this.launcher = launcher;
    this.account = account;
    this.budget = budget;
    this.clock = clock;
    this.ticker = ticker;
    this.keepAlive = keepAlive;
    this.background = background;
    this.tasks = tasks;
    this.reaper = reaper;
    long period = Math.max(100, Math.min(keepAlive.toMillis() / 2, FREEZE_AFTER.toMillis()));
    reaper.every(Duration.ofMillis(period), this::reapIdle);
  }

  /**
   * Runs one invocation of {@code version}, which {@code request}'s function resolved to. Callers
   * outside this package go through {@link Invocations}, which resolves first.
   */
  InvocationResult invoke(FunctionVersion version, InvokeRequest request) {
    return invoke(version, request, Instance::invoke, InvocationResult.class);
  }

  /**
   * Runs one invocation of {@code version} for a caller that takes its response as a stream ({@link
   * Invocations#stream}).
   */
  InvocationStream invokeStreaming(FunctionVersion version, InvokeRequest request) {
    Object answer =
        invoke(
            version,
            request,
            (i, r, arn, mayHandOn) -> i.invokeStreaming(r, arn, mayHandOn),
            Object.class);
    return answer instanceof InvocationResult r
        ? InvocationStream.buffered(r)
        : (InvocationStream) answer;
  }

  /**
   * How an instance is asked to run the invocation; {@code mayHandOn}: it may give the event back
   * ({@link Instance.NotTaken}) when it was found dead before its runtime took it.
   */
  @FunctionalInterface
  private interface Run<T> {
    T on(Instance instance, InvokeRequest request, String invokedArn, boolean mayHandOn);
  }

  /** Instances found dead, event untaken, that one invocation moves on from before failing. */
  private static final int HAND_ONS = 2;

  private <T> T invoke(
      FunctionVersion version, InvokeRequest request, Run<? extends T> run, Class<T> type) {
    String invokedArn = account.functionArn(request.function());
    inFlight.incrementAndGet();
    try {
      if (closing) {
        throw LambdaError.unavailable("Kiln is shutting down and takes no new invocations");
      }
      metrics.watchConcurrency(version.name(), budget);
      try (ConcurrencyBudget.Permit permit = admit(version.name())) {
        int handOns = 0;
        while (true) {
          InstancePool pool = pools.computeIfAbsent(version.key(), k -> newPool(version));
          Lease lease;
          try {
            lease = pool.acquire();
          } catch (LambdaError.Throttled e) {
            // no instance could be started: the scale-out rate or the host's memory
            metrics.throttled(version.name(), e.reason());
            throw e;
          }
          if (lease == null) {
            // retired between lookup and lease, or while the call waited: the caller resolved a
            // version that just changed, or Kiln is on its way down
            if (closing) {
              throw LambdaError.unavailable("Kiln is shutting down and takes no new invocations");
            }
            pools.remove(version.key(), pool);
            continue;
          }
          try (lease) {
            return run.on(lease.instance(), request, invokedArn, handOns < HAND_ONS);
          } catch (Instance.NotTaken deadBeforeItTookTheEvent) {
            // the function never saw the event: on to another instance (the lease gave this one
            // back dead)
            handOns++;
          }
        }
      } catch (InstanceLauncher.InvalidEntrypoint e) {
        String requestId =
            request.requestId().orElseGet(() -> java.util.UUID.randomUUID().toString());
        return type.cast(
            new InvocationResult.FunctionError(
                requestId,
                version.version(),
                "Runtime.InvalidEntrypoint",
                Instance.errorDocument(
                    "Runtime.InvalidEntrypoint",
                    "RequestId: " + requestId + " Error: " + e.getMessage()),
                java.util.Optional.empty()));
      }
    } finally {
      inFlight.decrementAndGet();
    }
  }

  /** Admission by the concurrency budget; a refusal is counted as a throttle. */
  private ConcurrencyBudget.Permit admit(String function) {
    try {
      return budget.admit(function);
    } catch (LambdaError.Throttled e) {
      metrics.throttled(function, e.reason());
      throw e;
    }
  }

  private InstancePool newPool(FunctionVersion version) {
    return new InstancePool(version, launcher, clock, ticker, background, tasks);
  }

  /**
   * Keeps {@code count} instances of {@code version} initialised ahead of demand (provisioned
   * concurrency); 0 stops keeping them.
   */
  public void provision(FunctionVersion version, int count) {
    pools.computeIfAbsent(version.key(), k -> newPool(version)).provision(count);
    usage.provisioned(version.key(), version.name(), version.config().memorySize(), count);
  }

  /** How far provisioning of {@code version} has come. */
  public record Provisioning(int ready, java.util.Optional<String> failure) {}

  public Provisioning provisioning(FunctionVersion version) {
    InstancePool pool = pools.get(version.key());
    return pool == null
        ? new Provisioning(0, java.util.Optional.empty())
        : new Provisioning(pool.provisionedReady(), pool.provisionFailure());
  }

  /**
   * Stops handing out instances of {@code version} of function {@code name} (every revision): its
   * configuration changed, and the next invocation starts instances of the new one.
   */
  public void retire(String name, String version) {
    retireWhere(v -> v.name().equals(name) && v.version().equals(version));
  }

  /** Stops every instance of every version of function {@code name}. */
  public void retireAll(String name) {
    retireWhere(v -> v.name().equals(name));
  }

  /**
   * Version {@code version} of function {@code name} exists (created, published, or found at
   * start): its meters show 0 until it runs.
   */
  public void declared(String name, String version) {
    metrics.declare(name, version);
    metrics.watchConcurrency(name, budget);
  }

  /** Function {@code name} was deleted: its instances, its reservation and its meters go. */
  public void functionDeleted(String name) {
    retireAll(name);
    budget.unreserve(name);
    metrics.forget(name);
  }

  /**
   * Registers the node's gauges: {@code kiln_instances{state}}, and per version with provisioned
   * concurrency, what is allocated, ready and busy, and the utilisation.
   */
  public void watchInstances() {
    metrics.sampled(
        "kiln.instances",
        "Instances alive, by state: starting, idle or busy",
        () -> {
          Map<Tags, Number> rows = new HashMap<>();
          instancesByState().forEach((s, n) -> rows.put(Tags.of("state", s), n));
          return rows;
        });
    metrics.gauge(
        "kiln.instances.frozen",
        "Idle instances frozen now (of those counted idle in kiln_instances): their processes"
            + " stopped by the cgroup freezer until their next event",
        this,
        Invoker::frozenInstances);
    metrics.gauge(
        "kiln.invocations.waiting",
        "Calls that found every instance of their function busy and wait in line for the first"
            + " that is given back or finishes starting",
        this,
        Invoker::waitingCalls);
    provisionedGauge(
        "kiln.provisioned.concurrency.allocated",
        "Provisioned concurrency asked for",
        ProvisionedNow::allocated);
    provisionedGauge(
        "kiln.provisioned.concurrency.ready",
        "Provisioned instances initialised and alive",
        ProvisionedNow::ready);
    provisionedGauge(
        "kiln.provisioned.concurrent.executions",
        "Provisioned instances running an invocation now",
        ProvisionedNow::busy);
    provisionedGauge(
        "kiln.provisioned.concurrency.utilization",
        "Provisioned instances running an invocation, over the provisioned concurrency asked for",
        p -> (double) p.busy() / p.allocated());
  }

  private void provisionedGauge(
      String name, String description, Function<ProvisionedNow, Number> value) {
    metrics.sampled(
        name,
        description,
        () -> {
          Map<Tags, Number> rows = new HashMap<>();
          for (ProvisionedNow p : provisionedNow()) {
            rows.put(Tags.of("function", p.function(), "version", p.version()), value.apply(p));
          }
          return rows;
        });
  }

  /** Instances frozen now, draining pools included. */
  public int frozenInstances() {
    int n = 0;
    for (InstancePool p : pools.values()) {
      n += p.countFrozen();
    }
    for (InstancePool p : draining) {
      n += p.countFrozen();
    }
    return n;
  }

  /** Instances alive now by state (starting, idle, busy), draining pools included. */
  public Map<String, Integer> instancesByState() {
    Map<Instance.State, Integer> counts = new java.util.EnumMap<>(Instance.State.class);
    for (Instance.State s : Instance.State.values()) {
      if (s != Instance.State.DEAD) {
        counts.put(s, 0);
      }
    }
    pools.values().forEach(p -> p.countByState(counts));
    draining.forEach(p -> p.countByState(counts));
    counts.remove(Instance.State.DEAD);
    Map<String, Integer> out = new java.util.TreeMap<>();
    counts.forEach((s, n) -> out.put(s.name().toLowerCase(java.util.Locale.ROOT), n));
    return out;
  }

  /**
   * One version's provisioned concurrency now.
   *
   * @param memoryMb its MemorySize, what each provisioned instance holds
   */
  public record ProvisionedNow(
      String function, String version, int memoryMb, int allocated, int ready, int busy) {}

  /** Every version with provisioned concurrency asked for. */
  public List<ProvisionedNow> provisionedNow() {
    List<ProvisionedNow> out = new java.util.ArrayList<>();
    for (InstancePool pool : pools.values()) {
      InstancePool.Provisioned p = pool.provisionedNow();
      if (p.allocated() > 0) {
        FunctionVersion v = pool.version();
        out.add(
            new ProvisionedNow(
                v.name(),
                v.version(),
                v.config().memorySize(),
                p.allocated(),
                p.ready(),
                p.busy()));
      }
    }
    return out;
  }

  private void retireWhere(java.util.function.Predicate<FunctionVersion> which) {
    for (var e : pools.entrySet()) {
      InstancePool pool = e.getValue();
      if (which.test(pool.version())) {
        pools.remove(e.getKey(), pool);
        usage.provisioned(e.getKey(), pool.version().name(), 0, 0);
        pool.retire();
        draining.add(pool);
      }
    }
    draining.removeIf(InstancePool::drained);
  }

  /** Deletes what instances were given for code that is gone (Java class data archives). */
  public void retainPrepared(java.util.Set<String> keptCode) {
    launcher.retainOnly(keptCode);
  }

  /**
   * Digests of the code and layers that instances still run from, live or stopping: the code store
   * must keep them even if no stored version names them any more.
   */
  public java.util.Set<String> codeInUse() {
    java.util.Set<String> digests = new java.util.HashSet<>();
    pools.values().forEach(p -> digests.addAll(p.codeInUse()));
    draining.forEach(p -> digests.addAll(p.codeInUse()));
    return digests;
  }

  /**
   * An idle instance is frozen once it has been idle this long. Lambda freezes at once; thawing
   * costs about 2 ms (cgroup v1), so Kiln waits a moment, and a steady stream of invocations never
   * pays for it.
   */
  public static final Duration FREEZE_AFTER = Duration.ofSeconds(1);

  /**
   * Stops instances idle for longer than the keep-alive, and freezes those idle for longer than
   * {@link #FREEZE_AFTER}; returns how many it stopped.
   */
  public int reapIdle() {
    int reaped = 0;
    for (InstancePool pool : pools.values()) {
      reaped += pool.reapIdle(keepAlive);
      pool.freezeIdle(FREEZE_AFTER);
    }
    return reaped;
  }

  /** Every pool's idle instances, each pool read under its own monitor in turn. */
  private List<ScaleGate.IdleInstance> idleInstances() {
    List<ScaleGate.IdleInstance> out = new java.util.ArrayList<>();
    pools.values().forEach(p -> p.idleInstances(out));
    return out;
  }

  /** The account's concurrency, which every invocation is admitted through. */
  public ConcurrencyBudget budget() {
    return budget;
  }

  /** Instances alive now, busy or idle, across all functions. */
  public int instanceCount() {
    return pools.values().stream().mapToInt(InstancePool::size).sum();
  }

  public int idleInstanceCount() {
    return pools.values().stream().mapToInt(InstancePool::idleCount).sum();
  }

  /** Calls that found every instance of their version busy and wait in line for one. */
  public int waitingCalls() {
    return pools.values().stream().mapToInt(InstancePool::waitingCount).sum();
  }

  /**
   * Refuses new invocations, lets running ones finish for up to {@code grace}, then kills every
   * instance; running invocations that did not finish fail with a clear error.
   */
  public void shutdown(Duration grace) {
    closing = true;
    awaitNoneInFlight(grace);
    if (inFlight.get() > 0) {
      LOG.warn("stopping {} invocation(s) still running after {}", inFlight.get(), grace);
    }
    reaper.close();
    background.shutdownNow();
    List<InstancePool> all = new java.util.ArrayList<>(pools.values());
    all.addAll(draining);
    InstancePool.runAll(
        tasks.stops(),
        all.stream().<Runnable>map(pool -> () -> pool.stopAll(Instance.SHUTDOWN)).toList());
    // and the graceful stops that were already under way
    all.forEach(pool -> pool.awaitStops(Duration.ofSeconds(5)));
    pools.clear();
    draining.clear();
    // the invocations just stopped are writing their error responses; let them
    awaitNoneInFlight(Duration.ofSeconds(2));
  }

  private void awaitNoneInFlight(Duration atMost) {
    long giveUpAt = ticker.read() + atMost.toNanos();
    while (inFlight.get() > 0 && ticker.read() < giveUpAt) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  @Override
  public void close() {
    shutdown(Duration.ZERO);
  }
}
