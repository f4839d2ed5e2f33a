package dev.kiln.sandbox;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ready-made resources of one kind (network namespaces, formatted and mounted {@code /tmp} disks)
 * kept aside so that an instance that starts takes one instead of waiting for it to be made: making
 * and later undoing one costs 50–65 ms of CPU on this 2-core VM (a namespace is three {@code ip}
 * runs, a disk a {@code mount} and an {@code umount}), a large part of a cold start, and in a burst
 * the makes of many instances at once queue behind each other.
 *
 * <p><b>How many.</b> As many as instances took in the busiest {@link #WINDOW_NANOS} (ten seconds)
 * of the last {@link #RECALL_NANOS} (five minutes), at least {@link #MIN_READY} and at most {@link
 * #MAX_READY}. A burst takes the ready ones and makes its own beyond them; the next burst within
 * five minutes finds as many ready as the last one took, so its starts do not queue for parts made
 * on demand (a start that waits for its namespace and disk in a burst waited 0.3 s for each, on two
 * cores); a server quiet for five minutes is back to one. What the takes leave missing is made in
 * the background, several at once on the executor, once the takes pause for {@link
 * #REFILL_DELAY_MS}: not while a burst's starts go on, whose CPU the makes would take (a burst that
 * finds its parts ready, and remakes them as it goes, is no quicker than one that makes its own;
 * BENCHMARKS.md), and not on the path of the instance that is starting. A take that finds none
 * ready makes its own. A check a second after the takes stop (and again while any are left above
 * the target) undoes the ready ones beyond what the target still asks for. A resource is never
 * given back to a pool: each is made new, so none carries anything from an instance to the next (a
 * namespace keeps its interface and protocol counters, its TCP metrics cache and its sockets in
 * TIME_WAIT, which the next instance could read; docs/sandbox.md). A ready pair of namespace and
 * disk costs about 1 MB of the host's memory, most of it page cache.
 *
 * <p><b>Locking.</b> The ready ones are a lock-free deque, the ones being made a counter; the
 * spare's monitor is held only to count what is missing and hand out its makes (so that two refills
 * do not both make it), {@link TakeCounts}' own monitor only to count a take or read the counts,
 * and {@code makesDone}'s only to count a make done and wake {@link #close}, which waits on it.
 * Nothing slow runs under any of them. A take racing a refill can leave one fewer than the target
 * for a moment, which the next refill puts right.
 */
final class Spare<T> {

  private static final Logger LOG = LoggerFactory.getLogger(Spare.class);

  /** Makes a resource. */
  interface Maker<T> {
    T make() throws IOException;
  }

  /** Undoes a resource that was made but will not be used. */
  interface Destroyer<T> {
    void destroy(T resource);
  }

  /** The pause in takes after which what they took is made again. */
  private static final long REFILL_DELAY_MS = 300;

  /** The window over which takes are counted. */
  static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(10);

  /** How long the busiest window is remembered. */
  static final long RECALL_NANOS = TimeUnit.MINUTES.toNanos(5);

  /** How soon after the last take the surplus is first looked for. */
  private static final long TRIM_DELAY_MS = 1000;

  /** How long {@link #close} waits for the ones being made. */
  private static final long CLOSE_WAIT_MS = 10_000;

  /** Kept ready when nothing is taken. */
  static final int MIN_READY = 1;

  /** Kept ready at most, however fast they are taken. */
  static final int MAX_READY = 64;

  private final String what;
  private final Maker<T> maker;
  private final Destroyer<T> destroyer;
  private final Executor executor;
  private final LongSupplier nanoTime;
  private final ConcurrentLinkedDeque<T> ready = new ConcurrentLinkedDeque<>();
  private final AtomicInteger making = new AtomicInteger();

  /** Notified when the last make under way is ready or undone; guards nothing else. */
  private final Object makesDone = new Object();

  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean trimScheduled = new AtomicBoolean();

  private final TakeCounts takes = new TakeCounts();

  /** Takes so far: a refill scheduled by a take that another take has followed leaves it be. */
  private final AtomicLong takeCount = new AtomicLong();

  Spare(String what, Maker<T> maker, Destroyer<T> destroyer, Executor executor) {
    this(what, maker, destroyer, executor, System::nanoTime);
  }

  Spare(
      String what,
      Maker<T> maker,
      Destroyer<T> destroyer,
      Executor executor,
      LongSupplier nanoTime) {
    this.what = what;
    this.maker = maker;
    this.destroyer = destroyer;
    this.executor = executor;
    this.nanoTime = nanoTime;
  }

  /**
   * A ready one if there is one, else one made now; either way, what the take rate asks for is made
   * for later, a moment later.
   */
  T take() throws IOException {
    T taken = takeReady();
    return taken != null ? taken : maker.make();
  }

  /**
   * A ready one, or null if there is none (the caller makes its own, as it likes); counted as a
   * take either way, and what the take rate asks for is made for later, a moment later.
   */
  T takeReady() {
    T taken = ready.pollFirst();
    takes.add(nanoTime.getAsLong());
    long count = takeCount.incrementAndGet();
    later(
        REFILL_DELAY_MS,
        () -> {
          if (takeCount.get() == count) {
            refillNow();
          }
        });
    scheduleTrim();
    return taken;
  }

  /** Makes in the background what the take rate asks for. */
  void refill() {
    executor.execute(this::refillNow);
  }

  /** How many should be ready now: the takes of the busiest recent window, within bounds. */
  int target() {
    return Math.clamp(takes.busiest(nanoTime.getAsLong()), MIN_READY, MAX_READY);
  }

  /** How many are ready now. */
  int ready() {
    return ready.size();
  }

  private synchronized void refillNow() {
    int missing = target() - ready.size() - making.get();
    for (int i = 0; i < missing && !closed.get(); i++) {
      making.incrementAndGet();
      try {
        executor.execute(this::makeOne);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        makeEnded(); // the executor is shutting down: nothing more will be made
        return;
      }
    }
  }

  private void makeOne() {
    try {
      if (closed.get()) {
        return;
      }
      T made;
      try {
        made = maker.make();
      } catch (IOException | RuntimeException e) {
        LOG.debug("could not make a spare {}: {}", what, e.toString());
        return;
      }
      ready.addLast(made);
      if (closed.get() && ready.remove(made)) {
        destroyer.destroy(made);
      } else if (ready.size() > target()) {
        // made for takes that have stopped since (a burst's refills land after its last trim): a
        // trim undoes it, or a quiet server would keep a burst's worth of spares until its next
        // take
        scheduleTrim();
      }
    } finally {
      // counted down only once what was made is ready or undone, for close() to wait on
      makeEnded();
    }
  }

  private void makeEnded() {
    synchronized (makesDone) {
      if (making.decrementAndGet() == 0) {
        makesDone.notifyAll();
      }
    }
  }

  private void scheduleTrim() {
    if (trimScheduled.compareAndSet(false, true)) {
      later(TRIM_DELAY_MS + REFILL_DELAY_MS, this::trimNow);
    }
  }

  /** Undoes the ready ones beyond the target, and looks again later while any are above it. */
  void trimNow() {
    trimScheduled.set(false);
    int target = target();
    while (ready.size() > target) {
      // from the end takes do not reach first: the ones ready longest are the next taken
      T surplus = ready.pollLast();
      if (surplus == null) {
        break;
      }
      destroyer.destroy(surplus);
    }
    if (!closed.get() && target > MIN_READY) {
      scheduleTrim();
    }
  }

  private void later(long delayMillis, Runnable task) {
    if (closed.get()) {
      return;
    }
    CompletableFuture.delayedExecutor(delayMillis, TimeUnit.MILLISECONDS, executor).execute(task);
  }

  /**
   * Undoes the ready ones, makes no more, and waits (up to {@link #CLOSE_WAIT_MS}) for the ones
   * being made, each of which undoes itself once made: returning before them left a part made after
   * close on the host for good when the process exited next (a test's server left its mounted spare
   * disk under a data directory that was then deleted around it).
   */
  void close() {
    closed.set(true);
    T left;
    while ((left = ready.pollFirst()) != null) {
      destroyer.destroy(left);
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MS);
    synchronized (makesDone) {
      long remaining;
      while (making.get() > 0 && (remaining = deadline - System.nanoTime()) > 0) {
        try {
          TimeUnit.NANOSECONDS.timedWait(makesDone, remaining);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
    if (making.get() > 0) {
      LOG.warn(
          "{} spare {}(s) still being made after {} ms; the next start of Kiln sweeps them",
          making.get(),
          what,
          CLOSE_WAIT_MS);
    }
  }

  /**
   * Takes counted in slices of half a window, the slices of the last {@link #RECALL_NANOS} kept:
   * the busiest window is the busiest pair of adjacent slices, so a burst that straddles a slice's
   * edge is counted whole. Guarded by its own monitor.
   */
  private static final class TakeCounts {
    private static final long SLICE_NANOS = WINDOW_NANOS / 2;
    private static final int SLICES = (int) (RECALL_NANOS / SLICE_NANOS) + 1;

    /** The slice index (time / SLICE_NANOS) each entry counts, and its count. */
    private final long[] slice = new long[SLICES];

    private final int[] count = new int[SLICES];

    synchronized void add(long now) {
      long s = Math.floorDiv(now, SLICE_NANOS);
      int i = (int) Math.floorMod(s, SLICES);
      if (slice[i] != s) {
        slice[i] = s;
        count[i] = 0;
      }
      count[i]++;
    }

    /** The most takes in any two adjacent slices within the recall, up to now. */
    synchronized int busiest(long now) {
      long current = Math.floorDiv(now, SLICE_NANOS);
      long oldest = current - (RECALL_NANOS / SLICE_NANOS);
      int best = 0;
      for (long s = oldest; s <= current; s++) {
        best = Math.max(best, countOf(s, oldest) + countOf(s - 1, oldest));
      }
      return best;
    }

    private int countOf(long s, long oldest) {
      if (s < oldest) {
        return 0;
      }
      int i = (int) Math.floorMod(s, SLICES);
      return slice[i] == s ? count[i] : 0;
    }
  }
}
