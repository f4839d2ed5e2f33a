package dev.kiln.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SqliteLogStoreTest {

  static final long NOW = System.currentTimeMillis();
  static final long HOUR = Duration.ofHours(1).toMillis();
  static final long DAY = Duration.ofDays(1).toMillis();
  static final Duration SERVER_RETENTION = Duration.ofDays(30);
  static final long NO_SIZE_LIMIT = Long.MAX_VALUE;

  Path file;
  SqliteLogStore store;

  @BeforeEach
  void open() throws Exception {
    file = Files.createTempDirectory("kiln-logs-").resolve("logs.db");
    store = SqliteLogStore.open(file, java.time.InstantSource.system());
  }

  @AfterEach
  void close() {
    store.close();
  }

  List<String> messages(String group) {
    return store.scan(group, List.of(), "", 0, Long.MAX_VALUE, 0, 1_000).stream()
        .map(LogStore.StoredEvent::message)
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
    assertThat(g.creationTime()).isBetween(NOW - HOUR, NOW + HOUR);
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
  void upgradingFromVersion1_makesAGroupOfEachGroupOfStreams() throws Exception {
    Path old = Files.createTempDirectory("kiln-logs-v1-").resolve("logs.db");
    String url = "jdbc:sqlite:" + old.toAbsolutePath();
    Flyway.configure()
        .dataSource(url, null, null)
        .locations("classpath:db/logs")
        .target("1")
        .loggers("slf4j")
        .load()
        .migrate();
    try (Connection c = DriverManager.getConnection(url);
        Statement st = c.createStatement()) {
      st.executeUpdate(
          "INSERT INTO log_streams(log_group, name, created, stored_bytes) VALUES"
              + " ('/aws/lambda/f', 'one', 2000, 3), ('/aws/lambda/f', 'two', 1000, 4),"
              + " ('/aws/lambda/g', 'one', 5000, 0)");
    }

    try (SqliteLogStore upgraded = SqliteLogStore.open(old, java.time.InstantSource.system())) {
      assertThat(upgraded.groups(""))
          .containsExactly(
              new LogStore.Group("/aws/lambda/f", 1000, Optional.empty(), 7),
              new LogStore.Group("/aws/lambda/g", 5000, Optional.empty(), 0));
    }
  }
}
