package dev.kiln.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.model.Schedule;
import dev.kiln.model.ScheduleGroup;
import dev.kiln.store.ScheduleStore;
import dev.kiln.store.ScheduleStore.Stored;
import dev.kiln.store.StorageException;
import dev.kiln.store.StorageException.Entity;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link ScheduleStore} promises, as tests: extend this class with {@link #newStore}
 * returning an empty store of your implementation. The SQLite store and the in-memory one run it in
 * kiln-testing's own tests.
 */
public abstract class ScheduleStoreContract {

  protected static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  protected ScheduleStore store;

  /** A new, empty store; closed after each test. */
  protected abstract ScheduleStore newStore();

  @BeforeEach
  void openStore() {
    store = newStore();
    store.createGroup(group("default"));
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  protected static ScheduleGroup group(String name) {
    return new ScheduleGroup(
        name,
        "arn:aws:scheduler:us-east-1:000000000000:schedule-group/" + name,
        "ACTIVE",
        T0,
        T0,
        Map.of());
  }

  protected static Schedule schedule(String group, String name, String state) {
    return new Schedule(
        group,
        name,
        "arn:aws:scheduler:us-east-1:000000000000:schedule/" + group + "/" + name,
        "rate(5 minutes)",
        "Europe/Paris",
        Optional.of(T0),
        Optional.of(T0.plusSeconds(86_400)),
        Optional.of("every five minutes"),
        state,
        Optional.empty(),
        new Schedule.Target(
            "arn:aws:lambda:us-east-1:000000000000:function:f",
            "arn:aws:iam::000000000000:role/r",
            Optional.of("{\"a\":1}"),
            new Schedule.RetryPolicy(3600, 3),
            Optional.of("arn:aws:lambda:us-east-1:000000000000:function:dlq")),
        new Schedule.FlexibleTimeWindow("FLEXIBLE", Optional.of(10)),
        "NONE",
        T0,
        T0,
        Optional.of("token-1"));
  }

  @Test
  void aScheduleKeepsEveryField() {
    Schedule s = schedule("default", "a", Schedule.ENABLED);
    store.create(s, Optional.of(T0.plusSeconds(300)));
    assertThat(store.get("default", "a")).contains(new Stored(s, Optional.of(T0.plusSeconds(300))));
    assertThat(store.get("default", "b")).isEmpty();
    assertThat(store.get("other", "a")).isEmpty();
  }

  @Test
  void aNameIsTakenOncePerGroup() {
    store.createGroup(group("g"));
    store.create(schedule("default", "a", Schedule.ENABLED), Optional.empty());
    store.create(schedule("g", "a", Schedule.ENABLED), Optional.empty());
    assertThatThrownBy(() -> store.create(schedule("g", "a", Schedule.DISABLED), Optional.empty()))
        .isInstanceOfSatisfying(
            StorageException.AlreadyExists.class,
            e -> {
              assertThat(e.entity()).isEqualTo(Entity.SCHEDULE);
              assertThat(e.key()).isEqualTo("g/a");
            });
    assertThat(store.get("g", "a").orElseThrow().schedule().state()).isEqualTo(Schedule.ENABLED);
  }

  @Test
  void aScheduleNeedsItsGroup() {
    assertThatThrownBy(
            () -> store.create(schedule("nope", "a", Schedule.ENABLED), Optional.empty()))
        .isInstanceOfSatisfying(
            StorageException.NotFound.class,
            e -> assertThat(e.entity()).isEqualTo(Entity.SCHEDULE_GROUP));
    assertThat(
            store.list(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), 100))
        .isEmpty();
  }

  @Test
  void groupsAreCreatedTaggedAndDeletedWithTheirSchedules() {
    store.createGroup(group("g"));
    assertThatThrownBy(() -> store.createGroup(group("g")))
        .isInstanceOf(StorageException.AlreadyExists.class);
    store.setGroupTags("g", Map.of("team", "ops"), T0.plusSeconds(5));
    assertThat(store.group("g").orElseThrow().tags()).isEqualTo(Map.of("team", "ops"));
    assertThat(store.group("g").orElseThrow().lastModificationDate()).isEqualTo(T0.plusSeconds(5));
    assertThat(store.groups()).extracting(ScheduleGroup::name).containsExactly("default", "g");
    store.create(schedule("g", "a", Schedule.ENABLED), Optional.of(T0));
    store.create(schedule("default", "a", Schedule.ENABLED), Optional.of(T0));
    assertThat(store.deleteGroup("g")).isTrue();
    assertThat(store.deleteGroup("g")).isFalse();
    assertThat(store.get("g", "a")).isEmpty();
    assertThat(store.get("default", "a")).isPresent();
    assertThat(store.due(T0, 10)).hasSize(1);
    assertThatThrownBy(() -> store.setGroupTags("g", Map.of(), T0))
        .isInstanceOf(StorageException.NotFound.class);
  }

  @Test
  void replaceAndDelete() {
    store.create(schedule("default", "a", Schedule.ENABLED), Optional.of(T0));
    Schedule disabled = schedule("default", "a", Schedule.DISABLED);
    store.replace(disabled, Optional.of(T0.plusSeconds(60)));
    assertThat(store.get("default", "a"))
        .contains(new Stored(disabled, Optional.of(T0.plusSeconds(60))));
    assertThat(store.delete("default", "a")).isTrue();
    assertThat(store.delete("default", "a")).isFalse();
    assertThatThrownBy(() -> store.replace(disabled, Optional.empty()))
        .isInstanceOf(StorageException.NotFound.class);
  }

  @Test
  void listsFilterAndPageByGroupThenName() {
    store.createGroup(group("g"));
    for (String n : List.of("b", "a_1", "a%", "c")) {
      store.create(
          schedule("default", n, n.equals("c") ? Schedule.DISABLED : Schedule.ENABLED),
          Optional.empty());
    }
    store.create(schedule("g", "a", Schedule.ENABLED), Optional.empty());
    assertThat(
            names(
                store.list(
                    Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), 100)))
        .containsExactly("default/a%", "default/a_1", "default/b", "default/c", "g/a");
    assertThat(
            names(
                store.list(
                    Optional.of("default"),
                    Optional.of("a_"),
                    Optional.empty(),
                    Optional.empty(),
                    100)))
        .containsExactly("default/a_1");
    assertThat(
            names(
                store.list(
                    Optional.empty(),
                    Optional.empty(),
                    Optional.of("DISABLED"),
                    Optional.empty(),
                    100)))
        .containsExactly("default/c");
    assertThat(
            names(
                store.list(
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty(),
                    Optional.of("default/b"),
                    2)))
        .containsExactly("default/c", "g/a");
  }

  @Test
  void dueSchedulesAndTheCompareAndSetOfNextDue() {
    store.create(schedule("default", "late", Schedule.ENABLED), Optional.of(T0.plusSeconds(120)));
    store.create(schedule("default", "early", Schedule.ENABLED), Optional.of(T0.plusSeconds(60)));
    store.create(schedule("default", "never", Schedule.ENABLED), Optional.empty());
    assertThat(store.earliestDue()).contains(T0.plusSeconds(60));
    assertThat(store.due(T0.plusSeconds(59), 10)).isEmpty();
    assertThat(store.due(T0.plusSeconds(120), 10))
        .extracting(s -> s.schedule().name())
        .containsExactly("early", "late");
    assertThat(store.due(T0.plusSeconds(120), 1)).hasSize(1);

    assertThat(
            store.advance("default", "early", T0.plusSeconds(60), Optional.of(T0.plusSeconds(360))))
        .isTrue();
    // a second engine that read the same due time finds it moved on
    assertThat(
            store.advance("default", "early", T0.plusSeconds(60), Optional.of(T0.plusSeconds(360))))
        .isFalse();
    assertThat(store.get("default", "early").orElseThrow().nextDue()).contains(T0.plusSeconds(360));
    assertThat(store.advance("default", "late", T0.plusSeconds(120), Optional.empty())).isTrue();
    assertThat(store.get("default", "late").orElseThrow().nextDue()).isEmpty();
    assertThat(store.advance("default", "gone", T0, Optional.empty())).isFalse();
    assertThat(store.earliestDue()).contains(T0.plusSeconds(360));
  }

  private static List<String> names(List<Schedule> schedules) {
    return schedules.stream().map(Schedule::key).toList();
  }
}
