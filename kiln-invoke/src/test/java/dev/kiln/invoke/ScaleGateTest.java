package dev.kiln.invoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.model.LambdaError;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ScaleGateTest {

  final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-11-25T00:00:00Z"));
  final InstantSource clock = () -> now.get();

  static String reason(LambdaError e) {
    return e.status() + " " + e.extraMember("Reason").orElse("");
  }

  @Test
  void aFunctionStartsAtMostTheRatePer10Seconds_thenRefillsSteadily() {
    ScaleGate gate =
        new ScaleGate(3, 1_000_000, Duration.ZERO, clock, dev.kiln.time.Ticker.system());
    for (int i = 0; i < 3; i++) {
      gate.admit("f", 128);
    }
    assertThatThrownBy(() -> gate.admit("f", 128))
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> {
              assertThat(reason(e)).isEqualTo("429 FunctionInvocationRateLimitExceeded");
              // the next token is 10/3 s away: the caller is told to come back in 4 s
              assertThat(e.extraMember(LambdaError.RETRY_AFTER_SECONDS)).contains("4");
            });
    gate.admit("other", 128); // each function has its own rate
    now.set(now.get().plusMillis(3_400)); // a third of the window: one more token
    gate.admit("f", 128);
    assertThatThrownBy(() -> gate.admit("f", 128)).isInstanceOf(LambdaError.class);
    now.set(now.get().plusSeconds(60)); // a full bucket, never more
    for (int i = 0; i < 3; i++) {
      gate.admit("f", 128);
    }
    assertThatThrownBy(() -> gate.admit("f", 128)).isInstanceOf(LambdaError.class);
  }

  @Test
  void instancesReserveHostMemory_andAStartThatDoesNotFitWaitsThenIsThrottled() throws Exception {
    ScaleGate gate =
        new ScaleGate(1000, 512, Duration.ofMillis(200), clock, dev.kiln.time.Ticker.system());
    gate.admit("a", 256);
    gate.admit("b", 256);
    assertThat(gate.reservedMb()).isEqualTo(512);
    assertThatThrownBy(() -> gate.admit("c", 128))
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> {
              assertThat(reason(e)).isEqualTo("429 ConcurrentInvocationLimitExceeded");
              assertThat(e.getMessage()).contains("512 of 512 MB");
              assertThat(e.extraMember(LambdaError.RETRY_AFTER_SECONDS)).contains("1");
            });
    // a start that waits gets the room an ending instance gives back
    ScaleGate patient =
        new ScaleGate(1000, 512, Duration.ofSeconds(30), clock, dev.kiln.time.Ticker.system());
    patient.admit("a", 512);
    CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> patient.admit("b", 256));
    Thread.sleep(100);
    assertThat(waiting).isNotDone();
    patient.release(512);
    waiting.get(10, TimeUnit.SECONDS);
    assertThat(patient.reservedMb()).isEqualTo(256);
  }

  @Test
  void aStartWaitingForRoom_givesUpOnceItIsNoLongerWanted_keepingItsTokenAndNoMemory()
      throws Exception {
    ScaleGate gate =
        new ScaleGate(2, 512, Duration.ofSeconds(30), clock, dev.kiln.time.Ticker.system());
    gate.admit("a", 512);
    java.util.concurrent.atomic.AtomicBoolean wanted =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    CompletableFuture<Boolean> waiting =
        CompletableFuture.supplyAsync(() -> gate.admit("a", 256, wanted::get));
    Thread.sleep(100);
    assertThat(waiting).isNotDone();
    wanted.set(false); // the call it was for was served by another instance
    assertThat(waiting.get(10, TimeUnit.SECONDS)).isFalse();
    assertThat(gate.reservedMb()).isEqualTo(512);
    gate.release(512);
    gate.admit("a", 256); // the token it took is back: the second of two
  }

  static ScaleGate.IdleInstance idle(
      String function, int secondsAgo, int mb, boolean provisioned, java.util.List<String> stops) {
    return new ScaleGate.IdleInstance(
        function + secondsAgo,
        function,
        Instant.parse("2026-11-25T00:00:00Z").minusSeconds(secondsAgo),
        mb,
        provisioned,
        () -> stops.add(function + secondsAgo),
        new CompletableFuture<Void>());
  }

  @Test
  void leastRecentlyUsed_acrossFunctions_neverProvisioned_andNoneWhenAllWouldNotDo() {
    java.util.List<String> stops = new java.util.ArrayList<>();
    var idle =
        java.util.List.of(
            idle("a", 10, 256, false, stops),
            idle("b", 40, 128, false, stops),
            idle("c", 90, 1024, true, stops),
            idle("a", 30, 512, false, stops));
    assertThat(ScaleGate.leastRecentlyUsed(idle, 128))
        .extracting(ScaleGate.IdleInstance::instance)
        .containsExactly("b40");
    assertThat(ScaleGate.leastRecentlyUsed(idle, 129))
        .extracting(ScaleGate.IdleInstance::instance)
        .containsExactly("b40", "a30");
    assertThat(ScaleGate.leastRecentlyUsed(idle, 896))
        .extracting(ScaleGate.IdleInstance::instance)
        .containsExactly("b40", "a30", "a10");
    assertThat(ScaleGate.leastRecentlyUsed(idle, 897)).as("the provisioned one never").isEmpty();
  }

  @Test
  void aStartThatDoesNotFit_stopsIdleInstances_andTakesTheRoomTheyGiveBack() throws Exception {
    ScaleGate gate =
        new ScaleGate(1000, 512, Duration.ofMillis(200), clock, dev.kiln.time.Ticker.system());
    gate.admit("a", 256);
    gate.admit("b", 256);
    java.util.List<String> stops = new java.util.concurrent.CopyOnWriteArrayList<>();
    gate.reclaimFrom(
        () -> java.util.List.of(idle("a", 5, 256, false, stops), idle("b", 50, 256, false, stops)));
    CompletableFuture<Void> start = CompletableFuture.runAsync(() -> gate.admit("c", 128));
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !stops.isEmpty());
    Thread.sleep(400); // past the gate's wait: a start whose room is on its way is not throttled
    assertThat(stops).as("the least recently used, once").containsExactly("b50");
    assertThat(start).isNotDone();
    gate.release(256, "b50");
    start.get(10, TimeUnit.SECONDS);
    assertThat(gate.reservedMb()).isEqualTo(384);
  }
}
