package dev.kiln.invoke;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.kiln.invoke.PoolDecisions.Member;
import dev.kiln.invoke.PoolDecisions.Role;
import dev.kiln.model.LambdaError;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The instances of one {@link FunctionVersion}.
 *
 * <p>The model is HikariCP's borrow and give back: {@link #acquire} hands out a {@link Lease} on an
 * idle instance if there is one, otherwise on a newly started one (a cold start), so concurrent
 * invocations run side by side, one per instance. Closing the lease gives the instance back. Idle
 * instances are reused last-in first-out: the most recently used one is the warmest (its caches and
 * pages are hot), and the ones at the bottom of the stack age out and are reaped after the
 * keep-alive.
 *
 * <p><b>Placement.</b> A call that finds no idle instance does not wait for an instance of its own.
 * It joins a line ({@code waiting}) and, when the calls in line outnumber the instances on their
 * way (starting, and for its first {@link #SETTLE_WAIT} those that answered and are about to be
 * back), asks for a start, if the host has a slot for one: the {@link ScaleGate} lets only so many
 * starts run at once, from the spawn to the runtime's first {@code /next}, because a host that
 * starts more than its cores can carry finishes none of them soon (200 at once on 2 cores were all
 * ready only after 20 s; a few at a time, the first are ready in a fraction of that and serve the
 * rest). Whatever becomes available first (an instance given back, an on-demand one whose runtime
 * finished initialising, a provisioned one just initialised) goes to the call at the head of the
 * line; so, as on Lambda, a burst is served by the first instances that are ready, and one slow
 * start holds up no call that another instance could take. An instance left over when the line is
 * empty joins the idle stack. One that failed to start (its runtime exited or reported an init
 * error) is handed to the head of the line all the same, and that call answers with the failure and
 * its log, as the call that caused a failed cold start does on Lambda. A call whose own start the
 * {@link ScaleGate} refused (the scale-out rate, the host's memory) stays in line while the pool
 * has instances busy or starting that may come to it, up to {@link #REFUSED_WAIT}, and only then
 * gets the gate's 429 with its Retry-After: a burst larger than the host can start is served by the
 * instances it could start, not refused. A start that waits for room gives up once its call has
 * been served by another instance. A call whose start failed gets that error, unless an instance
 * reached it meanwhile.
 *
 * <p>A retired pool (its function was updated or deleted) hands out nothing more; the calls in its
 * line go to the function's new pool, its idle instances stop at once, its starting ones when they
 * are ready, and its busy ones as soon as their invocation ends.
 *
 * <p><b>Provisioned concurrency.</b> A pool can be asked to keep a number of instances started and
 * initialised ahead of demand ({@link #provision}). Those are started in the background with {@code
 * AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency}, join the idle stack once their runtime
 * has initialised (so an invocation they serve has no init on its path), are never reaped, and are
 * replaced when they die. Beyond them the pool starts on-demand instances as usual.
 *
 * <p><b>Rotation.</b> Each instance has a temporary key of its own in its environment ({@link
 * InstanceCredentials}), which ends after a fixed lifetime, and an environment cannot be changed
 * once a process runs. So, as Lambda retires an execution environment before its role's credentials
 * end, an instance serves an invocation only if its key outlives the invocation's timeout (with
 * {@link #KEY_MARGIN} to spare): otherwise it is stopped, whether it is idle ({@link #reapIdle}),
 * about to be handed out ({@link #acquire}) or just given back ({@link #giveBack}), and the next
 * invocation starts a new instance with a new key. A provisioned instance hands over earlier, so
 * that provisioned capacity never dips: between 60 % and 80 % of the time its key lets it serve (a
 * point of its own, so that instances provisioned together are not replaced together), its
 * replacement starts while it goes on serving as one of the provisioned, and once the replacement
 * has initialised it becomes an ordinary instance, stopped like any other.
 *
 * <p><b>Making room.</b> The {@link ScaleGate} may stop an idle on-demand instance of any pool when
 * a start elsewhere needs its memory ({@link #idleInstances}, {@link #stopToMakeRoom}); which one
 * is the gate's decision alone.
 *
 * <p><b>State, and who changes it.</b> Everything the pool knows is guarded by its monitor and
 * changed only under it: which instances are its members and in what {@link PoolDecisions.Role} (on
 * demand, provisioned, handing over), the idle stack, the instances on their way back ({@code
 * settling}), the line of waiting calls, the instances starting for them and the starts asked for,
 * the instances a call holds ({@code leased}), {@code retired} and the provisioning counters. A
 * waiting call's instance is handed to it by completing its future under the monitor, in the same
 * step that takes the call out of the line, so that an instance goes to exactly one call. An
 * instance is in the idle stack only while its own state is IDLE: it enters the stack at the moment
 * it becomes IDLE (under the pool's monitor), and leaves it when it is claimed, chosen to stop, or
 * has died (the instance's exit callback posts {@link #exited} to the pool, which takes it out
 * under the monitor; no callback touches the pool's collections any other way). The decisions (what
 * to reap, freeze, hand over, release, top up) are {@link PoolDecisions}' pure functions of a
 * snapshot taken under the monitor; the pool then carries them out. Whether an idle instance is
 * frozen is the instance's own state, under its own monitor, so that a freeze never lands on an
 * instance just claimed and thawed.
 *
 * <p>Slow work (starting and stopping instances, removing their files, waiting for one to settle)
 * is done outside the monitor, and on threads the pool is given, not ones it makes: provisioned
 * instances start on the invoker's {@code background} executor, and stops and give-backs run on its
 * {@link Invoker.Tasks} (see {@link Invoker.Builder#tasks}). The pool never calls the gate while
 * holding its monitor, so the gate may take it while holding its own; no code holds two pools'
 * monitors.
 */
final class InstancePool {

  private static final Logger LOG = LoggerFactory.getLogger(InstancePool.class);

  /** How long an instance's key must outlast the longest invocation it would take on. */
  static final Duration KEY_MARGIN = Duration.ofSeconds(5);

  /** After this many provisioned instances in a row fail to initialise, provisioning stops. */
  private static final int MAX_PROVISION_FAILURES = 3;

  /**
   * How long an invocation that finds no idle instance counts on one that has answered and is about
   * to be back (its runtime not yet in next) before it starts a new one; also how often a waiting
   * call looks again at what it counts on.
   */
  static final Duration SETTLE_WAIT = Duration.ofMillis(200);

  /**
   * How long a call whose start the scale gate refused stays in line for an instance of the pool
   * that is busy or starting, before it gets the gate's 429.
   */
  static final Duration REFUSED_WAIT = Duration.ofSeconds(10);

  private final FunctionVersion version;
  private final InstanceLauncher launcher;
  private final InstantSource clock;

  /** The monotonic clock a waiting call's waits are measured by. */
  private final dev.kiln.time.Ticker ticker;

  private final Executor background;
  private final Invoker.Tasks tasks;

  /** Every live instance of the pool, in the order they joined, and what each is to it. */
  @GuardedBy("this")
  private final Map<Instance, Role> members = new LinkedHashMap<>();

  /** Members whose state is IDLE, most recently used first. */
  @GuardedBy("this")
  private final Deque<Instance> idle = new ArrayDeque<>();

  /** Members whose invocation answered, until they are given back: each one's giving back. */
  @GuardedBy("this")
  private final Map<Instance, CompletableFuture<Void>> settling = new HashMap<>();

  /** Calls that found no idle instance, in the order they came, each waiting to be handed one. */
  @GuardedBy("this")
  private final Deque<Waiter> waiting = new ArrayDeque<>();

  /**
   * On-demand instances started for waiting calls, until each is ready (or failed) and handed on.
   */
  @GuardedBy("this")
  private final Set<Instance> starting = new java.util.HashSet<>();

  /** Starts asked of the launcher that have not returned yet. */
  @GuardedBy("this")
  private int startsAsked;

  /**
   * Completed (and replaced) each time a start of this pool ends, for waiting calls to look again.
   */
  @GuardedBy("this")
  private CompletableFuture<Void> startEnded = new CompletableFuture<>();

  /** Calls in line whose own start the scale gate refused: they ask for no more. */
  @GuardedBy("this")
  private int refusedWaiting;

  /** Members a call holds (a lease, or handed to a waiting call), until given back. */
  @GuardedBy("this")
  private final Set<Instance> leased = new java.util.HashSet<>();

  @GuardedBy("this")
  private boolean retired;

  @GuardedBy("this")
  private int provisionTarget;

  /** Provisioned instances asked for and not yet started (or failed). */
  @GuardedBy("this")
  private int provisionStarting;

  @GuardedBy("this")
  private int provisionFailures;

  @GuardedBy("this")
  private String provisionFailure;

  /**
   * Graceful stops under way (SHUTDOWN to extensions, SIGTERM, grace), each a task of its own; not
   * the pool's state but its work, so a concurrent set of its own.
   */
  private final Set<CompletableFuture<Void>> stopping = ConcurrentHashMap.newKeySet();

  InstancePool(
      FunctionVersion version,
      InstanceLauncher launcher,
      InstantSource clock,
      dev.kiln.time.Ticker ticker,
      Executor background,
      Invoker.Tasks tasks) {
    this.ticker = ticker;
    this.background = background;
    this.tasks = tasks;
    this.version = version;
    this.launcher = launcher;
    this.clock = clock;
  }

  FunctionVersion version() {
    return version;
  }

  // ---- events: each changes the pool's state under its monitor ------------------------------

  /**
   * An instance for one invocation: the warmest idle one or else, as Lambda places a call that
   * finds every instance busy, the first one that becomes free or finishes starting, whichever that
   * is (see Placement). Null if the pool is retired (or was retired while the call waited).
   *
   * @throws LambdaError.Throttled when the scale gate refused the start this call asked for and no
   *     instance came to it meanwhile
   */
  Lease acquire() {
    Waiter me;
    while (true) {
      Instance instance;
      synchronized (this) {
        if (retired) {
          return null;
        }
        instance = idle.pollFirst();
        if (instance == null) {
          me = new Waiter(ticker.read());
          waiting.addLast(me);
          break;
        }
      }
      if (!keyLastsAnInvocation(instance)) {
        rotate(instance);
        continue;
      }
      if (instance.claim()) {
        instance.thaw();
        return leased(instance);
      }
      // it died while idle, just now: its exit, posted to the pool, takes it out of the members
    }
    return await(me);
  }

  /**
   * Waits for an instance to be handed to {@code me}, starting one whenever the calls waiting (and
   * not refused a start) outnumber the instances on their way: starting, and (for the first {@link
   * #SETTLE_WAIT} of a call's wait) those that answered and are about to be back.
   */
  private Lease await(Waiter me) {
    while (true) {
      boolean start;
      CompletableFuture<Void> lookAgain;
      synchronized (this) {
        if (me.handed.isDone()) {
          break;
        }
        if (me.refused != null
            && (!somethingOnItsWay() || ticker.read() - me.refusedNanos > REFUSED_WAIT.toNanos())) {
          waiting.remove(me);
          refusedWaiting--;
          throw me.refused;
        }
        boolean settleWaitOver = ticker.read() - me.sinceNanos >= SETTLE_WAIT.toNanos();
        int onTheirWay = starting.size() + startsAsked + (settleWaitOver ? 0 : settling.size());
        // the host's slot for a start is an atomic, taken without a lock (see ScaleGate)
        start =
            me.refused == null
                && onTheirWay < waiting.size() - refusedWaiting
                && launcher.tryBeginStart();
        if (start) {
          startsAsked++;
        }
        lookAgain = startEnded;
      }
      if (start) {
        startFor(me);
      }
      try {
        // handed an instance, or a start of this pool ended (a slot is free), or time to look again
        CompletableFuture.anyOf(me.handed, lookAgain)
            .get(SETTLE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        // look again: an instance counted on may have gone another way, a slot may be free
      } catch (java.util.concurrent.ExecutionException e) {
        throw new IllegalStateException(e); // never completed exceptionally
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        Instance handed = leaveQueue(me);
        if (handed != null) {
          giveBack(handed);
        }
        throw LambdaError.unavailable("interrupted while waiting for an instance");
      }
    }
    Instance handed = me.handed.join();
    return handed == null ? null : leased(handed);
  }

  /** A start of this pool ended: the host's slot it held is free; waiting calls look again. */
  private void endStart() {
    launcher.startEnded();
    CompletableFuture<Void> ended;
    synchronized (this) {
      ended = startEnded;
      startEnded = new CompletableFuture<>();
    }
    ended.complete(null);
  }

  /** Whether an instance of the pool may yet come to a waiting call: one is held or starting. */
  @GuardedBy("this")
  private boolean somethingOnItsWay() {
    return !leased.isEmpty() || !starting.isEmpty() || startsAsked > 0;
  }

  /**
   * Starts an on-demand instance because {@code me} (and as many calls as are waiting) needs one;
   * it goes, once ready, to whichever call is first in line then, or to the idle stack. A start the
   * gate refuses leaves {@code me} in line for up to {@link #REFUSED_WAIT} while another instance
   * of the pool may come to it, and a start that fails is {@code me}'s to answer, unless an
   * instance reached it meanwhile.
   */
  private void startFor(Waiter me) {
    Instance fresh;
    try {
      fresh = launcher.start(version, () -> !me.handed.isDone());
    } catch (IOException | RuntimeException e) {
      endStart();
      synchronized (this) {
        startsAsked--;
        if (me.handed.isDone()) {
          return; // an instance came to it while its own start failed: the call runs there
        }
        if (e instanceof LambdaError.Throttled throttled && somethingOnItsWay()) {
          me.refused = throttled;
          me.refusedNanos = ticker.read();
          refusedWaiting++;
          return;
        }
        waiting.remove(me);
      }
      if (e instanceof IOException) {
        // the launcher has logged it
        throw LambdaError.service("Kiln could not start an instance of the function: " + e);
      }
      throw (RuntimeException) e;
    }
    if (fresh == null) {
      synchronized (this) {
        startsAsked--; // not needed any more: the call was served while the start waited for room
      }
      endStart();
      return;
    }
    synchronized (this) {
      startsAsked--;
      starting.add(fresh);
    }
    join(fresh, Role.ON_DEMAND);
    // ready or failed, it is handed on: a runtime that hangs in init goes to a call after the
    // init limit, which then waits for it as long as a cold start may take
    fresh.ready().thenRun(() -> startedOnDemand(fresh));
    CompletableFuture.delayedExecutor(
            Instance.INIT_LIMIT.toMillis(), TimeUnit.MILLISECONDS, tasks.giveBacks())
        .execute(() -> startedOnDemand(fresh));
  }

  /**
   * An on-demand instance finished starting (or failed to, or is past the init limit): the first
   * call in line gets it, which answers with the failure if it failed; with no call waiting it
   * joins the idle stack, or stops if it failed or the pool is retired.
   */
  private void startedOnDemand(Instance fresh) {
    boolean usable = fresh.initialisedAndAlive();
    Waiter first;
    String stop = null;
    synchronized (this) {
      if (!starting.remove(fresh)) {
        return; // handed on already
      }
      first = nextInLine();
      if (first != null) {
        // STARTING → BUSY; a failed one is handed as it is, and the call reports its failure
        fresh.claim();
        leased.add(fresh);
      } else if (usable && !retired && members.containsKey(fresh) && fresh.becomeIdle(now())) {
        idle.addFirst(fresh);
      } else {
        stop = retired ? "retired" : "failed to initialise";
        members.remove(fresh);
      }
    }
    endStart();
    if (first != null) {
      first.handed.complete(fresh);
    } else if (stop != null) {
      stopInBackground(fresh, stop);
    }
  }

  /**
   * Takes {@code me} out of the line; returns the instance handed to it if one was (then it is no
   * longer in the line), else null.
   */
  private Instance leaveQueue(Waiter me) {
    synchronized (this) {
      if (waiting.remove(me)) {
        if (me.refused != null) {
          refusedWaiting--;
        }
        return null;
      }
    }
    return me.handed.join();
  }

  /**
   * Hands an instance that has just become IDLE (given back, or provisioned and initialised) to the
   * first call in line, or puts it on the idle stack.
   */
  @GuardedBy("this")
  private Waiter offer(Instance instance) {
    if (!waiting.isEmpty() && instance.claim()) {
      leased.add(instance);
      return nextInLine();
    }
    // no call waits, or it died this instant (and its exit, on its way, takes it out)
    idle.addFirst(instance);
    return null;
  }

  /** Takes the first call out of the line; null if none waits. */
  @GuardedBy("this")
  private Waiter nextInLine() {
    Waiter first = waiting.pollFirst();
    if (first != null && first.refused != null) {
      refusedWaiting--;
    }
    return first;
  }

  private Lease leased(Instance instance) {
    synchronized (this) {
      leased.add(instance);
    }
    instance.thaw();
    return new Lease(this, instance, tasks.giveBacks());
  }

  /** Makes {@code instance} a member, and has its exit posted to the pool. */
  private void join(Instance instance, Role role) {
    synchronized (this) {
      members.put(instance, role);
    }
    // outside the monitor: an instance already gone runs this at once, on this thread
    instance.onExit().thenRun(() -> exited(instance));
  }

  /** An instance that answered is on its way back, once {@code givenBack} completes. */
  void settling(Instance instance, CompletableFuture<Void> givenBack) {
    synchronized (this) {
      settling.put(instance, givenBack);
    }
    givenBack.whenComplete(
        (v, e) -> {
          synchronized (this) {
            settling.remove(instance, givenBack);
          }
        });
  }

  /** A lease ended: the instance goes back on the idle stack, or stops. */
  void giveBack(Instance instance) {
    boolean keyLasts = keyLastsAnInvocation(instance);
    boolean keep;
    boolean rotate;
    Waiter next = null;
    synchronized (this) {
      leased.remove(instance);
      rotate = !retired && !keyLasts && members.containsKey(instance);
      keep = !retired && keyLasts && members.containsKey(instance) && instance.release(now());
      if (keep) {
        next = offer(instance);
      } else if (!rotate) {
        members.remove(instance);
      }
    }
    if (next != null) {
      next.handed.complete(instance);
    } else if (rotate) {
      rotate(instance);
    } else if (!keep) {
      stopInBackground(instance, "retired");
    }
  }

  /**
   * The instance's main process exited, whatever the cause: it leaves the pool (if the pool had not
   * already let it go), and a provisioned one is replaced.
   */
  private void exited(Instance instance) {
    Role role;
    boolean held;
    synchronized (this) {
      role = members.remove(instance);
      idle.remove(instance);
      // a call holds it, or is about to be handed it, and answers with its death: the files go
      // when that call gives it back, after its log is written
      held = leased.contains(instance) || starting.contains(instance);
      if (role != null && role.provisioned() && !instance.initialised().isDone()) {
        failed("the runtime exited before it initialised");
      }
    }
    if (role == null) {
      return; // the pool stopped it, and removes its files
    }
    if (!held) {
      instance.settled().thenRun(instance::removeFiles);
    }
    if (role.provisioned()) {
      topUp(); // replace it
    }
  }

  /**
   * Stops a member (taken out of the idle stack, or just given back) because its key is about to
   * end; a provisioned one is replaced at once.
   */
  private void rotate(Instance instance) {
    LOG.debug("retiring instance {} of {}: its credentials end soon", instance.id(), version.key());
    Role role;
    synchronized (this) {
      role = members.remove(instance);
    }
    stopInBackground(instance, "credentials expiring");
    if (role != null && role.provisioned()) {
      topUp();
    }
  }

  // ---- the decisions, carried out -----------------------------------------------------------

  /** The idle members as {@link PoolDecisions} sees them, most recently used first. */
  @GuardedBy("this")
  private List<Member<Instance>> idleSnapshot() {
    List<Member<Instance>> out = new ArrayList<>(idle.size());
    for (Instance i : idle) {
      out.add(member(i, members.getOrDefault(i, Role.ON_DEMAND)));
    }
    return out;
  }

  /** Every member as {@link PoolDecisions} sees it. */
  @GuardedBy("this")
  private List<Member<Instance>> snapshot() {
    List<Member<Instance>> out = new ArrayList<>(members.size());
    members.forEach((i, role) -> out.add(member(i, role)));
    return out;
  }

  private Member<Instance> member(Instance i, Role role) {
    return new Member<>(
        i,
        role,
        i.idleSince() == null ? Instant.EPOCH : i.idleSince(),
        i.isFrozen(),
        i.initialised().isDone(),
        i.keyExpires(),
        i.handoverAt(keyReserve()));
  }

  /**
   * Stops instances idle since before {@code now - keepAlive}, except provisioned ones, and idle
   * instances whose key ends soon (see Rotation), provisioned ones too; starts the replacements of
   * provisioned instances past their hand-over point; returns how many it stopped.
   */
  int reapIdle(Duration keepAlive) {
    PoolDecisions.Reap<Instance> reap;
    synchronized (this) {
      reap = PoolDecisions.reap(idleSnapshot(), now(), keepAlive, keyReserve());
      reap.expire().forEach(i -> leave(i));
      reap.rotate().forEach(idle::remove);
    }
    for (Instance i : reap.expire()) {
      LOG.debug("reaping instance {} of {} (idle past keep-alive)", i.id(), version.key());
      stopInBackground(i, "idle past keep-alive");
    }
    reap.rotate().forEach(this::rotate);
    handOver();
    return reap.expire().size() + reap.rotate().size();
  }

  /** Takes {@code i} out of the idle stack and the members: the pool stops it. */
  @GuardedBy("this")
  private void leave(Instance i) {
    idle.remove(i);
    members.remove(i);
  }

  /** Freezes instances idle since before {@code now - after}; returns how many it froze. */
  int freezeIdle(Duration after) {
    List<Instance> candidates;
    synchronized (this) {
      candidates = PoolDecisions.freeze(idleSnapshot(), now(), after);
    }
    // each instance freezes only if it is still idle, under its own monitor
    candidates.forEach(Instance::freezeIfIdle);
    return (int) candidates.stream().filter(Instance::isFrozen).count();
  }

  /**
   * Adds this pool's idle instances to {@code out}, for the {@link ScaleGate} to stop the least
   * recently used of them when a start needs their memory; provisioned ones are marked so.
   */
  void idleInstances(List<ScaleGate.IdleInstance> out) {
    int memory = version.config().memorySize();
    synchronized (this) {
      for (Instance i : idle) {
        if (i.state() != Instance.State.IDLE) {
          continue; // killed a moment ago: its exit is on its way to the pool
        }
        out.add(
            new ScaleGate.IdleInstance(
                i,
                version.name(),
                i.idleSince(),
                memory,
                members.getOrDefault(i, Role.ON_DEMAND).provisioned(),
                () -> stopToMakeRoom(i),
                i.onExit()));
      }
    }
  }

  /**
   * Stops an idle on-demand instance because a start elsewhere needs its memory; false if it is no
   * longer in the idle stack (handed out, stopped) or has become provisioned meanwhile.
   */
  private boolean stopToMakeRoom(Instance instance) {
    synchronized (this) {
      if (members.getOrDefault(instance, Role.ON_DEMAND).provisioned()
          || !idle.contains(instance)) {
        return false;
      }
      leave(instance);
    }
    LOG.debug("stopping idle instance {} of {} to make room", instance.id(), version.key());
    stopInBackground(instance, "stopped to make room for another instance");
    return true;
  }

  // ---- provisioned concurrency --------------------------------------------------------------

  /**
   * Keeps {@code target} instances initialised ahead of demand; 0 ends provisioning (the instances
   * it kept become ordinary ones, reaped when idle past the keep-alive).
   */
  void provision(int target) {
    synchronized (this) {
      provisionTarget = target;
      provisionFailures = 0;
      provisionFailure = null;
      PoolDecisions.release(snapshot(), target).forEach(i -> members.put(i, Role.ON_DEMAND));
    }
    topUp();
  }

  /** Provisioned instances that are initialised and alive now, at most as many as asked for. */
  synchronized int provisionedReady() {
    // while a replacement starts, the one it replaces still serves: no more than asked for
    return Math.min(provisionedNow().ready(), provisionTarget);
  }

  /** Why provisioning stopped, when instances kept failing to initialise. */
  synchronized Optional<String> provisionFailure() {
    return Optional.ofNullable(provisionFailure);
  }

  /** Starts the replacements of provisioned instances past their hand-over point. */
  private void handOver() {
    List<Instance> due;
    synchronized (this) {
      due = PoolDecisions.handOver(snapshot(), now());
      for (Instance i : due) {
        LOG.debug("instance {} of {} hands over to a new one", i.id(), version.key());
        members.put(i, Role.HANDING_OVER);
      }
    }
    if (!due.isEmpty()) {
      topUp();
    }
  }

  /** Starts as many provisioned instances as are missing, in the background. */
  private void topUp() {
    int missing;
    synchronized (this) {
      if (retired || provisionFailure != null) {
        return;
      }
      int kept = (int) members.values().stream().filter(r -> r == Role.PROVISIONED).count();
      missing = PoolDecisions.toStart(provisionTarget, kept, provisionStarting);
      provisionStarting += missing;
    }
    for (int n = 0; n < missing; n++) {
      background.execute(this::startProvisioned);
    }
  }

  private void startProvisioned() {
    Instance fresh;
    try {
      fresh = launcher.start(version, true);
    } catch (IOException | RuntimeException e) {
      if (!InstanceLauncher.loggedFailure(e)) {
        LOG.warn(
            "could not start a provisioned instance of function {} version {}: {}",
            version.name(),
            version.version(),
            e.getMessage());
      }
      synchronized (this) {
        provisionStarting--;
        failed("an instance could not be started: " + e.getMessage());
      }
      CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS, background).execute(this::topUp);
      return;
    }
    boolean stillWanted;
    synchronized (this) {
      provisionStarting--;
      stillWanted = !retired;
    }
    if (!stillWanted) {
      // retired (or shut down) while it started: it has no place here
      fresh.kill("retired", org.slf4j.event.Level.DEBUG);
      fresh.removeFiles();
      return;
    }
    join(fresh, Role.PROVISIONED);
    fresh.initialised().thenRun(() -> initialised(fresh));
  }

  /**
   * A provisioned instance's runtime initialised: it joins the idle stack, and one instance it
   * replaces (if any is handing over) becomes an ordinary one.
   */
  private void initialised(Instance fresh) {
    Waiter next = null;
    synchronized (this) {
      provisionFailures = 0;
      if (!retired && members.containsKey(fresh) && fresh.becomeIdle(now())) {
        next = offer(fresh);
      }
      for (Map.Entry<Instance, Role> m : members.entrySet()) {
        if (m.getValue() == Role.HANDING_OVER) {
          m.setValue(Role.ON_DEMAND);
          break;
        }
      }
    }
    if (next != null) {
      next.handed.complete(fresh);
    }
  }

  @GuardedBy("this")
  private void failed(String why) {
    if (++provisionFailures >= MAX_PROVISION_FAILURES && provisionTarget > 0) {
      provisionFailure = why;
    }
  }

  // ---- retiring and stopping ----------------------------------------------------------------

  /**
   * Hands out nothing more; idle instances stop now, in the background (their extensions may take
   * up to two seconds over {@code SHUTDOWN}), busy ones when their invocation ends.
   */
  void retire() {
    for (Instance i : takeIdle()) {
      stopInBackground(i, "retired");
    }
  }

  /**
   * Stops an instance gracefully without holding up the caller: its extensions may take up to two
   * seconds over {@code SHUTDOWN}, the runtime half a second over SIGTERM.
   */
  private void stopInBackground(Instance instance, String cause) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    stopping.add(done);
    tasks
        .stops()
        .execute(
            () -> {
              try {
                instance.terminate(cause);
                instance.removeFiles();
              } finally {
                stopping.remove(done);
                done.complete(null);
              }
            });
  }

  /** Waits, up to {@code atMost}, for the graceful stops under way. */
  void awaitStops(Duration atMost) {
    try {
      CompletableFuture.allOf(stopping.toArray(CompletableFuture[]::new))
          .get(atMost.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
      // what is left is killed with the server's own process tree
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** No instance left, running or stopping. */
  boolean drained() {
    synchronized (this) {
      if (!members.isEmpty()) {
        return false;
      }
    }
    return stopping.isEmpty();
  }

  /** The version's code and layers, by digest, while any instance of it is alive. */
  Set<String> codeInUse() {
    if (drained()) {
      return Set.of();
    }
    Set<String> digests = new java.util.HashSet<>();
    digests.add(dev.kiln.model.CodeDigest.hexFromBase64(version.config().codeSha256()));
    version.config().layers().forEach(l -> digests.add(l.codeSha256Hex()));
    return digests;
  }

  /** Marks the pool retired and takes its idle instances out of it. */
  private synchronized List<Instance> takeIdle() {
    retired = true;
    // the calls waiting go to the pool of what the function is now (or are refused at shutdown)
    for (Waiter w; (w = nextInLine()) != null; ) {
      w.handed.complete(null);
    }
    List<Instance> idleNow = new ArrayList<>(idle);
    idleNow.forEach(this::leave);
    // the busy ones stay members until given back (or killed at shutdown), as ordinary ones
    members.replaceAll((i, role) -> Role.ON_DEMAND);
    return idleNow;
  }

  /**
   * Stops every instance: those not running an invocation gracefully (their extensions get {@code
   * SHUTDOWN}, the runtime SIGTERM), all at once; those running one are killed, their invocations
   * failing with {@code cause}.
   */
  void stopAll(String cause) {
    List<Instance> instances = new ArrayList<>(takeIdle());
    synchronized (this) {
      instances.addAll(members.keySet());
      members.clear();
    }
    runAll(
        tasks.stops(),
        instances.stream()
            .<Runnable>map(
                i ->
                    () -> {
                      if (!i.running()) {
                        i.terminate(cause);
                      } else {
                        i.kill(cause, org.slf4j.event.Level.DEBUG);
                      }
                      i.removeFiles();
                    })
            .toList());
  }

  /**
   * Runs every one of {@code work} on {@code on}, all at once, and returns when all are done; one
   * that fails is logged and does not stop the others.
   */
  static void runAll(Executor on, List<Runnable> work) {
    CompletableFuture<?>[] running =
        work.stream()
            .map(
                w ->
                    CompletableFuture.runAsync(w, on)
                        .exceptionally(
                            e -> {
                              LOG.warn("a stop failed", e);
                              return null;
                            }))
            .toArray(CompletableFuture[]::new);
    CompletableFuture.allOf(running).join();
  }

  // ---- reading ------------------------------------------------------------------------------

  synchronized int idleCount() {
    return idle.size();
  }

  synchronized int waitingCount() {
    return waiting.size();
  }

  synchronized int size() {
    return members.size();
  }

  /** This pool's instances by state, as {@code counts} is added to. */
  synchronized void countByState(Map<Instance.State, Integer> counts) {
    for (Instance i : members.keySet()) {
      counts.merge(i.state(), 1, Integer::sum);
    }
  }

  /** How many of this pool's instances are frozen now (idle, their processes stopped). */
  synchronized int countFrozen() {
    int n = 0;
    for (Instance i : members.keySet()) {
      if (i.isFrozen()) {
        n++;
      }
    }
    return n;
  }

  /** Provisioned concurrency as it stands: asked for, initialised, and running an invocation. */
  record Provisioned(int allocated, int ready, int busy) {}

  synchronized Provisioned provisionedNow() {
    int ready = 0;
    int busy = 0;
    for (Map.Entry<Instance, Role> m : members.entrySet()) {
      Instance i = m.getKey();
      if (m.getValue().provisioned()
          && i.initialised().isDone()
          && i.state() != Instance.State.DEAD) {
        ready++;
        if (i.state() == Instance.State.BUSY) {
          busy++;
        }
      }
    }
    return new Provisioned(provisionTarget, ready, busy);
  }

  private Instant now() {
    return clock.instant();
  }

  /**
   * A call waiting to be handed an instance (null when the pool retired meanwhile). Its {@code
   * refused} and {@code refusedNanos} are guarded by the pool's monitor.
   */
  private static final class Waiter {
    final CompletableFuture<Instance> handed = new CompletableFuture<>();
    final long sinceNanos;
    LambdaError.Throttled refused;
    long refusedNanos;

    Waiter(long sinceNanos) {
      this.sinceNanos = sinceNanos;
    }
  }

  /** Whether an invocation that starts now would end before the instance's key does. */
  private boolean keyLastsAnInvocation(Instance instance) {
    return PoolDecisions.keyLasts(instance.keyExpires(), now(), keyReserve());
  }

  /** What must be left of an instance's key when an invocation starts on it. */
  private Duration keyReserve() {
    return Duration.ofSeconds(version.config().timeout()).plus(KEY_MARGIN);
  }
}
