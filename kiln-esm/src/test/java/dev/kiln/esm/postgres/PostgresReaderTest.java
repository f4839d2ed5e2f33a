package dev.kiln.esm.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.esm.EventSourceKinds;
import dev.kiln.esm.MappingPollers;
import dev.kiln.esm.RetryTiming;
import dev.kiln.esm.filter.RecordFilter;
import dev.kiln.esm.source.EventSourceReader;
import dev.kiln.esm.source.SourceBatch;
import dev.kiln.esm.source.SourceContext;
import dev.kiln.esm.source.SourceRecord;
import dev.kiln.esm.source.SourceUnavailableException;
import dev.kiln.invoke.FunctionVersion;
import dev.kiln.invoke.InvocationResult;
import dev.kiln.invoke.Invocations;
import dev.kiln.invoke.InvokeRequest;
import dev.kiln.model.CodeDigest;
import dev.kiln.model.ConfigPatch;
import dev.kiln.model.EventSourceMapping;
import dev.kiln.model.FunctionConfig;
import dev.kiln.model.FunctionRef;
import dev.kiln.testing.InMemoryMetadataStore;
import dev.kiln.testing.brokers.PostgresServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PostgreSQL reader against a real PostgreSQL server started for the class (Debian's binaries,
 * wal_level=logical): what arrives, in which order, and when the slot moves.
 */
class PostgresReaderTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final PostgresSource SOURCE = new PostgresSource();

  private static PostgresServer pg;
  @TempDir static Path secrets;
  private static Path secret;

  @BeforeAll
  static void startPostgres() throws Exception {
    if (PostgresServer.binaries().isEmpty()) {
      if (Boolean.getBoolean("kiln.requireTools")) {
        throw new AssertionError("PostgreSQL binaries are missing: install postgresql");
      }
      Assumptions.abort("no PostgreSQL binaries");
    }
    pg = PostgresServer.start();
    pg.createDatabase("shop");
    pg.createUser("etl", "s3cret", true);
    pg.createUser("plain", "pw", false);
    pg.execute(
        "shop",
        "CREATE TABLE orders (id int PRIMARY KEY, status text, total numeric(10,2), meta jsonb,"
            + " created timestamptz, tags text[], data bytea, flag bool, qty int8,"
            + " price float8, note text)",
        "CREATE TABLE lines (order_id int, line int, sku text, PRIMARY KEY (order_id, line))",
        "ALTER TABLE lines REPLICA IDENTITY FULL",
        "CREATE TABLE unpublished (id int PRIMARY KEY)",
        "CREATE PUBLICATION kiln_orders FOR TABLE orders, lines");
    secret = secrets.resolve("shop-db.json");
    Files.writeString(secret, "{\"username\":\"etl\",\"password\":\"s3cret\"}");
  }

  @AfterAll
  static void stopPostgres() {
    if (pg != null) {
      pg.close();
    }
  }

  private static final SourceContext CONTEXT =
      dev.kiln.esm.source.TestSourceContext.of("eu-west-1").readingFiles();

  private static EventSourceMapping mapping(int batchSize, String publication, Path secretFile) {
    EventSourceMapping.Builder b =
        new EventSourceMapping.Builder(
                UUID.randomUUID().toString(), "postgresql", "etl", Instant.now())
            .topics(List.of(publication))
            .endpoints(Map.of("POSTGRESQL_URL", List.of(pg.url("shop"))))
            .sourceAccess(
                List.of(
                    new EventSourceMapping.SourceAccess(
                        "BASIC_AUTH", secretFile.toUri().toString())))
            .startingPosition(Optional.of("LATEST"))
            .batchSize(batchSize);
    return SOURCE.complete(b, Set.of("BatchSize", "StartingPosition", "Topics"), true);
  }

  private static EventSourceMapping mapping(int batchSize) {
    return mapping(batchSize, "kiln_orders", secret);
  }

  /** Polls until {@code n} records came, completing each batch; fails after 20 s. */
  private static List<SourceRecord> drain(EventSourceReader reader, int n) throws Exception {
    List<SourceRecord> got = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (got.size() < n) {
      assertThat(System.nanoTime()).as("records in time: got %s", got.size()).isLessThan(deadline);
      for (SourceBatch batch : reader.poll(Duration.ofMillis(300), 1)) {
        got.addAll(batch.records());
        reader.complete(batch);
      }
    }
    return got;
  }

  private static SourceBatch nextBatch(EventSourceReader reader) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      List<SourceBatch> batches = reader.poll(Duration.ofMillis(300), 1);
      if (!batches.isEmpty()) {
        assertThat(batches).hasSize(1);
        return batches.get(0);
      }
    }
    throw new AssertionError("no batch in 20 s");
  }

  private static String randomHex(int bytes) {
    byte[] b = new byte[bytes];
    new Random(7).nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private static JsonNode ddb(SourceRecord r) {
    return r.eventRecord().path("dynamodb");
  }

  private static List<String> ids(List<SourceRecord> records) {
    return records.stream().map(SourceRecord::itemIdentifier).toList();
  }

  @Test
  void everyCommittedChangeArrivesInCommitOrderWithItsTypesMapped() throws Exception {
    EventSourceMapping m = mapping(100);
    try (PostgresReader reader = (PostgresReader) SOURCE.open(m, CONTEXT)) {
      assertThat(reader.poll(Duration.ofMillis(100), 1)).isEmpty(); // creates the slot
      String big = randomHex(6000); // TOASTed out of line
      pg.execute(
          "shop",
          "BEGIN; INSERT INTO orders VALUES (1, 'new', 12.50, '{\"a\": [1, 2]}',"
              + " '2024-05-01 10:15:30.25+02', '{x,\"y z\"}', '\\x00ff', true,"
              + " 9007199254740993, 1.5, '"
              + big
              + "'); INSERT INTO lines VALUES (1, 1, 'sku-a'); INSERT INTO unpublished VALUES (1);"
              + " COMMIT",
          "BEGIN; UPDATE lines SET sku = 'sku-b' WHERE order_id = 1;"
              + " UPDATE orders SET status = 'paid' WHERE id = 1; COMMIT",
          "INSERT INTO unpublished VALUES (2)",
          "BEGIN; DELETE FROM lines; DELETE FROM orders WHERE id = 1; COMMIT");
      List<SourceRecord> records = drain(reader, 6);
      assertThat(records).hasSize(6);
      assertThat(records)
          .extracting(r -> r.eventRecord().path("eventName").asText())
          .containsExactly("INSERT", "INSERT", "MODIFY", "MODIFY", "REMOVE", "REMOVE");
      assertThat(records)
          .extracting(r -> r.eventRecord().path("table").asText())
          .containsExactly(
              "public.orders",
              "public.lines",
              "public.lines",
              "public.orders",
              "public.lines",
              "public.orders");
      assertThat(ids(records)).isSorted().doesNotHaveDuplicates();

      SourceRecord insert = records.get(0);
      assertThat(ddb(insert).path("Keys")).isEqualTo(JSON.readTree("{\"id\":1}"));
      JsonNode image = ddb(insert).path("NewImage");
      assertThat(
              JSON.writeValueAsString(
                  ((com.fasterxml.jackson.databind.node.ObjectNode) image.deepCopy())
                      .without("note")))
          .isEqualTo(
              "{\"id\":1,\"status\":\"new\",\"total\":\"12.50\",\"meta\":{\"a\":[1,2]},"
                  + "\"created\":\"2024-05-01T08:15:30.250Z\",\"tags\":[\"x\",\"y z\"],"
                  + "\"data\":\"AP8=\",\"flag\":true,\"qty\":9007199254740993,\"price\":1.5}");
      assertThat(image.path("note").asText()).isEqualTo(big);
      assertThat(ddb(insert).path("StreamViewType").asText()).isEqualTo("NEW_IMAGE");
      assertThat(insert.eventRecord().path("eventSourceARN").asText())
          .isEqualTo(
              "arn:aws:kiln:eu-west-1::postgresql/127.0.0.1:" + pg.port() + "/shop/kiln_orders");
      assertThat(insert.eventRecord().path("awsRegion").asText()).isEqualTo("eu-west-1");
      assertThat(insert.arrived()).isBetween(Instant.now().minusSeconds(60), Instant.now());
      assertThat(insert.filterView().path("dynamodb").path("NewImage").path("status").asText())
          .isEqualTo("new");

      SourceRecord lineUpdate = records.get(2);
      assertThat(ddb(lineUpdate).path("Keys"))
          .as("the primary key, though FULL flags every column")
          .isEqualTo(JSON.readTree("{\"order_id\":1,\"line\":1}"));
      assertThat(ddb(lineUpdate).path("OldImage"))
          .isEqualTo(JSON.readTree("{\"order_id\":1,\"line\":1,\"sku\":\"sku-a\"}"));
      assertThat(ddb(lineUpdate).path("NewImage"))
          .isEqualTo(JSON.readTree("{\"order_id\":1,\"line\":1,\"sku\":\"sku-b\"}"));
      assertThat(ddb(lineUpdate).path("StreamViewType").asText()).isEqualTo("NEW_AND_OLD_IMAGES");

      SourceRecord orderUpdate = records.get(3);
      assertThat(ddb(orderUpdate).path("NewImage").path("status").asText()).isEqualTo("paid");
      assertThat(ddb(orderUpdate).path("NewImage").has("note"))
          .as("an unchanged TOASTed value is not sent")
          .isFalse();
      assertThat(ddb(orderUpdate).has("OldImage")).isFalse();
      assertThat(lineUpdate.eventRecord().path("commitLsn"))
          .as("one transaction, one commit LSN")
          .isEqualTo(orderUpdate.eventRecord().path("commitLsn"));

      SourceRecord orderDelete = records.get(5);
      assertThat(ddb(orderDelete).path("Keys")).isEqualTo(JSON.readTree("{\"id\":1}"));
      assertThat(ddb(orderDelete).path("OldImage")).isEqualTo(JSON.readTree("{\"id\":1}"));
      assertThat(ddb(orderDelete).has("NewImage")).isFalse();

      JsonNode event = JSON.readTree(reader.event(new SourceBatch("x", records, null), records));
      assertThat(event.path("Records")).hasSize(6);
      JsonNode info =
          reader.batchInfo(new SourceBatch("x", records, null), records).path("DDBStreamBatchInfo");
      assertThat(info.path("shardId").asText()).isEqualTo(PostgresSource.slotName(m.uuid()));
      assertThat(info.path("startSequenceNumber").asText())
          .isEqualTo(records.get(0).itemIdentifier());
      assertThat(info.path("endSequenceNumber").asText())
          .isEqualTo(records.get(5).itemIdentifier());
      assertThat(info.path("batchSize").asInt()).isEqualTo(6);
    } finally {
      SOURCE.deleted(m, CONTEXT);
    }
  }

  @Test
  void theSlotMovesOnlyWhenABatchIsCompletedAndNeverPastAnUnfinishedTransaction() throws Exception {
    EventSourceMapping m = mapping(2);
    try {
      try (EventSourceReader reader = SOURCE.open(m, CONTEXT)) {
        reader.poll(Duration.ofMillis(100), 1);
        pg.execute(
            "shop",
            "BEGIN; INSERT INTO orders (id) VALUES (10), (11), (12); COMMIT",
            "INSERT INTO orders (id) VALUES (13)");
        SourceBatch first = nextBatch(reader);
        assertThat(first.records()).hasSize(2);
        assertThat(reader.poll(Duration.ofMillis(300), 1))
            .as("no second batch while the first is in flight")
            .isEmpty();
        reader.complete(first); // inside the 3-row transaction: nothing may be confirmed
        SourceBatch second = nextBatch(reader);
        assertThat(second.records()).hasSize(2); // 12, then 13 of the next transaction
      } // closed with the second batch in flight

      List<SourceRecord> again;
      try (EventSourceReader reader = SOURCE.open(m, CONTEXT)) {
        again = drain(reader, 4);
        assertThat(again)
            .extracting(r -> ddb(r).path("Keys").path("id").asInt())
            .as("the whole first transaction again: its first half alone was not confirmed")
            .containsExactly(10, 11, 12, 13);
        reader.poll(Duration.ofMillis(100), 1); // applies the completion
      }

      pg.execute("shop", "INSERT INTO orders (id) VALUES (14)");
      try (EventSourceReader reader = SOURCE.open(m, CONTEXT)) {
        List<SourceRecord> after = drain(reader, 1);
        assertThat(after)
            .extracting(r -> ddb(r).path("Keys").path("id").asInt())
            .containsExactly(14);
        assertThat(reader.poll(Duration.ofMillis(500), 1)).as("no duplicates").isEmpty();
      }
    } finally {
      SOURCE.deleted(m, CONTEXT);
      pg.execute("shop", "DELETE FROM orders");
    }
  }

  @Test
  void aCompletionFromAnotherThreadIsAppliedByTheNextPollAndLagIsReported() throws Exception {
    EventSourceMapping m = mapping(100);
    try (EventSourceReader reader = SOURCE.open(m, CONTEXT)) {
      reader.poll(Duration.ofMillis(100), 1);
      assertThat(reader.lag()).containsKey("slot_lag_bytes");
      pg.execute("shop", "INSERT INTO orders (id) SELECT g FROM generate_series(100, 149) g");
      SourceBatch batch = nextBatch(reader);
      assertThat(batch.records()).hasSize(50);
      // in flight: the poller keeps polling, the lag is measured again and shows the batch
      reader.poll(PostgresReader.LAG_INTERVAL.plusMillis(500), 1);
      double behind = reader.lag().get("slot_lag_bytes");
      assertThat(behind).isPositive();

      Thread completer =
          new Thread(
              () -> {
                try {
                  reader.complete(batch);
                } catch (SourceUnavailableException e) {
                  throw new IllegalStateException(e);
                }
              });
      completer.start();
      completer.join();
      reader.poll(PostgresReader.LAG_INTERVAL.plusMillis(500), 1);
      assertThat(reader.lag().get("slot_lag_bytes")).isLessThan(behind);
      assertThat(confirmedFlush(m)).isNotNull();
    } finally {
      SOURCE.deleted(m, CONTEXT);
      pg.execute("shop", "DELETE FROM orders");
    }
  }

  private static String confirmedFlush(EventSourceMapping m) throws SQLException {
    try (Connection c = pg.connect("shop");
        var s =
            c.prepareStatement(
                "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = ?")) {
      s.setString(1, PostgresSource.slotName(m.uuid()));
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  private static boolean slotExists(EventSourceMapping m) throws SQLException {
    try (Connection c = pg.connect("shop");
        var s = c.prepareStatement("SELECT 1 FROM pg_replication_slots WHERE slot_name = ?")) {
      s.setString(1, PostgresSource.slotName(m.uuid()));
      try (ResultSet rs = s.executeQuery()) {
        return rs.next();
      }
    }
  }

  @Test
  void deletingTheMappingDropsItsSlotEvenWhileAReaderHoldsIt() throws Exception {
    EventSourceMapping m = mapping(10);
    try (EventSourceReader reader = SOURCE.open(m, CONTEXT)) {
      reader.poll(Duration.ofMillis(100), 1);
      assertThat(slotExists(m)).isTrue();
      SOURCE.deleted(m, CONTEXT);
      assertThat(slotExists(m)).isFalse();
    }
    SOURCE.deleted(m, CONTEXT); // a second time: nothing left, no error
  }

  @Test
  void refusalsSayWhatIsWrong() throws Exception {
    Path wrong = secrets.resolve("wrong.json");
    Files.writeString(wrong, "{\"username\":\"etl\",\"password\":\"nope\"}");
    try (EventSourceReader reader = SOURCE.open(mapping(10, "kiln_orders", wrong), CONTEXT)) {
      assertThatThrownBy(() -> reader.poll(Duration.ofMillis(100), 1))
          .isInstanceOf(SourceUnavailableException.class)
          .hasMessageStartingWith("PROBLEM: Authentication error.")
          .hasMessageContaining("'etl'");
    }
    try (EventSourceReader reader = SOURCE.open(mapping(10, "no_such_pub", secret), CONTEXT)) {
      assertThatThrownBy(() -> reader.poll(Duration.ofMillis(100), 1))
          .isInstanceOf(SourceUnavailableException.class)
          .hasMessageContaining("Publication 'no_such_pub' does not exist in database 'shop'");
    }
    Path plain = secrets.resolve("plain.json");
    Files.writeString(plain, "{\"username\":\"plain\",\"password\":\"pw\"}");
    EventSourceMapping noReplication = mapping(10, "kiln_orders", plain);
    try (EventSourceReader reader = SOURCE.open(noReplication, CONTEXT)) {
      assertThatThrownBy(() -> reader.poll(Duration.ofMillis(100), 1))
          .isInstanceOf(SourceUnavailableException.class)
          .hasMessageContaining("needs the REPLICATION attribute");
    }
    assertThat(slotExists(noReplication)).isFalse();
  }

  @Test
  void aStoppedDatabaseIsUnavailableAndTheReaderRecoversWhenItIsBack() throws Exception {
    EventSourceMapping m = mapping(100);
    try (EventSourceReader reader = SOURCE.open(m, CONTEXT)) {
      reader.poll(Duration.ofMillis(100), 1);
      pg.execute("shop", "INSERT INTO orders (id) VALUES (200)");
      assertThat(drain(reader, 1)).hasSize(1);
      reader.poll(Duration.ofMillis(100), 1); // confirms 200
      pg.crash();
      try {
        assertThatThrownBy(
                () -> {
                  for (int i = 0; i < 50; i++) {
                    reader.poll(Duration.ofMillis(200), 1);
                  }
                })
            .isInstanceOf(SourceUnavailableException.class)
            .hasMessageStartingWith(
                "PROBLEM: Connection error. Please check your event source connection"
                    + " configuration.");
        assertThatThrownBy(() -> reader.poll(Duration.ofMillis(100), 1))
            .as("and again while it is down")
            .isInstanceOf(SourceUnavailableException.class)
            .hasMessageContaining("127.0.0.1:" + pg.port());
      } finally {
        pg.restart();
      }
      pg.execute("shop", "INSERT INTO orders (id) VALUES (201)");
      List<SourceRecord> after = drain(reader, 1);
      assertThat(after)
          .extracting(r -> ddb(r).path("Keys").path("id").asInt())
          .as("recovered, and 200 is not sent again")
          .containsExactly(201);
    } finally {
      SOURCE.deleted(m, CONTEXT);
      pg.execute("shop", "DELETE FROM orders");
    }
  }

  @Test
  void aBatchInFlightAcrossAReconnectionKeepsTheLaneAndIsNotSentAgainOnceCompleted()
      throws Exception {
    EventSourceMapping m = mapping(100);
    try (EventSourceReader reader = SOURCE.open(m, CONTEXT)) {
      reader.poll(Duration.ofMillis(100), 1);
      pg.execute("shop", "INSERT INTO orders (id) VALUES (300)");
      SourceBatch inFlight = nextBatch(reader);
      pg.crash();
      try {
        assertThatThrownBy(
                () -> {
                  for (int i = 0; i < 50; i++) {
                    reader.poll(Duration.ofMillis(200), 1);
                  }
                })
            .isInstanceOf(SourceUnavailableException.class);
      } finally {
        pg.restart();
      }
      assertThat(reader.poll(Duration.ofMillis(500), 1))
          .as("reconnected, but the lane is still the batch in flight's")
          .isEmpty();
      reader.complete(inFlight);
      pg.execute("shop", "INSERT INTO orders (id) VALUES (301)");
      assertThat(drain(reader, 1))
          .extracting(r -> ddb(r).path("Keys").path("id").asInt())
          .as("300, sent again by the new session, was completed meanwhile: skipped")
          .containsExactly(301);
      assertThat(reader.poll(Duration.ofMillis(300), 1)).isEmpty();
    } finally {
      SOURCE.deleted(m, CONTEXT);
      pg.execute("shop", "DELETE FROM orders");
    }
  }

  @Test
  void aBatchStaysUnderTheInvocationPayloadLimit() throws Exception {
    EventSourceMapping m = mapping(100);
    try (EventSourceReader reader = SOURCE.open(m, CONTEXT)) {
      reader.poll(Duration.ofMillis(100), 1);
      String big = randomHex(1_100_000); // 2.2 MB of JSON per row
      pg.execute(
          "shop",
          "INSERT INTO orders (id, note) VALUES (400, '"
              + big
              + "'), (401, '"
              + big
              + "'), (402, '"
              + big
              + "')");
      SourceBatch first = nextBatch(reader);
      assertThat(first.records()).hasSize(2);
      assertThat(reader.event(first, first.records()).length)
          .isLessThan((int) PostgresReader.PAYLOAD_LIMIT);
      reader.complete(first);
      SourceBatch second = nextBatch(reader);
      assertThat(second.records())
          .extracting(r -> ddb(r).path("Keys").path("id").asInt())
          .containsExactly(402);
      reader.complete(second);
    } finally {
      SOURCE.deleted(m, CONTEXT);
      pg.execute("shop", "DELETE FROM orders");
    }
  }

  @Test
  void throughTheMappingPollersAFilteredMappingDeliversWhatMatchesAndItsDeletionDropsTheSlot()
      throws Exception {
    InMemoryMetadataStore store = new InMemoryMetadataStore();
    store.createFunction(
        FunctionConfig.create(
            "etl",
            new CodeDigest("ab".repeat(32), 10, 20),
            ConfigPatch.of("python3.12", "app.handler", "arn:aws:iam::000000000000:role/r"),
            Instant.now()),
        Map.of(),
        Optional.empty());
    List<String> payloads = new CopyOnWriteArrayList<>();
    ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    MappingPollers pollers =
        MappingPollers.builder()
            .store(store)
            .kinds(new EventSourceKinds(List.of(SOURCE)))
            .invocations(
                new Invocations() {
                  @Override
                  public InvocationResult run(InvokeRequest request) {
                    payloads.add(new String(request.payload(), StandardCharsets.UTF_8));
                    return new InvocationResult.Success(
                        "r", "$LATEST", new byte[0], Optional.empty());
                  }

                  @Override
                  public FunctionVersion resolve(FunctionRef function) {
                    throw new UnsupportedOperationException();
                  }
                })
            .onFailure((mapping, arn, record) -> {})
            .registry(new SimpleMeterRegistry())
            .executor(threads)
            .context(CONTEXT)
            .filters(patterns -> RecordFilter.compile(patterns)::matches)
            .timing(new RetryTiming(Duration.ofMillis(50), Duration.ofMillis(200)))
            .build();
    EventSourceMapping m =
        SOURCE.complete(
            mapping(10).toBuilder()
                .filters(List.of("{\"dynamodb\":{\"NewImage\":{\"status\":[\"paid\"]}}}")),
            Set.of("BatchSize"),
            true);
    try {
      store.createEventSourceMapping(m, SOURCE.sourceKey(m));
      pollers.reconcile();
      Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> slotExists(m));
      pg.execute(
          "shop",
          "INSERT INTO orders (id, status) VALUES (500, 'new')",
          "UPDATE orders SET status = 'paid' WHERE id = 500",
          "INSERT INTO orders (id, status) VALUES (501, 'paid')");
      List<String> delivered = new ArrayList<>();
      Awaitility.await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () -> {
                delivered.clear();
                for (String p : payloads) {
                  for (JsonNode r : JSON.readTree(p).path("Records")) {
                    delivered.add(
                        r.path("eventName").asText() + " " + ddb(r).path("Keys").path("id"));
                  }
                }
                return delivered.size() >= 2;
              });
      assertThat(delivered).containsExactly("MODIFY 500", "INSERT 501");

      store.updateEventSourceMapping(m.uuid(), x -> x.toBuilder().state("Deleting").build());
      pollers.reconcile();
      Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> !slotExists(m));
    } finally {
      pollers.close();
      threads.shutdownNow();
      SOURCE.deleted(m, CONTEXT);
      pg.execute("shop", "DELETE FROM orders");
    }
  }

  private static JsonNode ddb(JsonNode record) {
    return record.path("dynamodb");
  }
}
