package dev.kiln.testing;

import dev.kiln.store.LogStore;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * A {@link LogStore} in memory, stamping ingestion and creation times with the clock it is given,
 * with the SQLite store's promises (both pass {@link LogStoreContract}). Synchronized on the store,
 * which guards its groups, streams and events.
 */
public final class InMemoryLogStore implements LogStore {

  private static final class GroupRow {
    final long created;
    Optional<Integer> retentionInDays = Optional.empty();
    final TreeMap<String, StreamRow> streams = new TreeMap<>();

    GroupRow(long created) {
      this.created = created;
    }
  }

  private static final class StreamRow {
    final String name;
    final long created;
    Optional<Long> firstEvent = Optional.empty();
    Optional<Long> lastEvent = Optional.empty();
    Optional<Long> lastIngestion = Optional.empty();
    long storedBytes;

    StreamRow(String name, long created) {
      this.name = name;
      this.created = created;
    }

    Stream view() {
      return new Stream(name, created, firstEvent, lastEvent, lastIngestion, storedBytes);
    }
  }

  private record Row(String group, StoredEvent event) {}

  private final InstantSource clock;
  private final TreeMap<String, GroupRow> groups = new TreeMap<>();

  /** Every event, by id (arrival order). */
  private final TreeMap<Long, Row> events = new TreeMap<>();

  private final Map<String, Long> outputRead = new HashMap<>();
  private long lastId;

  public InMemoryLogStore(InstantSource clock) {
    this.clock = clock;
  }

  @Override
  public synchronized void append(List<Event> batch, Map<String, Long> read) {
    long now = clock.millis();
    for (Event e : batch) {
      StreamRow s =
          groups
              .computeIfAbsent(e.group(), g -> new GroupRow(now))
              .streams
              .computeIfAbsent(e.stream(), n -> new StreamRow(n, now));
      long ts = e.timestamp();
      events.put(
          ++lastId, new Row(e.group(), new StoredEvent(lastId, e.stream(), ts, now, e.message())));
      s.firstEvent = Optional.of(s.firstEvent.map(f -> Math.min(f, ts)).orElse(ts));
      s.lastEvent = Optional.of(s.lastEvent.map(l -> Math.max(l, ts)).orElse(ts));
      s.lastIngestion = Optional.of(now);
      s.storedBytes += bytes(e.message());
    }
    outputRead.putAll(read);
  }

  @Override
  public synchronized Optional<Long> outputRead(String instance) {
    return Optional.ofNullable(outputRead.get(instance));
  }

  @Override
  public synchronized void forgetOutput(Collection<String> instances) {
    outputRead.keySet().removeAll(instances);
  }

  @Override
  public synchronized void forgetAllOutput() {
    outputRead.clear();
  }

  @Override
  public synchronized boolean createGroup(String group) {
    return groups.putIfAbsent(group, new GroupRow(clock.millis())) == null;
  }

  @Override
  public synchronized boolean createStream(String group, String stream) {
    GroupRow g = groups.get(group);
    return g != null
        && g.streams.putIfAbsent(stream, new StreamRow(stream, clock.millis())) == null;
  }

  @Override
  public synchronized boolean deleteGroup(String group) {
    events.values().removeIf(r -> r.group().equals(group));
    return groups.remove(group) != null;
  }

  @Override
  public synchronized boolean deleteStream(String group, String stream) {
    GroupRow g = groups.get(group);
    if (g == null || g.streams.remove(stream) == null) {
      return false;
    }
    events.values().removeIf(r -> r.group().equals(group) && r.event().stream().equals(stream));
    return true;
  }

  @Override
  public synchronized boolean setRetention(String group, Optional<Integer> days) {
    GroupRow g = groups.get(group);
    if (g == null) {
      return false;
    }
    g.retentionInDays = days;
    return true;
  }

  @Override
  public synchronized List<Group> groups(String prefix) {
    return groups.entrySet().stream()
        .filter(e -> e.getKey().startsWith(prefix))
        .map(
            e ->
                new Group(
                    e.getKey(),
                    e.getValue().created,
                    e.getValue().retentionInDays,
                    e.getValue().streams.values().stream().mapToLong(s -> s.storedBytes).sum()))
        .toList();
  }

  @Override
  public synchronized List<Stream> streams(
      String group, String prefix, boolean byLastEventTime, boolean descending) {
    GroupRow g = groups.get(group);
    if (g == null) {
      return List.of();
    }
    Comparator<StreamRow> order =
        byLastEventTime
            ? Comparator.comparingLong(s -> s.lastEvent.orElse(0L))
            : Comparator.comparing(s -> s.name);
    return g.streams.values().stream()
        .filter(s -> s.name.startsWith(prefix))
        .sorted(descending ? order.reversed() : order)
        .map(StreamRow::view)
        .toList();
  }

  @Override
  public synchronized List<StoredEvent> events(
      String group,
      String stream,
      long start,
      long end,
      Optional<Long> afterId,
      Optional<Long> beforeId,
      int limit,
      boolean fromHead) {
    boolean ascending = LogStore.pageFromStart(afterId, beforeId, fromHead);
    List<StoredEvent> matching =
        select(
            r ->
                r.group().equals(group)
                    && r.event().stream().equals(stream)
                    && r.event().timestamp() >= start
                    && r.event().timestamp() < end
                    && r.event().id() > afterId.orElse(0L)
                    && r.event().id() < beforeId.orElse(Long.MAX_VALUE));
    if (ascending) {
      return List.copyOf(matching.subList(0, Math.min(limit, matching.size())));
    }
    return List.copyOf(matching.subList(Math.max(0, matching.size() - limit), matching.size()));
  }

  @Override
  public synchronized List<StoredEvent> scan(
      String group,
      List<String> streams,
      String streamPrefix,
      long start,
      long end,
      long afterId,
      int limit) {
    List<StoredEvent> matching =
        select(
            r ->
                r.group().equals(group)
                    && r.event().stream().startsWith(streamPrefix)
                    && (streams.isEmpty() || streams.contains(r.event().stream()))
                    && r.event().timestamp() >= start
                    && r.event().timestamp() < end
                    && r.event().id() > afterId);
    return List.copyOf(matching.subList(0, Math.min(limit, matching.size())));
  }

  @Override
  public synchronized void prune(long now, Duration retention, long maxBytes) {
    long day = Duration.ofDays(1).toMillis();
    events
        .values()
        .removeIf(
            r ->
                r.event().timestamp() < now - retention.toMillis()
                    || groups.get(r.group()).retentionInDays.stream()
                        .anyMatch(days -> r.event().timestamp() < now - days * day));
    long total = events.values().stream().mapToLong(r -> bytes(r.event().message())).sum();
    if (total > maxBytes) {
      // the oldest go until a tenth under the limit, as the SQLite store drops them
      long toDrop = total - maxBytes + maxBytes / 10;
      long running = 0;
      for (Iterator<Row> i = events.values().iterator(); i.hasNext(); ) {
        running += bytes(i.next().event().message());
        if (running > toDrop) {
          break;
        }
        i.remove();
      }
    }
    for (var g : groups.entrySet()) {
      for (StreamRow s : g.getValue().streams.values()) {
        s.storedBytes =
            events.values().stream()
                .filter(r -> r.group().equals(g.getKey()) && r.event().stream().equals(s.name))
                .mapToLong(r -> bytes(r.event().message()))
                .sum();
      }
      // streams emptied by pruning go; those created empty (CreateLogStream) stay
      g.getValue()
          .streams
          .values()
          .removeIf(
              s ->
                  s.lastEvent.isPresent()
                      && events.values().stream()
                          .noneMatch(
                              r ->
                                  r.group().equals(g.getKey())
                                      && r.event().stream().equals(s.name)));
    }
  }

  @Override
  public void check() {
    // memory answers at once
  }

  @Override
  public void close() {
    // nothing to release
  }

  private List<StoredEvent> select(Predicate<Row> filter) {
    List<StoredEvent> out = new ArrayList<>();
    for (Row r : events.values()) {
      if (filter.test(r)) {
        out.add(r.event());
      }
    }
    return Collections.unmodifiableList(out);
  }

  private static long bytes(String message) {
    return message.getBytes(StandardCharsets.UTF_8).length;
  }
}
