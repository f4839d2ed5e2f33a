package dev.kiln.testing;

import dev.kiln.time.Scheduler;
import dev.kiln.time.Ticker;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;

/**
 * Time that moves only when a test moves it: a wall clock ({@link InstantSource}), a monotonic
 * {@link Ticker} and a {@link Scheduler}, all driven by {@link #advance}. Periodic tasks run on the
 * test's own thread, inside {@code advance}, once for every period that elapsed, in time order. The
 * monitor guards the time and the tasks.
 */
public final class ManualTime implements InstantSource, Ticker, Scheduler {

  private Instant now;
  private long nanos;
  private final List<Periodic> tasks = new ArrayList<>();
  private boolean closed;

  private static final class Periodic {
    final Duration period;
    final Runnable task;
    Instant next;

    Periodic(Duration period, Runnable task, Instant next) {
      this.period = period;
      this.task = task;
      this.next = next;
    }
  }

  public ManualTime(Instant start) {
    this.now = start;
  }

  /** Starting at 2026-01-01T00:00:00Z. */
  public ManualTime() {
    this(Instant.parse("2026-01-01T00:00:00Z"));
  }

  @Override
  public synchronized Instant instant() {
    return now;
  }

  @Override
  public synchronized long read() {
    return nanos;
  }

  @Override
  public synchronized void every(Duration period, Runnable task) {
    if (period.isNegative() || period.isZero()) {
      throw new IllegalArgumentException("a period must be positive, got " + period);
    }
    tasks.add(new Periodic(period, task, now.plus(period)));
  }

  @Override
  public synchronized void close() {
    closed = true;
    tasks.clear();
  }

  /** Moves time on by {@code by}, running each periodic task as often as its period elapsed. */
  public void advance(Duration by) {
    Instant target;
    synchronized (this) {
      target = now.plus(by);
    }
    while (true) {
      Periodic due = null;
      synchronized (this) {
        for (Periodic p : tasks) {
          if (!p.next.isAfter(target) && (due == null || p.next.isBefore(due.next))) {
            due = p;
          }
        }
        if (due == null || closed) {
          moveTo(target);
          return;
        }
        moveTo(due.next);
        due.next = due.next.plus(due.period);
      }
      due.task.run(); // outside the monitor: a task may read the time
    }
  }

  private void moveTo(Instant t) {
    nanos += Duration.between(now, t).toNanos();
    now = t;
  }
}
