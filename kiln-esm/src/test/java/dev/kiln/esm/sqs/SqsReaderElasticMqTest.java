package dev.kiln.esm.sqs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.esm.source.EventSourceReader;
import dev.kiln.esm.source.SourceBatch;
import dev.kiln.esm.source.SourceContext;
import dev.kiln.esm.source.SourceRecord;
import dev.kiln.esm.source.SourceUnavailableException;
import dev.kiln.model.EventSourceMapping;
import dev.kiln.testing.brokers.ElasticMq;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.SendMessageResponse;

/**
 * SqsReader against a real ElasticMQ (one per class; one more for the test that stops it): the
 * event as Lambda sends it, deletion of what was delivered only, redelivery after the visibility
 * timeout, redrive to a dead-letter queue, FIFO group order, and an unreachable broker that comes
 * back. Messages are sent with the SDK's own SQS client.
 */
class SqsReaderElasticMqTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(2);
  private static final AtomicInteger QUEUES = new AtomicInteger();

  private static ElasticMq mq;
  private static SqsClient sqs;

  @BeforeAll
  static void start() {
    mq = ElasticMq.start();
    sqs = client(mq.endpoint());
  }

  @AfterAll
  static void stop() {
    sqs.close();
    mq.close();
  }

  private static SqsClient client(URI endpoint) {
    return SqsClient.builder()
        .endpointOverride(endpoint)
        .region(Region.US_EAST_1)
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
        .httpClient(UrlConnectionHttpClient.create())
        .build();
  }

  private static SourceContext context(Optional<URI> sqsEndpoint) {
    return dev.kiln.esm.source.TestSourceContext.of(ElasticMq.REGION)
        .withSqsEndpoint(sqsEndpoint)
        .withSecrets(
            java.util.Map.of(
                "file:/sqs-key", "{\"accessKeyId\":\"id\",\"secretAccessKey\":\"key\"}"));
  }

  private static String queue(String base) {
    return base + "-" + QUEUES.incrementAndGet();
  }

  private static EventSourceMapping mapping(String queueName, int batchSize, int window) {
    EventSourceMapping.Builder b =
        new EventSourceMapping.Builder("u-" + queueName, "sqs", "f", Instant.now())
            .eventSourceArn(Optional.of(mq.queueArn(queueName)))
            .batchSize(batchSize)
            .maximumBatchingWindowInSeconds(window);
    return new SqsSource().complete(b, Set.of("BatchSize", "MaximumBatchingWindowInSeconds"), true);
  }

  private static EventSourceReader reader(EventSourceMapping m) {
    return new SqsSource().open(m, context(Optional.of(mq.endpoint())));
  }

  private static List<SendMessageResponse> send(String url, int n) {
    List<SendMessageResponse> sent = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int k = i;
      sent.add(sqs.sendMessage(r -> r.queueUrl(url).messageBody("m" + k)));
    }
    return sent;
  }

  private static List<String> bodies(SourceBatch batch) {
    return batch.records().stream().map(r -> r.eventRecord().get("body").asText()).toList();
  }

  private static int inQueue(String url, QueueAttributeName name) {
    return Integer.parseInt(
        sqs.getQueueAttributes(r -> r.queueUrl(url).attributeNames(name)).attributes().get(name));
  }

  @Test
  void theEventIsLambdasSqsEvent() throws Exception {
    String name = queue("shape");
    String url = mq.createQueue(name, Map.of());
    SendMessageResponse sent =
        sqs.sendMessage(
            r ->
                r.queueUrl(url)
                    .messageBody("{\"order\":{\"id\":7,\"state\":\"paid\"}}")
                    .messageAttributes(
                        Map.of(
                            "tenant",
                            MessageAttributeValue.builder()
                                .dataType("String")
                                .stringValue("acme")
                                .build(),
                            "blob",
                            MessageAttributeValue.builder()
                                .dataType("Binary")
                                .binaryValue(SdkBytes.fromUtf8String("hi"))
                                .build())));
    try (EventSourceReader reader = reader(mapping(name, 10, 0))) {
      List<SourceBatch> batches = reader.poll(WAIT, 1);
      assertThat(batches).hasSize(1);
      SourceBatch batch = batches.get(0);
      assertThat(batch.records()).hasSize(1);
      SourceRecord record = batch.records().get(0);
      JsonNode actual = JSON.readTree(reader.event(batch, batch.records()));
      JsonNode got = actual.get("Records").get(0);
      JsonNode attributes = got.get("attributes");

      ObjectNode expected = JSON.createObjectNode();
      ObjectNode r = expected.putArray("Records").addObject();
      r.put("messageId", sent.messageId());
      r.put("receiptHandle", got.get("receiptHandle").asText());
      r.put("body", "{\"order\":{\"id\":7,\"state\":\"paid\"}}");
      ObjectNode a = r.putObject("attributes");
      a.put("ApproximateReceiveCount", "1");
      a.put("SentTimestamp", attributes.get("SentTimestamp").asText());
      a.put("SenderId", attributes.get("SenderId").asText());
      a.put(
          "ApproximateFirstReceiveTimestamp",
          attributes.get("ApproximateFirstReceiveTimestamp").asText());
      ObjectNode m = r.putObject("messageAttributes");
      ObjectNode blob = JSON.createObjectNode();
      blob.put("binaryValue", "aGk=");
      blob.putArray("stringListValues");
      blob.putArray("binaryListValues");
      blob.put("dataType", "Binary");
      ObjectNode tenant = JSON.createObjectNode();
      tenant.put("stringValue", "acme");
      tenant.putArray("stringListValues");
      tenant.putArray("binaryListValues");
      tenant.put("dataType", "String");
      // SQS returns attributes in its own order; the map is the same either way
      got.get("messageAttributes")
          .fieldNames()
          .forEachRemaining(n -> m.set(n, n.equals("blob") ? blob : tenant));
      r.put("md5OfMessageAttributes", sent.md5OfMessageAttributes());
      r.put("md5OfBody", sent.md5OfMessageBody());
      r.put("eventSource", "aws:sqs");
      r.put("eventSourceARN", mq.queueArn(name));
      r.put("awsRegion", "us-east-1");

      // exactly: the same fields, values and order
      assertThat(JSON.writeValueAsString(actual)).isEqualTo(JSON.writeValueAsString(expected));
      assertThat(got.get("messageAttributes").size()).isEqualTo(2);
      assertThat(Long.parseLong(a.get("SentTimestamp").asText()))
          .isCloseTo(System.currentTimeMillis(), org.assertj.core.data.Offset.offset(10_000L));
      assertThat(record.arrived().toEpochMilli())
          .isEqualTo(Long.parseLong(a.get("SentTimestamp").asText()));
      assertThat(record.itemIdentifier()).isEqualTo(sent.messageId());
      // the filtering view: the record with its JSON body parsed
      assertThat(record.filterView().at("/body/order/state").asText()).isEqualTo("paid");
      assertThat(record.filterView().get("messageId").asText()).isEqualTo(sent.messageId());
      assertThat(record.eventRecord().get("body").isTextual()).isTrue();

      ObjectNode info = reader.batchInfo(batch, batch.records());
      assertThat(info.at("/SQSBatchInfo/queueArn").asText()).isEqualTo(mq.queueArn(name));
      assertThat(info.at("/SQSBatchInfo/messageIds/0").asText()).isEqualTo(sent.messageId());
      assertThat(reader.lag())
          .containsKey("approximate_age_seconds")
          .containsKey("backlog_messages");
      reader.complete(batch);
    }
  }

  @Test
  void aPlainBodyIsFilteredAsAString() throws Exception {
    String name = queue("plain");
    String url = mq.createQueue(name, Map.of());
    sqs.sendMessage(r -> r.queueUrl(url).messageBody("hello {not json"));
    try (EventSourceReader reader = reader(mapping(name, 10, 0))) {
      SourceBatch batch = reader.poll(WAIT, 1).get(0);
      SourceRecord record = batch.records().get(0);
      assertThat(record.filterView().get("body").asText()).isEqualTo("hello {not json");
      JsonNode event = JSON.readTree(reader.event(batch, batch.records()));
      assertThat(event.at("/Records/0").has("md5OfMessageAttributes")).isFalse();
      assertThat(event.at("/Records/0/messageAttributes").isEmpty()).isTrue();
    }
  }

  @Test
  void completeDeletesTheBatch() throws Exception {
    String name = queue("complete");
    String url = mq.createQueue(name, Map.of("VisibilityTimeout", "1"));
    send(url, 3);
    try (EventSourceReader reader = reader(mapping(name, 10, 0))) {
      List<SourceBatch> batches = reader.poll(WAIT, 1);
      assertThat(batches).hasSize(1);
      assertThat(bodies(batches.get(0))).containsExactlyInAnyOrder("m0", "m1", "m2");
      reader.complete(batches.get(0));
      assertThat(inQueue(url, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE))
          .isZero();
      assertThat(inQueue(url, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES)).isZero();
      Thread.sleep(1_200); // past the visibility timeout: nothing comes back
      assertThat(reader.poll(Duration.ofSeconds(1), 1)).isEmpty();
    }
  }

  @Test
  void releaseDeletesOnlyWhatWasDoneAndTheRestComesBackAfterTheVisibilityTimeout()
      throws Exception {
    String name = queue("release");
    String url = mq.createQueue(name, Map.of("VisibilityTimeout", "1"));
    send(url, 3);
    try (EventSourceReader reader = reader(mapping(name, 10, 0))) {
      SourceBatch batch = reader.poll(WAIT, 1).get(0);
      assertThat(batch.records()).hasSize(3);
      SourceRecord failed = batch.records().get(1);
      List<SourceRecord> done = List.of(batch.records().get(0), batch.records().get(2));
      reader.release(batch, done);
      // within the visibility timeout the failed one stays invisible: nothing to poll
      assertThat(reader.poll(Duration.ZERO, 1)).isEmpty();
      List<SourceBatch> again = pollUntilAny(reader);
      assertThat(again).hasSize(1);
      assertThat(again.get(0).records()).hasSize(1);
      SourceRecord back = again.get(0).records().get(0);
      assertThat(back.itemIdentifier()).isEqualTo(failed.itemIdentifier());
      // sent before the first receive and back after the 1 s visibility timeout
      assertThat(reader.lag().get("approximate_age_seconds")).isGreaterThanOrEqualTo(0.9);
      assertThat(back.eventRecord().at("/attributes/ApproximateReceiveCount").asText())
          .isEqualTo("2");
      assertThat(back.eventRecord().get("receiptHandle").asText())
          .isNotEqualTo(failed.eventRecord().get("receiptHandle").asText());
      reader.complete(again.get(0));
      assertThat(inQueue(url, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE))
          .isZero();
    }
  }

  @Test
  void aMessageThatKeepsFailingMovesToTheDeadLetterQueue() throws Exception {
    String name = queue("redrive");
    String dlq = name + "-dlq";
    String url = mq.createQueueWithDeadLetterQueue(name, dlq, 2, Map.of("VisibilityTimeout", "1"));
    sqs.sendMessage(r -> r.queueUrl(url).messageBody("poison"));
    try (EventSourceReader reader = reader(mapping(name, 10, 0))) {
      for (int receive = 1; receive <= 2; receive++) {
        List<SourceBatch> batches = pollUntilAny(reader);
        SourceRecord r = batches.get(0).records().get(0);
        assertThat(r.eventRecord().at("/attributes/ApproximateReceiveCount").asText())
            .isEqualTo(Integer.toString(receive));
        reader.release(batches.get(0), List.of());
      }
      Thread.sleep(1_100);
      assertThat(reader.poll(Duration.ofSeconds(1), 1)).isEmpty();
    }
    List<Message> dead =
        sqs.receiveMessage(r -> r.queueUrl(mq.queueUrl(dlq)).waitTimeSeconds(2)).messages();
    assertThat(dead).extracting(Message::body).containsExactly("poison");
  }

  @Test
  void batchesFillUpToBatchSizeWithinTheWindowAndUpToCapacity() throws Exception {
    String name = queue("fill");
    String url = mq.createQueue(name, Map.of("VisibilityTimeout", "30"));
    send(url, 25);
    try (EventSourceReader reader = reader(mapping(name, 25, 1))) {
      List<SourceBatch> batches = reader.poll(WAIT, 1);
      assertThat(batches).hasSize(1);
      assertThat(batches.get(0).records()).hasSize(25); // three receives of 10, 10 and 5
      // the backlog as the reader found it on connecting, before it received anything
      assertThat(reader.lag()).containsEntry("backlog_messages", 25.0);
      reader.complete(batches.get(0));
    }
    send(url, 6);
    try (EventSourceReader reader = reader(mapping(name, 2, 0))) {
      List<SourceBatch> batches = new ArrayList<>();
      while (batches.stream().mapToInt(b -> b.records().size()).sum() < 6) {
        List<SourceBatch> got = reader.poll(WAIT, 3 - Math.min(batches.size(), 2));
        assertThat(got.size()).isLessThanOrEqualTo(3);
        got.forEach(b -> assertThat(b.records()).hasSizeLessThanOrEqualTo(2));
        batches.addAll(got);
      }
      assertThat(batches.stream().map(SourceBatch::lane).distinct()).hasSameSizeAs(batches);
      for (SourceBatch b : batches) {
        reader.complete(b);
      }
      assertThat(inQueue(url, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE))
          .isZero();
    }
  }

  @Test
  void aFifoQueueKeepsEachGroupsOrderAndOneBatchPerGroup() throws Exception {
    String name = queue("orders") + ".fifo";
    String url =
        mq.createQueue(
            name, Map.of("ContentBasedDeduplication", "true", "VisibilityTimeout", "30"));
    for (int i = 0; i < 6; i++) {
      int k = i;
      sqs.sendMessage(r -> r.queueUrl(url).messageGroupId("a").messageBody("a" + k));
      sqs.sendMessage(r -> r.queueUrl(url).messageGroupId("b").messageBody("b" + k));
    }
    Map<String, List<String>> seen = new HashMap<>();
    try (EventSourceReader reader = reader(mapping(name, 3, 0))) {
      Set<String> inFlight = new HashSet<>();
      List<SourceBatch> open = new ArrayList<>();
      int total = 0;
      long until = System.currentTimeMillis() + 20_000;
      while (total < 12 && System.currentTimeMillis() < until) {
        List<SourceBatch> batches = reader.poll(Duration.ofSeconds(1), 4);
        for (SourceBatch batch : batches) {
          Set<String> groups = new HashSet<>();
          for (SourceRecord r : batch.records()) {
            String g = r.eventRecord().at("/attributes/MessageGroupId").asText();
            assertThat(r.eventRecord().at("/attributes/SequenceNumber").asText()).isNotEmpty();
            assertThat(r.eventRecord().at("/attributes/MessageDeduplicationId").asText())
                .isNotEmpty();
            groups.add(g);
            seen.computeIfAbsent(g, x -> new ArrayList<>())
                .add(r.eventRecord().get("body").asText());
          }
          // never two batches of one group at once
          for (String g : groups) {
            assertThat(inFlight.add(g)).as("group %s handed out twice", g).isTrue();
          }
          open.add(batch);
          total += batch.records().size();
        }
        // finish the oldest batch before polling again, as a slow function would
        if (!open.isEmpty()) {
          SourceBatch done = open.remove(0);
          done.records()
              .forEach(
                  r -> inFlight.remove(r.eventRecord().at("/attributes/MessageGroupId").asText()));
          reader.complete(done);
        }
      }
      for (SourceBatch b : open) {
        reader.complete(b);
      }
    }
    assertThat(seen.get("a")).containsExactly("a0", "a1", "a2", "a3", "a4", "a5");
    assertThat(seen.get("b")).containsExactly("b0", "b1", "b2", "b3", "b4", "b5");
  }

  @Test
  void aFifoBatchThatFailsInPartLetsItsGroupsHeldMessagesComeBackAfterIt() throws Exception {
    String name = queue("partial") + ".fifo";
    String url =
        mq.createQueue(name, Map.of("ContentBasedDeduplication", "true", "VisibilityTimeout", "1"));
    for (int i = 0; i < 6; i++) {
      int k = i;
      sqs.sendMessage(r -> r.queueUrl(url).messageGroupId("g").messageBody("g" + k));
    }
    List<String> order = new ArrayList<>();
    try (EventSourceReader reader = reader(mapping(name, 3, 0))) {
      // room for two batches, but one group goes to one batch at a time: the rest is held
      List<SourceBatch> first = reader.poll(WAIT, 2);
      assertThat(first).hasSize(1);
      assertThat(bodies(first.get(0))).containsExactly("g0", "g1", "g2");
      assertThat(reader.poll(Duration.ZERO, 2)).isEmpty(); // g3.. wait for the group's batch
      // g0 delivered, g1 failed: g1 and all after it come back, in order, after the timeout
      reader.release(first.get(0), List.of(first.get(0).records().get(0)));
      order.add("g0");
      long until = System.currentTimeMillis() + 15_000;
      while (order.size() < 6 && System.currentTimeMillis() < until) {
        for (SourceBatch b : reader.poll(Duration.ofSeconds(1), 2)) {
          order.addAll(bodies(b));
          reader.complete(b);
        }
      }
    }
    assertThat(order).containsExactly("g0", "g1", "g2", "g3", "g4", "g5");
  }

  @Test
  void aMissingEndpointOrQueueIsUnavailableWithTheReason() {
    String name = queue("absent");
    EventSourceMapping m = mapping(name, 10, 0);
    try (EventSourceReader noEndpoint = new SqsSource().open(m, context(Optional.empty()))) {
      assertThatThrownBy(() -> noEndpoint.poll(WAIT, 1))
          .isInstanceOf(SourceUnavailableException.class)
          .hasMessageContaining("kiln server --sqs-endpoint");
    }
    try (EventSourceReader missing = reader(m)) {
      assertThatThrownBy(() -> missing.poll(WAIT, 1))
          .isInstanceOf(SourceUnavailableException.class)
          .hasMessage("PROBLEM: The event source queue " + mq.queueArn(name) + " does not exist.");
    }
  }

  @Test
  void anUnreachableBrokerIsUnavailableAndTheReaderRecoversWhenItIsBack() throws Exception {
    try (ElasticMq other = ElasticMq.start();
        SqsClient otherSqs = client(other.endpoint())) {
      String name = "comeback";
      other.createQueue(name, Map.of());
      EventSourceMapping m =
          new SqsSource()
              .complete(
                  new EventSourceMapping.Builder("u-comeback", "sqs", "f", Instant.now())
                      .eventSourceArn(Optional.of(other.queueArn(name))),
                  Set.of(),
                  true);
      try (EventSourceReader reader =
          new SqsSource().open(m, context(Optional.of(other.endpoint())))) {
        assertThat(reader.poll(Duration.ZERO, 1)).isEmpty(); // connected
        other.stop();
        assertThatThrownBy(() -> reader.poll(Duration.ZERO, 1))
            .isInstanceOf(SourceUnavailableException.class)
            .hasMessage(SqsReader.CONNECTION_ERROR);
        other.restart();
        String url = other.createQueue(name, Map.of());
        otherSqs.sendMessage(r -> r.queueUrl(url).messageBody("after"));
        List<SourceBatch> batches = reader.poll(WAIT, 1);
        assertThat(batches).hasSize(1);
        assertThat(bodies(batches.get(0))).containsExactly("after");
        reader.complete(batches.get(0));
      }
    }
  }

  private static List<SourceBatch> pollUntilAny(EventSourceReader reader) {
    List<List<SourceBatch>> got = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              List<SourceBatch> b = reader.poll(Duration.ofSeconds(1), 1);
              if (!b.isEmpty()) {
                got.add(b);
              }
              return !b.isEmpty();
            });
    return got.get(0);
  }
}
