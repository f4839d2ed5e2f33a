package dev.kiln.store;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Function logs, kept as CloudWatch Logs keeps them: events in streams, streams in groups ({@code
 * /aws/lambda/<name>}, one stream per instance). A group exists from its creation (by {@link
 * #createGroup} or by the first event appended to it) until it is deleted, with or without streams,
 * and may have a retention of its own.
 *
 * <p>Bounded: {@link #prune} drops what is older than the server-wide retention, what is older than
 * its group's retention, and, oldest first, what is over the size limit. A group's retention can
 * only keep events for less time than the server-wide one, never longer: the server's bounds are
 * what keeps Kiln's disk in check, whatever its users ask for. Implementations: {@link
 * SqliteLogStore}.
 */
public interface LogStore extends AutoCloseable {

  /** A line to keep. */
  record Event(String group, String stream, long timestamp, String message) {}

  /** A kept line; {@code id} orders events by arrival and serves as the event id and page token. */
  record StoredEvent(long id, String stream, long timestamp, long ingestionTime, String message) {}

  /**
   * A log group; {@code retentionInDays} is empty when the group has no retention of its own (its
   * events are kept as long as the server keeps any).
   */
  record Group(
      String name, long creationTime, Optional<Integer> retentionInDays, long storedBytes) {}

  record Stream(
      String name,
      long creationTime,
      Optional<Long> firstEventTimestamp,
      Optional<Long> lastEventTimestamp,
      Optional<Long> lastIngestionTime,
      long storedBytes) {}

  /** Keeps events, all in one transaction, creating their groups and streams as needed. */
  default void append(List<Event> events) {
    append(events, java.util.Map.of());
  }

  /**
   * Keeps events and, in the same transaction, how far each instance's output file has been read
   * into them ({@code outputRead}: instance id to a byte offset of its file), so that what an
   * instance printed is ingested exactly once even if Kiln dies between the two.
   */
  void append(List<Event> events, java.util.Map<String, Long> outputRead);

  /** How far the output of {@code instance} has been read into the log; empty if never. */
  Optional<Long> outputRead(String instance);

  /** Forgets how far the output of these instances was read: their files are gone. */
  void forgetOutput(java.util.Collection<String> instances);

  /** Forgets it for every instance: at start, once the instances of an earlier run are gone. */
  void forgetAllOutput();

  /** Creates an empty group; false if it already exists. */
  boolean createGroup(String group);

  /** Creates an empty stream in a group; false if the group is missing or has the stream. */
  boolean createStream(String group, String stream);

  /** Deletes a group with its streams, events and retention; false if it does not exist. */
  boolean deleteGroup(String group);

  /** Deletes one stream with its events; false if it does not exist. */
  boolean deleteStream(String group, String stream);

  /**
   * Sets ({@code days} present) or removes a group's own retention; false if the group does not
   * exist.
   */
  boolean setRetention(String group, Optional<Integer> days);

  /** Groups whose name starts with {@code prefix}, by name. */
  List<Group> groups(String prefix);

  /**
   * A group's streams whose name starts with {@code prefix}.
   *
   * @param byLastEventTime order by the last event's time rather than by name
   */
  List<Stream> streams(String group, String prefix, boolean byLastEventTime, boolean descending);

  /**
   * Events of one stream within {@code [start, end)}, in arrival order: with {@code afterId}, the
   * first {@code limit} after it; with {@code beforeId}, the last {@code limit} before it; with
   * neither, the first or last {@code limit} of the stream ({@code fromHead}).
   */
  List<StoredEvent> events(
      String group,
      String stream,
      long start,
      long end,
      Optional<Long> afterId,
      Optional<Long> beforeId,
      int limit,
      boolean fromHead);

  /**
   * Whether a page of {@link #events} is the first {@code limit} of its range (after {@code
   * afterId}, or from the head) rather than the last (before {@code beforeId}, or from the tail):
   * the one rule every store pages by.
   */
  static boolean pageFromStart(Optional<Long> afterId, Optional<Long> beforeId, boolean fromHead) {
    return afterId.isPresent() || (beforeId.isEmpty() && fromHead);
  }

  /**
   * Events of a group (of the named streams, or of those starting with {@code streamPrefix}) within
   * {@code [start, end)} with an id over {@code afterId}, in arrival order, at most {@code limit}.
   */
  List<StoredEvent> scan(
      String group,
      List<String> streams,
      String streamPrefix,
      long start,
      long end,
      long afterId,
      int limit);

  /**
   * Drops events older than {@code retention} before {@code now} (epoch ms), and those older than
   * their group's retention, then the oldest until under {@code maxBytes}. Streams left empty by
   * pruning go too; groups stay.
   */
  void prune(long now, Duration retention, long maxBytes);

  /** Answers at once when the store can be read; throws when it cannot (a health check). */
  void check();

  @Override
  void close();
}
