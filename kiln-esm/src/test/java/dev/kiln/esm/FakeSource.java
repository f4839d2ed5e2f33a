package dev.kiln.esm;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.esm.source.EventSourceKind;
import dev.kiln.esm.source.EventSourceReader;
import dev.kiln.esm.source.SourceBatch;
import dev.kiln.esm.source.SourceContext;
import dev.kiln.esm.source.SourceRecord;
import dev.kiln.esm.source.SourceUnavailableException;
import dev.kiln.model.EventSourceMapping;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;

/**
 * An in-memory event source for the poller's tests: records are offered by the test, batches are
 * handed out in order, and what the poller checkpointed (completed, released with which records
 * done) is recorded for the test to read.
 */
final class FakeSource implements EventSourceKind {

  static final ObjectMapper JSON = new ObjectMapper();

  final Semantics semantics;
  final LinkedBlockingDeque<SourceRecord> pending = new LinkedBlockingDeque<>();
  final List<List<String>> completed = new CopyOnWriteArrayList<>();
  final List<List<String>> released = new CopyOnWriteArrayList<>();
  final List<String> deleted = new CopyOnWriteArrayList<>();
  volatile boolean unavailable;
  volatile int opened;

  FakeSource(Semantics semantics) {
    this.semantics = semantics;
  }

  static SourceRecord record(String id, String body, Instant arrived) {
    ObjectNode r = JSON.createObjectNode().put("id", id).put("body", body);
    ObjectNode view = JSON.createObjectNode().put("id", id);
    try {
      view.set("body", JSON.readTree(body));
    } catch (Exception e) {
      view.put("body", body);
    }
    return new SourceRecord(id, r, view, arrived, id);
  }

  void offer(SourceRecord... records) {
    pending.addAll(List.of(records));
  }

  @Override
  public String name() {
    return "fake";
  }

  @Override
  public boolean claims(String eventSourceArn, Set<String> endpointTypes) {
    return eventSourceArn != null && eventSourceArn.startsWith("arn:aws:fake:");
  }

  @Override
  public EventSourceMapping complete(
      EventSourceMapping.Builder requested, Set<String> explicit, boolean creating) {
    return requested.build();
  }

  @Override
  public String sourceKey(EventSourceMapping mapping) {
    return mapping.eventSourceArn().orElseThrow();
  }

  @Override
  public EventSourceReader open(EventSourceMapping mapping, SourceContext context) {
    opened++;
    return reader(mapping.batchSize());
  }

  @Override
  public void deleted(EventSourceMapping mapping, SourceContext context) {
    deleted.add(mapping.uuid());
  }

  @Override
  public Semantics semantics() {
    return semantics;
  }

  EventSourceReader reader(int batchSize) {
    return new EventSourceReader() {
      // the one lane of a stream; the poll waits for records without holding the monitor
      boolean laneBusy;

      @Override
      public List<SourceBatch> poll(Duration wait, int capacity)
          throws SourceUnavailableException, InterruptedException {
        if (unavailable) {
          Thread.sleep(10);
          throw new SourceUnavailableException("PROBLEM: Connection error.");
        }
        synchronized (this) {
          if (semantics == Semantics.STREAM && laneBusy) {
            wait(wait.toMillis());
            return List.of();
          }
        }
        SourceRecord first = pending.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
        if (first == null) {
          return List.of();
        }
        List<SourceRecord> records = new ArrayList<>(List.of(first));
        while (records.size() < batchSize && !pending.isEmpty()) {
          records.add(pending.poll());
        }
        synchronized (this) {
          laneBusy = true;
        }
        return List.of(new SourceBatch("lane-0", records, null));
      }

      @Override
      public synchronized void complete(SourceBatch batch) {
        completed.add(ids(batch.records()));
        laneBusy = false;
        notifyAll();
      }

      @Override
      public synchronized void release(SourceBatch batch, List<SourceRecord> done) {
        if (semantics == Semantics.STREAM) {
          throw new UnsupportedOperationException();
        }
        released.add(ids(done));
        laneBusy = false;
        notifyAll();
      }

      @Override
      public synchronized void giveBack(SourceBatch batch) {
        // as a queue makes them visible again: first in line for the next poll
        List<SourceRecord> records = batch.records();
        for (int i = records.size() - 1; i >= 0; i--) {
          pending.addFirst(records.get(i));
        }
        laneBusy = false;
        notifyAll();
      }

      @Override
      public byte[] event(SourceBatch batch, List<SourceRecord> records) {
        ObjectNode event = JSON.createObjectNode();
        ArrayNode list = event.putArray("Records");
        records.forEach(r -> list.add(r.eventRecord()));
        return event.toString().getBytes(StandardCharsets.UTF_8);
      }

      @Override
      public ObjectNode batchInfo(SourceBatch batch, List<SourceRecord> records) {
        ObjectNode info = JSON.createObjectNode();
        ObjectNode b = info.putObject("FakeBatchInfo");
        b.put("first", records.get(0).itemIdentifier());
        b.put("last", records.get(records.size() - 1).itemIdentifier());
        b.put("batchSize", records.size());
        return info;
      }

      @Override
      public Map<String, Double> lag() {
        return Map.of("pending", (double) pending.size());
      }

      @Override
      public void close() {}
    };
  }

  static List<String> ids(List<SourceRecord> records) {
    return records.stream().map(SourceRecord::itemIdentifier).toList();
  }
}
