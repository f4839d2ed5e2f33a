package dev.kiln.invoke;

import dev.kiln.model.FunctionRef;
import dev.kiln.store.EventQueue;
import java.time.InstantSource;
import java.util.Optional;
import java.util.UUID;

/**
 * The front of asynchronous invocation: accepts an event into the durable queue (returning only
 * once it is on disk), and tells how a function's events stand. It owns neither the queue nor the
 * dispatcher: whoever assembled them stops them.
 */
public final class AsyncInvocations {

  private final EventQueue queue;
  private final AsyncDispatcher dispatcher;
  private final InstantSource clock;

  public AsyncInvocations(EventQueue queue, AsyncDispatcher dispatcher, InstantSource clock) {
    this.queue = queue;
    this.dispatcher = dispatcher;
    this.clock = clock;
  }

  /**
   * Stores an event for {@code version} (as the caller named it: {@code ref}'s qualifier) and
   * returns its request id, which stays the same across retries.
   */
  public String accept(FunctionRef ref, byte[] payload, Optional<String> traceHeader) {
    String requestId = UUID.randomUUID().toString();
    queue.enqueue(
        EventQueue.Event.accepted(
            requestId, ref.name(), ref.qualifierOrLatest(), payload, clock.instant(), traceHeader));
    dispatcher.accepted(ref.name());
    dispatcher.wake();
    return requestId;
  }

  /**
   * Stores an event as {@link #accept} does, unless an event with {@code deduplicationKey} was
   * accepted before (within {@link EventQueue#DEDUPLICATION_RETENTION}): what a schedule's firing
   * uses, with the key {@code schedule ARN + due time}, so a due time fires once even when a crash
   * makes it fire again. Returns whether the event was new.
   */
  public boolean acceptOnce(
      FunctionRef ref, byte[] payload, Optional<String> traceHeader, String deduplicationKey) {
    boolean added =
        queue.enqueueOnce(
            EventQueue.Event.accepted(
                UUID.randomUUID().toString(),
                ref.name(),
                ref.qualifierOrLatest(),
                payload,
                clock.instant(),
                traceHeader),
            deduplicationKey);
    if (added) {
      dispatcher.accepted(ref.name());
      dispatcher.wake();
    }
    return added;
  }

  public EventQueue.Counts counts(String function) {
    return queue.counts(function);
  }

  /** A deleted function's queued events go with it. */
  public void functionDeleted(String function) {
    queue.dropFunction(function);
  }
}
