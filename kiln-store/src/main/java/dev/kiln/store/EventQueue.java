package dev.kiln.store;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The durable queue of asynchronous events: what Invoke accepted with {@code InvocationType=Event}
 * and has not yet finished with.
 *
 * <p>The contract is at-least-once. {@link #enqueue} returns only once the event is on disk. A
 * worker {@link #claim}s due events: each claim is a lease, held by one claimant until a time the
 * queue's clock tells. The holder either puts the event back for a later attempt ({@link #retry})
 * or {@link #finish}es it: its record is deleted in the same transaction that stores its follow-ups
 * (the events for its destination or dead-letter function) and counts its outcome. A claim not
 * acknowledged before its lease runs out makes the event claimable again, so an event whose worker
 * or node died runs again, with the same request id; and an acknowledgement by a claimant whose
 * lease ran out and whose event someone else has claimed since does nothing (it returns false), so
 * it can never undo the other's claim. At the start of a single node, {@link #releaseAllClaims}
 * makes what its previous run held claimable at once instead of at the end of the leases.
 *
 * <p>Implementations: {@link SqliteEventQueue}; the interface is what a PostgreSQL or Kafka queue
 * would implement. Time is the queue's injected clock, never the system's.
 */
public interface EventQueue extends AutoCloseable {

  /**
   * One event.
   *
   * @param seq the queue's own number for it; 0 before it is enqueued
   * @param attempts invocations that ran and failed
   * @param throttles attempts refused for want of concurrency, which do not count as attempts
   * @param traceHeader the caller's {@code X-Amzn-Trace-Id}, which every attempt joins
   * @param claim the claim under which a worker holds it; empty for an event not claimed
   */
  record Event(
      long seq,
      String requestId,
      String function,
      String qualifier,
      byte[] payload,
      Instant received,
      int attempts,
      int throttles,
      Instant due,
      Optional<String> traceHeader,
      Optional<Claim> claim) {

    /** A new event, due at once. */
    public static Event accepted(
        String requestId,
        String function,
        String qualifier,
        byte[] payload,
        Instant now,
        Optional<String> traceHeader) {
      return new Event(
          0,
          requestId,
          function,
          qualifier,
          payload,
          now,
          0,
          0,
          now,
          traceHeader,
          Optional.empty());
    }

    /** The same event (and claim), to be attempted again at {@code due} with these counts. */
    public Event retried(int attempts, int throttles, Instant due) {
      return new Event(
          seq,
          requestId,
          function,
          qualifier,
          payload,
          received,
          attempts,
          throttles,
          due,
          traceHeader,
          claim);
    }
  }

  /** A lease on an event: {@code claimant} holds it until {@code until}. */
  record Claim(String claimant, Instant until) {}

  /** How one function's events stand; {@code inFlight} are those under a lease not yet run out. */
  record Counts(long queued, long inFlight, long succeeded, long failed) {}

  /** Stores a new event; durable when this returns. */
  void enqueue(Event event);

  /**
   * How long {@link #enqueueOnce} remembers a key: two days, longer than any schedule's event may
   * wait (Scheduler's MaximumEventAgeInSeconds is at most one day), so a due time re-fired after a
   * crash always finds its key.
   */
  Duration DEDUPLICATION_RETENTION = Duration.ofDays(2);

  /**
   * Stores a new event unless {@code deduplicationKey} was enqueued before (within {@link
   * #DEDUPLICATION_RETENTION}): the key is remembered in the same transaction as the event, so a
   * caller that dies after this returned and calls again with the same key adds nothing. Returns
   * whether the event was stored; durable when this returns. Keys older than the retention are
   * forgotten.
   */
  boolean enqueueOnce(Event event, String deduplicationKey);

  /**
   * Claims up to {@code max} events that are due and not held under a live lease, oldest due first,
   * for {@code claimant} until {@code lease} from now; returns them with their claim.
   */
  List<Event> claim(String claimant, int max, Duration lease);

  /**
   * Puts a claimed event back, due at {@code event.due()}, with its counts as given, and ends its
   * claim; false, changing nothing, if {@code event.claim()} is no longer the event's claim (its
   * lease ran out and it was claimed again, or it is gone).
   */
  boolean retry(Event event);

  /**
   * Ends a claimed event: deletes it, enqueues {@code followUps} and counts its outcome, in one
   * transaction; false, changing nothing, if {@code event.claim()} is no longer the event's claim.
   */
  boolean finish(Event event, boolean succeeded, List<Event> followUps);

  /**
   * Ends every claim, making the events due again at once; returns how many. For the start of a
   * node that is the queue's only user: whatever is claimed was claimed by its previous run.
   */
  int releaseAllClaims();

  /** When the next event becomes claimable (due, and any lease on it run out), if any is queued. */
  Optional<Instant> nextDue();

  Counts counts(String function);

  /**
   * How deep one function's queue is: events waiting (for their first attempt or a retry), events a
   * worker has now, and when the oldest of them was accepted.
   */
  record Depth(String function, long waiting, long inFlight, Instant oldestReceived) {}

  /** The depth of every function that has events, in one read. */
  List<Depth> depths();

  /** Drops every event of a deleted function that no live lease holds; returns how many. */
  int dropFunction(String function);

  /** Answers at once when the store can be read; throws when it cannot (a health check). */
  void check();

  @Override
  void close();
}
