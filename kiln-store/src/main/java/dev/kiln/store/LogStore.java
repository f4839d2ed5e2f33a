package dev.kiln.store;

import java.util.List;
import java.util.Optional;

/**
 * Function logs, kept as CloudWatch Logs keeps them: events in streams, streams in groups ({@code
 * /aws/lambda/<name>}, one stream per instance). Bounded: {@link #prune} drops what is older than
 * the retention and, oldest first, what is over the size limit. Implementations: {@link
 * SqliteLogStore}.
 */
public interface LogStore extends AutoCloseable {

  /** A line to keep. */
  record Event(String group, String stream, long timestamp, String message) {}

  /** A kept line; {@code id} orders events by arrival and serves as the event id and page token. */
  record StoredEvent(long id, String stream, long timestamp, long ingestionTime, String message) {}

  record Group(String name, long creationTime, long storedBytes) {}

  record Stream(
      String name,
      long creationTime,
      Optional<Long> firstEventTimestamp,
      Optional<Long> lastEventTimestamp,
      Optional<Long> lastIngestionTime,
      long storedBytes) {}

  /** Keeps events, all in one transaction, creating their streams as needed. */
  void append(List<Event> events);

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
   * Drops events older than {@code olderThan} (epoch ms), then the oldest until under {@code
   * maxBytes}.
   */
  void prune(long olderThan, long maxBytes);

  @Override
  void close();
}
