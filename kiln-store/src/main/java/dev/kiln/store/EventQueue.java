package dev.kiln.store;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The durable queue of asynchronous events: what Invoke accepted with {@code InvocationType=Event}
 * and has not yet finished with.
 *
 * <p>The contract is at-least-once. {@link #enqueue} returns only once the event is on disk. A
 * worker {@link #claim}s due events (they become in-flight), and either puts one back for a later
 * attempt ({@link #retry}) or {@link #finish}es it: its record is deleted in the same transaction
 * that stores its follow-ups (the events for its destination or dead-letter function) and counts
 * its outcome. After a crash, {@link #requeueInFlight} makes whatever was in flight due again, so
 * an event whose invocation was running at the crash runs again, with the same request id.
 *
 * <p>The embedded implementation is {@link SqliteEventQueue}; the interface is what a PostgreSQL or
 * Kafka queue would implement.
 */
public interface EventQueue extends AutoCloseable {

  /**
   * One event.
   *
   * @param seq the queue's own number for it; 0 before it is enqueued
   * @param attempts invocations that ran and failed
   * @param throttles attempts refused for want of concurrency, which do not count as attempts
   * @param traceHeader the caller's {@code X-Amzn-Trace-Id}, which every attempt joins
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
      Optional<String> traceHeader) {

    /** A new event, due at once. */
    public static Event accepted(
        String requestId,
        String function,
        String qualifier,
        byte[] payload,
        Instant now,
        Optional<String> traceHeader) {
      return new Event(0, requestId, function, qualifier, payload, now, 0, 0, now, traceHeader);
    }

    /** The same event, to be attempted again at {@code due} with these counts. */
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
          traceHeader);
    }
  }

  /** How one function's events stand. */
  record Counts(long queued, long inFlight, long succeeded, long failed) {}

  /** Stores a new event; durable when this returns. */
  void enqueue(Event event);

  /** Marks up to {@code max} events due by {@code now} in flight and returns them, oldest first. */
  List<Event> claim(Instant now, int max);

  /** Puts an in-flight event back, due at {@code event.due()}, with its counts as given. */
  void retry(Event event);

  /**
   * Ends an event: deletes it, enqueues {@code followUps} and counts its outcome, in one
   * transaction.
   */
  void finish(Event event, boolean succeeded, List<Event> followUps);

  /** Makes every in-flight event due again (at start, after a crash); returns how many. */
  int requeueInFlight();

  /** When the next queued event is due, if any is queued. */
  Optional<Instant> nextDue();

  Counts counts(String function);

  /**
   * How deep one function's queue is: events waiting (for their first attempt or a retry), events a
   * worker has now, and when the oldest of them was accepted.
   */
  record Depth(String function, long waiting, long inFlight, Instant oldestReceived) {}

  /** The depth of every function that has events, in one read. */
  List<Depth> depths();

  /** Drops every queued event of a deleted function; returns how many. */
  int dropFunction(String function);

  /** Answers at once when the store can be read; throws when it cannot (a health check). */
  void check();

  @Override
  void close();
}
