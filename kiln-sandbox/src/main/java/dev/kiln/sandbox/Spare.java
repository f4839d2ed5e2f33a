package dev.kiln.sandbox;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ready-made resource (a network namespace, a formatted and mounted {@code /tmp} disk) kept
 * aside so that the next instance to start takes it instead of waiting for it to be made: making
 * one costs 10–15 ms, a large part of a cold start. Taking one makes the next in the background.
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

  private final String what;
  private final Maker<T> maker;
  private final Destroyer<T> destroyer;
  private final Executor executor;
  private final AtomicReference<T> ready = new AtomicReference<>();
  private final AtomicBoolean closed = new AtomicBoolean();

  Spare(String what, Maker<T> maker, Destroyer<T> destroyer, Executor executor) {
    this.what = what;
    this.maker = maker;
    this.destroyer = destroyer;
    this.executor = executor;
  }

  /**
   * The spare if one is ready, else a new one made now; either way, a spare is made for later, a
   * moment later, so as not to compete for the CPU with the instance that is starting.
   */
  T take() throws IOException {
    T taken = ready.getAndSet(null);
    refill(REFILL_DELAY_MS);
    return taken != null ? taken : maker.make();
  }

  /** Makes a spare in the background, unless one is ready. */
  void refill() {
    refill(0);
  }

  private void refill(long delayMillis) {
    Executor when =
        delayMillis == 0
            ? executor
            : CompletableFuture.delayedExecutor(delayMillis, TimeUnit.MILLISECONDS, executor);
    when.execute(
        () -> {
          if (closed.get() || ready.get() != null) {
            return;
          }
          T made;
          try {
            made = maker.make();
          } catch (IOException | RuntimeException e) {
            LOG.debug("could not make a spare {}: {}", what, e.toString());
            return;
          }
          if (!ready.compareAndSet(null, made)) {
            destroyer.destroy(made);
          } else if (closed.get() && ready.compareAndSet(made, null)) {
            destroyer.destroy(made);
          }
        });
  }

  /** Undoes the spare, if one is ready, and makes no more. */
  void close() {
    closed.set(true);
    T left = ready.getAndSet(null);
    if (left != null) {
      destroyer.destroy(left);
    }
  }
}
