package dev.kiln.events.schedule;

import dev.kiln.model.Account;
import dev.kiln.model.Schedule;
import dev.kiln.model.ScheduleGroup;
import dev.kiln.store.ScheduleStore;
import dev.kiln.store.StorageException;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Scheduler's control plane below its API: stores schedules with the due time they first fire at
 * ({@link ScheduleTimers#firstDue}), so a change takes effect from now, and tells the engine
 * ({@link ScheduleRunner#changed}) so it looks again at once. It makes sure the {@code default}
 * group exists and refuses to delete it. Checks of what a caller sent are the API's; what reaches
 * here is valid. Thread-safe as its store is.
 */
public final class Schedules {

  private final ScheduleStore store;
  private final Account account;
  private final InstantSource clock;
  private final Runnable changed;

  public Schedules(ScheduleStore store, Account account, InstantSource clock, Runnable changed) {
    this.store = store;
    this.account = account;
    this.clock = clock;
    this.changed = changed;
    if (store.group(Schedule.DEFAULT_GROUP).isEmpty()) {
      try {
        store.createGroup(
            new ScheduleGroup(
                Schedule.DEFAULT_GROUP,
                groupArn(Schedule.DEFAULT_GROUP),
                "ACTIVE",
                clock.instant(),
                clock.instant(),
                Map.of()));
      } catch (StorageException.AlreadyExists raced) {
        // another node made it first
      }
    }
  }

  public Account account() {
    return account;
  }

  public InstantSource clock() {
    return clock;
  }

  public String groupArn(String group) {
    return "arn:aws:scheduler:"
        + account.region()
        + ":"
        + account.accountId()
        + ":schedule-group/"
        + group;
  }

  public String scheduleArn(String group, String name) {
    return "arn:aws:scheduler:"
        + account.region()
        + ":"
        + account.accountId()
        + ":schedule/"
        + group
        + "/"
        + name;
  }

  /** Stores a new schedule; the store's outcomes (AlreadyExists, NotFound group) pass through. */
  public void create(Schedule s) {
    store.create(s, ScheduleTimers.firstDue(s, clock.instant()));
    changed.run();
  }

  /** Replaces a schedule, which starts again from now. */
  public void update(Schedule s) {
    store.replace(s, ScheduleTimers.firstDue(s, clock.instant()));
    changed.run();
  }

  public Optional<ScheduleStore.Stored> get(String group, String name) {
    return store.get(group, name);
  }

  public boolean delete(String group, String name) {
    boolean deleted = store.delete(group, name);
    changed.run();
    return deleted;
  }

  public List<Schedule> list(
      Optional<String> group,
      Optional<String> namePrefix,
      Optional<String> state,
      Optional<String> after,
      int max) {
    return store.list(group, namePrefix, state, after, max);
  }

  public void createGroup(String name, Map<String, String> tags) {
    store.createGroup(
        new ScheduleGroup(name, groupArn(name), "ACTIVE", clock.instant(), clock.instant(), tags));
  }

  public Optional<ScheduleGroup> group(String name) {
    return store.group(name);
  }

  public List<ScheduleGroup> groups() {
    return store.groups();
  }

  public void setGroupTags(String name, Map<String, String> tags) {
    store.setGroupTags(name, tags, clock.instant());
  }

  /** Deletes a group and its schedules; false if there was none. */
  public boolean deleteGroup(String name) {
    if (name.equals(Schedule.DEFAULT_GROUP)) {
      throw new IllegalArgumentException("the default group cannot be deleted");
    }
    boolean deleted = store.deleteGroup(name);
    changed.run();
    return deleted;
  }
}
