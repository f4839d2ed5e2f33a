package dev.kiln.invoke;

import dev.kiln.model.LambdaError;
import dev.kiln.time.Ticker;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * What every new instance must pass before it starts: the function's scale-out rate, and room on
 * the host.
 *
 * <p><b>Scale-out rate.</b> As on Lambda, a function may add at most a fixed number of instances
 * per 10 seconds (Lambda's is 1000): a token bucket per function, full at start, that refills
 * continuously. A burst beyond it is throttled (429, {@code FunctionInvocationRateLimitExceeded},
 * with a {@code Retry-After} of the seconds until the next token) instead of forking the host to
 * death.
 *
 * <p><b>Starts at once.</b> A start costs the host CPU until its runtime is ready, and a host that
 * starts more at once than its cores can carry finishes none of them soon: 200 Python starts at
 * once on 2 cores were all ready only after 20 s, and 200 JVMs timed out. So only {@code
 * startsAtOnce} on-demand starts run at a time (four per core by default); the calls beyond wait in
 * their pool's line, where the first instances ready serve them (see {@link InstancePool}).
 * Provisioned starts, in the background, are not counted. The count is an atomic outside the gate's
 * monitor.
 *
 * <p><b>Host capacity.</b> Each instance reserves its function's {@code MemorySize} of the host's
 * instance memory before it starts, and gives it back when its processes are gone, so Kiln never
 * overcommits the machine.
 *
 * <p><b>Making room.</b> Idle instances hold their memory too, but, as on Lambda, they never keep a
 * new instance from starting. The gate is the one owner of that decision: a start that does not fit
 * stops the least recently used idle instances across all functions' pools ({@link
 * #leastRecentlyUsed}), never provisioned ones and never busy or starting ones, until what they
 * hold covers the shortfall, and waits for their processes to be gone (a graceful stop is bounded
 * by its own grace periods). Memory of instances already being stopped for a start counts as on its
 * way back, so two starts do not stop instances for the same shortfall. Only when busy, starting
 * and provisioned instances really hold the memory does a start wait a bounded time (an instance
 * may end, or another may go idle and be stopped), then get throttled.
 *
 * <p><b>Locking.</b> The gate's monitor guards the token buckets, {@code reservedMb} and the
 * instances it is stopping ({@code stopping}); a start that waits for room waits on it. While
 * holding it the gate takes one pool's monitor at a time (to list a pool's idle instances and to
 * take one out of its idle stack), never two; no pool calls into the gate while holding its own
 * monitor (instances are started, and their memory given back, outside any pool's monitor), so the
 * order is always gate, then one pool, and cannot deadlock. An instance the gate took out of an
 * idle stack under that pool's monitor can no longer be handed out, so it is the gate's to stop.
 */
public final class ScaleGate {

  static final Duration RATE_WINDOW = Duration.ofSeconds(10);

  private final int instancesPerWindow;
  private final int startsAtOnce;

  /** On-demand starts under way; an atomic of its own, outside the gate's monitor. */
  private final java.util.concurrent.atomic.AtomicInteger starting =
      new java.util.concurrent.atomic.AtomicInteger();

  private final long capacityMb;
  private final Duration capacityWait;
  private final InstantSource clock;
  private final Ticker ticker;
  private final Map<String, Bucket> buckets = new HashMap<>();
  private long reservedMb;

  /** Instances the gate is stopping to make room, with the memory each will give back. */
  private final Map<Object, Integer> stopping = new HashMap<>();

  /** Where idle instances are found: the invoker's pools; none until it says. */
  private Supplier<List<IdleInstance>> idleInstances = List::of;

  /** How long a waiting start sleeps before it looks again for idle instances to stop. */
  private static final long RECHECK_MILLIS = 100;

  /**
   * An idle instance the gate may stop: on-demand, in a pool's idle stack since {@code idleSince}.
   * {@code stop} takes it out of its pool's idle stack and stops it in the background, and is false
   * if it was handed out (or died) meanwhile; {@code gone} completes when its processes are.
   */
  record IdleInstance(
      Object instance,
      String function,
      Instant idleSince,
      int memoryMb,
      boolean provisioned,
      BooleanSupplier stop,
      java.util.concurrent.Future<?> gone) {}

  private static final class Bucket {
    double tokens;
    long lastNanos;
  }

  /**
   * @param instancesPerWindow new instances a function may start per 10 seconds
   * @param capacityMb memory the host gives to instances, in MB
   * @param capacityWait how long a start may wait for room before it is throttled
   * @param clock the wall clock the start tokens refill by
   * @param ticker the monotonic clock a start's wait for room is measured by
   */
  public ScaleGate(
      int instancesPerWindow,
      long capacityMb,
      Duration capacityWait,
      InstantSource clock,
      Ticker ticker) {
    this(instancesPerWindow, capacityMb, capacityWait, Integer.MAX_VALUE, clock, ticker);
  }

  /**
   * @param startsAtOnce on-demand starts the host runs at once, each from its spawn to its
   *     runtime's first request for an event (see Starts at once)
   */
  public ScaleGate(
      int instancesPerWindow,
      long capacityMb,
      Duration capacityWait,
      int startsAtOnce,
      InstantSource clock,
      Ticker ticker) {
    if (startsAtOnce < 1) {
      throw new IllegalArgumentException("at least one start at a time is needed");
    }
    this.startsAtOnce = startsAtOnce;
    if (instancesPerWindow < 1 || capacityMb < 128) {
      throw new IllegalArgumentException("a scale-out rate of at least 1 and 128 MB are needed");
    }
    this.instancesPerWindow = instancesPerWindow;
    this.capacityMb = capacityMb;
    this.capacityWait = capacityWait;
    this.clock = clock;
    this.ticker = ticker;
  }

  /** No limit to speak of: an invoker built without a gate has this one. */
  public static ScaleGate unlimited(InstantSource clock, Ticker ticker) {
    return new ScaleGate(1_000_000, Long.MAX_VALUE / 2, Duration.ZERO, clock, ticker);
  }

  /** Starts the host runs at once by default: four per core. */
  public static int defaultStartsAtOnce() {
    return 4 * Runtime.getRuntime().availableProcessors();
  }

  /**
   * A slot for one on-demand start, held from before its spawn until its runtime is ready (or it
   * failed, or was not needed): false when {@code startsAtOnce} are under way. Takes no lock, so a
   * pool may ask while holding its own monitor.
   */
  boolean tryBeginStart() {
    while (true) {
      int now = starting.get();
      if (now >= startsAtOnce) {
        return false;
      }
      if (starting.compareAndSet(now, now + 1)) {
        return true;
      }
    }
  }

  /** Gives back a slot taken by {@link #tryBeginStart}. */
  void startEnded() {
    starting.decrementAndGet();
  }

  public long capacityMb() {
    return capacityMb;
  }

  public synchronized long reservedMb() {
    return reservedMb;
  }

  /** Where the gate finds idle instances to stop when a start needs their memory. */
  synchronized void reclaimFrom(Supplier<List<IdleInstance>> idleInstances) {
    this.idleInstances = idleInstances;
  }

  /**
   * Which idle instances to stop so that {@code neededMb} more is free: the least recently used
   * first, across all functions, provisioned ones never; none when even all of them would not be
   * enough (stopping them would not let the start happen).
   */
  static List<IdleInstance> leastRecentlyUsed(List<IdleInstance> idle, long neededMb) {
    List<IdleInstance> candidates =
        idle.stream()
            .filter(i -> !i.provisioned())
            .sorted(Comparator.comparing(IdleInstance::idleSince))
            .toList();
    List<IdleInstance> chosen = new ArrayList<>();
    long freed = 0;
    for (IdleInstance i : candidates) {
      if (freed >= neededMb) {
        break;
      }
      chosen.add(i);
      freed += i.memoryMb();
    }
    return freed >= neededMb ? chosen : List.of();
  }

  /**
   * Takes a start token of {@code function} and reserves {@code memoryMb}; throws 429 when either
   * cannot be had. {@link #release} the memory when the instance is gone.
   */
  public void admit(String function, int memoryMb) {
    admit(function, memoryMb, () -> true);
  }

  /**
   * As {@link #admit(String, int)}, for a start that may stop being needed while it waits for room
   * (the call it was for was served by another instance): false, with its token given back and
   * nothing reserved, once {@code wanted} says so.
   */
  public boolean admit(String function, int memoryMb, BooleanSupplier wanted) {
    synchronized (this) {
      takeToken(function);
    }
    long deadline = ticker.read() + capacityWait.toNanos();
    synchronized (this) {
      while (reservedMb + memoryMb > capacityMb) {
        if (!wanted.getAsBoolean()) {
          buckets.get(function).tokens += 1;
          return false;
        }
        // what the instances being stopped already give back does not need stopping again
        long shortfall = reservedMb + memoryMb - capacityMb - stoppingMb();
        if (shortfall > 0) {
          stopIdle(shortfall);
        }
        long left = deadline - ticker.read();
        if (left <= 0 && stopping.isEmpty()) {
          throw LambdaError.tooManyRequests(
              "Rate Exceeded. Kiln's host has no memory left for another "
                  + memoryMb
                  + " MB instance ("
                  + reservedMb
                  + " of "
                  + capacityMb
                  + " MB are held by instances that are busy, starting or provisioned, and idle"
                  + " ones would not free enough).",
              "ConcurrentInvocationLimitExceeded",
              ConcurrencyBudget.RETRY_AFTER_SECONDS);
        }
        try {
          // past the deadline only while stopped instances are on their way out
          wait(left > 0 ? Math.max(1, Math.min(RECHECK_MILLIS, left / 1_000_000)) : RECHECK_MILLIS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw LambdaError.unavailable("interrupted while waiting for room on the host");
        }
      }
      reservedMb += memoryMb;
    }
    return true;
  }

  /** Stops idle instances that hold at least {@code neededMb}, if there are enough of them. */
  private void stopIdle(long neededMb) {
    List<IdleInstance> idle =
        idleInstances.get().stream().filter(i -> !stopping.containsKey(i.instance())).toList();
    for (IdleInstance victim : leastRecentlyUsed(idle, neededMb)) {
      // given back through release(memory, instance) once its processes are gone; one already
      // gone has given its memory back, or is about to under this monitor
      if (victim.stop().getAsBoolean() && !victim.gone().isDone()) {
        stopping.put(victim.instance(), victim.memoryMb());
      }
    }
  }

  private long stoppingMb() {
    long sum = 0;
    for (int mb : stopping.values()) {
      sum += mb;
    }
    return sum;
  }

  /** Gives back what an instance reserved. */
  public synchronized void release(int memoryMb) {
    reservedMb -= memoryMb;
    notifyAll();
  }

  /** Gives back what {@code instance} reserved, once its processes are gone. */
  synchronized void release(int memoryMb, Object instance) {
    stopping.remove(instance);
    release(memoryMb);
  }

  /** Whole seconds until a bucket holding {@code tokens} (less than one) has a token again. */
  private long secondsUntilAToken(double tokens) {
    double seconds = (1 - tokens) * RATE_WINDOW.toSeconds() / instancesPerWindow;
    return Math.max(1, (long) Math.ceil(seconds));
  }

  private void takeToken(String function) {
    long now = clock.millis() * 1_000_000;
    Bucket b =
        buckets.computeIfAbsent(
            function,
            f -> {
              Bucket fresh = new Bucket();
              fresh.tokens = instancesPerWindow;
              fresh.lastNanos = now;
              return fresh;
            });
    double refill = (double) (now - b.lastNanos) / RATE_WINDOW.toNanos() * instancesPerWindow;
    b.tokens = Math.min(instancesPerWindow, b.tokens + refill);
    b.lastNanos = now;
    if (b.tokens < 1) {
      throw LambdaError.tooManyRequests(
          "Rate Exceeded. Function "
              + function
              + " may start at most "
              + instancesPerWindow
              + " new instances per 10 seconds.",
          "FunctionInvocationRateLimitExceeded",
          Long.toString(secondsUntilAToken(b.tokens)));
    }
    b.tokens -= 1;
  }
}
