package dev.kiln.events.schedule;

import dev.kiln.time.Scheduler;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The firing engine: one per node, over every {@link TimerSource} (Scheduler's schedules, and
 * EventBridge's scheduled rules when they are plugged in), it fires each timer's due times.
 *
 * <p>The model. A timer's stored {@code next_due} is its next <em>nominal</em> due time: what its
 * expression names, within its StartDate and EndDate. The engine ticks on the injected {@link
 * Scheduler} every tick ({@link #TICK} unless it is given another; the server's is {@link
 * #SERVER_TICK}, so that a due time fires within a tenth of a second); a tick does nothing until
 * the wake time it computed last (the earliest moment anything fires), until {@link #changed} says
 * the API changed a timer, or until {@link #RESCAN} passed (so that another node's changes to a
 * shared database are seen). When it runs, for every timer due at or before now:
 *
 * <ol>
 *   <li>the due time it fires is the <em>latest</em> nominal time at or before now, so after
 *       downtime a timer fires once, for the last time it missed, never once per missed time; and
 *       not at all if that time is older than the timer's maximum event age;
 *   <li>with a flexible window, it fires at {@code due + delay}, the delay taken from a hash of the
 *       timer's id and the due time, so every restart and every node picks the same moment; until
 *       then the timer waits (and the engine wakes for it);
 *   <li>{@link Timer#fire} hands the delivery to the async queue under the key {@code id@due},
 *       which the queue stores once ({@code enqueueOnce}); then
 *   <li>{@link TimerSource#advance} moves next_due from the value read to the next nominal time
 *       after the one fired, as a compare-and-set.
 * </ol>
 *
 * A kill between 3 and 4 leaves next_due where it was: the next run fires the same due time under
 * the same key, which the queue ignores, and advances. Two engines on one database both may fire a
 * due time's key, and the queue keeps one; only one of them advances. A timer that will not fire
 * again (an at() that fired, a recurring one past its EndDate) is advanced to empty and reported
 * {@link TimerSource#completed} by the engine whose advance succeeded.
 *
 * <p>Threads: {@link #runDue} runs on the scheduler's thread (or a test's, with {@code
 * ManualTime}); {@link #changed} may be called from any. The monitor guards the wake time.
 */
public final class ScheduleRunner {

  private static final Logger LOG = LoggerFactory.getLogger(ScheduleRunner.class);

  /** How often the engine looks at its wake time: the granularity of firing. */
  public static final Duration TICK = Duration.ofSeconds(1);

  /**
   * The tick a server runs with: a tick that finds nothing due only compares two instants under the
   * monitor, so ten a second cost nothing, and due times fire at most this late.
   */
  public static final Duration SERVER_TICK = Duration.ofMillis(100);

  private final Duration tickEvery;

  /** How often it reads the stores even if nothing told it to: another node's changes. */
  public static final Duration RESCAN = Duration.ofSeconds(15);

  private static final int BATCH = 100;

  private final List<TimerSource> sources;
  private final InstantSource clock;

  /** When to run next; {@link Instant#MIN} to run at the next tick. */
  private Instant wakeAt = Instant.MIN;

  private Instant lastScan = Instant.MIN;

  public ScheduleRunner(List<TimerSource> sources, Scheduler scheduler, InstantSource clock) {
    this(sources, scheduler, clock, TICK);
  }

  /** An engine that looks at its wake time every {@code tick}. */
  public ScheduleRunner(
      List<TimerSource> sources, Scheduler scheduler, InstantSource clock, Duration tick) {
    this.sources = List.copyOf(sources);
    this.clock = clock;
    this.tickEvery = tick;
    scheduler.every(tick, this::tick);
  }

  /** A timer was created, changed or deleted: look again at the next tick. */
  public synchronized void changed() {
    wakeAt = Instant.MIN;
  }

  private void tick() {
    Instant now = clock.instant();
    synchronized (this) {
      if (now.isBefore(wakeAt) && now.isBefore(lastScan.plus(RESCAN))) {
        return;
      }
      wakeAt = Instant.MAX;
      lastScan = now;
    }
    Instant next = runDue(now);
    synchronized (this) {
      if (next.isBefore(wakeAt)) {
        wakeAt = next;
      }
    }
  }

  /** Fires what is due at {@code now}; returns when something is next due (MAX if nothing). */
  Instant runDue(Instant now) {
    Instant wake = Instant.MAX;
    for (TimerSource source : sources) {
      try {
        wake = min(wake, runSource(source, now));
      } catch (RuntimeException e) {
        LOG.warn("firing the due timers failed; trying again in {}", tickEvery, e);
        wake = min(wake, now.plus(tickEvery));
      }
    }
    return wake;
  }

  private Instant runSource(TimerSource source, Instant now) {
    Instant wake = Instant.MAX;
    List<TimerSource.Due> waiting = new ArrayList<>();
    while (true) {
      // the timers waiting for their window come back in every read: ask for that many more
      int asked = BATCH + waiting.size();
      List<TimerSource.Due> due = source.due(now, asked);
      List<TimerSource.Due> fresh =
          due.stream().filter(d -> waiting.stream().noneMatch(w -> same(w, d))).toList();
      for (TimerSource.Due d : fresh) {
        Optional<Instant> waitUntil = handle(source, d, now);
        if (waitUntil.isPresent()) {
          waiting.add(d);
          wake = min(wake, waitUntil.get());
        }
      }
      // a handled timer's next_due is after now, so it is not read again: a short read, or one
      // with nothing new, was the last
      if (fresh.isEmpty() || due.size() < asked) {
        break;
      }
    }
    Optional<Instant> later = source.earliestDue().filter(t -> t.isAfter(now));
    return later.isPresent() ? min(later.get(), wake) : wake;
  }

  private static boolean same(TimerSource.Due a, TimerSource.Due b) {
    return a.timer().id().equals(b.timer().id());
  }

  /**
   * Handles one timer whose next_due is at or before now: fires it, skips it or advances it; empty
   * when done with it, or the moment its flexible window's delay ends, if it must wait for that.
   */
  private Optional<Instant> handle(TimerSource source, TimerSource.Due d, Instant now) {
    Timer timer = d.timer();
    Instant stored = d.nextDue();
    if (!timer.enabled()) {
      // a disabled timer never fires; its next_due is set afresh when it is enabled again
      source.advance(timer, stored, Optional.empty());
      return Optional.empty();
    }
    Optional<Instant> latest = latestDue(timer, stored, now);
    if (latest.isEmpty()) {
      // nothing named at or before now within its bounds (a StartDate moved on): recompute
      finish(source, timer, stored, nextDue(timer, now));
      return Optional.empty();
    }
    Instant due = latest.get();
    Instant fireAt = fireAt(timer, due);
    if (fireAt.isAfter(now)) {
      return Optional.of(fireAt);
    }
    if (Duration.between(due, now).compareTo(timer.maximumEventAge()) <= 0) {
      try {
        timer.fire(due, timer.id() + "@" + due);
      } catch (RuntimeException e) {
        // not handed over (the queue could not be written): next_due stays, and the next tick
        // fires the same due time under the same key again
        LOG.warn("timer {} could not fire its due time {}; trying again", timer.name(), due, e);
        return Optional.of(now.plus(tickEvery));
      }
    } else {
      LOG.info(
          "timer {} missed {} by more than its maximum event age of {}; not fired",
          timer.name(),
          due,
          timer.maximumEventAge());
    }
    finish(source, timer, stored, nextDue(timer, due));
    return Optional.empty();
  }

  private static void finish(
      TimerSource source, Timer timer, Instant stored, Optional<Instant> next) {
    if (source.advance(timer, stored, next) && next.isEmpty()) {
      source.completed(timer);
    }
  }

  /**
   * The first nominal due time of {@code timer} strictly after {@code after}, within its bounds:
   * what next_due is set to when a timer is created or changed ({@code after} = now) and after each
   * firing.
   */
  public static Optional<Instant> nextDue(Timer timer, Instant after) {
    Instant from = timer.start().map(s -> max(after, s.minusMillis(1))).orElse(after);
    return timer
        .expression()
        .nextAfter(from, timer.rateAnchor())
        .filter(
            t -> timer.expression().oneTime() || timer.end().map(e -> !t.isAfter(e)).orElse(true));
  }

  /** The latest nominal due time at or before now, no earlier than the stored one. */
  private static Optional<Instant> latestDue(Timer timer, Instant stored, Instant now) {
    Instant until =
        timer.expression().oneTime() ? now : timer.end().map(e -> min(e, now)).orElse(now);
    return timer
        .expression()
        .latestAtOrBefore(until, timer.rateAnchor())
        .filter(t -> !t.isBefore(stored))
        .filter(t -> timer.start().map(s -> !t.isBefore(s)).orElse(true));
  }

  /** When a due time fires: at once, or at its deterministic delay within the flexible window. */
  public static Instant fireAt(Timer timer, Instant due) {
    long window = timer.flexibleWindow().toMillis();
    if (window <= 0) {
      return due;
    }
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256")
              .digest((timer.id() + "@" + due).getBytes(StandardCharsets.UTF_8));
      long bits = 0;
      for (int i = 0; i < 8; i++) {
        bits = bits << 8 | (hash[i] & 0xff);
      }
      // whole seconds within the window, so the delay reads well in logs and tests
      return due.plusSeconds(Math.floorMod(bits, Math.max(1, window / 1000)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  private static Instant min(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }

  private static Instant max(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }
}
