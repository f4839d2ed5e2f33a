package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The number of spares kept ready follows the take rate, up and down, and none is handed twice. */
class SpareTest {

  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final AtomicInteger made = new AtomicInteger();
  private final Set<Integer> destroyed = ConcurrentHashMap.newKeySet();
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final Spare<Integer> spare =
      new Spare<>("number", made::incrementAndGet, destroyed::add, executor, now::get);

  @AfterEach
  void close() {
    spare.close();
    executor.shutdownNow();
  }

  @Test
  void aQuietServer_keepsOneReady() {
    spare.refill();
    await().atMost(Duration.ofSeconds(30)).until(() -> spare.ready() == 1);
    assertThat(spare.target()).isEqualTo(Spare.MIN_READY);
  }

  @Test
  void aBurstOfTakes_makesAsManyReady_andTheyAreUndoneWhenTheTakesStop() throws Exception {
    Set<Integer> handedOut = ConcurrentHashMap.newKeySet();
    for (int i = 0; i < 10; i++) {
      assertThat(handedOut.add(spare.take())).as("each handed out once").isTrue();
    }
    assertThat(spare.target()).isEqualTo(10);
    await().atMost(Duration.ofSeconds(30)).until(() -> spare.ready() == 10);

    // five minutes of quiet: the burst is forgotten, and the surplus goes
    now.addAndGet(Spare.RECALL_NANOS + Spare.WINDOW_NANOS);
    assertThat(spare.target()).isEqualTo(Spare.MIN_READY);
    spare.trimNow();
    // a make still under way as the trim ran lands later and schedules its own trim: wait for the
    // count to settle, then every part made is handed out, ready, or undone, and none twice
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              assertThat(spare.ready()).isEqualTo(Spare.MIN_READY);
              assertThat(destroyed.size() + spare.ready() + handedOut.size()).isEqualTo(made.get());
            });
    assertThat(destroyed).hasSizeGreaterThanOrEqualTo(9).doesNotContainAnyElementsOf(handedOut);
  }

  @Test
  void sparesMadeAfterTheTakesStopped_areUndoneToo() throws Exception {
    java.util.concurrent.CountDownLatch slow = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicBoolean blocking =
        new java.util.concurrent.atomic.AtomicBoolean();
    AtomicInteger blocked = new AtomicInteger();
    Spare<Integer> late = gated(blocking::get, blocked::incrementAndGet, slow);
    try {
      for (int i = 0; i < 10; i++) {
        late.take(); // each made at once, inline
      }
      // the refill for a rate of 10 begins a moment later, and its makes are slow
      blocking.set(true);
      await().atMost(Duration.ofSeconds(30)).until(() -> blocked.get() == 10);
      // the takes stop and the trim runs while those are still being made
      now.addAndGet(Spare.RECALL_NANOS + Spare.WINDOW_NANOS);
      late.trimNow();
      assertThat(late.ready()).isZero();
      slow.countDown();
      await()
          .atMost(Duration.ofSeconds(30))
          .alias("what the refills made beyond the target is undone, not kept until the next take")
          .until(() -> late.ready() == Spare.MIN_READY && made.get() >= 10 + Spare.MIN_READY);
      assertThat(destroyed).hasSize(10 - Spare.MIN_READY);
    } finally {
      late.close();
    }
  }

  @Test
  void theBusiestWindow_isRememberedForFiveMinutes_soTheNextBurstFindsItsPartsReady()
      throws Exception {
    // a burst of 12 takes, spread over two seconds
    for (int i = 0; i < 12; i++) {
      spare.take();
      now.addAndGet(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(150));
    }
    assertThat(spare.target()).isEqualTo(12);
    await().atMost(Duration.ofSeconds(30)).until(() -> spare.ready() == 12);

    // a minute later, a trim keeps them: the next burst may come
    now.addAndGet(java.util.concurrent.TimeUnit.MINUTES.toNanos(1));
    spare.trimNow();
    assertThat(spare.target()).isEqualTo(12);
    assertThat(spare.ready()).isEqualTo(12);

    // a single take now does not lower the target: the one taken is made again
    spare.take();
    await().atMost(Duration.ofSeconds(30)).until(() -> spare.ready() == 12);

    // five minutes after that take, the server is quiet again and keeps one
    now.addAndGet(Spare.RECALL_NANOS + Spare.WINDOW_NANOS);
    assertThat(spare.target()).isEqualTo(Spare.MIN_READY);
    spare.trimNow();
    await().atMost(Duration.ofSeconds(30)).until(() -> spare.ready() == Spare.MIN_READY);
  }

  @Test
  void takesAreCountedOverTenSeconds_notOne() {
    // a burst's starts spread over several seconds (one every 400 ms) are one burst
    for (int i = 0; i < 20; i++) {
      try {
        spare.take();
      } catch (java.io.IOException e) {
        throw new AssertionError(e);
      }
      now.addAndGet(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(400));
    }
    assertThat(spare.target()).isBetween(13, 20);
  }

  @Test
  void theTargetIsBounded() throws Exception {
    for (int i = 0; i < Spare.MAX_READY * 2; i++) {
      spare.take();
    }
    assertThat(spare.target()).isEqualTo(Spare.MAX_READY);
  }

  @Test
  void closing_undoesTheReadyOnes() {
    spare.refill();
    await().atMost(Duration.ofSeconds(30)).until(() -> spare.ready() == 1);
    spare.close();
    assertThat(spare.ready()).isZero();
    assertThat(destroyed).hasSize(1);
  }

  @Test
  void closing_waitsForTheOnesBeingMade_andUndoesThem() throws Exception {
    java.util.concurrent.CountDownLatch making = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    Spare<Integer> slow = gated(() -> true, making::countDown, release);
    slow.refill();
    assertThat(making.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    var closing = java.util.concurrent.CompletableFuture.runAsync(slow::close);
    Thread.sleep(200);
    assertThat(closing).as("close waits for the make under way").isNotDone();
    release.countDown();
    closing.get(30, java.util.concurrent.TimeUnit.SECONDS);
    // once close has returned, what was being made is undone, not left on the host
    assertThat(made.get()).isEqualTo(1);
    assertThat(destroyed).containsExactly(1);
    assertThat(slow.ready()).isZero();
  }

  /**
   * A spare whose makes, while {@code holds} says so, call {@code onHold} and wait for {@code
   * release} before making.
   */
  private Spare<Integer> gated(
      java.util.function.BooleanSupplier holds,
      Runnable onHold,
      java.util.concurrent.CountDownLatch release) {
    return new Spare<>(
        "slow number",
        () -> {
          if (holds.getAsBoolean()) {
            onHold.run();
            try {
              release.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return made.incrementAndGet();
        },
        destroyed::add,
        executor,
        now::get);
  }
}
