package dev.kiln.sandbox;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ready-made resources of one kind (network namespaces, formatted and mounted {@code /tmp} disks)
 * kept aside so that an instance that starts takes one instead of waiting for it to be made: making
 * one costs 10–15 ms, a large part of a cold start, and in a burst the makes of many instances at
 * once queued behind each other.
 *
 * <p><b>How many.</b> As many as instances took in the last {@link #WINDOW_NANOS} (a second), at
 * least {@link #MIN_READY} and at most {@link #MAX_READY}: a burst that takes 30 a second finds the
 * next ones made while it goes on, and a quiet server keeps one. Each take makes what is missing in
 * the background, a moment later ({@link #REFILL_DELAY_MS}, so as not to compete for the CPU with
 * the instance that is starting), several at once on the executor; when the takes stop, a check
 * {@link #WINDOW_NANOS} later (and again while any are left above the target) undoes the ready ones
 * beyond what the rate still asks for. A resource is never given back to a pool: each is made new,
 * so none carries anything from an instance to the next.
 *
 * <p><b>Locking.</b> The ready ones are a lock-free deque, the ones being made a counter; the
 * spare's monitor is held only to count what is missing and hand out its makes (so that two refills
 * do not both make it), the deque {@code takes}' own monitor only to add or drop a time. Nothing
 * slow runs under either. A take racing a refill can leave one fewer than the target for a moment,
 * which the next refill puts right.
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

  /** Long enough for a typical runtime to have started. */
  private static final long REFILL_DELAY_MS = 150;

  /** The window over which the take rate is counted. */
  static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** Kept ready when nothing is taken. */
  static final int MIN_READY = 1;

  /** Kept ready at most, however fast they are taken. */
  static final int MAX_READY = 16;

  private final String what;
  private final Maker<T> maker;
  private final Destroyer<T> destroyer;
  private final Executor executor;
  private final LongSupplier nanoTime;
  private final ConcurrentLinkedDeque<T> ready = new ConcurrentLinkedDeque<>();
  private final AtomicInteger making = new AtomicInteger();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean trimScheduled = new AtomicBoolean();

  /** When recent takes happened, oldest first; guarded by its own monitor. */
  private final Deque<Long> takes = new ArrayDeque<>();

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
    T taken = ready.pollFirst();
    synchronized (takes) {
      takes.addLast(nanoTime.getAsLong());
    }
    later(REFILL_DELAY_MS, this::refillNow);
    scheduleTrim();
    return taken != null ? taken : maker.make();
  }

  /** Makes in the background what the take rate asks for. */
  void refill() {
    executor.execute(this::refillNow);
  }

  /** How many should be ready now: the takes of the last window, within bounds. */
  int target() {
    long now = nanoTime.getAsLong();
    int recent;
    synchronized (takes) {
      while (!takes.isEmpty() && now - takes.peekFirst() > WINDOW_NANOS) {
        takes.pollFirst();
      }
      recent = takes.size();
    }
    return Math.clamp(recent, MIN_READY, MAX_READY);
  }

  /** How many are ready now. */
  int ready() {
    return ready.size();
  }

  private synchronized void refillNow() {
    int missing = target() - ready.size() - making.get();
    for (int i = 0; i < missing && !closed.get(); i++) {
      making.incrementAndGet();
      executor.execute(this::makeOne);
    }
  }

  private void makeOne() {
    T made;
    try {
      if (closed.get()) {
        return;
      }
      made = maker.make();
    } catch (IOException | RuntimeException e) {
      LOG.debug("could not make a spare {}: {}", what, e.toString());
      return;
    } finally {
      making.decrementAndGet();
    }
    ready.addLast(made);
    if (closed.get() && ready.remove(made)) {
      destroyer.destroy(made);
    } else if (ready.size() > target()) {
      // made for takes that have stopped since (a burst's refills land after its last trim): a
      // trim undoes it, or a quiet server would keep a burst's worth of spares until its next take
      scheduleTrim();
    }
  }

  private void scheduleTrim() {
    if (trimScheduled.compareAndSet(false, true)) {
      later(TimeUnit.NANOSECONDS.toMillis(WINDOW_NANOS) + REFILL_DELAY_MS, this::trimNow);
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

  /** Undoes the ready ones and makes no more; one being made is undone when it is done. */
  void close() {
    closed.set(true);
    T left;
    while ((left = ready.pollFirst()) != null) {
      destroyer.destroy(left);
    }
  }
}
