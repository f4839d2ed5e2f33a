package dev.kiln.esm.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.esm.source.EventSourceReader;
import dev.kiln.esm.source.SourceBatch;
import dev.kiln.esm.source.SourceContext;
import dev.kiln.esm.source.SourceRecord;
import dev.kiln.esm.source.SourceUnavailableException;
import dev.kiln.model.EventSourceMapping;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One mapping's Kafka consumer: the mapping's consumer group subscribed to its one topic, handing
 * out batches of one partition each, in offset order, at most one batch per partition at a time,
 * and committing a partition's offset only when its batch is complete.
 *
 * <p><b>Model.</b> Records fetched by the consumer wait in a buffer per assigned partition. A
 * partition is a lane: it is <em>free</em> or has one batch <em>in flight</em>. {@link #poll} hands
 * out the head of a free lane's buffer as a batch when it holds BatchSize records or its oldest
 * record has waited the batching window (500 ms by default, as Lambda), up to {@code capacity}
 * batches. A lane in flight is paused in the consumer (and so is a lane whose buffer holds a full
 * batch), so the client fetches no more than it can hand out. {@link #complete} commits the batch's
 * last offset + 1 and frees the lane. Offsets are committed only by hand, and a new group starts
 * where StartingPosition says (earliest, latest, or the offsets of a timestamp); a group that has
 * committed goes on from there, so a reader opened again after a crash re-reads exactly the batches
 * that were not complete: at least once.
 *
 * <p><b>Rebalances.</b> When the group takes a partition away, its buffer and its in-flight batch
 * are dropped (completions already queued for it are committed first, while it is still ours) and
 * the lane's generation moves on, so that a later completion of the dropped batch commits nothing:
 * whoever holds the partition next reads it again from its committed offset.
 *
 * <p><b>Threading.</b> {@link KafkaConsumer} is not thread-safe, so only the poll thread touches
 * it: {@link #poll} and {@link #close} run under one lock, {@link #complete} from any thread only
 * queues the batch, and the queue is applied (commitSync) by the next poll, within a poll slice of
 * at most 100 ms, or by close. {@link #lag} reads a figure the poll thread refreshes.
 */
public final class KafkaReader implements EventSourceReader {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaReader.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final DateTimeFormatter ISO_MILLIS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  /** AWS's default batching window for Kafka, which the stored 0 stands for. */
  static final Duration DEFAULT_WINDOW = Duration.ofMillis(500);

  private static final Duration SLICE = Duration.ofMillis(100);

  /** The poll slice while a batch is out: a completion waits for the slice to end. */
  private static final Duration BUSY_SLICE = Duration.ofMillis(5);

  private static final Duration PROBE_EVERY = Duration.ofSeconds(1);
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);
  private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(5);

  static final String CONNECTION_ERROR =
      "PROBLEM: Connection error. Please check your event source connection configuration.";
  static final String TOPIC_NOT_FOUND =
      "PROBLEM: Topic not found. Please check that the topic exists in your Kafka cluster.";
  static final String SASL_FAILED = "PROBLEM: SASL authentication failed.";
  static final String TLS_FAILED = "PROBLEM: Lambda failed to authenticate server.";
  static final String NOT_AUTHORIZED = "PROBLEM: Cluster failed to authorize Lambda.";

  private final EventSourceMapping mapping;
  private final SourceContext context;
  private final KafkaClientConfig.Transport transport;
  private final String topic;
  private final String bootstrapServers;
  private final int batchSize;
  private final Duration window;

  private final ReentrantLock lock = new ReentrantLock();
  private final ConcurrentLinkedQueue<SourceBatch> completed = new ConcurrentLinkedQueue<>();
  private volatile boolean closed;
  private volatile Map<String, Double> lag = Map.of();

  // poll thread only, under lock
  private KafkaConsumer<byte[], byte[]> consumer;
  private final Map<TopicPartition, Lane> lanes = new LinkedHashMap<>();
  private final Map<TopicPartition, Long> generations = new HashMap<>();
  private long lastProbe = Long.MIN_VALUE;
  private int nextLane;

  /** A partition's buffer and whether a batch of it is out. */
  private static final class Lane {
    final long generation;
    final ArrayDeque<Buffered> buffer = new ArrayDeque<>();
    boolean inFlight;

    /** The first offset this lane fetched, for the lag of a group that has not committed yet. */
    long firstFetched = -1;

    Lane(long generation) {
      this.generation = generation;
    }
  }

  private record Buffered(ConsumerRecord<byte[], byte[]> record, long receivedNanos) {}

  /** What {@link #complete} needs: the lane, its generation, and the offsets of the batch. */
  record Handle(TopicPartition partition, long generation, long firstOffset, long lastOffset) {}

  KafkaReader(
      EventSourceMapping mapping, SourceContext context, KafkaClientConfig.Transport transport) {
    this.mapping = mapping;
    this.context = context;
    this.transport = transport;
    this.topic = mapping.topics().get(0);
    this.bootstrapServers = KafkaClientConfig.bootstrapServers(mapping);
    this.batchSize = Math.max(1, mapping.batchSize());
    this.window =
        mapping.maximumBatchingWindowInSeconds() <= 0
            ? DEFAULT_WINDOW
            : Duration.ofSeconds(mapping.maximumBatchingWindowInSeconds());
  }

  @Override
  public List<SourceBatch> poll(Duration wait, int capacity)
      throws SourceUnavailableException, InterruptedException {
    lock.lockInterruptibly();
    try {
      if (closed) {
        return List.of();
      }
      connect();
      probe(false);
      long deadline = System.nanoTime() + Math.max(0, wait.toNanos());
      while (true) {
        applyCompleted();
        List<SourceBatch> ready = ready(Math.max(1, capacity));
        if (!ready.isEmpty()) {
          return ready;
        }
        long left = deadline - System.nanoTime();
        // at least one fetch per call, even with no time to wait; while a batch is out, in short
        // slices, so that its completion (queued by another thread) frees its partition at once
        long slice = anyInFlight() ? BUSY_SLICE.toNanos() : SLICE.toNanos();
        ConsumerRecords<byte[], byte[]> records =
            consumer.poll(Duration.ofNanos(Math.max(0, Math.min(left, slice))));
        buffer(records);
        if (Thread.interrupted()) {
          throw new InterruptedException();
        }
        if (left <= 0) {
          applyCompleted();
          probe(true);
          return ready(Math.max(1, capacity));
        }
        probe(false);
      }
    } catch (WakeupException e) {
      return List.of();
    } catch (InterruptException e) {
      throw new InterruptedException("interrupted in the Kafka client");
    } catch (SourceUnavailableException e) {
      throw e;
    } catch (KafkaException e) {
      throw unavailable(e);
    } finally {
      lock.unlock();
    }
  }

  private boolean anyInFlight() {
    for (Lane lane : lanes.values()) {
      if (lane.inFlight) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void complete(SourceBatch batch) {
    if (!(batch.handle() instanceof Handle)) {
      throw new IllegalArgumentException("not a Kafka batch: " + batch.lane());
    }
    completed.add(batch);
  }

  @Override
  public byte[] event(SourceBatch batch, List<SourceRecord> records) {
    ObjectNode event = NODES.objectNode();
    event.put("eventSource", "SelfManagedKafka");
    event.put("bootstrapServers", bootstrapServers);
    ObjectNode byLane = event.putObject("records");
    ArrayNode list = byLane.putArray(batch.lane());
    for (SourceRecord r : records) {
      list.add(r.eventRecord());
    }
    try {
      return JSON.writeValueAsBytes(event);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public ObjectNode batchInfo(SourceBatch batch, List<SourceRecord> records) {
    // the invocation record carries it under KafkaBatchInfo, beside requestContext
    ObjectNode record = NODES.objectNode();
    ObjectNode info = record.putObject("KafkaBatchInfo");
    info.put("batchSize", records.size());
    info.put("bootstrapServers", bootstrapServers);
    info.put("payloadSize", event(batch, records).length);
    ObjectNode recordsInfo = info.putObject("recordsInfo");
    if (!records.isEmpty()) {
      ObjectNode lane = recordsInfo.putObject(batch.lane());
      SourceRecord first = records.get(0);
      SourceRecord last = records.get(records.size() - 1);
      lane.put("firstRecordOffset", first.itemIdentifier());
      lane.put("lastRecordOffset", last.itemIdentifier());
      lane.put("firstRecordTimestamp", ISO_MILLIS.format(first.arrived()));
      lane.put("lastRecordTimestamp", ISO_MILLIS.format(last.arrived()));
    }
    return record;
  }

  @Override
  public Map<String, Double> lag() {
    return lag;
  }

  @Override
  public void close() {
    closed = true;
    if (!lock.tryLock()) {
      KafkaConsumer<byte[], byte[]> c = consumer;
      if (c != null) {
        c.wakeup(); // ends the poll thread's wait in the client
      }
      lock.lock();
    }
    try {
      if (consumer != null) {
        try {
          try {
            applyCompleted();
          } catch (WakeupException e) {
            applyCompleted(); // the wakeup meant for the poll thread came too late for it
          }
        } catch (RuntimeException | SourceUnavailableException e) {
          LOG.debug("mapping {}: completions not committed at close", mapping.uuid(), e);
        }
        try {
          consumer.close(Duration.ofSeconds(3));
        } catch (RuntimeException e) {
          LOG.debug("mapping {}: consumer close", mapping.uuid(), e);
        }
        consumer = null;
      }
      lanes.clear();
    } finally {
      lock.unlock();
    }
  }

  // ---- the poll thread's work, under lock ----

  private void connect() throws SourceUnavailableException {
    if (consumer != null) {
      return;
    }
    Properties props = KafkaClientConfig.consumer(mapping, context, transport);
    try {
      consumer = new KafkaConsumer<>(props);
    } catch (KafkaException e) {
      throw new SourceUnavailableException(CONNECTION_ERROR, e);
    }
    consumer.subscribe(List.of(topic), new Rebalance());
    lastProbe = Long.MIN_VALUE;
  }

  /**
   * Asks the brokers something that needs them, at most once a second (or now when {@code force}),
   * busy or idle: the consumer's poll says nothing when the brokers are away, so this is how an
   * unreachable cluster or a missing topic is noticed. Refreshes the lag on the way.
   */
  private void probe(boolean force) throws SourceUnavailableException {
    long now = System.nanoTime();
    if (!force && lastProbe != Long.MIN_VALUE && now - lastProbe < PROBE_EVERY.toNanos()) {
      return;
    }
    if (force && lastProbe != Long.MIN_VALUE && now - lastProbe < SLICE.toNanos()) {
      return;
    }
    lastProbe = now;
    Set<TopicPartition> assigned = consumer.assignment();
    try {
      if (assigned.isEmpty()) {
        Map<String, List<PartitionInfo>> topics = consumer.listTopics(PROBE_TIMEOUT);
        if (!topics.containsKey(topic)) {
          throw new SourceUnavailableException(TOPIC_NOT_FOUND);
        }
        lag = Map.of();
        return;
      }
      Map<TopicPartition, Long> ends = consumer.endOffsets(assigned, PROBE_TIMEOUT);
      Map<TopicPartition, OffsetAndMetadata> committed =
          consumer.committed(assigned, PROBE_TIMEOUT);
      double total = 0;
      for (TopicPartition tp : assigned) {
        Long end = ends.get(tp);
        if (end == null) {
          continue;
        }
        OffsetAndMetadata c = committed.get(tp);
        Lane lane = lanes.get(tp);
        long from;
        if (c != null) {
          from = c.offset();
        } else if (lane != null && lane.firstFetched >= 0) {
          from = lane.firstFetched; // fetched, none committed yet
        } else {
          from = consumer.position(tp, PROBE_TIMEOUT);
        }
        total += Math.max(0, end - from);
      }
      lag = Map.of("offset_lag", total);
    } catch (TimeoutException e) {
      throw new SourceUnavailableException(CONNECTION_ERROR, e);
    }
  }

  private void buffer(ConsumerRecords<byte[], byte[]> records) {
    long now = System.nanoTime();
    for (TopicPartition tp : records.partitions()) {
      Lane lane = lanes.get(tp);
      if (lane == null) {
        continue; // revoked while the records were on their way
      }
      for (ConsumerRecord<byte[], byte[]> r : records.records(tp)) {
        if (lane.firstFetched < 0) {
          lane.firstFetched = r.offset();
        }
        lane.buffer.add(new Buffered(r, now));
      }
    }
    throttle();
  }

  /** Pauses the lanes that are out or hold a full batch, resumes the others. */
  private void throttle() {
    List<TopicPartition> pause = new ArrayList<>();
    List<TopicPartition> resume = new ArrayList<>();
    Set<TopicPartition> paused = consumer.paused();
    for (Map.Entry<TopicPartition, Lane> e : lanes.entrySet()) {
      Lane lane = e.getValue();
      boolean full = lane.inFlight || lane.buffer.size() >= batchSize;
      if (full && !paused.contains(e.getKey())) {
        pause.add(e.getKey());
      } else if (!full && paused.contains(e.getKey())) {
        resume.add(e.getKey());
      }
    }
    if (!pause.isEmpty()) {
      consumer.pause(pause);
    }
    if (!resume.isEmpty()) {
      consumer.resume(resume);
    }
  }

  /** The batches ready now, one per free lane, round robin over the lanes, up to {@code max}. */
  private List<SourceBatch> ready(int max) {
    List<SourceBatch> out = new ArrayList<>();
    if (lanes.isEmpty()) {
      return out;
    }
    List<TopicPartition> order = new ArrayList<>(lanes.keySet());
    int n = order.size();
    long now = System.nanoTime();
    int start = Math.floorMod(nextLane, n);
    for (int i = 0; i < n && out.size() < max; i++) {
      TopicPartition tp = order.get((start + i) % n);
      Lane lane = lanes.get(tp);
      if (lane.inFlight || lane.buffer.isEmpty()) {
        continue;
      }
      boolean full = lane.buffer.size() >= batchSize;
      boolean waited = now - lane.buffer.peekFirst().receivedNanos() >= window.toNanos();
      if (!full && !waited) {
        continue;
      }
      out.add(take(tp, lane));
      nextLane = (start + i + 1) % n;
    }
    if (!out.isEmpty()) {
      throttle();
    }
    return out;
  }

  private SourceBatch take(TopicPartition tp, Lane lane) {
    List<SourceRecord> records = new ArrayList<>();
    while (records.size() < batchSize && !lane.buffer.isEmpty()) {
      records.add(toSourceRecord(lane.buffer.pollFirst().record()));
    }
    lane.inFlight = true;
    long first = (long) records.get(0).handle();
    long last = (long) records.get(records.size() - 1).handle();
    return new SourceBatch(laneName(tp), records, new Handle(tp, lane.generation, first, last));
  }

  /** Commits what {@link #complete} queued, for the lanes still ours, and frees them. */
  private void applyCompleted() throws SourceUnavailableException {
    Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
    List<SourceBatch> applied = new ArrayList<>();
    SourceBatch b;
    while ((b = completed.poll()) != null) {
      Handle h = (Handle) b.handle();
      Lane lane = lanes.get(h.partition());
      if (lane == null || lane.generation != h.generation() || !lane.inFlight) {
        continue; // the partition went away since: the next owner reads the batch again
      }
      commits.merge(
          h.partition(),
          new OffsetAndMetadata(h.lastOffset() + 1),
          (x, y) -> x.offset() >= y.offset() ? x : y);
      applied.add(b);
    }
    if (commits.isEmpty()) {
      return;
    }
    try {
      consumer.commitSync(commits, COMMIT_TIMEOUT);
    } catch (CommitFailedException | RebalanceInProgressException e) {
      // the group moved the partitions: the records are read again by their next owner
      LOG.debug("mapping {}: commit refused by a rebalance", mapping.uuid(), e);
    } catch (TimeoutException e) {
      completed.addAll(applied); // try again at the next poll
      throw new SourceUnavailableException(CONNECTION_ERROR, e);
    } catch (WakeupException e) {
      completed.addAll(applied); // close() woke the consumer: it commits them itself
      throw e;
    }
    for (SourceBatch done : applied) {
      Lane lane = lanes.get(((Handle) done.handle()).partition());
      if (lane != null) {
        lane.inFlight = false;
      }
    }
    throttle();
  }

  private SourceRecord toSourceRecord(ConsumerRecord<byte[], byte[]> r) {
    ObjectNode rec = NODES.objectNode();
    rec.put("topic", r.topic());
    rec.put("partition", r.partition());
    rec.put("offset", r.offset());
    rec.put("timestamp", r.timestamp());
    rec.put("timestampType", r.timestampType().name());
    if (r.key() != null) {
      rec.put("key", Base64.getEncoder().encodeToString(r.key()));
    }
    if (r.value() != null) {
      rec.put("value", Base64.getEncoder().encodeToString(r.value()));
    }
    ArrayNode headers = rec.putArray("headers");
    for (Header h : r.headers()) {
      ArrayNode bytes = headers.addObject().putArray(h.key());
      if (h.value() != null) {
        for (byte x : h.value()) {
          bytes.add(x);
        }
      }
    }
    ObjectNode view = rec.deepCopy();
    if (r.value() != null) {
      view.set("value", filterValue(r.value()));
    }
    Instant arrived = Instant.ofEpochMilli(Math.max(0, r.timestamp()));
    return new SourceRecord(String.valueOf(r.offset()), rec, view, arrived, r.offset());
  }

  /** The value as filters see it: parsed when it is JSON, else its text. */
  static JsonNode filterValue(byte[] value) {
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(value))
              .toString();
    } catch (CharacterCodingException e) {
      return NODES.textNode(Base64.getEncoder().encodeToString(value));
    }
    String trimmed = text.strip();
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
      try {
        JsonNode parsed = JSON.readTree(trimmed);
        if (parsed != null && (parsed.isObject() || parsed.isArray())) {
          return parsed;
        }
      } catch (Exception e) {
        // not JSON after all: filtered as text
      }
    }
    return NODES.textNode(text);
  }

  static String laneName(TopicPartition tp) {
    return tp.topic() + "-" + tp.partition();
  }

  private SourceUnavailableException unavailable(KafkaException e) {
    String reason;
    if (e instanceof SaslAuthenticationException) {
      reason = SASL_FAILED;
    } else if (e instanceof SslAuthenticationException) {
      reason = TLS_FAILED;
    } else if (e instanceof AuthenticationException) {
      reason = SASL_FAILED;
    } else if (e instanceof AuthorizationException) {
      reason = NOT_AUTHORIZED;
    } else {
      reason = CONNECTION_ERROR;
    }
    return new SourceUnavailableException(reason, e);
  }

  /** Keeps the lanes in step with the group's assignment; runs inside consumer.poll. */
  private final class Rebalance implements ConsumerRebalanceListener {

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      // commit what is already complete while the partitions are still ours
      try {
        applyCompleted();
      } catch (RuntimeException | SourceUnavailableException e) {
        LOG.debug("mapping {}: completions not committed at revocation", mapping.uuid(), e);
      }
      drop(partitions);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      drop(partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      for (TopicPartition tp : partitions) {
        long generation = generations.merge(tp, 1L, Long::sum);
        lanes.put(tp, new Lane(generation));
      }
      if ("AT_TIMESTAMP".equals(mapping.startingPosition().orElse("")) && !partitions.isEmpty()) {
        seekToTimestamp(partitions);
      }
    }

    private void drop(Collection<TopicPartition> partitions) {
      for (TopicPartition tp : partitions) {
        lanes.remove(tp);
        generations.merge(tp, 1L, Long::sum);
      }
    }

    /** A group with no committed offset on a partition starts at the timestamp's offset. */
    private void seekToTimestamp(Collection<TopicPartition> partitions) {
      long at = mapping.startingPositionTimestamp().map(Instant::toEpochMilli).orElse(0L);
      Map<TopicPartition, OffsetAndMetadata> committed =
          consumer.committed(new HashSet<>(partitions), PROBE_TIMEOUT);
      Map<TopicPartition, Long> query = new HashMap<>();
      for (TopicPartition tp : partitions) {
        if (committed.get(tp) == null) {
          query.put(tp, at);
        }
      }
      if (query.isEmpty()) {
        return;
      }
      Map<TopicPartition, OffsetAndTimestamp> found =
          consumer.offsetsForTimes(query, PROBE_TIMEOUT);
      List<TopicPartition> toEnd = new ArrayList<>();
      for (TopicPartition tp : query.keySet()) {
        OffsetAndTimestamp o = found.get(tp);
        if (o != null) {
          consumer.seek(tp, o.offset());
        } else {
          toEnd.add(tp); // nothing at or after the timestamp yet
        }
      }
      if (!toEnd.isEmpty()) {
        consumer.seekToEnd(toEnd);
      }
    }
  }

  /** For tests: the lanes with a batch out. */
  Set<String> lanesInFlight() {
    lock.lock();
    try {
      Set<String> out = new HashSet<>();
      lanes.forEach(
          (tp, lane) -> {
            if (lane.inFlight) {
              out.add(laneName(tp));
            }
          });
      return out;
    } finally {
      lock.unlock();
    }
  }
}
