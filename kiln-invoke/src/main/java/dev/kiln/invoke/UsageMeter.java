package dev.kiln.invoke;

import dev.kiln.store.UsageStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Metering: every invocation's billed duration (rounded up to the millisecond, as the REPORT line
 * says) times its memory, and one request, added up per function and hour in memory and written to
 * the usage store every few seconds and at shutdown. An invocation pays a few adds; a crash of Kiln
 * loses at most the last few seconds of use.
 *
 * <p>Besides requests and duration it meters what else AWS bills: the duration of invocations that
 * ran on provisioned instances (billed at a lower price), the provisioned concurrency kept (the
 * concurrency asked for times MemorySize times how long it was asked for, used or not, as AWS bills
 * it: each change of level and each flush adds the time since the last one at the level then), and
 * ephemeral storage configured above the free 512 MB times billed duration.
 *
 * <p>Threads: the flusher, which writes to the store every {@link #FLUSH_EVERY}, is made by the
 * {@link java.util.concurrent.ThreadFactory} the meter is built with ({@link Builder#threads}); by
 * default the builder's platform daemon thread named {@code kiln-usage}. {@link #NONE} has none.
 * The tallies are adders in a concurrent map, so any thread may record; {@link #provisioned} and
 * {@link #flush} take the meter's monitor, which guards the provisioned levels.
 */
public final class UsageMeter implements AutoCloseable {

  public static final UsageMeter NONE =
      new UsageMeter(null, java.time.InstantSource.system(), null);

  private static final Logger LOG = LoggerFactory.getLogger(UsageMeter.class);
  private static final Duration FLUSH_EVERY = Duration.ofSeconds(2);
  private static final long HOUR = Duration.ofHours(1).toMillis();

  /** Ephemeral storage up to this is free, as on AWS. */
  static final int FREE_STORAGE_MB = 512;

  private record Key(String function, long hour) {}

  private record Tally(
      LongAdder requests,
      LongAdder mbMs,
      LongAdder provisionedDurationMbMs,
      LongAdder provisionedMbMs,
      LongAdder storageMbMs) {}

  private final UsageStore store;
  private final ConcurrentHashMap<Key, Tally> pending = new ConcurrentHashMap<>();
  private final Thread flusher;
  private volatile boolean closing;

  /** Provisioned concurrency kept now, per function version, and since when it was metered. */
  private record Level(String function, int memoryMb, int count, long sinceMillis) {}

  private final Map<String, Level> provisioned = new java.util.HashMap<>();

  /** The wall clock that usage is accrued and stamped by. */
  private final java.time.InstantSource clock;

  /** A meter that writes to {@code store}, started when built; by default on the system's clock. */
  public static Builder builder(UsageStore store) {
    return new Builder(store);
  }

  /** See {@link UsageMeter#builder}. */
  public static final class Builder {
    private final UsageStore store;
    private java.time.InstantSource clock = java.time.InstantSource.system();
    private java.util.concurrent.ThreadFactory threads;

    private Builder(UsageStore store) {
      this.store = java.util.Objects.requireNonNull(store, "store");
    }

    /** The wall clock that usage is accrued and stamped by. */
    public Builder clock(java.time.InstantSource clock) {
      this.clock = clock;
      return this;
    }

    /**
     * What makes the flusher's thread, which runs until {@link #close}; by default a platform
     * daemon thread named {@code kiln-usage}.
     */
    public Builder threads(java.util.concurrent.ThreadFactory threads) {
      this.threads = threads;
      return this;
    }

    public UsageMeter build() {
      return new UsageMeter(
          store,
          clock,
          threads != null ? threads : Thread.ofPlatform().name("kiln-usage").daemon().factory());
    }
  }

  /** Without a store ({@link #NONE}) the meter counts nothing and has no thread. */
  private UsageMeter(
      UsageStore store, java.time.InstantSource clock, java.util.concurrent.ThreadFactory threads) {
    this.store = store;
    this.clock = clock;
    if (store == null) {
      this.flusher = null;
    } else {
      this.flusher = threads.newThread(this::run);
      flusher.start();
    }
  }

  /**
   * The provisioned concurrency of version {@code key} of {@code function} is now {@code count}
   * instances of {@code memoryMb}; 0 when it ends.
   */
  synchronized void provisioned(String key, String function, int memoryMb, int count) {
    long now = clock.millis();
    accrue(now);
    if (count > 0) {
      provisioned.put(key, new Level(function, memoryMb, count, now));
    } else {
      provisioned.remove(key);
    }
  }

  /**
   * One invocation of {@code function}, billed {@code billedMs} at {@code memoryMb}, with {@code
   * storageMb} of ephemeral storage, on a provisioned instance or not. Whatever runs an invocation
   * to its end meters it here, once (today each {@code Instance}). A few adds to the tally of the
   * function's hour (found in a concurrent map), which the flusher writes to the store; safe from
   * any thread.
   *
   * @param endedAtMillis when it ended, epoch milliseconds: the hour it is metered in
   */
  public void record(
      String function,
      long endedAtMillis,
      long billedMs,
      int memoryMb,
      int storageMb,
      boolean onProvisioned) {
    if (store == null) {
      return;
    }
    Tally t = tally(function, endedAtMillis);
    t.requests().increment();
    t.mbMs().add(billedMs * memoryMb);
    if (onProvisioned) {
      t.provisionedDurationMbMs().add(billedMs * memoryMb);
    }
    if (storageMb > FREE_STORAGE_MB) {
      t.storageMbMs().add(billedMs * (storageMb - FREE_STORAGE_MB));
    }
  }

  private Tally tally(String function, long atMillis) {
    return pending.computeIfAbsent(
        new Key(function, atMillis - atMillis % HOUR),
        k ->
            new Tally(
                new LongAdder(),
                new LongAdder(),
                new LongAdder(),
                new LongAdder(),
                new LongAdder()));
  }

  private void run() {
    while (!closing) {
      try {
        Thread.sleep(FLUSH_EVERY);
      } catch (InterruptedException e) {
        return;
      }
      flush();
    }
  }

  /** Adds the provisioned concurrency kept from each level's start until {@code now}. */
  private void accrue(long now) {
    for (Map.Entry<String, Level> e : provisioned.entrySet()) {
      Level l = e.getValue();
      if (now > l.sinceMillis()) {
        tally(l.function(), now)
            .provisionedMbMs()
            .add((now - l.sinceMillis()) * l.count() * (long) l.memoryMb());
        e.setValue(new Level(l.function(), l.memoryMb(), l.count(), now));
      }
    }
  }

  /** Writes what was counted since the last flush. */
  public synchronized void flush() {
    if (store == null) {
      return;
    }
    accrue(clock.millis());
    List<UsageStore.Increment> out = new ArrayList<>();
    for (Map.Entry<Key, Tally> e : pending.entrySet()) {
      Tally t = e.getValue();
      UsageStore.Increment i =
          new UsageStore.Increment(
              e.getKey().function(),
              e.getKey().hour(),
              t.requests().sumThenReset(),
              t.mbMs().sumThenReset(),
              t.provisionedDurationMbMs().sumThenReset(),
              t.provisionedMbMs().sumThenReset(),
              t.storageMbMs().sumThenReset());
      if (i.requests() > 0 || i.mbMs() > 0 || i.provisionedMbMs() > 0 || i.storageMbMs() > 0) {
        out.add(i);
      }
    }
    try {
      store.add(out);
    } catch (RuntimeException e) {
      LOG.error("cannot record usage", e);
    }
  }

  @Override
  public void close() {
    closing = true;
    if (flusher != null) {
      flusher.interrupt();
      try {
        flusher.join(Duration.ofSeconds(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    flush();
  }
}
