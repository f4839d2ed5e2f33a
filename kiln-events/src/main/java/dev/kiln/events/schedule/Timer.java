package dev.kiln.events.schedule;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * What the firing engine ({@link ScheduleRunner}) fires: anything with an expression and an action,
 * a Scheduler schedule ({@link ScheduleTimers}) or an EventBridge scheduled rule. The engine knows
 * nothing else about it.
 */
public interface Timer {

  /**
   * What identifies this timer and its due times for ever: the deduplication key of a due time is
   * {@code id + "@" + due}, so a timer deleted and created again under the same name must have a
   * new id (a schedule's is its ARN and creation time).
   */
  String id();

  /** For metrics and logs: {@code group/name}, {@code bus/rule}. */
  String name();

  ScheduleExpression expression();

  /** Where a rate's intervals are counted from. */
  Instant rateAnchor();

  /** No due time before this. */
  Optional<Instant> start();

  /** No due time after this (ignored by a one-time {@code at()}, as AWS ignores it). */
  Optional<Instant> end();

  boolean enabled();

  /** How late after its due time a missed time may still fire (after downtime). */
  Duration maximumEventAge();

  /**
   * The flexible window: a due time fires at a delay within it ({@link Duration#ZERO} to fire at
   * once), derived from the id and the due time so that every node and every restart picks the same
   * delay.
   */
  Duration flexibleWindow();

  /**
   * Fires the due time {@code due}: hands its delivery durably to the async queue, deduplicated by
   * {@code deduplicationKey}. Returns normally once the delivery is durable (or was already, or the
   * timer took a failure of its target into its own retries); throws when it could not be handed
   * over (the queue cannot be written), and the engine fires the same due time, under the same key,
   * at its next tick.
   */
  void fire(Instant due, String deduplicationKey);
}
