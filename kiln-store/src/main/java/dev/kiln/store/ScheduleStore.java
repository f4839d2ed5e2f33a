package dev.kiln.store;

import dev.kiln.model.Schedule;
import dev.kiln.model.ScheduleGroup;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where EventBridge Scheduler's schedules and schedule groups are kept, with the firing engine's
 * one piece of state per schedule: {@code next_due}, the due time it fires next (empty when it
 * never fires again). A schedule is one document ({@link Schedule}); group, name, state and
 * next_due are the columns it is looked up by.
 *
 * <p>The firing engine changes next_due only with {@link #advance}, a compare-and-set on the value
 * it read, so that two engines (two nodes on one database, or one engine and an API change that
 * raced it) never both move a schedule on from the same due time: the one whose set fails knows
 * someone else handled that due time (and the queue's deduplication key makes the firing itself
 * happen once). {@link #replace} sets next_due afresh, as an update of the schedule starts it
 * again.
 *
 * <p>Outcomes are {@link StorageException}s: {@link StorageException.AlreadyExists} for a taken
 * name, {@link StorageException.NotFound} for a group (or schedule) that is not there. The {@code
 * default} group exists in every store from its start and cannot be deleted.
 */
public interface ScheduleStore extends AutoCloseable {

  /** A schedule with its firing state. */
  record Stored(Schedule schedule, Optional<Instant> nextDue) {}

  /** Adds a group; AlreadyExists if the name is taken. */
  void createGroup(ScheduleGroup group);

  Optional<ScheduleGroup> group(String name);

  /** Every group, by name, {@code default} among them. */
  List<ScheduleGroup> groups();

  /** Sets a group's tags; NotFound if it is gone. */
  void setGroupTags(String name, Map<String, String> tags, Instant modified);

  /** Deletes a group and every schedule in it, in one transaction; false if there was none. */
  boolean deleteGroup(String name);

  /**
   * Adds a schedule; AlreadyExists if its group has one of that name, NotFound (SCHEDULE_GROUP) if
   * the group does not exist.
   */
  void create(Schedule schedule, Optional<Instant> nextDue);

  Optional<Stored> get(String group, String name);

  /** Replaces a schedule and its next_due; NotFound if it is gone. */
  void replace(Schedule schedule, Optional<Instant> nextDue);

  /** Deletes a schedule; false if there was none. */
  boolean delete(String group, String name);

  /**
   * Schedules by group then name, after the key {@code after} ({@code group/name}, exclusive), at
   * most {@code max}, filtered by group, name prefix and state when given.
   */
  List<Schedule> list(
      Optional<String> group,
      Optional<String> namePrefix,
      Optional<String> state,
      Optional<String> after,
      int max);

  /** The earliest next_due of any schedule, enabled or not (the engine skips disabled ones). */
  Optional<Instant> earliestDue();

  /** Up to {@code max} schedules whose next_due is at or before {@code now}, earliest first. */
  List<Stored> due(Instant now, int max);

  /**
   * Moves a schedule's next_due from {@code expected} to {@code next}, if it is still {@code
   * expected} (and the schedule still exists); returns whether it did.
   */
  boolean advance(String group, String name, Instant expected, Optional<Instant> next);

  /** Answers at once when the store can be read; throws when it cannot (a health check). */
  void check();

  @Override
  void close();
}
