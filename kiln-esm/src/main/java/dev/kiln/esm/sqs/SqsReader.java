package dev.kiln.esm.sqs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.esm.source.EventSourceReader;
import dev.kiln.esm.source.SourceBatch;
import dev.kiln.esm.source.SourceContext;
import dev.kiln.esm.source.SourceRecord;
import dev.kiln.esm.source.SourceUnavailableException;
import dev.kiln.model.EventSourceMapping;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.GetQueueAttributesResponse;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.QueueDoesNotExistException;

/**
 * Reads one SQS queue for one mapping, as Lambda's SQS pollers do: long-polls ReceiveMessage (ten
 * messages a call at most, SQS's limit), gathers calls into batches of up to BatchSize within the
 * batching window, deletes what was delivered with DeleteMessageBatch, and leaves what failed
 * alone: a failed message becomes visible again when its visibility timeout ends, with its
 * ApproximateReceiveCount one higher, and the queue's redrive policy moves it to the dead-letter
 * queue after maxReceiveCount receives. Nothing here changes a message's visibility.
 *
 * <p>Positions: none are kept here. What is not deleted is in the queue, so a reader opened after a
 * crash reads it again once the visibility timeout of what was in flight has passed.
 *
 * <p>FIFO queues: SQS itself holds back a message group while one of its messages is in flight, and
 * a batch keeps the order a receive returned. This reader also never hands out a message of a group
 * that is in a batch not yet completed or released: such a message is held and handed out in a
 * later batch, after its group's batch is done.
 *
 * <p>Threading: {@link #poll} is called by the mapping's one poller thread; {@link #complete},
 * {@link #release} and {@link #lag} from the threads running batches. The SDK's client is
 * thread-safe; the in-flight groups, the held messages and the lag are guarded by {@code this}.
 */
final class SqsReader implements EventSourceReader {

  private static final Logger LOG = LoggerFactory.getLogger(SqsReader.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  static final String CONNECTION_ERROR =
      "PROBLEM: Connection error. Please check your event source connection configuration.";

  /** SQS's limits: ten messages per ReceiveMessage and DeleteMessageBatch, 20 s long polls. */
  private static final int SQS_MAX_MESSAGES = 10;

  private static final int SQS_MAX_WAIT_SECONDS = 20;

  static final int BACKLOG_EVERY_SECONDS = 5;

  /** A placeholder key for brokers that take any (ElasticMQ). */
  static final String DEFAULT_ACCESS_KEY = "kiln";

  private static final String[] SYSTEM_ATTRIBUTE_ORDER = {
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn"
  };

  private final EventSourceMapping mapping;
  private final SourceContext context;
  private final SqsSource.QueueArn queue;
  private final boolean fifo;
  private final AtomicLong lanes = new AtomicLong();

  private final Object connecting = new Object();
  private volatile SqsClient client;
  private volatile String queueUrl;

  // guarded by this
  private final Set<String> groupsInFlight = new HashSet<>();
  private final Deque<Message> held = new ArrayDeque<>();
  private Instant oldestSeen;
  private long backlogAsked = System.nanoTime(); // the poller thread's only
  private Double backlog;

  SqsReader(EventSourceMapping mapping, SourceContext context) {
    this.mapping = mapping;
    this.context = context;
    this.queue = SqsSource.QueueArn.parse(mapping.eventSourceArn().orElseThrow());
    this.fifo = queue.fifo();
  }

  /** The batch's checkpoint: its receipt handles are its records' handles. */
  private record Handle(Set<String> groups) {}

  private void connect() throws SourceUnavailableException {
    if (client != null) {
      return;
    }
    synchronized (connecting) {
      if (client == null) {
        open();
      }
    }
  }

  private void open() throws SourceUnavailableException {
    URI endpoint =
        context
            .sqsEndpoint()
            .orElseThrow(
                () ->
                    new SourceUnavailableException(
                        "PROBLEM: Kiln has no SQS endpoint to poll "
                            + queue.arn()
                            + " at. Start it with kiln server --sqs-endpoint URL."));
    String[] key = credentials();
    SqsClient c =
        SqsClient.builder()
            .endpointOverride(endpoint)
            .region(Region.of(queue.region()))
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create(key[0], key[1])))
            .httpClient(
                UrlConnectionHttpClient.builder()
                    .connectionTimeout(Duration.ofSeconds(3))
                    .socketTimeout(Duration.ofSeconds(SQS_MAX_WAIT_SECONDS + 10))
                    .build())
            .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
            .build();
    String url = stripSlash(endpoint.toString()) + "/" + queue.account() + "/" + queue.name();
    try {
      GetQueueAttributesResponse attributes =
          c.getQueueAttributes(
              r ->
                  r.queueUrl(url)
                      .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES));
      recordBacklog(attributes);
    } catch (SdkException e) {
      c.close();
      throw unavailable(e);
    }
    queueUrl = url;
    client = c;
  }

  private String[] credentials() throws SourceUnavailableException {
    for (EventSourceMapping.SourceAccess access : mapping.sourceAccess()) {
      if (SqsSource.BASIC_AUTH.equals(access.type())) {
        String secret = context.secret(access.uri());
        try {
          JsonNode node = JSON.readTree(secret);
          String id = node.path("accessKeyId").asText("");
          String key = node.path("secretAccessKey").asText("");
          if (id.isEmpty() || key.isEmpty()) {
            throw new SourceUnavailableException(
                "PROBLEM: The secret "
                    + access.uri()
                    + " lacks accessKeyId or secretAccessKey for the SQS endpoint.");
          }
          return new String[] {id, key};
        } catch (IOException e) {
          throw new SourceUnavailableException(
              "PROBLEM: The secret " + access.uri() + " is not a JSON object.", e);
        }
      }
    }
    return new String[] {DEFAULT_ACCESS_KEY, DEFAULT_ACCESS_KEY};
  }

  private SourceUnavailableException unavailable(SdkException e) {
    if (e instanceof QueueDoesNotExistException
        || (e instanceof AwsServiceException a
            && a.awsErrorDetails() != null
            && String.valueOf(a.awsErrorDetails().errorCode()).contains("NonExistentQueue"))) {
      return new SourceUnavailableException(
          "PROBLEM: The event source queue " + queue.arn() + " does not exist.", e);
    }
    if (e instanceof AwsServiceException a && (a.statusCode() == 403 || a.statusCode() == 401)) {
      return new SourceUnavailableException(
          "PROBLEM: Lambda failed to access the queue "
              + queue.arn()
              + ": "
              + a.awsErrorDetails().errorMessage(),
          e);
    }
    if (e instanceof SdkClientException) {
      return new SourceUnavailableException(CONNECTION_ERROR, e);
    }
    return new SourceUnavailableException("PROBLEM: " + e.getMessage(), e);
  }

  @Override
  public List<SourceBatch> poll(Duration wait, int capacity)
      throws SourceUnavailableException, InterruptedException {
    connect();
    int batchSize = mapping.batchSize();
    int want = Math.max(1, capacity) * batchSize;
    List<Message> got = new ArrayList<>(takeHeld(want));
    long windowMillis = mapping.maximumBatchingWindowInSeconds() * 1000L;
    long started = System.nanoTime();
    boolean first = got.isEmpty();
    while (got.size() < want) {
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
      long elapsed = (System.nanoTime() - started) / 1_000_000;
      int waitSeconds;
      if (first) {
        waitSeconds = (int) Math.min(SQS_MAX_WAIT_SECONDS, Math.max(0, wait.toSeconds()));
      } else if (elapsed < windowMillis) {
        waitSeconds =
            (int) Math.min(SQS_MAX_WAIT_SECONDS, Math.max(1, (windowMillis - elapsed) / 1000));
      } else {
        waitSeconds = 0;
      }
      List<Message> messages;
      try {
        messages = receive(Math.min(SQS_MAX_MESSAGES, want - got.size()), waitSeconds);
      } catch (SourceUnavailableException e) {
        if (got.isEmpty()) {
          throw e;
        }
        // hand out what was received; the next poll meets the error again
        LOG.debug("mapping {}: receive failed mid-batch: {}", mapping.uuid(), e.getMessage());
        break;
      }
      if (messages.isEmpty()) {
        if (first || elapsed >= windowMillis) {
          break;
        }
        continue;
      }
      first = false;
      got.addAll(messages);
    }
    noteAges(got);
    refreshBacklog();
    return fifo ? fifoBatches(got, capacity, batchSize) : standardBatches(got, batchSize);
  }

  private void refreshBacklog() {
    long now = System.nanoTime();
    if (now - backlogAsked < BACKLOG_EVERY_SECONDS * 1_000_000_000L) {
      return;
    }
    backlogAsked = now;
    try {
      recordBacklog(
          client.getQueueAttributes(
              r ->
                  r.queueUrl(queueUrl)
                      .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES)));
    } catch (SdkException e) {
      LOG.debug("mapping {}: no backlog from {}: {}", mapping.uuid(), queue.arn(), e.toString());
    }
  }

  private List<Message> receive(int max, int waitSeconds) throws SourceUnavailableException {
    try {
      return client
          .receiveMessage(
              r ->
                  r.queueUrl(queueUrl)
                      .maxNumberOfMessages(max)
                      .waitTimeSeconds(waitSeconds)
                      .messageSystemAttributeNamesWithStrings("All")
                      .attributeNamesWithStrings("All")
                      .messageAttributeNames("All"))
          .messages();
    } catch (SdkException e) {
      throw unavailable(e);
    }
  }

  private List<SourceBatch> standardBatches(List<Message> messages, int batchSize) {
    List<SourceBatch> batches = new ArrayList<>();
    for (int i = 0; i < messages.size(); i += batchSize) {
      List<SourceRecord> records = new ArrayList<>();
      for (Message m : messages.subList(i, Math.min(messages.size(), i + batchSize))) {
        records.add(record(m));
      }
      batches.add(new SourceBatch(nextLane(), records, new Handle(Set.of())));
    }
    return batches;
  }

  /**
   * FIFO batches: each message group goes whole into one batch, in the order received; a group
   * already in flight, or one that does not fit in the batches the poller can run, is held.
   */
  private synchronized List<SourceBatch> fifoBatches(
      List<Message> messages, int capacity, int batchSize) {
    Map<String, List<Message>> byGroup = new LinkedHashMap<>();
    for (Message m : messages) {
      byGroup.computeIfAbsent(group(m), g -> new ArrayList<>()).add(m);
    }
    List<SourceBatch> batches = new ArrayList<>();
    List<SourceRecord> current = new ArrayList<>();
    Set<String> currentGroups = new LinkedHashSet<>();
    List<Message> keep = new ArrayList<>();
    for (Map.Entry<String, List<Message>> e : byGroup.entrySet()) {
      List<Message> group = e.getValue();
      if (groupsInFlight.contains(e.getKey())) {
        keep.addAll(group);
        continue;
      }
      int from = 0;
      while (from < group.size()) {
        if (current.size() == batchSize) {
          batches.add(new SourceBatch(nextLane(), current, new Handle(Set.copyOf(currentGroups))));
          current = new ArrayList<>();
          currentGroups = new LinkedHashSet<>();
        }
        boolean groupSplit = from > 0;
        if (batches.size() == capacity || groupSplit) {
          // the group's rest waits for its batch to finish: one batch per group at a time
          keep.addAll(group.subList(from, group.size()));
          break;
        }
        int take = Math.min(batchSize - current.size(), group.size() - from);
        for (Message m : group.subList(from, from + take)) {
          current.add(record(m));
        }
        currentGroups.add(e.getKey());
        from += take;
      }
    }
    if (!current.isEmpty() && batches.size() < capacity) {
      batches.add(new SourceBatch(nextLane(), current, new Handle(Set.copyOf(currentGroups))));
    }
    for (SourceBatch b : batches) {
      groupsInFlight.addAll(((Handle) b.handle()).groups());
    }
    held.addAll(keep);
    return batches;
  }

  /** Held FIFO messages whose groups are free again, in the order they were held. */
  private synchronized List<Message> takeHeld(int max) {
    List<Message> free = new ArrayList<>();
    for (Iterator<Message> it = held.iterator(); it.hasNext() && free.size() < max; ) {
      Message m = it.next();
      if (!groupsInFlight.contains(group(m))) {
        free.add(m);
        it.remove();
      }
    }
    return free;
  }

  private static String group(Message m) {
    return m.attributesAsStrings().getOrDefault("MessageGroupId", "");
  }

  private String nextLane() {
    return "receive-" + lanes.incrementAndGet();
  }

  private SourceRecord record(Message m) {
    ObjectNode r = JSON.createObjectNode();
    r.put("messageId", m.messageId());
    r.put("receiptHandle", m.receiptHandle());
    r.put("body", m.body());
    ObjectNode attributes = r.putObject("attributes");
    Map<String, String> system = m.attributesAsStrings();
    for (String name : SYSTEM_ATTRIBUTE_ORDER) {
      if (system.containsKey(name)) {
        attributes.put(name, system.get(name));
      }
    }
    system.forEach(
        (name, value) -> {
          if (!attributes.has(name)) {
            attributes.put(name, value);
          }
        });
    ObjectNode messageAttributes = r.putObject("messageAttributes");
    m.messageAttributes().forEach((name, value) -> messageAttributes.set(name, attribute(value)));
    if (m.md5OfMessageAttributes() != null && !m.messageAttributes().isEmpty()) {
      r.put("md5OfMessageAttributes", m.md5OfMessageAttributes());
    }
    r.put("md5OfBody", m.md5OfBody());
    r.put("eventSource", "aws:sqs");
    r.put("eventSourceARN", queue.arn());
    r.put("awsRegion", queue.region());
    Instant sent = sentAt(m);
    return new SourceRecord(m.messageId(), r, filterView(r), sent, m.receiptHandle());
  }

  private static ObjectNode attribute(MessageAttributeValue v) {
    ObjectNode a = JSON.createObjectNode();
    if (v.stringValue() != null) {
      a.put("stringValue", v.stringValue());
    }
    if (v.binaryValue() != null) {
      a.put("binaryValue", base64(v.binaryValue()));
    }
    ArrayNode strings = a.putArray("stringListValues");
    v.stringListValues().forEach(strings::add);
    ArrayNode binaries = a.putArray("binaryListValues");
    v.binaryListValues().forEach(b -> binaries.add(base64(b)));
    a.put("dataType", v.dataType());
    return a;
  }

  private static String base64(SdkBytes bytes) {
    return Base64.getEncoder().encodeToString(bytes.asByteArray());
  }

  /**
   * Lambda's filtering view of an SQS record: the record's fields, with {@code body} parsed when it
   * is a JSON object or array, and left a string otherwise.
   */
  static JsonNode filterView(ObjectNode record) {
    ObjectNode view = record.deepCopy();
    String body = record.path("body").asText("");
    String trimmed = body.strip();
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
      try {
        JsonNode parsed = JSON.readTree(body);
        if (parsed != null && (parsed.isObject() || parsed.isArray())) {
          view.set("body", parsed);
        }
      } catch (IOException notJson) {
        // a plain-text body is matched as a string
      }
    }
    return view;
  }

  private Instant sentAt(Message m) {
    String sent = m.attributesAsStrings().get("SentTimestamp");
    if (sent != null) {
      try {
        return Instant.ofEpochMilli(Long.parseLong(sent));
      } catch (NumberFormatException ignored) {
        // fall through to now
      }
    }
    return context.clock().instant();
  }

  private synchronized void noteAges(List<Message> messages) {
    Instant oldest = null;
    for (Message m : messages) {
      Instant sent = sentAt(m);
      if (oldest == null || sent.isBefore(oldest)) {
        oldest = sent;
      }
    }
    oldestSeen = oldest;
  }

  private synchronized void recordBacklog(GetQueueAttributesResponse attributes) {
    String n = attributes.attributes().get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES);
    if (n != null) {
      try {
        backlog = Double.parseDouble(n);
      } catch (NumberFormatException ignored) {
        // leave the last value
      }
    }
  }

  @Override
  public void complete(SourceBatch batch) throws SourceUnavailableException {
    delete(batch.records());
    free(batch);
  }

  @Override
  public void release(SourceBatch batch, List<SourceRecord> done)
      throws SourceUnavailableException {
    delete(done);
    if (done.size() < batch.records().size()) {
      dropHeld(batch);
    }
    free(batch);
  }

  /**
   * Received but never delivered (the poller stopped): the messages are made visible again at once
   * (ChangeMessageVisibility to 0), as their receive never happened for the function.
   */
  @Override
  public void giveBack(SourceBatch batch) throws SourceUnavailableException {
    List<SourceRecord> records = batch.records();
    connect();
    for (int i = 0; i < records.size(); i += SQS_MAX_MESSAGES) {
      List<SourceRecord> chunk = records.subList(i, Math.min(records.size(), i + SQS_MAX_MESSAGES));
      List<software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchRequestEntry>
          entries = new ArrayList<>();
      for (int j = 0; j < chunk.size(); j++) {
        entries.add(
            software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchRequestEntry
                .builder()
                .id(Integer.toString(j))
                .receiptHandle((String) chunk.get(j).handle())
                .visibilityTimeout(0)
                .build());
      }
      try {
        client.changeMessageVisibilityBatch(r -> r.queueUrl(queueUrl).entries(entries));
      } catch (SdkException e) {
        throw unavailable(e);
      }
    }
    dropHeld(batch);
    free(batch);
  }

  /**
   * A FIFO batch failed in part: its groups' held messages are let go, undeleted, so that they come
   * back after the failed ones when the visibility timeout ends, in the group's order.
   */
  private synchronized void dropHeld(SourceBatch batch) {
    if (batch.handle() instanceof Handle h && !h.groups().isEmpty()) {
      held.removeIf(m -> h.groups().contains(group(m)));
    }
  }

  private synchronized void free(SourceBatch batch) {
    if (batch.handle() instanceof Handle h) {
      groupsInFlight.removeAll(h.groups());
    }
  }

  private void delete(List<SourceRecord> records) throws SourceUnavailableException {
    if (records.isEmpty()) {
      return;
    }
    connect();
    for (int i = 0; i < records.size(); i += SQS_MAX_MESSAGES) {
      List<SourceRecord> chunk = records.subList(i, Math.min(records.size(), i + SQS_MAX_MESSAGES));
      List<DeleteMessageBatchRequestEntry> entries = new ArrayList<>();
      for (int j = 0; j < chunk.size(); j++) {
        entries.add(
            DeleteMessageBatchRequestEntry.builder()
                .id(Integer.toString(j))
                .receiptHandle((String) chunk.get(j).handle())
                .build());
      }
      try {
        DeleteMessageBatchResponse response =
            client.deleteMessageBatch(r -> r.queueUrl(queueUrl).entries(entries));
        for (BatchResultErrorEntry failed : response.failed()) {
          // an expired receipt handle: the message was received again and is someone else's now
          LOG.warn(
              "mapping {}: SQS did not delete message {} of {}: {} {}",
              mapping.uuid(),
              chunk.get(Integer.parseInt(failed.id())).itemIdentifier(),
              queue.arn(),
              failed.code(),
              failed.message());
        }
      } catch (SdkException e) {
        throw unavailable(e);
      }
    }
  }

  @Override
  public byte[] event(SourceBatch batch, List<SourceRecord> records) {
    ObjectNode event = JSON.createObjectNode();
    ArrayNode array = event.putArray("Records");
    records.forEach(r -> array.add(r.eventRecord()));
    try {
      return JSON.writeValueAsBytes(event);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * AWS sends no SQS batch to OnFailure (the queue's redrive policy takes failed messages); the
   * object names the queue and the messages for a log or a future destination.
   */
  @Override
  public ObjectNode batchInfo(SourceBatch batch, List<SourceRecord> records) {
    ObjectNode info = JSON.createObjectNode();
    ObjectNode sqs = info.putObject("SQSBatchInfo");
    sqs.put("queueArn", queue.arn());
    sqs.put("batchSize", records.size());
    ArrayNode ids = sqs.putArray("messageIds");
    records.forEach(r -> ids.add(r.itemIdentifier()));
    return info;
  }

  /**
   * {@code approximate_age_seconds}: the age of the oldest message of the last receive (0 when it
   * got none); {@code backlog_messages}: the queue's ApproximateNumberOfMessages, which {@link
   * #poll} asks SQS for at most every {@value #BACKLOG_EVERY_SECONDS} seconds, so that reading the
   * lag never waits on the network.
   */
  @Override
  public Map<String, Double> lag() {
    synchronized (this) {
      Map<String, Double> lag = new LinkedHashMap<>();
      Instant now = context.clock().instant();
      lag.put(
          "approximate_age_seconds",
          oldestSeen == null
              ? 0.0
              : Math.max(0, Duration.between(oldestSeen, now).toMillis() / 1000.0));
      if (backlog != null) {
        lag.put("backlog_messages", backlog);
      }
      return lag;
    }
  }

  @Override
  public void close() {
    SqsClient c = client;
    client = null;
    if (c != null) {
      c.close();
    }
  }

  private static String stripSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }
}
