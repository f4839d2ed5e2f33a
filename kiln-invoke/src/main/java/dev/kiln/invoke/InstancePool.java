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
 */
final class InstancePool {

  private static final Logger LOG = LoggerFactory.getLogger(InstancePool.class);

  private final FunctionVersion version;
  private final InstanceLauncher launcher;
  private final InstantSource clock;
  private final Deque<Instance> idle = new ArrayDeque<>();
  private final Set<Instance> all = ConcurrentHashMap.newKeySet();
  private boolean retired;

  InstancePool(FunctionVersion version, InstanceLauncher launcher, InstantSource clock) {
    this.version = version;
    this.launcher = launcher;
    this.clock = clock;
  }

  FunctionVersion version() {
    return version;
  }

  /** An instance for one invocation: the warmest idle one, or a new one. */
  Lease acquire() {
    while (true) {
      Instance instance;
      synchronized (this) {
        if (retired) {
          return null;
        }
        instance = idle.pollFirst();
      }
      if (instance == null) {
        break;
      }
      if (instance.claim()) {
        return new Lease(this, instance, false);
      }
      all.remove(instance);
      instance.removeFiles();
    }
    Instance fresh;
    try {
      fresh = launcher.start(version);
    } catch (IOException e) {
      LOG.error("could not start an instance of {}", version.key(), e);
      throw LambdaError.service("Kiln could not start an instance of the function: " + e);
    }
    all.add(fresh);
    fresh.claim();
    // if the pool was retired while this one started, it still runs this event; giving it back
    // then stops it
    return new Lease(this, fresh, true);
  }

  void giveBack(Instance instance) {
    boolean keep;
    synchronized (this) {
      keep = !retired && instance.release(clock.instant());
      if (keep) {
        idle.addFirst(instance);
      }
    }
    if (!keep) {
      all.remove(instance);
      instance.terminate("retired");
      instance.removeFiles();
    }
  }

  /** Stops instances idle since before {@code now - keepAlive}; returns how many. */
  int reapIdle(Duration keepAlive) {
    Instant cutoff = clock.instant().minus(keepAlive);
    List<Instance> expired = new ArrayList<>();
    synchronized (this) {
      // the oldest idle instances are at the bottom of the stack
      while (!idle.isEmpty() && idle.peekLast().idleSince().isBefore(cutoff)) {
        expired.add(idle.pollLast());
      }
    }
    for (Instance i : expired) {
      all.remove(i);
      LOG.debug("reaping instance {} of {} (idle past keep-alive)", i.id(), version.key());
      i.terminate("idle past keep-alive");
      i.removeFiles();
    }
    return expired.size();
  }

  /** Hands out nothing more; idle instances stop now, busy ones when their invocation ends. */
  void retire() {
    List<Instance> idleNow;
    synchronized (this) {
      retired = true;
      idleNow = new ArrayList<>(idle);
      idle.clear();
    }
    for (Instance i : idleNow) {
      all.remove(i);
      i.terminate("retired");
      i.removeFiles();
    }
  }

  /** Kills every instance, busy or not (shutdown). */
  void killAll(String cause) {
    retire();
    for (Instance i : List.copyOf(all)) {
      i.kill(cause);
      i.removeFiles();
      all.remove(i);
    }
  }

  synchronized int idleCount() {
    return idle.size();
  }

  int size() {
    return all.size();
  }

  synchronized boolean isRetired() {
    return retired;
  }
}
