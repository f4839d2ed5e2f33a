package dev.kiln.esm.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.esm.source.EventSourceReader;
import dev.kiln.esm.source.SourceBatch;
import dev.kiln.esm.source.SourceContext;
import dev.kiln.esm.source.SourceRecord;
import dev.kiln.esm.source.SourceUnavailableException;
import dev.kiln.model.EventSourceMapping;
import dev.kiln.testing.brokers.KafkaBroker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * KafkaReader against a real KRaft broker started in this JVM, shared by the class; each test uses
 * its own topic and consumer group.
 */
class KafkaReaderIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final AtomicInteger TOPICS = new AtomicInteger();
  private static KafkaBroker broker;
  private static String servers;
  private static KafkaProducer<byte[], byte[]> producer;
  private final KafkaSource source = new KafkaSource();

  @BeforeAll
  static void startBroker() {
    broker = KafkaBroker.withSaslPlainUsers(Map.of("alice", "alice-secret"));
    servers = broker.start();
    producer = newProducer();
  }

  @AfterAll
  static void stopBroker() {
    if (producer != null) {
      producer.close(Duration.ofSeconds(2));
    }
    if (broker != null) {
      broker.close();
    }
  }

  private static KafkaProducer<byte[], byte[]> newProducer() {
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers,
            ProducerConfig.LINGER_MS_CONFIG, "0",
            ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000",
            ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000"),
        new ByteArraySerializer(),
        new ByteArraySerializer());
  }

  private static String topic(int partitions) {
    String t = "t" + TOPICS.incrementAndGet();
    broker.createTopic(t, partitions);
    return t;
  }

  private static void produce(String topic, int partition, String key, String value)
      throws Exception {
    producer
        .send(
            new ProducerRecord<>(
                topic,
                partition,
                key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                value.getBytes(StandardCharsets.UTF_8)))
        .get();
  }

  private EventSourceMapping mapping(String topic, String position, int batchSize, String group) {
    EventSourceMapping.Builder b =
        new EventSourceMapping.Builder(UUID.randomUUID().toString(), "kafka", "f", Instant.now())
            .topics(List.of(topic))
            .endpoints(Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of(servers)))
            .startingPosition(Optional.of(position))
            .batchSize(batchSize)
            .consumerGroupId(Optional.ofNullable(group));
    Set<String> explicit =
        new HashSet<>(Set.of("Topics", "SelfManagedEventSource", "StartingPosition", "BatchSize"));
    return source.complete(b, explicit, true);
  }

  private static final SourceContext CONTEXT =
      dev.kiln.esm.source.TestSourceContext.of("us-east-1")
          .withSecrets(
              Map.of(
                  "file:/alice",
                  "{\"username\":\"alice\",\"password\":\"alice-secret\"}",
                  "file:/mallory",
                  "{\"username\":\"alice\",\"password\":\"guess\"}"));

  /** Polls until {@code count} records came, completing each batch when {@code complete}. */
  private static List<SourceBatch> pollUntil(
      EventSourceReader reader, int count, boolean complete, Duration within) throws Exception {
    List<SourceBatch> batches = new ArrayList<>();
    long deadline = System.nanoTime() + within.toNanos();
    int seen = 0;
    while (seen < count && System.nanoTime() < deadline) {
      for (SourceBatch b : reader.poll(Duration.ofMillis(500), 10)) {
        batches.add(b);
        seen += b.records().size();
        if (complete) {
          reader.complete(b);
        }
      }
    }
    return batches;
  }

  /** The lag after a poll long enough for the reader's once-a-second probe to refresh it. */
  private static Map<String, Double> refreshedLag(EventSourceReader reader) throws Exception {
    assertThat(reader.poll(Duration.ofMillis(1200), 10)).isEmpty();
    return reader.lag();
  }

  private static Map<String, List<Long>> offsetsByLane(List<SourceBatch> batches) {
    Map<String, List<Long>> out = new HashMap<>();
    for (SourceBatch b : batches) {
      for (SourceRecord r : b.records()) {
        out.computeIfAbsent(b.lane(), k -> new ArrayList<>())
            .add(Long.parseLong(r.itemIdentifier()));
      }
    }
    return out;
  }

  @Test
  void theEventIsShapedAsLambdaSendsIt() throws Exception {
    String t = topic(1);
    producer
        .send(
            new ProducerRecord<>(
                t,
                0,
                1545084650987L,
                "k1".getBytes(StandardCharsets.UTF_8),
                "{\"device_ID\":\"AB1234\"}".getBytes(StandardCharsets.UTF_8),
                List.of(new RecordHeader("headerKey", "hv".getBytes(StandardCharsets.UTF_8)))))
        .get();
    producer
        .send(
            new ProducerRecord<>(
                t, 0, 1545084650988L, null, "plain".getBytes(StandardCharsets.UTF_8)))
        .get();
    EventSourceMapping m = mapping(t, "TRIM_HORIZON", 10, null);
    try (EventSourceReader reader = source.open(m, CONTEXT)) {
      List<SourceBatch> batches = pollUntil(reader, 2, false, Duration.ofSeconds(30));
      assertThat(batches).hasSize(1);
      SourceBatch batch = batches.get(0);
      assertThat(batch.lane()).isEqualTo(t + "-0");
      JsonNode event = JSON.readTree(reader.event(batch, batch.records()));
      JsonNode expected =
          JSON.readTree(
              """
              {"eventSource":"SelfManagedKafka","bootstrapServers":"%s","records":{"%s-0":[
                {"topic":"%s","partition":0,"offset":0,"timestamp":1545084650987,
                 "timestampType":"CREATE_TIME","key":"azE=","value":"eyJkZXZpY2VfSUQiOiJBQjEyMzQifQ==",
                 "headers":[{"headerKey":[104,118]}]},
                {"topic":"%s","partition":0,"offset":1,"timestamp":1545084650988,
                 "timestampType":"CREATE_TIME","value":"cGxhaW4=","headers":[]}
              ]}}
              """
                  .formatted(servers, t, t, t));
      assertThat(event).isEqualTo(expected);

      SourceRecord first = batch.records().get(0);
      assertThat(first.itemIdentifier()).isEqualTo("0");
      assertThat(first.arrived()).isEqualTo(Instant.ofEpochMilli(1545084650987L));
      assertThat(first.filterView().get("value").get("device_ID").asText()).isEqualTo("AB1234");
      assertThat(first.filterView().get("topic").asText()).isEqualTo(t);
      assertThat(batch.records().get(1).filterView().get("value").asText()).isEqualTo("plain");

      JsonNode info = reader.batchInfo(batch, batch.records()).get("KafkaBatchInfo");
      assertThat(info.get("batchSize").asInt()).isEqualTo(2);
      assertThat(info.get("bootstrapServers").asText()).isEqualTo(servers);
      assertThat(info.get("payloadSize").asInt())
          .isEqualTo(reader.event(batch, batch.records()).length);
      JsonNode lane = info.get("recordsInfo").get(t + "-0");
      assertThat(lane.get("firstRecordOffset").asText()).isEqualTo("0");
      assertThat(lane.get("lastRecordOffset").asText()).isEqualTo("1");
      assertThat(lane.get("firstRecordTimestamp").asText()).isEqualTo("2018-12-17T22:10:50.987Z");
      assertThat(lane.get("lastRecordTimestamp").asText()).isEqualTo("2018-12-17T22:10:50.988Z");
    }
  }

  @Test
  void onePartitionsBatchesComeInOrderOneAtATimeAndCommitsSurviveReopening() throws Exception {
    String t = topic(3);
    for (int i = 0; i < 30; i++) {
      produce(t, i % 3, "k" + i, "v" + i);
    }
    EventSourceMapping m = mapping(t, "TRIM_HORIZON", 4, null);
    List<SourceBatch> got = new ArrayList<>();
    try (EventSourceReader reader = source.open(m, CONTEXT)) {
      // nothing completed: at most one batch per partition, then nothing more
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (got.size() < 3 && System.nanoTime() < deadline) {
        got.addAll(reader.poll(Duration.ofMillis(500), 10));
      }
      assertThat(got)
          .extracting(SourceBatch::lane)
          .containsExactlyInAnyOrder(t + "-0", t + "-1", t + "-2");
      assertThat(reader.poll(Duration.ofMillis(1500), 10)).isEmpty();
      assertThat(((KafkaReader) reader).lanesInFlight()).hasSize(3);
      for (SourceBatch b : got) {
        assertThat(b.records()).hasSize(4);
        reader.complete(b);
      }
      // the rest, completing as they come
      got.addAll(pollUntil(reader, 30 - 12, true, Duration.ofSeconds(30)));
      assertThat(refreshedLag(reader)).containsEntry("offset_lag", 0.0);
    }
    Map<String, List<Long>> offsets = offsetsByLane(got);
    for (int p = 0; p < 3; p++) {
      assertThat(offsets.get(t + "-" + p)).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
    }
    // a new reader of the same group gets only what is new
    produce(t, 1, null, "new");
    try (EventSourceReader reader = source.open(m, CONTEXT)) {
      List<SourceBatch> again = pollUntil(reader, 1, true, Duration.ofSeconds(30));
      assertThat(offsetsByLane(again)).isEqualTo(Map.of(t + "-1", List.of(10L)));
      assertThat(reader.poll(Duration.ofSeconds(1), 10)).isEmpty();
    }
  }

  @Test
  void aBatchNotCompletedIsReadAgainByTheNextReader() throws Exception {
    String t = topic(1);
    for (int i = 0; i < 5; i++) {
      produce(t, 0, null, "v" + i);
    }
    EventSourceMapping m = mapping(t, "TRIM_HORIZON", 3, null);
    try (EventSourceReader reader = source.open(m, CONTEXT)) {
      List<SourceBatch> first = pollUntil(reader, 3, false, Duration.ofSeconds(30));
      assertThat(offsetsByLane(first).get(t + "-0")).containsExactly(0L, 1L, 2L);
      reader.complete(first.get(0));
      List<SourceBatch> second = pollUntil(reader, 2, false, Duration.ofSeconds(30));
      assertThat(offsetsByLane(second).get(t + "-0")).containsExactly(3L, 4L);
      // closed with the second batch out
    }
    try (EventSourceReader reader = source.open(m, CONTEXT)) {
      List<SourceBatch> again = pollUntil(reader, 2, true, Duration.ofSeconds(30));
      assertThat(offsetsByLane(again).get(t + "-0")).containsExactly(3L, 4L);
    }
  }

  @Test
  void latestSkipsWhatWasThereAndTrimHorizonDoesNot() throws Exception {
    String t = topic(1);
    produce(t, 0, null, "old");
    EventSourceMapping latest = mapping(t, "LATEST", 10, "latest-" + t);
    try (EventSourceReader reader = source.open(latest, CONTEXT)) {
      // join the group and take the end as position, then produce
      assertThat(reader.poll(Duration.ofSeconds(3), 10)).isEmpty();
      produce(t, 0, null, "new");
      List<SourceBatch> got = pollUntil(reader, 1, true, Duration.ofSeconds(30));
      assertThat(offsetsByLane(got).get(t + "-0")).containsExactly(1L);
      assertThat(refreshedLag(reader)).containsEntry("offset_lag", 0.0);
    }
    EventSourceMapping trim = mapping(t, "TRIM_HORIZON", 10, "trim-" + t);
    try (EventSourceReader reader = source.open(trim, CONTEXT)) {
      List<SourceBatch> got = pollUntil(reader, 2, false, Duration.ofSeconds(30));
      assertThat(offsetsByLane(got).get(t + "-0")).containsExactly(0L, 1L);
    }
  }

  @Test
  void lagCountsWhatIsNotCommitted() throws Exception {
    String t = topic(2);
    for (int i = 0; i < 6; i++) {
      produce(t, i % 2, null, "v" + i);
    }
    EventSourceMapping m = mapping(t, "TRIM_HORIZON", 100, null);
    try (EventSourceReader reader = source.open(m, CONTEXT)) {
      List<SourceBatch> got = pollUntil(reader, 6, false, Duration.ofSeconds(30));
      assertThat(got).hasSize(2);
      assertThat(refreshedLag(reader)).containsEntry("offset_lag", 6.0);
      reader.complete(got.get(0));
      assertThat(refreshedLag(reader)).containsEntry("offset_lag", 3.0);
    }
  }

  @Test
  void aMissingTopicIsReported() throws Exception {
    EventSourceMapping m =
        source.complete(
            new EventSourceMapping.Builder(
                    UUID.randomUUID().toString(), "kafka", "f", Instant.now())
                .topics(List.of("no-such-topic"))
                .endpoints(Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of(servers)))
                .startingPosition(Optional.of("LATEST")),
            Set.of("Topics"),
            true);
    try (EventSourceReader reader = source.open(m, CONTEXT)) {
      assertThatThrownBy(
              () -> {
                for (int i = 0; i < 10; i++) {
                  reader.poll(Duration.ofMillis(500), 1);
                }
              })
          .isInstanceOf(SourceUnavailableException.class)
          .hasMessage(KafkaReader.TOPIC_NOT_FOUND);
    }
  }

  @Test
  void aStoppedBrokerIsUnavailableAndARestartedOneIsReadAgain() throws Exception {
    String t = topic(1);
    produce(t, 0, null, "before");
    EventSourceMapping m = mapping(t, "TRIM_HORIZON", 10, null);
    try (EventSourceReader reader = source.open(m, CONTEXT)) {
      pollUntil(reader, 1, true, Duration.ofSeconds(30));
      broker.stop();
      try {
        assertThatThrownBy(
                () -> {
                  for (int i = 0; i < 20; i++) {
                    reader.poll(Duration.ofMillis(500), 1);
                  }
                })
            .isInstanceOf(SourceUnavailableException.class)
            .hasMessage(KafkaReader.CONNECTION_ERROR);
      } finally {
        broker.start();
      }
      produce(t, 0, null, "after");
      List<SourceBatch> got = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
      while (got.isEmpty() && System.nanoTime() < deadline) {
        try {
          got.addAll(reader.poll(Duration.ofMillis(500), 1));
        } catch (SourceUnavailableException e) {
          Thread.sleep(200); // the poller's backoff
        }
      }
      assertThat(offsetsByLane(got).get(t + "-0")).containsExactly(1L);
    }
  }

  private EventSourceMapping saslMapping(String topic, String secretUri) {
    EventSourceMapping.Builder b =
        new EventSourceMapping.Builder(UUID.randomUUID().toString(), "kafka", "f", Instant.now())
            .topics(List.of(topic))
            .endpoints(Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of(broker.saslBootstrapServers())))
            .startingPosition(Optional.of("TRIM_HORIZON"))
            .sourceAccess(List.of(new EventSourceMapping.SourceAccess("BASIC_AUTH", secretUri)));
    return source.complete(
        b, Set.of("Topics", "SelfManagedEventSource", "SourceAccessConfigurations"), true);
  }

  @Test
  void basicAuthLogsInWithSaslPlainAndAWrongPasswordIsReported() throws Exception {
    String t = topic(1);
    produce(t, 0, null, "secret stuff");
    KafkaSource plaintextSasl = new KafkaSource(KafkaClientConfig.Transport.PLAINTEXT);
    try (EventSourceReader reader = plaintextSasl.open(saslMapping(t, "file:/alice"), CONTEXT)) {
      List<SourceBatch> got = pollUntil(reader, 1, true, Duration.ofSeconds(30));
      assertThat(offsetsByLane(got).get(t + "-0")).containsExactly(0L);
    }
    try (EventSourceReader reader = plaintextSasl.open(saslMapping(t, "file:/mallory"), CONTEXT)) {
      assertThatThrownBy(
              () -> {
                for (int i = 0; i < 20; i++) {
                  reader.poll(Duration.ofMillis(500), 1);
                }
              })
          .isInstanceOf(SourceUnavailableException.class)
          .hasMessage(KafkaReader.SASL_FAILED)
          .message()
          .doesNotContain("guess");
    }
  }

  @Test
  void aRebalanceDropsTheBatchesInFlightAndTheirRecordsAreReadAgain() throws Exception {
    String t = topic(2);
    for (int i = 0; i < 8; i++) {
      produce(t, i % 2, null, "v" + i);
    }
    EventSourceMapping m = mapping(t, "TRIM_HORIZON", 10, null);
    EventSourceReader a = source.open(m, CONTEXT);
    List<SourceBatch> first = pollUntil(a, 8, false, Duration.ofSeconds(30));
    assertThat(first).hasSize(2); // both partitions out, nothing completed

    // a keeps polling on its own thread, as its poller would, while b joins the group
    var fromA = new java.util.concurrent.LinkedBlockingQueue<SourceBatch>();
    var stop = new java.util.concurrent.atomic.AtomicBoolean();
    Thread pollerA =
        Thread.ofPlatform()
            .start(
                () -> {
                  while (!stop.get()) {
                    try {
                      fromA.addAll(a.poll(Duration.ofMillis(200), 10));
                    } catch (Exception e) {
                      return;
                    }
                  }
                });
    List<SourceBatch> fromB = new ArrayList<>();
    try (EventSourceReader b = source.open(m, CONTEXT)) {
      long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
      while (fromB.isEmpty() && System.nanoTime() < deadline) {
        fromB.addAll(b.poll(Duration.ofMillis(300), 10));
      }
      // b read one partition from its start: a's batch of it was never committed
      assertThat(fromB).hasSize(1);
      assertThat(fromB.get(0).records())
          .extracting(SourceRecord::itemIdentifier)
          .containsExactly("0", "1", "2", "3");
      // a's old batches complete now: too late, their partitions were revoked; nothing commits
      for (SourceBatch batch : first) {
        a.complete(batch);
      }
      // a reads its remaining partition again from the start
      SourceBatch again = fromA.poll(30, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(again).isNotNull();
      assertThat(again.lane()).isNotEqualTo(fromB.get(0).lane());
      assertThat(again.records())
          .extracting(SourceRecord::itemIdentifier)
          .containsExactly("0", "1", "2", "3");
      a.complete(again);
      b.complete(fromB.get(0));
      b.poll(Duration.ofMillis(300), 10); // b applies its completion
    } finally {
      Thread.sleep(500); // a's poll thread applies its completion
      stop.set(true);
      pollerA.join();
      a.close();
    }
    // everything is committed: a new reader of the group has nothing to read
    try (EventSourceReader c = source.open(m, CONTEXT)) {
      assertThat(pollUntil(c, 1, false, Duration.ofSeconds(4))).isEmpty();
      assertThat(refreshedLag(c)).containsEntry("offset_lag", 0.0);
    }
  }

  @Test
  void atTimestampStartsAtTheFirstRecordAtOrAfterIt() throws Exception {
    String t = topic(1);
    producer
        .send(new ProducerRecord<>(t, 0, 1_000L, null, "a".getBytes(StandardCharsets.UTF_8)))
        .get();
    producer
        .send(new ProducerRecord<>(t, 0, 2_000L, null, "b".getBytes(StandardCharsets.UTF_8)))
        .get();
    producer
        .send(new ProducerRecord<>(t, 0, 3_000L, null, "c".getBytes(StandardCharsets.UTF_8)))
        .get();
    EventSourceMapping.Builder builder =
        new EventSourceMapping.Builder(UUID.randomUUID().toString(), "kafka", "f", Instant.now())
            .topics(List.of(t))
            .endpoints(Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of(servers)))
            .startingPosition(Optional.of("AT_TIMESTAMP"))
            .startingPositionTimestamp(Optional.of(Instant.ofEpochMilli(1_500L)));
    EventSourceMapping m =
        source.complete(builder, Set.of("Topics", "StartingPositionTimestamp"), true);
    try (EventSourceReader reader = source.open(m, CONTEXT)) {
      List<SourceBatch> got = pollUntil(reader, 2, true, Duration.ofSeconds(30));
      assertThat(offsetsByLane(got).get(t + "-0")).containsExactly(1L, 2L);
    }
  }

  @Test
  void theWindowGathersRecordsAndAFullBatchDoesNotWaitForIt() throws Exception {
    String t = topic(1);
    EventSourceMapping.Builder b =
        new EventSourceMapping.Builder(UUID.randomUUID().toString(), "kafka", "f", Instant.now())
            .topics(List.of(t))
            .endpoints(Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of(servers)))
            .startingPosition(Optional.of("TRIM_HORIZON"))
            .batchSize(3)
            .maximumBatchingWindowInSeconds(2);
    EventSourceMapping m =
        source.complete(b, Set.of("Topics", "BatchSize", "MaximumBatchingWindowInSeconds"), true);
    try (EventSourceReader reader = source.open(m, CONTEXT)) {
      assertThat(reader.poll(Duration.ofSeconds(2), 10)).isEmpty(); // joined, nothing there
      produce(t, 0, null, "a");
      Thread.sleep(300);
      produce(t, 0, null, "b");
      // two records, fewer than BatchSize: they wait out the window together
      long start = System.nanoTime();
      List<SourceBatch> got = pollUntil(reader, 2, true, Duration.ofSeconds(10));
      long waitedMs = (System.nanoTime() - start) / 1_000_000;
      assertThat(got).hasSize(1);
      assertThat(got.get(0).records()).hasSize(2);
      assertThat(waitedMs).isGreaterThan(1000);
      // a full batch goes at once
      for (int i = 0; i < 3; i++) {
        produce(t, 0, null, "c" + i);
      }
      start = System.nanoTime();
      List<SourceBatch> full = pollUntil(reader, 3, true, Duration.ofSeconds(10));
      assertThat(full).hasSize(1);
      assertThat(full.get(0).records()).hasSize(3);
      assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(1500);
    }
  }

  @Test
  void pollsThatDoNotWaitStillFetch() throws Exception {
    String t = topic(1);
    produce(t, 0, null, "x");
    try (EventSourceReader reader = source.open(mapping(t, "TRIM_HORIZON", 1, null), CONTEXT)) {
      List<SourceBatch> got = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (got.isEmpty() && System.nanoTime() < deadline) {
        got.addAll(reader.poll(Duration.ZERO, 1));
        Thread.sleep(20);
      }
      assertThat(got).hasSize(1);
    }
  }
}
