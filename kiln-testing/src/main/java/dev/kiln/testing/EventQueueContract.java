package dev.kiln.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.store.EventQueue;
import dev.kiln.store.EventQueue.Counts;
import dev.kiln.store.EventQueue.Depth;
import dev.kiln.store.EventQueue.Event;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link EventQueue} promises, as tests, on a {@link ManualTime} clock: extend this
 * class with {@link #newQueue} returning an empty queue of your implementation that tells time by
 * the clock given. Covers enqueueing and claiming in due order, claims as leases (a claim not
 * acknowledged before its lease runs out is claimable again, and a stale claimant's acknowledgement
 * changes nothing), retries, finishing with follow-ups and counts, and dropping.
 */
public abstract class EventQueueContract {

  protected static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  protected static final Duration LEASE = Duration.ofMinutes(1);

  protected final ManualTime time = new ManualTime(T0);
  protected EventQueue queue;

  /** A new, empty queue telling time by {@code clock}; closed after each test. */
  protected abstract EventQueue newQueue(InstantSource clock);

  @BeforeEach
  void openQueue() {
    queue = newQueue(time);
  }

  @AfterEach
  void closeQueue() {
    queue.close();
  }

  protected Event event(String requestId, String function) {
    return Event.accepted(
        requestId,
        function,
        "$LATEST",
        ("{\"id\":\"" + requestId + "\"}").getBytes(StandardCharsets.UTF_8),
        time.instant(),
        Optional.of("Root=1-" + requestId));
  }

  private static List<String> ids(List<Event> events) {
    return events.stream().map(Event::requestId).toList();
  }

  @Test
  void claim_returnsDueEventsOldestDueFirst_withTheirContentAndClaim() {
    queue.enqueue(event("a", "f"));
    time.advance(Duration.ofSeconds(1));
    queue.enqueue(event("b", "f"));
    time.advance(Duration.ofSeconds(1));

    List<Event> claimed = queue.claim("w1", 10, LEASE);

    assertThat(ids(claimed)).containsExactly("a", "b");
    Event a = claimed.get(0);
    assertThat(a.function()).isEqualTo("f");
    assertThat(a.qualifier()).isEqualTo("$LATEST");
    assertThat(new String(a.payload(), StandardCharsets.UTF_8)).isEqualTo("{\"id\":\"a\"}");
    assertThat(a.received()).isEqualTo(T0);
    assertThat(a.traceHeader()).hasValue("Root=1-a");
    assertThat(a.attempts()).isZero();
    assertThat(a.claim()).hasValue(new EventQueue.Claim("w1", T0.plusSeconds(2).plus(LEASE)));
    assertThat(claimed.get(0).seq()).isNotEqualTo(claimed.get(1).seq());
  }

  @Test
  void claim_takesAtMostMax_andNeverWhatAnotherHolds() {
    for (String id : List.of("a", "b", "c")) {
      queue.enqueue(event(id, "f"));
    }
    assertThat(ids(queue.claim("w1", 2, LEASE))).containsExactly("a", "b");
    assertThat(ids(queue.claim("w2", 10, LEASE))).containsExactly("c");
    assertThat(queue.claim("w3", 10, LEASE)).isEmpty();
  }

  @Test
  void claim_leavesAnEventDueLaterUntilItIsDue() {
    queue.enqueue(event("a", "f"));
    Event a = queue.claim("w1", 1, LEASE).get(0);
    queue.retry(a.retried(1, 0, T0.plusSeconds(60)));
    time.advance(Duration.ofSeconds(59));
    assertThat(queue.claim("w1", 10, LEASE)).isEmpty();
    time.advance(Duration.ofSeconds(1));
    assertThat(ids(queue.claim("w1", 10, LEASE))).containsExactly("a");
  }

  @Test
  void aClaimNotAcknowledgedBeforeItsLeaseRunsOut_isClaimableAgain() {
    queue.enqueue(event("a", "f"));
    queue.claim("crashed", 1, LEASE);
    time.advance(LEASE.minusMillis(1));
    assertThat(queue.claim("w2", 10, LEASE)).as("the lease still holds").isEmpty();
    time.advance(Duration.ofMillis(1));
    List<Event> again = queue.claim("w2", 10, LEASE);
    assertThat(ids(again)).containsExactly("a");
    assertThat(again.get(0).claim().orElseThrow().claimant()).isEqualTo("w2");
  }

  @Test
  void aStaleClaimantsFinish_changesNothing_andLeavesTheNewClaimToItsHolder() {
    queue.enqueue(event("a", "f"));
    Event stale = queue.claim("slow", 1, LEASE).get(0);
    time.advance(LEASE);
    Event current = queue.claim("w2", 1, LEASE).get(0);

    assertThat(queue.finish(stale, true, List.of(event("follow-up", "dest")))).isFalse();
    assertThat(queue.counts("f")).isEqualTo(new Counts(0, 1, 0, 0));
    assertThat(queue.counts("dest")).isEqualTo(new Counts(0, 0, 0, 0));
    assertThat(queue.retry(stale.retried(1, 0, time.instant()))).isFalse();
    assertThat(queue.claim("w3", 10, LEASE)).as("w2's claim still holds").isEmpty();

    assertThat(queue.finish(current, true, List.of())).isTrue();
    assertThat(queue.counts("f")).isEqualTo(new Counts(0, 0, 1, 0));
  }

  @Test
  void aStaleClaimantsRetry_doesNotReleaseTheNewClaim() {
    queue.enqueue(event("a", "f"));
    Event stale = queue.claim("slow", 1, LEASE).get(0);
    time.advance(LEASE);
    Event current = queue.claim("w2", 1, LEASE).get(0);
    assertThat(queue.retry(stale.retried(1, 0, time.instant()))).isFalse();
    assertThat(queue.claim("w3", 10, LEASE)).isEmpty();
    assertThat(queue.retry(current.retried(1, 0, time.instant()))).isTrue();
    assertThat(ids(queue.claim("w3", 10, LEASE))).containsExactly("a");
  }

  @Test
  void aClaimantThatClaimsAgainAfterItsLease_cannotAcknowledgeWithItsOldClaim() {
    queue.enqueue(event("a", "f"));
    Event first = queue.claim("w1", 1, LEASE).get(0);
    time.advance(LEASE);
    Event second = queue.claim("w1", 1, LEASE).get(0);
    assertThat(queue.finish(first, true, List.of())).isFalse();
    assertThat(queue.finish(second, true, List.of())).isTrue();
  }

  @Test
  void retry_putsTheEventBackWithItsCountsAndDueTime_andEndsTheClaim() {
    queue.enqueue(event("a", "f"));
    Event a = queue.claim("w1", 1, LEASE).get(0);
    assertThat(queue.retry(a.retried(1, 2, T0.plusSeconds(30)))).isTrue();
    assertThat(queue.counts("f")).isEqualTo(new Counts(1, 0, 0, 0));
    assertThat(queue.nextDue()).hasValue(T0.plusSeconds(30));
    time.advance(Duration.ofSeconds(30));
    Event again = queue.claim("w2", 1, LEASE).get(0);
    assertThat(again.requestId()).isEqualTo("a");
    assertThat(again.seq()).isEqualTo(a.seq());
    assertThat(again.attempts()).isEqualTo(1);
    assertThat(again.throttles()).isEqualTo(2);
    assertThat(again.due()).isEqualTo(T0.plusSeconds(30));
    assertThat(again.received()).isEqualTo(T0);
  }

  @Test
  void finish_deletesTheEvent_enqueuesItsFollowUps_andCountsItsOutcome() {
    queue.enqueue(event("a", "f"));
    queue.enqueue(event("b", "f"));
    List<Event> claimed = queue.claim("w1", 2, LEASE);
    assertThat(queue.finish(claimed.get(0), true, List.of(event("a-success", "dest")))).isTrue();
    assertThat(queue.finish(claimed.get(1), false, List.of())).isTrue();
    assertThat(queue.counts("f")).isEqualTo(new Counts(0, 0, 1, 1));
    assertThat(ids(queue.claim("w1", 10, LEASE))).containsExactly("a-success");
    assertThat(queue.finish(claimed.get(0), true, List.of())).as("finished already").isFalse();
  }

  @Test
  void releaseAllClaims_makesClaimedEventsClaimableAtOnce() {
    queue.enqueue(event("a", "f"));
    queue.enqueue(event("b", "f"));
    queue.enqueue(event("c", "f"));
    queue.claim("previous-run", 2, LEASE);
    assertThat(queue.releaseAllClaims()).isEqualTo(2);
    assertThat(ids(queue.claim("this-run", 10, LEASE))).containsExactly("a", "b", "c");
    assertThat(queue.releaseAllClaims()).isEqualTo(3);
  }

  @Test
  void nextDue_isWhenTheNextEventBecomesClaimable() {
    assertThat(queue.nextDue()).isEmpty();
    queue.enqueue(event("a", "f"));
    assertThat(queue.nextDue()).hasValue(T0);
    queue.claim("w1", 1, LEASE);
    assertThat(queue.nextDue()).as("when the lease runs out").hasValue(T0.plus(LEASE));
  }

  @Test
  void countsAndDepths_tellWaitingFromHeld_perFunction() {
    queue.enqueue(event("a", "f"));
    time.advance(Duration.ofSeconds(1));
    queue.enqueue(event("b", "f"));
    queue.enqueue(event("c", "g"));
    queue.claim("w1", 1, LEASE);
    assertThat(queue.counts("f")).isEqualTo(new Counts(1, 1, 0, 0));
    assertThat(queue.counts("none")).isEqualTo(new Counts(0, 0, 0, 0));
    assertThat(queue.depths())
        .containsExactly(new Depth("f", 1, 1, T0), new Depth("g", 1, 0, T0.plusSeconds(1)));
    time.advance(LEASE);
    assertThat(queue.counts("f"))
        .as("a claim whose lease ran out is waiting again")
        .isEqualTo(new Counts(2, 0, 0, 0));
  }

  @Test
  void dropFunction_dropsItsEventsThatNoLeaseHolds() {
    queue.enqueue(event("a", "f"));
    queue.enqueue(event("b", "f"));
    queue.enqueue(event("c", "g"));
    Event held = queue.claim("w1", 1, LEASE).get(0);
    assertThat(queue.dropFunction("f")).isEqualTo(1);
    assertThat(queue.counts("f")).isEqualTo(new Counts(0, 1, 0, 0));
    assertThat(queue.counts("g")).isEqualTo(new Counts(1, 0, 0, 0));
    assertThat(queue.finish(held, false, List.of())).isTrue();
  }

  @Test
  void enqueueOnce_storesAKeyOnce_andForgetsItAfterTheRetention() {
    assertThat(queue.enqueueOnce(event("a", "f"), "schedule/x@T0")).isTrue();
    assertThat(queue.enqueueOnce(event("b", "f"), "schedule/x@T0"))
        .as("the same key again, as after a crash between enqueue and advance")
        .isFalse();
    assertThat(queue.enqueueOnce(event("c", "f"), "schedule/x@T1")).isTrue();
    assertThat(ids(queue.claim("w1", 10, LEASE))).containsExactly("a", "c");
    time.advance(EventQueue.DEDUPLICATION_RETENTION.plusSeconds(1));
    assertThat(queue.enqueueOnce(event("d", "f"), "schedule/x@T0"))
        .as("a key older than the retention is forgotten")
        .isTrue();
  }

  @Test
  void enqueueOnce_keysOutliveTheirEvents() {
    assertThat(queue.enqueueOnce(event("a", "f"), "k")).isTrue();
    Event claimed = queue.claim("w1", 1, LEASE).get(0);
    assertThat(queue.finish(claimed, true, List.of())).isTrue();
    assertThat(queue.enqueueOnce(event("b", "f"), "k")).isFalse();
    assertThat(queue.counts("f")).isEqualTo(new Counts(0, 0, 1, 0));
  }

  @Test
  void check_answersOnAHealthyQueue() {
    queue.check();
  }
}
