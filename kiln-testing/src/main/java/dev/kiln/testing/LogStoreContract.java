package dev.kiln.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.store.LogStore;
import dev.kiln.store.LogStore.StoredEvent;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link LogStore} promises, as tests, on a {@link ManualTime} clock: extend this class
 * with {@link #newStore} returning an empty store of your implementation that stamps times by the
 * clock given. Covers groups and streams as CloudWatch Logs keeps them, reading events by page and
 * by scan, pruning by the server's and a group's retention and by size, and the output offsets kept
 * beside the events.
 */
public abstract class LogStoreContract {

  static final Instant START = Instant.parse("2026-01-01T00:00:00Z");
  static final long NOW = START.toEpochMilli();
  static final long HOUR = Duration.ofHours(1).toMillis();
  static final long DAY = Duration.ofDays(1).toMillis();
  static final Duration SERVER_RETENTION = Duration.ofDays(30);
  static final long NO_SIZE_LIMIT = Long.MAX_VALUE;

  protected final ManualTime time = new ManualTime(START);
  protected LogStore store;

  /** A new, empty store stamping times by {@code clock}; closed after each test. */
  protected abstract LogStore newStore(InstantSource clock);

  @BeforeEach
  void openStore() {
    store = newStore(time);
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  List<String> messages(String group) {
    return store.scan(group, List.of(), "", 0, Long.MAX_VALUE, 0, 1_000).stream()
        .map(StoredEvent::message)
        .toList();
  }

  Optional<LogStore.Group> group(String name) {
    return store.groups(name).stream().filter(g -> g.name().equals(name)).findFirst();
  }

  @Test
  void aGroupsRetention_prunesItsOwnOldEvents_only() {
    store.append(
        List.of(
            new LogStore.Event("/short", "s", NOW - 2 * DAY, "short-old"),
            new LogStore.Event("/short", "s", NOW - HOUR, "short-recent"),
            new LogStore.Event("/default", "s", NOW - 2 * DAY, "default-old"),
            new LogStore.Event("/default", "s", NOW - HOUR, "default-recent")));
    assertThat(store.setRetention("/short", Optional.of(1))).isTrue();

    store.prune(NOW, SERVER_RETENTION, NO_SIZE_LIMIT);

    assertThat(messages("/short")).containsExactly("short-recent");
    assertThat(messages("/default")).containsExactly("default-old", "default-recent");
    assertThat(group("/short").orElseThrow().storedBytes()).isEqualTo("short-recent".length());
  }

  @Test
  void aGroupsRetention_neverKeepsEventsLongerThanTheServer() {
    store.append(
        List.of(
            new LogStore.Event("/long", "s", NOW - 3 * DAY, "long-old"),
            new LogStore.Event("/long", "s", NOW - HOUR, "long-recent")));
    store.setRetention("/long", Optional.of(3653));

    store.prune(NOW, Duration.ofDays(2), NO_SIZE_LIMIT);

    assertThat(messages("/long")).containsExactly("long-recent");
    assertThat(group("/long").orElseThrow().retentionInDays()).hasValue(3653);
  }

  @Test
  void theSizeLimit_stillAppliesToGroupsWithARetention() {
    store.append(
        List.of(
            new LogStore.Event("/kept", "s", NOW - 3 * HOUR, "a".repeat(100)),
            new LogStore.Event("/kept", "s", NOW - 2 * HOUR, "b".repeat(100)),
            new LogStore.Event("/kept", "s", NOW - HOUR, "c".repeat(100))));
    store.setRetention("/kept", Optional.of(7));

    store.prune(NOW, SERVER_RETENTION, 100);

    assertThat(messages("/kept")).containsExactly("c".repeat(100));
  }

  @Test
  void eventsExactlyAtTheRetentionsAge_stay() {
    store.append(
        List.of(
            new LogStore.Event("/edge", "s", NOW - DAY - 1, "just-over"),
            new LogStore.Event("/edge", "s", NOW - DAY, "exactly-a-day")));
    store.setRetention("/edge", Optional.of(1));

    store.prune(NOW, SERVER_RETENTION, NO_SIZE_LIMIT);

    assertThat(messages("/edge")).containsExactly("exactly-a-day");
  }

  @Test
  void deletingTheRetention_keepsEventsAsLongAsTheServerDoes() {
    store.append(List.of(new LogStore.Event("/g", "s", NOW - 2 * DAY, "old")));
    store.setRetention("/g", Optional.of(1));
    assertThat(store.setRetention("/g", Optional.empty())).isTrue();

    store.prune(NOW, SERVER_RETENTION, NO_SIZE_LIMIT);

    assertThat(messages("/g")).containsExactly("old");
    assertThat(group("/g").orElseThrow().retentionInDays()).isEmpty();
    assertThat(store.setRetention("/missing", Optional.of(1))).isFalse();
  }

  @Test
  void aCreatedGroup_existsWithoutStreams_andSurvivesPruning() {
    assertThat(store.createGroup("/pre-created")).isTrue();
    assertThat(store.createGroup("/pre-created")).as("already exists").isFalse();
    store.setRetention("/pre-created", Optional.of(5));

    store.prune(NOW, SERVER_RETENTION, NO_SIZE_LIMIT);

    LogStore.Group g = group("/pre-created").orElseThrow();
    assertThat(g.retentionInDays()).hasValue(5);
    assertThat(g.storedBytes()).isZero();
    assertThat(g.creationTime()).isEqualTo(NOW);
    assertThat(store.streams("/pre-created", "", false, false)).isEmpty();

    store.append(List.of(new LogStore.Event("/pre-created", "s", NOW, "first")));
    assertThat(group("/pre-created").orElseThrow().retentionInDays())
        .as("the first event keeps the group as it was")
        .hasValue(5);
  }

  @Test
  void streamsEmptiedByPruning_go_butCreatedEmptyOnesStay() {
    store.createGroup("/g");
    assertThat(store.createStream("/g", "created")).isTrue();
    assertThat(store.createStream("/g", "created")).as("already exists").isFalse();
    assertThat(store.createStream("/missing", "s")).as("no such group").isFalse();
    store.append(List.of(new LogStore.Event("/g", "written", NOW - 40 * DAY, "ancient")));

    store.prune(NOW, SERVER_RETENTION, NO_SIZE_LIMIT);

    assertThat(store.streams("/g", "", false, false))
        .extracting(LogStore.Stream::name)
        .containsExactly("created");
  }

  @Test
  void deletingAGroup_deletesItsStreamsEventsAndRetention_andAppendingRecreatesIt() {
    store.append(
        List.of(
            new LogStore.Event("/gone", "a", NOW, "one"),
            new LogStore.Event("/gone", "b", NOW, "two"),
            new LogStore.Event("/gone-not", "a", NOW, "kept")));
    store.setRetention("/gone", Optional.of(1));

    assertThat(store.deleteGroup("/gone")).isTrue();
    assertThat(store.deleteGroup("/gone")).isFalse();

    assertThat(group("/gone")).isEmpty();
    assertThat(store.streams("/gone", "", false, false)).isEmpty();
    assertThat(messages("/gone")).isEmpty();
    assertThat(messages("/gone-not")).containsExactly("kept");

    store.append(List.of(new LogStore.Event("/gone", "a", NOW, "again")));
    assertThat(group("/gone").orElseThrow().retentionInDays()).isEmpty();
    assertThat(messages("/gone")).containsExactly("again");
  }

  @Test
  void deletingAStream_deletesItsEvents_only() {
    store.append(
        List.of(
            new LogStore.Event("/g", "a", NOW, "in-a"),
            new LogStore.Event("/g", "b", NOW, "in-b")));

    assertThat(store.deleteStream("/g", "a")).isTrue();
    assertThat(store.deleteStream("/g", "a")).isFalse();

    assertThat(messages("/g")).containsExactly("in-b");
    assertThat(group("/g").orElseThrow().storedBytes()).isEqualTo("in-b".length());
    store.append(List.of(new LogStore.Event("/g", "a", NOW, "in-a-again")));
    assertThat(store.streams("/g", "", false, false))
        .extracting(LogStore.Stream::name)
        .containsExactly("a", "b");
  }

  @Test
  void append_createsGroupAndStream_andTracksTheStreamsTimesAndBytes() {
    store.append(
        List.of(
            new LogStore.Event("/g", "s", NOW - 5, "é"),
            new LogStore.Event("/g", "s", NOW - 9, "later arrival, earlier time")));
    time.advance(Duration.ofSeconds(1));
    store.append(List.of(new LogStore.Event("/g", "s", NOW - 2, "x")));

    LogStore.Stream s = store.streams("/g", "", false, false).get(0);
    assertThat(s.creationTime()).isEqualTo(NOW);
    assertThat(s.firstEventTimestamp()).hasValue(NOW - 9);
    assertThat(s.lastEventTimestamp()).hasValue(NOW - 2);
    assertThat(s.lastIngestionTime()).hasValue(NOW + 1000);
    long bytes = 2 + "later arrival, earlier time".length() + 1;
    assertThat(s.storedBytes()).as("UTF-8 bytes").isEqualTo(bytes);
    assertThat(group("/g").orElseThrow().storedBytes()).isEqualTo(bytes);
    assertThat(group("/g").orElseThrow().creationTime()).isEqualTo(NOW);
  }

  @Test
  void groupsAndStreams_areListedByPrefix_inTheOrderAsked() {
    store.append(
        List.of(
            new LogStore.Event("/aws/lambda/b", "2026/x", NOW - 1, "m"),
            new LogStore.Event("/aws/lambda/b", "2026/y", NOW - 3, "m"),
            new LogStore.Event("/aws/lambda/b", "2025/z", NOW - 2, "m"),
            new LogStore.Event("/aws/lambda/a", "s", NOW, "m"),
            new LogStore.Event("/other", "s", NOW, "m")));
    assertThat(store.groups("/aws/lambda/"))
        .extracting(LogStore.Group::name)
        .containsExactly("/aws/lambda/a", "/aws/lambda/b");
    assertThat(store.streams("/aws/lambda/b", "2026/", false, false))
        .extracting(LogStore.Stream::name)
        .containsExactly("2026/x", "2026/y");
    assertThat(store.streams("/aws/lambda/b", "", false, true))
        .extracting(LogStore.Stream::name)
        .containsExactly("2026/y", "2026/x", "2025/z");
    assertThat(store.streams("/aws/lambda/b", "", true, false))
        .extracting(LogStore.Stream::name)
        .containsExactly("2026/y", "2025/z", "2026/x");
    assertThat(store.streams("/aws/lambda/b", "", true, true))
        .extracting(LogStore.Stream::name)
        .containsExactly("2026/x", "2025/z", "2026/y");
    assertThat(store.streams("/missing", "", false, false)).isEmpty();
  }

  @Test
  void events_pageForwardAndBackward_byIdWithinATimeRange() {
    for (int i = 0; i < 6; i++) {
      store.append(List.of(new LogStore.Event("/g", "s", NOW + i, "m" + i)));
    }
    store.append(List.of(new LogStore.Event("/g", "other", NOW, "elsewhere")));
    List<StoredEvent> head =
        store.events("/g", "s", 0, Long.MAX_VALUE, Optional.empty(), Optional.empty(), 2, true);
    assertThat(head).extracting(StoredEvent::message).containsExactly("m0", "m1");
    assertThat(head).extracting(StoredEvent::stream).containsOnly("s");
    List<StoredEvent> next =
        store.events(
            "/g",
            "s",
            0,
            Long.MAX_VALUE,
            Optional.of(head.get(1).id()),
            Optional.empty(),
            2,
            false);
    assertThat(next).extracting(StoredEvent::message).containsExactly("m2", "m3");
    List<StoredEvent> tail =
        store.events("/g", "s", 0, Long.MAX_VALUE, Optional.empty(), Optional.empty(), 2, false);
    assertThat(tail).extracting(StoredEvent::message).containsExactly("m4", "m5");
    List<StoredEvent> before =
        store.events(
            "/g", "s", 0, Long.MAX_VALUE, Optional.empty(), Optional.of(tail.get(0).id()), 3, true);
    assertThat(before).extracting(StoredEvent::message).containsExactly("m1", "m2", "m3");
    assertThat(
            store.events("/g", "s", NOW + 1, NOW + 3, Optional.empty(), Optional.empty(), 10, true))
        .as("start inclusive, end exclusive")
        .extracting(StoredEvent::message)
        .containsExactly("m1", "m2");
    assertThat(head.get(0).ingestionTime()).isEqualTo(NOW);
  }

  @Test
  void scan_readsAGroupsStreams_byNameOrPrefix_afterAnId_inArrivalOrder() {
    store.append(
        List.of(
            new LogStore.Event("/g", "a1", NOW, "a1-0"),
            new LogStore.Event("/g", "b1", NOW, "b1-0"),
            new LogStore.Event("/g", "a2", NOW + 5, "a2-0"),
            new LogStore.Event("/g", "a1", NOW + 10, "a1-1"),
            new LogStore.Event("/h", "a1", NOW, "h")));
    List<StoredEvent> all = store.scan("/g", List.of(), "", 0, Long.MAX_VALUE, 0, 100);
    assertThat(all)
        .extracting(StoredEvent::message)
        .containsExactly("a1-0", "b1-0", "a2-0", "a1-1");
    assertThat(store.scan("/g", List.of(), "a", 0, Long.MAX_VALUE, 0, 100))
        .extracting(StoredEvent::message)
        .containsExactly("a1-0", "a2-0", "a1-1");
    assertThat(store.scan("/g", List.of("a1", "b1"), "", 0, Long.MAX_VALUE, 0, 100))
        .extracting(StoredEvent::message)
        .containsExactly("a1-0", "b1-0", "a1-1");
    assertThat(store.scan("/g", List.of(), "", NOW + 1, Long.MAX_VALUE, 0, 100))
        .extracting(StoredEvent::message)
        .containsExactly("a2-0", "a1-1");
    assertThat(store.scan("/g", List.of(), "", 0, Long.MAX_VALUE, all.get(1).id(), 1))
        .extracting(StoredEvent::message)
        .containsExactly("a2-0");
  }

  @Test
  void outputOffsets_areKeptWithTheEvents_andForgotten() {
    store.append(List.of(new LogStore.Event("/g", "s", NOW, "line")), Map.of("i1", 5L, "i2", 7L));
    store.append(List.of(), Map.of("i1", 12L));
    assertThat(store.outputRead("i1")).hasValue(12L);
    assertThat(store.outputRead("i2")).hasValue(7L);
    assertThat(store.outputRead("i3")).isEmpty();
    store.forgetOutput(List.of("i1"));
    assertThat(store.outputRead("i1")).isEmpty();
    assertThat(store.outputRead("i2")).hasValue(7L);
    store.forgetAllOutput();
    assertThat(store.outputRead("i2")).isEmpty();
    assertThat(messages("/g")).containsExactly("line");
  }

  @Test
  void theSizeLimit_dropsTheOldestEvents_aTenthOfTheLimitBeyondWhatItMust() {
    for (int i = 0; i < 10; i++) {
      store.append(
          List.of(new LogStore.Event("/g", "s", NOW - 10 + i, String.valueOf(i).repeat(10))));
    }
    store.prune(NOW, SERVER_RETENTION, 50);
    // 100 bytes, 50 allowed: 55 go (the limit's overshoot and a tenth of it), in whole events
    assertThat(messages("/g"))
        .containsExactly(
            "5".repeat(10), "6".repeat(10), "7".repeat(10), "8".repeat(10), "9".repeat(10));
    assertThat(group("/g").orElseThrow().storedBytes()).isEqualTo(50);
  }

  @Test
  void check_answersOnAHealthyStore() {
    store.check();
  }
}
