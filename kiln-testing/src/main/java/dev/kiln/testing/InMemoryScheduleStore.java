package dev.kiln.testing;

import dev.kiln.model.Schedule;
import dev.kiln.model.ScheduleGroup;
import dev.kiln.store.ScheduleStore;
import dev.kiln.store.StorageException;
import dev.kiln.store.StorageException.Entity;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A {@link ScheduleStore} in maps, for unit tests: it keeps the promises of {@link
 * ScheduleStoreContract} as the SQLite store does. The monitor guards the maps.
 */
public final class InMemoryScheduleStore implements ScheduleStore {

  private final TreeMap<String, ScheduleGroup> groups = new TreeMap<>();

  /** By {@code group/name}, the order lists page in. */
  private final TreeMap<String, Stored> schedules = new TreeMap<>();

  @Override
  public synchronized void createGroup(ScheduleGroup group) {
    if (groups.putIfAbsent(group.name(), group) != null) {
      throw new StorageException.AlreadyExists(Entity.SCHEDULE_GROUP, group.name());
    }
  }

  @Override
  public synchronized Optional<ScheduleGroup> group(String name) {
    return Optional.ofNullable(groups.get(name));
  }

  @Override
  public synchronized List<ScheduleGroup> groups() {
    return List.copyOf(groups.values());
  }

  @Override
  public synchronized void setGroupTags(String name, Map<String, String> tags, Instant modified) {
    ScheduleGroup group = groups.get(name);
    if (group == null) {
      throw new StorageException.NotFound(Entity.SCHEDULE_GROUP, name);
    }
    groups.put(name, group.withTags(tags, modified));
  }

  @Override
  public synchronized boolean deleteGroup(String name) {
    if (groups.remove(name) == null) {
      return false;
    }
    schedules.values().removeIf(s -> s.schedule().groupName().equals(name));
    return true;
  }

  @Override
  public synchronized void create(Schedule schedule, Optional<Instant> nextDue) {
    if (!groups.containsKey(schedule.groupName())) {
      throw new StorageException.NotFound(Entity.SCHEDULE_GROUP, schedule.groupName());
    }
    if (schedules.putIfAbsent(schedule.key(), new Stored(schedule, nextDue)) != null) {
      throw new StorageException.AlreadyExists(Entity.SCHEDULE, schedule.key());
    }
  }

  @Override
  public synchronized Optional<Stored> get(String group, String name) {
    return Optional.ofNullable(schedules.get(group + "/" + name));
  }

  @Override
  public synchronized void replace(Schedule schedule, Optional<Instant> nextDue) {
    if (!schedules.containsKey(schedule.key())) {
      throw new StorageException.NotFound(Entity.SCHEDULE, schedule.key());
    }
    schedules.put(schedule.key(), new Stored(schedule, nextDue));
  }

  @Override
  public synchronized boolean delete(String group, String name) {
    return schedules.remove(group + "/" + name) != null;
  }

  @Override
  public synchronized List<Schedule> list(
      Optional<String> group,
      Optional<String> namePrefix,
      Optional<String> state,
      Optional<String> after,
      int max) {
    return (after.isPresent() ? schedules.tailMap(after.get(), false) : schedules)
        .values().stream()
            .map(Stored::schedule)
            .filter(s -> group.map(s.groupName()::equals).orElse(true))
            .filter(s -> namePrefix.map(s.name()::startsWith).orElse(true))
            .filter(s -> state.map(s.state()::equals).orElse(true))
            .limit(max)
            .toList();
  }

  @Override
  public synchronized Optional<Instant> earliestDue() {
    return schedules.values().stream()
        .flatMap(s -> s.nextDue().stream())
        .min(Comparator.naturalOrder());
  }

  @Override
  public synchronized List<Stored> due(Instant now, int max) {
    return schedules.values().stream()
        .filter(s -> s.nextDue().filter(d -> !d.isAfter(now)).isPresent())
        .sorted(Comparator.comparing(s -> s.nextDue().orElseThrow()))
        .limit(max)
        .toList();
  }

  @Override
  public synchronized boolean advance(
      String group, String name, Instant expected, Optional<Instant> next) {
    Stored s = schedules.get(group + "/" + name);
    if (s == null || !s.nextDue().equals(Optional.of(expected))) {
      return false;
    }
    schedules.put(s.schedule().key(), new Stored(s.schedule(), next));
    return true;
  }

  @Override
  public void check() {}

  @Override
  public void close() {}
}
