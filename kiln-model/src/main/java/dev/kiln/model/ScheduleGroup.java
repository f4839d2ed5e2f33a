package dev.kiln.model;

import java.time.Instant;
import java.util.Map;

/**
 * An EventBridge Scheduler schedule group: a name its schedules are listed and deleted by, with
 * tags. The {@code default} group always exists and cannot be deleted.
 *
 * @param state always {@code ACTIVE}: Kiln deletes a group and its schedules in one transaction, so
 *     a group is never seen {@code DELETING}
 */
public record ScheduleGroup(
    String name,
    String arn,
    String state,
    Instant creationDate,
    Instant lastModificationDate,
    Map<String, String> tags) {

  public ScheduleGroup {
    tags = Map.copyOf(tags);
  }

  public ScheduleGroup withTags(Map<String, String> newTags, Instant modified) {
    return new ScheduleGroup(name, arn, state, creationDate, modified, newTags);
  }
}
