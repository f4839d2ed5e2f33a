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
   * Queues {@code payload} for {@code function}; returns the invocation's request id (for a
   * deduplicated delivery, its key).
   *
   * @param deduplicationKey for a scheduled rule's delivery, what makes it one per due time and
   *     target; empty for a routed event, which is new each time
   */
  String enqueue(FunctionRef function, byte[] payload, Optional<String> deduplicationKey);

  /**
   * Kiln's async queue: a routed event is accepted as it comes; a scheduled rule's delivery with
   * {@link AsyncInvocations#acceptOnce}, so that a due time fired again (after a crash, or by a
   * second node) adds nothing. For a deduplicated delivery the answer is its key.
   */
  static TargetQueue of(AsyncInvocations async) {
    return (function, payload, key) -> {
      if (key.isPresent()) {
        async.acceptOnce(function, payload, Optional.empty(), key.get());
        return key.get();
      }
      return async.accept(function, payload, Optional.empty());
    };
  }
}
