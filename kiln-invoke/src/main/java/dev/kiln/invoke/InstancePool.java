package dev.kiln.invoke;

import dev.kiln.model.LambdaError;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
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
 * <p><b>Locking.</b> The pool's monitor guards the idle stack, {@code retired} and the provisioning
 * counters, and is held wherever the idle stack and the sets of provisioned and handing-over
 * instances (concurrent sets, read without it) must agree. An instance taken out of the idle stack
 * under the monitor belongs to whoever took it: {@link #acquire}, the reaper, or the gate. The pool
 * never calls the gate while holding its monitor (instances are started outside it), so the gate
 * may take it while holding its own; no code holds two pools' monitors.
 */
final class InstancePool {

  private static final Logger LOG = LoggerFactory.getLogger(InstancePool.class);

  private final FunctionVersion version;
  private final InstanceLauncher launcher;
  private final InstantSource clock;
  private final Deque<Instance> idle = new ArrayDeque<>();
  private final Set<Instance> all = ConcurrentHashMap.newKeySet();
  private boolean retired;

  /** Instances kept for provisioned concurrency, started or starting. */
  private final Set<Instance> provisioned = ConcurrentHashMap.newKeySet();

  /** Provisioned instances whose replacement is starting (see Rotation); still counted ready. */
  private final Set<Instance> handingOver = ConcurrentHashMap.newKeySet();

  private final java.util.concurrent.Executor background;
  private int provisionTarget;
  private int provisionStarting;
  private int provisionFailures;
  private String provisionFailure;

  /** How long an instance's key must outlast the longest invocation it would take on. */
  static final Duration KEY_MARGIN = Duration.ofSeconds(5);

  /** After this many provisioned instances in a row fail to initialise, provisioning stops. */
  private static final int MAX_PROVISION_FAILURES = 3;

  InstancePool(
      FunctionVersion version,
      InstanceLauncher launcher,
      InstantSource clock,
      java.util.concurrent.Executor background) {
    this.background = background;
    this.version = version;
    this.launcher = launcher;
    this.clock = clock;
  }

  FunctionVersion version() {
    return version;
  }

  /**
   * How long an invocation that finds no idle instance waits for one that has answered and is about
   * to be back (its runtime not yet in next), before it starts a new one.
   */
  static final Duration SETTLE_WAIT = Duration.ofMillis(200);

  /** Instances whose invocation answered, until they are given back: each one's giving back. */
  private final java.util.Map<Instance, CompletableFuture<Void>> settling =
      new ConcurrentHashMap<>();

  /** An instance that answered is on its way back, once {@code givenBack} completes. */
  void settling(Instance instance, CompletableFuture<Void> givenBack) {
    settling.put(instance, givenBack);
    givenBack.whenComplete((v, e) -> settling.remove(instance, givenBack));
  }

  /**
   * An instance for one invocation: the warmest idle one, or one just about to be idle again (its
   * runtime answered and has yet to ask for its next event, usually a matter of a millisecond), or
   * a new one.
   */
  Lease acquire() {
    boolean waited = false;
    while (true) {
      Instance instance;
      synchronized (this) {
        if (retired) {
          return null;
        }
        instance = idle.pollFirst();
      }
      if (instance == null) {
        CompletableFuture<?>[] soon = settling.values().toArray(CompletableFuture[]::new);
        if (waited || soon.length == 0) {
          break;
        }
        waited = true;
        try {
          CompletableFuture.anyOf(soon)
              .get(SETTLE_WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
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
        return new Lease(this, instance, false);
      }
      all.remove(instance);
      instance.removeFiles();
    }
    Instance fresh;
    try {
      fresh = launcher.start(version);
    } catch (IOException e) {
      // the launcher has logged it
      throw LambdaError.service("Kiln could not start an instance of the function: " + e);
    }
    all.add(fresh);
    fresh.claim();
    // if the pool was retired while this one started, it still runs this event; giving it back
    // then stops it
    return new Lease(this, fresh, true);
  }

  void giveBack(Instance instance) {
    boolean keyLasts = keyLastsAnInvocation(instance);
    boolean keep;
    boolean rotate;
    synchronized (this) {
      rotate = !retired && !keyLasts;
      keep = !retired && keyLasts && instance.release(clock.instant());
      if (keep) {
        idle.addFirst(instance);
      }
    }
    if (rotate) {
      rotate(instance);
    } else if (!keep) {
      all.remove(instance);
      stopInBackground(instance, "retired");
    }
  }

  /** Whether an invocation that starts now would end before the instance's key does. */
  private boolean keyLastsAnInvocation(Instance instance) {
    return instance.keyGoodAt(clock.instant().plus(keyReserve()));
  }

  /** What must be left of an instance's key when an invocation starts on it. */
  private Duration keyReserve() {
    return Duration.ofSeconds(version.config().timeout()).plus(KEY_MARGIN);
  }

  /**
   * Stops an instance out of the pool (not in the idle stack) because its key is about to end; a
   * provisioned one is replaced at once.
   */
  private void rotate(Instance instance) {
    LOG.debug("retiring instance {} of {}: its credentials end soon", instance.id(), version.key());
    all.remove(instance);
    boolean wasProvisioned = provisioned.remove(instance);
    handingOver.remove(instance);
    stopInBackground(instance, "credentials expiring");
    if (wasProvisioned) {
      topUp();
    }
  }

  /**
   * Stops instances idle since before {@code now - keepAlive}, except provisioned ones, and idle
   * instances whose key ends soon (see Rotation), provisioned ones too; returns how many.
   */
  int reapIdle(Duration keepAlive) {
    Instant cutoff = clock.instant().minus(keepAlive);
    List<Instance> expired = new ArrayList<>();
    List<Instance> keyEnding = new ArrayList<>();
    synchronized (this) {
      for (var it = idle.iterator(); it.hasNext(); ) {
        Instance i = it.next();
        if (!keyLastsAnInvocation(i)) {
          it.remove();
          keyEnding.add(i);
        }
      }
      // the oldest idle instances are at the bottom of the stack
      for (var it = idle.descendingIterator(); it.hasNext(); ) {
        Instance i = it.next();
        if (!i.idleSince().isBefore(cutoff)) {
          break;
        }
        if (!provisioned.contains(i)) {
          it.remove();
          expired.add(i);
        }
      }
    }
    for (Instance i : expired) {
      all.remove(i);
      LOG.debug("reaping instance {} of {} (idle past keep-alive)", i.id(), version.key());
      stopInBackground(i, "idle past keep-alive");
    }
    keyEnding.forEach(this::rotate);
    handOver();
    return expired.size() + keyEnding.size();
  }

  /**
   * Adds this pool's idle instances to {@code out}, for the {@link ScaleGate} to stop the least
   * recently used of them when a start needs their memory; provisioned ones are marked so.
   */
  void idleInstances(List<ScaleGate.IdleInstance> out) {
    int memory = version.config().memorySize();
    synchronized (this) {
      for (Instance i : idle) {
        if (i.state() == Instance.State.IDLE) {
          out.add(
              new ScaleGate.IdleInstance(
                  i,
                  version.name(),
                  i.idleSince(),
                  memory,
                  provisioned.contains(i),
                  () -> stopToMakeRoom(i),
                  i.onExit()));
        }
      }
    }
  }

  /**
   * Stops an idle on-demand instance because a start elsewhere needs its memory; false if it is no
   * longer in the idle stack (handed out, stopped) or has become provisioned meanwhile.
   */
  private boolean stopToMakeRoom(Instance instance) {
    synchronized (this) {
      if (provisioned.contains(instance) || !idle.remove(instance)) {
        return false;
      }
    }
    all.remove(instance);
    LOG.debug("stopping idle instance {} of {} to make room", instance.id(), version.key());
    stopInBackground(instance, "stopped to make room for another instance");
    return true;
  }

  /** Freezes instances idle since before {@code now - after}; returns how many it froze. */
  int freezeIdle(Duration after) {
    Instant cutoff = clock.instant().minus(after);
    List<Instance> candidates;
    synchronized (this) {
      candidates =
          idle.stream().filter(i -> i.idleSince().isBefore(cutoff) && !i.isFrozen()).toList();
    }
    candidates.forEach(Instance::freezeIfIdle);
    return (int) candidates.stream().filter(Instance::isFrozen).count();
  }

  // ---- provisioned concurrency --------------------------------------------------------------

  /**
   * Keeps {@code target} instances initialised ahead of demand; 0 ends provisioning (the instances
   * it kept become ordinary ones, reaped when idle past the keep-alive).
   */
  void provision(int target) {
    List<Instance> released = new ArrayList<>();
    synchronized (this) {
      provisionTarget = target;
      provisionFailures = 0;
      provisionFailure = null;
      for (Instance i : provisioned) {
        if (provisioned.size() - released.size() > target) {
          released.add(i);
        }
      }
      released.forEach(provisioned::remove);
      handingOver.retainAll(provisioned);
    }
    topUp();
  }

  /** Provisioned instances that are initialised and alive now. */
  int provisionedReady() {
    long ready =
        provisioned.stream()
            .filter(i -> i.initialised().isDone() && i.state() != Instance.State.DEAD)
            .count();
    // while a replacement starts, the one it replaces still serves: no more than asked for
    return (int) Math.min(ready, provisionTarget);
  }

  /** Why provisioning stopped, when instances kept failing to initialise. */
  synchronized java.util.Optional<String> provisionFailure() {
    return java.util.Optional.ofNullable(provisionFailure);
  }

  /** Starts the replacements of provisioned instances past their hand-over point. */
  private void handOver() {
    Duration reserve = keyReserve();
    boolean started = false;
    synchronized (this) {
      for (Instance i : provisioned) {
        if (!handingOver.contains(i)
            && i.initialised().isDone()
            && i.dueForHandover(clock.instant(), reserve)) {
          LOG.debug("instance {} of {} hands over to a new one", i.id(), version.key());
          handingOver.add(i);
          started = true;
        }
      }
    }
    if (started) {
      topUp();
    }
  }

  /** A replacement has initialised: an instance it replaces leaves the provisioned ones. */
  private synchronized void handedOver() {
    var it = handingOver.iterator();
    if (it.hasNext()) {
      Instance old = it.next();
      it.remove();
      provisioned.remove(old);
    }
  }

  private void topUp() {
    int missing;
    synchronized (this) {
      if (retired || provisionFailure != null) {
        return;
      }
      // those handing over stay until their replacements are up, and are not counted here
      missing = provisionTarget - (provisioned.size() - handingOver.size()) - provisionStarting;
      if (missing <= 0) {
        return;
      }
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
      }
      failed("an instance could not be started: " + e.getMessage());
      java.util.concurrent.CompletableFuture.delayedExecutor(
              1, java.util.concurrent.TimeUnit.SECONDS, background)
          .execute(this::topUp);
      return;
    }
    synchronized (this) {
      provisionStarting--;
      if (retired) {
        // retired (or shut down) while it started: it has no place here
        fresh.kill("retired", org.slf4j.event.Level.DEBUG);
        fresh.removeFiles();
        return;
      }
      all.add(fresh);
      provisioned.add(fresh);
    }
    fresh
        .onExit()
        .thenRun(
            () -> {
              boolean mine = provisioned.remove(fresh);
              handingOver.remove(fresh);
              if (!fresh.initialised().isDone()) {
                failed("the runtime exited before it initialised");
              }
              if (mine) {
                synchronized (this) {
                  idle.remove(fresh);
                }
                all.remove(fresh);
                // its last invocation may still be written up (it ends at the runtime's exit)
                fresh.settled().thenRun(fresh::removeFiles);
                topUp(); // replace it
              }
            });
    fresh
        .initialised()
        .thenRun(
            () -> {
              synchronized (this) {
                provisionFailures = 0;
                if (!retired && fresh.becomeIdle(clock.instant())) {
                  idle.addFirst(fresh);
                }
                handedOver();
              }
            });
  }

  private synchronized void failed(String why) {
    if (++provisionFailures >= MAX_PROVISION_FAILURES && provisionTarget > 0) {
      provisionFailure = why;
    }
  }

  /**
   * Hands out nothing more; idle instances stop now, in the background (their extensions may take
   * up to two seconds over {@code SHUTDOWN}), busy ones when their invocation ends.
   */
  void retire() {
    for (Instance i : takeIdle()) {
      stopInBackground(i, "retired");
    }
  }

  /** Graceful stops under way (SHUTDOWN to extensions, SIGTERM, grace), each on its own thread. */
  private final Set<CompletableFuture<Void>> stopping = ConcurrentHashMap.newKeySet();

  /**
   * Stops an instance gracefully without holding up the caller: its extensions may take up to two
   * seconds over {@code SHUTDOWN}, the runtime half a second over SIGTERM.
   */
  private void stopInBackground(Instance instance, String cause) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    stopping.add(done);
    Thread.ofVirtual()
        .name("stop-" + instance.id())
        .start(
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
          .get(atMost.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
      // what is left is killed with the server's own process tree
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** No instance left, running or stopping. */
  boolean drained() {
    return all.isEmpty() && stopping.isEmpty();
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
  private List<Instance> takeIdle() {
    List<Instance> idleNow;
    synchronized (this) {
      retired = true;
      provisioned.clear();
      idleNow = new ArrayList<>(idle);
      idle.clear();
    }
    all.removeAll(idleNow);
    return idleNow;
  }

  /**
   * Stops every instance: those not running an invocation gracefully (their extensions get {@code
   * SHUTDOWN}, the runtime SIGTERM), all at once; those running one are killed, their invocations
   * failing with {@code cause}.
   */
  void stopAll(String cause) {
    List<Instance> instances = new ArrayList<>(takeIdle());
    instances.addAll(all);
    try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (Instance i : instances) {
        threads.submit(
            () -> {
              if (!i.running()) {
                i.terminate(cause);
              } else {
                i.kill(cause, org.slf4j.event.Level.DEBUG);
              }
              i.removeFiles();
              all.remove(i);
            });
      }
    }
  }

  synchronized int idleCount() {
    return idle.size();
  }

  int size() {
    return all.size();
  }

  /** This pool's instances by state, as {@code counts} is added to. */
  void countByState(java.util.Map<Instance.State, Integer> counts) {
    for (Instance i : all) {
      counts.merge(i.state(), 1, Integer::sum);
    }
  }

  /** Provisioned concurrency as it stands: asked for, initialised, and running an invocation. */
  record Provisioned(int allocated, int ready, int busy) {}

  Provisioned provisionedNow() {
    int allocated;
    synchronized (this) {
      allocated = provisionTarget;
    }
    int ready = 0;
    int busy = 0;
    for (Instance i : provisioned) {
      if (i.initialised().isDone() && i.state() != Instance.State.DEAD) {
        ready++;
        if (i.state() == Instance.State.BUSY) {
          busy++;
        }
      }
    }
    return new Provisioned(allocated, ready, busy);
  }

  synchronized boolean isRetired() {
    return retired;
  }
}
