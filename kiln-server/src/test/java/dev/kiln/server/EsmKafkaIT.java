package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.testing.brokers.KafkaBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.services.lambda.model.CreateEventSourceMappingRequest;
import software.amazon.awssdk.services.lambda.model.EventSourcePosition;
import software.amazon.awssdk.services.lambda.model.LambdaException;

/**
 * Self-managed Kafka as a user triggers functions from it: a real KRaft broker, records produced
 * with Kafka's own producer, mappings made with the Lambda client, functions in Python and Node.
 * Checks that every record arrives once and in order per partition, the event's shape, retries
 * ending in OnFailure, disabling and re-enabling resuming where it stopped, an unreachable broker
 * reported and recovered from, and the Kafka-specific refusals.
 */
class EsmKafkaIT {

  static final KafkaBroker BROKER = new KafkaBroker();
  static final String BOOTSTRAP = BROKER.start();

  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();

  static final KafkaProducer<String, String> PRODUCER = producer();

  static KafkaProducer<String, String> producer() {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BOOTSTRAP);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(p);
  }

  @AfterAll
  static void stopBroker() {
    PRODUCER.close();
    BROKER.close();
  }

  /** One line per invocation: each partition's offsets in the batch, and the event's fields. */
  static final String RECORDER =
      "import json, base64\n"
          + "def handler(event, context):\n"
          + "    batch = {k: [r['offset'] for r in v] for k, v in event['records'].items()}\n"
          + "    first = next(iter(event['records'].values()))[0]\n"
          + "    print('BATCH ' + json.dumps({'batch': batch, 'source': event['eventSource'],\n"
          + "        'servers': event['bootstrapServers'], 'topic': first['topic'],\n"
          + "        'key': base64.b64decode(first['key']).decode(),\n"
          + "        'value': base64.b64decode(first['value']).decode(),\n"
          + "        'type': first['timestampType'], 'headers': first['headers']}))\n";

  static void produce(String topic, int from, int to) {
    for (int i = from; i < to; i++) {
      PRODUCER.send(
          new ProducerRecord<>(
              topic, null, "k" + (i % 7), "{\"n\":" + i + "}", List.of(header("trace", "t" + i))));
    }
    PRODUCER.flush();
  }

  static org.apache.kafka.common.header.Header header(String key, String value) {
    return new org.apache.kafka.common.header.internals.RecordHeader(
        key, value.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  static List<JsonNode> batches(String function) {
    return Deliveries.read(kiln.fixture().logsClient(), function, "BATCH");
  }

  /**
   * Every (partition, offset) each batch of {@code function} held, per partition in batch order.
   */
  static Map<String, List<Long>> offsets(String function) {
    Map<String, List<List<Long>>> byPartition = new TreeMap<>();
    for (JsonNode b : batches(function)) {
      b.get("batch")
          .fields()
          .forEachRemaining(
              e -> {
                List<Long> offsets = new ArrayList<>();
                e.getValue().forEach(o -> offsets.add(o.asLong()));
                byPartition.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(offsets);
              });
    }
    Map<String, List<Long>> out = new TreeMap<>();
    byPartition.forEach(
        (p, list) -> {
          list.sort((a, b) -> Long.compare(a.get(0), b.get(0)));
          List<Long> all = new ArrayList<>();
          list.forEach(all::addAll);
          out.put(p, all);
        });
    return out;
  }

  static int count(String function) {
    return offsets(function).values().stream().mapToInt(List::size).sum();
  }

  static CreateEventSourceMappingRequest.Builder mapping(
      CreateEventSourceMappingRequest.Builder b, String function, String topic) {
    return b.functionName(function)
        .topics(topic)
        .startingPosition(EventSourcePosition.TRIM_HORIZON)
        .selfManagedEventSource(
            s -> s.endpointsWithStrings(Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of(BOOTSTRAP))));
  }

  static String awaitState(String uuid, String state) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> kiln.fixture().lambda.getEventSourceMapping(b -> b.uuid(uuid)).state(),
            state::equals);
    return state;
  }

  @Test
  void everyRecordArrivesOnce_inOrderWithinItsPartition_asLambdaSendsIt() {
    BROKER.createTopic("clicks", 3);
    kiln.fixture().python("clicks-fn", RECORDER);
    var created =
        kiln.fixture()
            .lambda
            .createEventSourceMapping(b -> mapping(b, "clicks-fn", "clicks").batchSize(10));
    assertThat(created.state()).isEqualTo("Creating");
    assertThat(created.topics()).containsExactly("clicks");
    assertThat(created.startingPosition()).isEqualTo(EventSourcePosition.TRIM_HORIZON);
    assertThat(created.selfManagedKafkaEventSourceConfig().consumerGroupId())
        .isEqualTo(created.uuid());
    assertThat(created.maximumRetryAttempts()).isEqualTo(-1);
    produce("clicks", 0, 90);

    Awaitility.await().atMost(Duration.ofSeconds(90)).until(() -> count("clicks-fn") >= 90);
    Map<String, List<Long>> offsets = offsets("clicks-fn");
    assertThat(offsets.keySet()).allMatch(k -> k.startsWith("clicks-"));
    int total = 0;
    for (List<Long> partition : offsets.values()) {
      // contiguous from 0 and ascending: nothing skipped, nothing twice, nothing reordered
      for (int i = 0; i < partition.size(); i++) {
        assertThat(partition.get(i)).isEqualTo((long) i);
      }
      total += partition.size();
    }
    assertThat(total).isEqualTo(90);
    JsonNode first = batches("clicks-fn").get(0);
    assertThat(first.get("source").asText()).isEqualTo("SelfManagedKafka");
    assertThat(first.get("servers").asText()).isEqualTo(BOOTSTRAP);
    assertThat(first.get("topic").asText()).isEqualTo("clicks");
    assertThat(first.get("value").asText()).startsWith("{\"n\":");
    assertThat(first.get("key").asText()).startsWith("k");
    assertThat(first.get("type").asText()).isEqualTo("CREATE_TIME");
    assertThat(first.get("headers").get(0).get("trace").get(0).asInt()).isEqualTo('t');
    assertThat(awaitState(created.uuid(), "Enabled")).isEqualTo("Enabled");
  }

  @Test
  void aBatchThatKeepsFailing_goesToOnFailureAfterItsRetries_andThePartitionMovesOn() {
    BROKER.createTopic("payments", 1);
    kiln.fixture()
        .node(
            "payments-fn",
            "index.mjs",
            "export const handler = async (event) => {\n"
                + "  for (const records of Object.values(event.records))\n"
                + "    for (const r of records) {\n"
                + "      const v = Buffer.from(r.value, 'base64').toString();\n"
                + "      console.log('BATCH ' + JSON.stringify({batch: {[r.topic + '-' + r.partition]: [r.offset]}, value: v}));\n"
                + "      if (v.includes('poison')) throw new Error('poison');\n"
                + "    }\n"
                + "};\n");
    kiln.fixture()
        .python(
            "payments-dlq",
            "import json\n"
                + "def handler(event, context):\n"
                + "    print('FAILED ' + json.dumps(event))\n");
    kiln.fixture()
        .lambda
        .createEventSourceMapping(
            b ->
                mapping(b, "payments-fn", "payments")
                    .batchSize(1)
                    .maximumRetryAttempts(1)
                    .destinationConfig(
                        d ->
                            d.onFailure(
                                f ->
                                    f.destination(
                                        "arn:aws:lambda:us-east-1:000000000000:function:payments-dlq"))));
    PRODUCER.send(new ProducerRecord<>("payments", "a", "poison"));
    PRODUCER.send(new ProducerRecord<>("payments", "b", "fine"));
    PRODUCER.flush();

    Awaitility.await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () ->
                batches("payments-fn").stream()
                    .anyMatch(b -> b.get("value").asText().equals("fine")));
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                !Deliveries.read(kiln.fixture().logsClient(), "payments-dlq", "FAILED").isEmpty());
    JsonNode failure =
        Deliveries.read(kiln.fixture().logsClient(), "payments-dlq", "FAILED").get(0);
    assertThat(failure.at("/requestContext/condition").asText())
        .isEqualTo("RetryAttemptsExhausted");
    assertThat(failure.at("/requestContext/approximateInvokeCount").asInt()).isEqualTo(2);
    assertThat(failure.at("/requestContext/functionArn").asText())
        .isEqualTo("arn:aws:lambda:us-east-1:000000000000:function:payments-fn");
    assertThat(failure.at("/KafkaBatchInfo/batchSize").asInt()).isEqualTo(1);
    assertThat(failure.at("/KafkaBatchInfo/bootstrapServers").asText()).isEqualTo(BOOTSTRAP);
    assertThat(failure.at("/KafkaBatchInfo/recordsInfo/payments-0/firstRecordOffset").asText())
        .isEqualTo("0");
    // the poison record was tried twice (once and one retry), the next record once
    assertThat(batches("payments-fn"))
        .extracting(b -> b.get("value").asText())
        .containsExactly("poison", "poison", "fine");
  }

  @Test
  void disablingAndReEnabling_resumesWhereItStopped() {
    BROKER.createTopic("resume", 1);
    kiln.fixture().python("resume-fn", RECORDER);
    String uuid =
        kiln.fixture()
            .lambda
            .createEventSourceMapping(b -> mapping(b, "resume-fn", "resume"))
            .uuid();
    produce("resume", 0, 5);
    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> count("resume-fn") == 5);
    assertThat(
            kiln.fixture()
                .lambda
                .updateEventSourceMapping(b -> b.uuid(uuid).enabled(false))
                .state())
        .isEqualTo("Disabling");
    awaitState(uuid, "Disabled");
    produce("resume", 5, 10);
    Awaitility.await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(10))
        .until(() -> count("resume-fn") == 5);

    kiln.fixture().lambda.updateEventSourceMapping(b -> b.uuid(uuid).enabled(true));
    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> count("resume-fn") >= 10);
    assertThat(offsets("resume-fn").get("resume-0"))
        .containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
  }

  @Test
  void anUnreachableBroker_isAcceptedAtCreate_andTheMappingSaysWhy() {
    kiln.fixture().python("nowhere-fn", RECORDER);
    String uuid =
        kiln.fixture()
            .lambda
            .createEventSourceMapping(
                b ->
                    b.functionName("nowhere-fn")
                        .topics("nowhere")
                        .startingPosition(EventSourcePosition.LATEST)
                        .selfManagedEventSource(
                            s ->
                                s.endpointsWithStrings(
                                    Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of("127.0.0.1:1")))))
            .uuid();
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                kiln.fixture()
                    .lambda
                    .getEventSourceMapping(b -> b.uuid(uuid))
                    .lastProcessingResult()
                    .startsWith("PROBLEM: Connection error"));
    assertThat(kiln.fixture().lambda.getEventSourceMapping(b -> b.uuid(uuid)).state())
        .isEqualTo("Enabled");
  }

  @Test
  void kafkaSpecificRefusals_nameWhatIsMissing_andStoreNothing() {
    kiln.fixture().python("strict-kafka", RECORDER);
    int before =
        kiln.fixture().lambda.listEventSourceMappings(b -> {}).eventSourceMappings().size();
    Map<String, java.util.function.Consumer<CreateEventSourceMappingRequest.Builder>> bad =
        new HashMap<>();
    bad.put(
        "Topics must be specified for a Kafka event source.",
        b ->
            b.functionName("strict-kafka")
                .startingPosition(EventSourcePosition.LATEST)
                .selfManagedEventSource(
                    s ->
                        s.endpointsWithStrings(
                            Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of(BOOTSTRAP)))));
    bad.put(
        "Invalid bootstrap server: localhost. Specify each server as host:port.",
        b ->
            b.functionName("strict-kafka")
                .topics("tt")
                .startingPosition(EventSourcePosition.LATEST)
                .selfManagedEventSource(
                    s ->
                        s.endpointsWithStrings(
                            Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of("localhost")))));
    Set<String> seen = new HashSet<>();
    bad.forEach(
        (message, request) -> {
          LambdaException e =
              catchThrowableOfType(
                  LambdaException.class,
                  () -> kiln.fixture().lambda.createEventSourceMapping(request));
          assertThat(e).as(message).isNotNull();
          assertThat(e.statusCode()).isEqualTo(400);
          assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidParameterValueException");
          assertThat(e.awsErrorDetails().errorMessage()).isEqualTo(message);
          seen.add(message);
        });
    LambdaException noPosition =
        catchThrowableOfType(
            LambdaException.class,
            () ->
                kiln.fixture()
                    .lambda
                    .createEventSourceMapping(
                        b ->
                            b.functionName("strict-kafka")
                                .topics("tt")
                                .selfManagedEventSource(
                                    s ->
                                        s.endpointsWithStrings(
                                            Map.of(
                                                "KAFKA_BOOTSTRAP_SERVERS", List.of(BOOTSTRAP))))));
    assertThat(noPosition.awsErrorDetails().errorCode())
        .isEqualTo("InvalidParameterValueException");
    assertThat(noPosition.awsErrorDetails().errorMessage())
        .containsIgnoringCase("StartingPosition");
    assertThat(kiln.fixture().lambda.listEventSourceMappings(b -> {}).eventSourceMappings())
        .hasSize(before);
    assertThat(seen).hasSize(2);
  }
}
