package dev.kiln.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.store.UsageStore;
import dev.kiln.store.UsageStore.Increment;
import dev.kiln.store.UsageStore.Usage;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link UsageStore} promises, as tests: extend this class with {@link #newStore}
 * returning an empty store of your implementation. Increments add up per function and hour, and a
 * report sums the hours of a period per function.
 */
public abstract class UsageStoreContract {

  static final long HOUR = 3_600_000;

  protected UsageStore store;

  /** A new, empty store; closed after each test. */
  protected abstract UsageStore newStore();

  @BeforeEach
  void openStore() {
    store = newStore();
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  @Test
  void incrementsAddUp_perFunctionAndHour_inOneCallOrMany() {
    store.add(
        List.of(
            new Increment("f", 0, 1, 100, 10, 1000, 5),
            new Increment("f", 0, 2, 200, 20, 2000, 6)));
    store.add(List.of(new Increment("f", 0, 3, 300, 30, 3000, 7)));
    assertThat(store.usage(0, HOUR, Optional.empty()))
        .containsExactly(new Usage("f", 6, 600, 60, 6000, 18));
  }

  @Test
  void usage_sumsTheHoursStartingInThePeriod_perFunctionByName() {
    store.add(
        List.of(
            new Increment("b", 0, 1, 10, 0, 0, 0),
            new Increment("a", HOUR, 2, 20, 0, 0, 0),
            new Increment("a", 2 * HOUR, 4, 40, 0, 0, 0),
            new Increment("a", 3 * HOUR, 8, 80, 0, 0, 0)));
    assertThat(store.usage(0, 3 * HOUR, Optional.empty()))
        .as("from inclusive, to exclusive")
        .containsExactly(new Usage("a", 6, 60, 0, 0, 0), new Usage("b", 1, 10, 0, 0, 0));
    assertThat(store.usage(HOUR, 4 * HOUR, Optional.of("a")))
        .containsExactly(new Usage("a", 14, 140, 0, 0, 0));
    assertThat(store.usage(HOUR, 4 * HOUR, Optional.of("b"))).isEmpty();
    assertThat(store.usage(10 * HOUR, 11 * HOUR, Optional.empty())).isEmpty();
  }

  @Test
  void addingNothing_changesNothing() {
    store.add(List.of());
    assertThat(store.usage(0, Long.MAX_VALUE, Optional.empty())).isEmpty();
  }

  @Test
  void check_answersOnAHealthyStore() {
    store.check();
  }
}
