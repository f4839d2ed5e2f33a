package dev.kiln.events.bus;

import dev.kiln.invoke.AsyncInvocations;
import dev.kiln.model.FunctionRef;
import java.util.Optional;

/**
 * Where a rule's delivery to a function goes: the durable async queue. It returns once the event is
 * on disk, so an event the bus accepted is never lost; from there the queue's retries, maximum
 * event age, destinations and DLQ apply, as to any asynchronous invocation.
 */
@FunctionalInterface
public interface TargetQueue {

  /**
   * Queues {@code payload} for {@code function}; returns the invocation's request id.
   *
   * @param deduplicationKey for a scheduled rule's delivery, what makes it one per due time and
   *     target; empty for a routed event, which is new each time
   */
  String enqueue(FunctionRef function, byte[] payload, Optional<String> deduplicationKey);

  /**
   * Kiln's async queue. {@link AsyncInvocations#accept} takes no deduplication key: the schedule
   * engine, which owns exactly-once firing, enqueues scheduled deliveries with its own key and
   * passes its own queue here.
   */
  static TargetQueue of(AsyncInvocations async) {
    return (function, payload, key) -> async.accept(function, payload, Optional.empty());
  }
}
