package dev.kiln.testing;

import dev.kiln.store.EventQueue;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An {@link EventQueue} in memory, telling time by the clock it is given (a {@link ManualTime} in
 * tests), with the SQLite queue's promises (both pass {@link EventQueueContract}): claims are
 * leases, and only the current claim's holder can acknowledge. Every method is synchronized on the
 * queue, which guards its events and counts.
 */
public final class InMemoryEventQueue implements EventQueue {

  private final InstantSource clock;

  /** By sequence number; each as last stored, with its claim if any. */
  private final TreeMap<Long, Event> events = new TreeMap<>();

  /** Finished events by function: succeeded, failed. */
  private final Map<String, long[]> outcomes = new HashMap<>();

  private long lastSeq;

  /** The keys {@link #enqueueOnce} has seen, with when. */
  private final Map<String, Instant> keys = new HashMap<>();

  public InMemoryEventQueue(InstantSource clock) {
    this.clock = clock;
  }

  @Override
  public synchronized void enqueue(Event event) {
    long seq = ++lastSeq;
    events.put(seq, withClaim(seq, event, Optional.empty()));
  }

  @Override
  public synchronized boolean enqueueOnce(Event event, String deduplicationKey) {
    Instant now = clock.instant();
    keys.values().removeIf(at -> at.isBefore(now.minus(DEDUPLICATION_RETENTION)));
    if (keys.putIfAbsent(deduplicationKey, now) != null) {
      return false;
    }
    enqueue(event);
    return true;
  }

  @Override
  public synchronized List<Event> claim(String claimant, int max, Duration lease) {
    Instant now = clock.instant();
    Claim claim = new Claim(claimant, now.plus(lease));
    List<Event> due =
        events.values().stream()
            .filter(e -> !e.due().isAfter(now) && !held(e, now))
            .sorted(Comparator.comparing(Event::due).thenComparing(Event::seq))
            .limit(max)
            .map(e -> withClaim(e.seq(), e, Optional.of(claim)))
            .toList();
    due.forEach(e -> events.put(e.seq(), e));
    return due;
  }

  @Override
  public synchronized boolean retry(Event event) {
    if (!holds(event)) {
      return false;
    }
    events.put(event.seq(), withClaim(event.seq(), event, Optional.empty()));
    return true;
  }

  @Override
  public synchronized boolean finish(Event event, boolean succeeded, List<Event> followUps) {
    if (!holds(event)) {
      return false;
    }
    events.remove(event.seq());
    followUps.forEach(this::enqueue);
    outcomes.computeIfAbsent(event.function(), f -> new long[2])[succeeded ? 0 : 1]++;
    return true;
  }

  @Override
  public synchronized int releaseAllClaims() {
    int released = 0;
    for (Event e : new ArrayList<>(events.values())) {
      if (e.claim().isPresent()) {
        events.put(e.seq(), withClaim(e.seq(), e, Optional.empty()));
        released++;
      }
    }
    return released;
  }

  @Override
  public synchronized Optional<Instant> nextDue() {
    return events.values().stream()
        .map(
            e ->
                e.claim().map(Claim::until).filter(until -> until.isAfter(e.due())).orElse(e.due()))
        .min(Comparator.naturalOrder());
  }

  @Override
  public synchronized Counts counts(String function) {
    Depth d =
        depths().stream()
            .filter(x -> x.function().equals(function))
            .findFirst()
            .orElse(new Depth(function, 0, 0, Instant.EPOCH));
    long[] o = outcomes.getOrDefault(function, new long[2]);
    return new Counts(d.waiting(), d.inFlight(), o[0], o[1]);
  }

  @Override
  public synchronized List<Depth> depths() {
    Instant now = clock.instant();
    Map<String, Depth> byFunction = new TreeMap<>();
    for (Event e : events.values()) {
      boolean held = held(e, now);
      byFunction.merge(
          e.function(),
          new Depth(e.function(), held ? 0 : 1, held ? 1 : 0, e.received()),
          (a, b) ->
              new Depth(
                  a.function(),
                  a.waiting() + b.waiting(),
                  a.inFlight() + b.inFlight(),
                  a.oldestReceived().isBefore(b.oldestReceived())
                      ? a.oldestReceived()
                      : b.oldestReceived()));
    }
    return List.copyOf(byFunction.values());
  }

  @Override
  public synchronized int dropFunction(String function) {
    Instant now = clock.instant();
    List<Long> gone =
        events.values().stream()
            .filter(e -> e.function().equals(function) && !held(e, now))
            .map(Event::seq)
            .toList();
    gone.forEach(events::remove);
    return gone.size();
  }

  @Override
  public void check() {
    // memory answers at once
  }

  @Override
  public void close() {
    // nothing to release
  }

  /** Whether a live lease holds {@code e} at {@code now}. */
  private static boolean held(Event e, Instant now) {
    return e.claim().filter(c -> c.until().isAfter(now)).isPresent();
  }

  /** Whether {@code event}'s claim is still the stored event's. */
  private boolean holds(Event event) {
    Event stored = events.get(event.seq());
    return stored != null && event.claim().isPresent() && stored.claim().equals(event.claim());
  }

  private static Event withClaim(long seq, Event e, Optional<Claim> claim) {
    return new Event(
        seq,
        e.requestId(),
        e.function(),
        e.qualifier(),
        e.payload(),
        e.received(),
        e.attempts(),
        e.throttles(),
        e.due(),
        e.traceHeader(),
        claim);
  }
}
