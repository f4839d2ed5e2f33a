package dev.kiln.events.schedule;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where the engine finds timers and keeps each one's {@code next_due}: a store of schedules (or of
 * scheduled rules) behind it. The engine reads what is due and moves next_due on with {@link
 * #advance}, a compare-and-set on the value it read, which is what makes two engines on one
 * database fire a due time once between them.
 */
public interface TimerSource {

  /** A timer and the due time stored for it. */
  record Due(Timer timer, Instant nextDue) {}

  /** The earliest next_due of any timer, if any will fire. */
  Optional<Instant> earliestDue();

  /** Up to {@code max} timers whose next_due is at or before {@code now}, earliest first. */
  List<Due> due(Instant now, int max);

  /**
   * Moves {@code timer}'s next_due from {@code expected} to {@code next} (empty: never again) if it
   * is still {@code expected}; whether it did.
   */
  boolean advance(Timer timer, Instant expected, Optional<Instant> next);

  /**
   * The timer will not fire again (its at() fired, its EndDate passed): a schedule with {@code
   * ActionAfterCompletion=DELETE} is deleted here. Called by the engine whose advance to empty
   * succeeded, so once.
   */
  void completed(Timer timer);
}
