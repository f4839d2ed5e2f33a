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
 * <p>A retired pool (its function was updated or deleted) hands out nothing more; its idle
 * instances stop at once and its busy ones as soon as their invocation ends.
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
 * settling}), {@code retired} and the provisioning counters. An instance is in the idle stack only
 * while its own state is IDLE: it enters the stack at the moment it becomes IDLE (under the pool's
 * monitor), and leaves it when it is claimed, chosen to stop, or has died (the instance's exit
 * callback posts {@link #exited} to the pool, which takes it out under the monitor; no callback
 * touches the pool's collections any other way). The decisions (what to reap, freeze, hand over,
 * release, top up) are {@link PoolDecisions}' pure functions of a snapshot taken under the monitor;
 * the pool then carries them out. Whether an idle instance is frozen is the instance's own state,
 * under its own monitor, so that a freeze never lands on an instance just claimed and thawed.
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
   * How long an invocation that finds no idle instance waits for one that has answered and is about
   * to be back (its runtime not yet in next), before it starts a new one.
   */
  static final Duration SETTLE_WAIT = Duration.ofMillis(200);

  private final FunctionVersion version;
  private final InstanceLauncher launcher;
  private final InstantSource clock;
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
      Executor background,
      Invoker.Tasks tasks) {
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
   * An instance for one invocation: the warmest idle one, or one just about to be idle again (its
   * runtime answered and has yet to ask for its next event, usually a matter of a millisecond), or
   * a new one. Null if the pool is retired.
   */
  Lease acquire() {
    boolean waited = false;
    while (true) {
      Instance instance;
      CompletableFuture<?>[] soon;
      synchronized (this) {
        if (retired) {
          return null;
        }
        instance = idle.pollFirst();
        soon = instance == null ? settling.values().toArray(CompletableFuture[]::new) : null;
      }
      if (instance == null) {
        if (waited || soon.length == 0) {
          break;
        }
        waited = true;
        try {
          CompletableFuture.anyOf(soon).get(SETTLE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException
            | java.util.concurrent.ExecutionException e) {
          // none came back in time: a new one
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
        continue;
      }
      if (!keyLastsAnInvocation(instance)) {
        rotate(instance);
        continue;
      }
      if (instance.claim()) {
        instance.thaw();
        return new Lease(this, instance, false, tasks.giveBacks());
      }
      // it died while idle, just now: its exit, posted to the pool, takes it out of the members
    }
    Instance fresh;
    try {
      fresh = launcher.start(version);
    } catch (IOException e) {
      // the launcher has logged it
      throw LambdaError.service("Kiln could not start an instance of the function: " + e);
    }
    fresh.claim();
    join(fresh, Role.ON_DEMAND);
    // if the pool was retired while this one started, it still runs this event; giving it back
    // then stops it
    return new Lease(this, fresh, true, tasks.giveBacks());
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
    synchronized (this) {
      rotate = !retired && !keyLasts && members.containsKey(instance);
      keep = !retired && keyLasts && members.containsKey(instance) && instance.release(now());
      if (keep) {
        idle.addFirst(instance);
      } else if (!rotate) {
        members.remove(instance);
      }
    }
    if (rotate) {
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
    synchronized (this) {
      role = members.remove(instance);
      idle.remove(instance);
      if (role != null && role.provisioned() && !instance.initialised().isDone()) {
        failed("the runtime exited before it initialised");
      }
    }
    if (role == null) {
      return; // the pool stopped it, and removes its files
    }
    // its last invocation may still be written up (it ends at the runtime's exit)
    instance.settled().thenRun(instance::removeFiles);
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
  private synchronized void initialised(Instance fresh) {
    provisionFailures = 0;
    if (!retired && members.containsKey(fresh) && fresh.becomeIdle(now())) {
      idle.addFirst(fresh);
    }
    for (Map.Entry<Instance, Role> m : members.entrySet()) {
      if (m.getValue() == Role.HANDING_OVER) {
        m.setValue(Role.ON_DEMAND);
        break;
      }
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

  /** Whether an invocation that starts now would end before the instance's key does. */
  private boolean keyLastsAnInvocation(Instance instance) {
    return PoolDecisions.keyLasts(instance.keyExpires(), now(), keyReserve());
  }

  /** What must be left of an instance's key when an invocation starts on it. */
  private Duration keyReserve() {
    return Duration.ofSeconds(version.config().timeout()).plus(KEY_MARGIN);
  }
}
