package dev.kiln.invoke;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.invoke.PoolDecisions.Member;
import dev.kiln.invoke.PoolDecisions.Role;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The pool's rules alone: snapshots of named instances in, names out. */
class PoolDecisionsTest {

  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final Duration KEEP_ALIVE = Duration.ofMinutes(5);
  static final Duration RESERVE = Duration.ofSeconds(8); // a 3 s timeout and the 5 s margin

  static Member<String> idle(String name, Role role, Duration idleFor, Instant now) {
    return new Member<>(
        name, role, now.minus(idleFor), false, true, Optional.empty(), Optional.empty());
  }

  static Member<String> keyed(String name, Role role, Instant expires, Instant handoverAt) {
    return new Member<>(name, role, T0, false, true, Optional.of(expires), Optional.of(handoverAt));
  }

  @Test
  void reap_stopsOnDemandInstancesIdlePastTheKeepAlive_fromTheLeastRecentlyUsed() {
    Instant now = T0.plus(Duration.ofHours(1));
    var stack =
        List.of(
            idle("newest", Role.ON_DEMAND, Duration.ofSeconds(1), now),
            idle("old", Role.ON_DEMAND, Duration.ofMinutes(6), now),
            idle("oldest", Role.ON_DEMAND, Duration.ofMinutes(9), now));
    var reap = PoolDecisions.reap(stack, now, KEEP_ALIVE, RESERVE);
    assertThat(reap.expire()).containsExactly("oldest", "old");
    assertThat(reap.rotate()).isEmpty();
  }

  @Test
  void reap_neverStopsAProvisionedInstanceForBeingIdle_butGoesOnPastIt() {
    Instant now = T0.plus(Duration.ofHours(1));
    var stack =
        List.of(
            idle("fresh", Role.ON_DEMAND, Duration.ofSeconds(1), now),
            idle("stale", Role.ON_DEMAND, Duration.ofMinutes(7), now),
            idle("kept", Role.PROVISIONED, Duration.ofMinutes(8), now),
            idle("leaving", Role.HANDING_OVER, Duration.ofMinutes(9), now));
    assertThat(PoolDecisions.reap(stack, now, KEEP_ALIVE, RESERVE).expire())
        .containsExactly("stale");
  }

  @Test
  void reap_rotatesEveryIdleInstanceWhoseKeyWouldNotOutlastAnInvocation_provisionedToo() {
    Instant now = T0.plus(Duration.ofMinutes(10));
    var stack =
        List.of(
            keyed("ends-in-7s", Role.PROVISIONED, now.plusSeconds(7), now),
            keyed("ends-in-9s", Role.ON_DEMAND, now.plusSeconds(9), now),
            keyed("ends-in-8s", Role.ON_DEMAND, now.plusSeconds(8), now));
    var reap = PoolDecisions.reap(stack, now, Duration.ofHours(1), RESERVE);
    assertThat(reap.rotate()).containsExactly("ends-in-7s", "ends-in-8s");
    assertThat(reap.expire()).isEmpty();
  }

  @Test
  void keyLasts_onlyWhenTheKeyEndsAfterTheReserve_andAlwaysWithoutAKey() {
    assertThat(PoolDecisions.keyLasts(Optional.empty(), T0, RESERVE)).isTrue();
    assertThat(PoolDecisions.keyLasts(Optional.of(T0.plusSeconds(9)), T0, RESERVE)).isTrue();
    assertThat(PoolDecisions.keyLasts(Optional.of(T0.plusSeconds(8)), T0, RESERVE)).isFalse();
  }

  @Test
  void freeze_takesThoseIdleLongerThanTheDelay_thatAreNotFrozenYet() {
    Instant now = T0.plusSeconds(60);
    var frozen =
        new Member<>(
            "frozen",
            Role.ON_DEMAND,
            now.minusSeconds(30),
            true,
            true,
            Optional.<Instant>empty(),
            Optional.<Instant>empty());
    var stack =
        List.of(
            idle("just-back", Role.ON_DEMAND, Duration.ofMillis(500), now),
            idle("a-while", Role.PROVISIONED, Duration.ofSeconds(2), now),
            frozen);
    assertThat(PoolDecisions.freeze(stack, now, Duration.ofSeconds(1))).containsExactly("a-while");
  }

  @Test
  void handOver_startsReplacementsOfInitialisedProvisionedInstancesPastTheirPoint() {
    Instant now = T0.plus(Duration.ofMinutes(30));
    var uninitialised =
        new Member<>(
            "starting",
            Role.PROVISIONED,
            T0,
            false,
            false,
            Optional.of(now.plusSeconds(600)),
            Optional.of(now.minusSeconds(1)));
    var members =
        List.of(
            keyed("due", Role.PROVISIONED, now.plusSeconds(600), now),
            keyed("not-yet", Role.PROVISIONED, now.plusSeconds(600), now.plusSeconds(1)),
            keyed("already", Role.HANDING_OVER, now.plusSeconds(600), now.minusSeconds(60)),
            keyed("ordinary", Role.ON_DEMAND, now.plusSeconds(600), now.minusSeconds(60)),
            uninitialised);
    assertThat(PoolDecisions.handOver(members, now)).containsExactly("due");
  }

  @Test
  void release_letsThoseHandingOverGoFirst_thenTheRestInOrder() {
    var members =
        List.of(
            keyed("p1", Role.PROVISIONED, T0, T0),
            keyed("h1", Role.HANDING_OVER, T0, T0),
            keyed("o1", Role.ON_DEMAND, T0, T0),
            keyed("p2", Role.PROVISIONED, T0, T0));
    assertThat(PoolDecisions.release(members, 2)).containsExactly("h1");
    assertThat(PoolDecisions.release(members, 1)).containsExactly("h1", "p1");
    assertThat(PoolDecisions.release(members, 0)).containsExactly("h1", "p1", "p2");
    assertThat(PoolDecisions.release(members, 5)).isEmpty();
  }

  @Test
  void toStart_countsWhatIsKeptAndStarting_andNeverGoesBelowZero() {
    assertThat(PoolDecisions.toStart(5, 2, 1)).isEqualTo(2);
    assertThat(PoolDecisions.toStart(2, 3, 0)).isZero();
    assertThat(PoolDecisions.toStart(0, 0, 0)).isZero();
  }
}
