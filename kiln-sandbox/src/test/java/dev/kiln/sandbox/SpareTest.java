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

    // a second of quiet: the rate is back to nothing, and the surplus goes
    now.addAndGet(Spare.WINDOW_NANOS + 1);
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
    Spare<Integer> late =
        new Spare<>(
            "slow number",
            () -> {
              if (blocking.get()) {
                blocked.incrementAndGet();
                try {
                  slow.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
              return made.incrementAndGet();
            },
            destroyed::add,
            executor,
            now::get);
    try {
      for (int i = 0; i < 10; i++) {
        late.take(); // each made at once, inline
      }
      // the refill for a rate of 10 begins a moment later, and its makes are slow
      blocking.set(true);
      await().atMost(Duration.ofSeconds(30)).until(() -> blocked.get() == 10);
      // the takes stop and the trim runs while those are still being made
      now.addAndGet(Spare.WINDOW_NANOS + 1);
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
}
