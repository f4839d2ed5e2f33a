package dev.kiln.esm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.esm.source.EventSourceKind.Semantics;
import dev.kiln.esm.source.EventSourceReader;
import dev.kiln.esm.source.SourceBatch;
import dev.kiln.esm.source.SourceRecord;
import dev.kiln.esm.source.SourceUnavailableException;
import dev.kiln.invoke.InvocationResult;
import dev.kiln.invoke.Invocations;
import dev.kiln.invoke.InvokeRequest;
import dev.kiln.model.EventSourceMapping;
import dev.kiln.model.LambdaError;
import java.io.IOException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * Runs one batch a reader handed out to its end: filters it, invokes the function with what is
 * left, and checkpoints it, with the failure handling of its source's semantics.
 *
 * <p><b>Queues</b> (SQS): one invocation. On success every message is deleted; with {@code
 * batchItemFailures} only the others are; on a failure none is but the filtered-out ones, and the
 * queue redelivers the rest after its visibility timeout (its redrive policy then moves a message
 * that keeps failing to its dead-letter queue). Kiln never retries a queue's batch itself.
 *
 * <p><b>Streams</b> (Kafka, PostgreSQL): the batch is retried in place until it succeeds, since
 * nothing behind it in its lane may go first. A {@code batchItemFailures} answer checkpoints the
 * records before the first one named and retries from it. With BisectBatchOnFunctionError a failed
 * part is split in two and each half retried on its own; splitting does not count as a retry. A
 * part that has failed more than MaximumRetryAttempts times, or whose oldest record is older than
 * MaximumRecordAgeInSeconds, is given up on: its record goes to the OnFailure destination, if any,
 * and the lane moves past it. A throttled invocation or a missing function is retried without
 * counting, as Lambda does, until the age limit. Only once every record is delivered or given up on
 * is the batch completed, so a crash mid-way redelivers the whole batch (at least once).
 *
 * <p>Thread safety: one processor per mapping, shared by the batches the mapping runs at once; it
 * keeps no state between batches, and each batch is run by one thread.
 */
final class BatchProcessor {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** What a processor tells its poller after each invocation, for LastProcessingResult. */
  interface Reporter {
    void processed(String lastProcessingResult);

    /** An invocation was refused for want of concurrency: a queue's poller backs off. */
    void throttled();
  }

  private final EventSourceMapping mapping;
  private final String functionArn;
  private final EventSourceReader reader;
  private final Semantics semantics;
  private final Predicate<JsonNode> filter;
  private final Invocations invocations;
  private final FailureDestination onFailure;
  private final MappingMetrics metrics;
  private final RetryTiming timing;
  private final InstantSource clock;
  private final Reporter reporter;
  private final Sleeper sleeper;

  /** Waits between attempts; a test's may return at once. */
  interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  /**
   * @param functionArn the ARN failure records name, qualified as the mapping is
   */
  BatchProcessor(
      EventSourceMapping mapping,
      String functionArn,
      EventSourceReader reader,
      Semantics semantics,
      Predicate<JsonNode> filter,
      Invocations invocations,
      FailureDestination onFailure,
      MappingMetrics metrics,
      RetryTiming timing,
      InstantSource clock,
      Reporter reporter,
      Sleeper sleeper) {
    this.mapping = mapping;
    this.functionArn = functionArn;
    this.reader = reader;
    this.semantics = semantics;
    this.filter = filter;
    this.invocations = invocations;
    this.onFailure = onFailure;
    this.metrics = metrics;
    this.timing = timing;
    this.clock = clock;
    this.reporter = reporter;
    this.sleeper = sleeper;
  }

  /**
   * Runs {@code batch} to its end. Returns false if the mapping was stopped meanwhile (the batch is
   * then left for the next reader to read again).
   *
   * @throws SourceUnavailableException if the checkpoint could not be written
   */
  void process(SourceBatch batch, Running running)
      throws SourceUnavailableException, InterruptedException {
    metrics.polled(batch.records().size());
    List<SourceRecord> matched = new ArrayList<>();
    List<SourceRecord> filteredOut = new ArrayList<>();
    for (SourceRecord r : batch.records()) {
      if (filter.test(r.filterView())) {
        matched.add(r);
      } else {
        filteredOut.add(r);
      }
    }
    metrics.filtered(filteredOut.size());
    if (matched.isEmpty()) {
      reader.complete(batch);
      return;
    }
    if (semantics == Semantics.QUEUE) {
      processQueueBatch(batch, matched, filteredOut);
    } else if (processStream(batch, matched, running)) {
      reader.complete(batch);
    }
  }

  /** Whether the mapping still runs: a stream's retries stop when it is disabled or deleted. */
  interface Running {
    boolean stillRunning();
  }

  private void processQueueBatch(
      SourceBatch batch, List<SourceRecord> matched, List<SourceRecord> filteredOut)
      throws SourceUnavailableException {
    BatchOutcome outcome = invoke(batch, matched);
    switch (outcome) {
      case BatchOutcome.Succeeded s -> reader.complete(batch);
      case BatchOutcome.Partial p -> {
        metrics.failed(p.failedIds().size());
        reader.release(
            batch,
            batch.records().stream()
                .filter(r -> !p.failedIds().contains(r.itemIdentifier()))
                .toList());
      }
      case BatchOutcome.Failed f -> {
        metrics.failed(matched.size());
        reader.release(batch, filteredOut);
      }
      case BatchOutcome.NotRun n -> {
        // throttled: the queue gives the messages back after their visibility timeout
        reader.release(batch, filteredOut);
      }
    }
  }

  /** A part of a stream batch still to deliver, and how often it has failed. */
  private record Part(List<SourceRecord> records, int attempts, BatchOutcome last) {}

  /** Returns true once every record is delivered or given up on; false if stopped first. */
  private boolean processStream(SourceBatch batch, List<SourceRecord> matched, Running running)
      throws InterruptedException {
    Deque<Part> parts = new ArrayDeque<>();
    parts.push(new Part(matched, 0, null));
    while (!parts.isEmpty()) {
      if (!running.stillRunning()) {
        return false;
      }
      Part part = parts.pop();
      if (tooOld(part.records())) {
        giveUp(batch, part, "RecordAgeExceeded");
        continue;
      }
      BatchOutcome outcome = invoke(batch, part.records());
      switch (outcome) {
        case BatchOutcome.Succeeded s -> {}
        case BatchOutcome.NotRun n -> {
          parts.push(part);
          sleeper.sleep(timing.first());
        }
        case BatchOutcome.Partial p -> {
          int first = firstFailed(part.records(), p.failedIds());
          List<SourceRecord> rest = part.records().subList(first, part.records().size());
          metrics.failed(rest.size());
          failedAgain(batch, parts, new Part(rest, part.attempts() + 1, outcome), false);
        }
        case BatchOutcome.Failed f -> {
          metrics.failed(part.records().size());
          failedAgain(batch, parts, new Part(part.records(), part.attempts(), outcome), true);
        }
      }
    }
    return true;
  }

  /** A part failed: split it, retry it after a wait, or give up on it. */
  private void failedAgain(SourceBatch batch, Deque<Part> parts, Part failed, boolean mayBisect)
      throws InterruptedException {
    List<SourceRecord> records = failed.records();
    if (mayBisect && mapping.bisectBatchOnFunctionError() && records.size() > 1) {
      int half = records.size() / 2;
      // the first half goes first: order within the lane holds
      parts.push(new Part(records.subList(half, records.size()), failed.attempts(), failed.last()));
      parts.push(new Part(records.subList(0, half), failed.attempts(), failed.last()));
      return;
    }
    int attempts = mayBisect ? failed.attempts() + 1 : failed.attempts();
    Part counted = new Part(records, attempts, failed.last());
    if (mapping.maximumRetryAttempts() >= 0 && attempts > mapping.maximumRetryAttempts()) {
      giveUp(batch, counted, "RetryAttemptsExhausted");
      return;
    }
    parts.push(counted);
    sleeper.sleep(timing.after(attempts));
  }

  private boolean tooOld(List<SourceRecord> records) {
    if (mapping.maximumRecordAgeInSeconds() < 0) {
      return false;
    }
    var oldest = records.get(0).arrived();
    for (SourceRecord r : records) {
      if (r.arrived().isBefore(oldest)) {
        oldest = r.arrived();
      }
    }
    return Duration.between(oldest, clock.instant()).getSeconds()
        > mapping.maximumRecordAgeInSeconds();
  }

  private static int firstFailed(List<SourceRecord> records, Set<String> failedIds) {
    for (int i = 0; i < records.size(); i++) {
      if (failedIds.contains(records.get(i).itemIdentifier())) {
        return i;
      }
    }
    return 0;
  }

  /** Gives up on a part: its record goes to OnFailure, if the mapping has one. */
  private void giveUp(SourceBatch batch, Part part, String condition) {
    metrics.dropped(part.records().size());
    reporter.processed("PROBLEM: Function call failed");
    if (mapping.onFailureDestination().isEmpty()) {
      return;
    }
    ObjectNode record = JSON.createObjectNode();
    ObjectNode request = record.putObject("requestContext");
    request.put("requestId", UUID.randomUUID().toString());
    request.put("functionArn", functionArn);
    request.put("condition", condition);
    request.put("approximateInvokeCount", part.attempts());
    if (part.last() instanceof BatchOutcome.Failed f) {
      ObjectNode response = record.putObject("responseContext");
      response.put("statusCode", 200);
      response.put("executedVersion", f.executedVersion());
      response.put("functionError", "Unhandled");
    }
    record.put("version", "1.0");
    record.put("timestamp", clock.instant().toString());
    record.setAll(reader.batchInfo(batch, part.records()));
    onFailure.send(mapping, mapping.onFailureDestination().get(), record);
  }

  /** Invokes the function with {@code records} of {@code batch}, and reads what it answered. */
  private BatchOutcome invoke(SourceBatch batch, List<SourceRecord> records) {
    byte[] event = reader.event(batch, records);
    InvocationResult result;
    try {
      result = invocations.run(InvokeRequest.sync(mapping.function(), event));
    } catch (LambdaError.Throttled e) {
      reporter.throttled();
      return new BatchOutcome.NotRun("throttled");
    } catch (LambdaError.NotFound e) {
      reporter.processed("PROBLEM: Function not found");
      return new BatchOutcome.NotRun("function not found");
    } catch (LambdaError e) {
      reporter.processed("PROBLEM: Function call failed");
      return new BatchOutcome.Failed(e.errorType(), "$LATEST");
    }
    metrics.invoked(records.size());
    if (result instanceof InvocationResult.FunctionError f) {
      reporter.processed("PROBLEM: Function call failed");
      return new BatchOutcome.Failed(f.errorType(), f.executedVersion());
    }
    if (!mapping.reportsBatchItemFailures()) {
      reporter.processed("OK");
      return new BatchOutcome.Succeeded();
    }
    BatchOutcome partial = readBatchItemFailures(result, records);
    reporter.processed(
        partial instanceof BatchOutcome.Succeeded ? "OK" : "PROBLEM: Function call failed");
    return partial;
  }

  /**
   * Lambda's rules for a partial batch response: no answer, an empty list or an answer without
   * {@code batchItemFailures} is a success; an answer that is not JSON, or an item that names no
   * record of the batch (a missing, empty or unknown {@code itemIdentifier}), fails the whole
   * batch.
   */
  private static BatchOutcome readBatchItemFailures(
      InvocationResult result, List<SourceRecord> records) {
    byte[] payload = result.payload();
    if (payload.length == 0) {
      return new BatchOutcome.Succeeded();
    }
    JsonNode answer;
    try {
      answer = JSON.readTree(payload);
    } catch (IOException e) {
      return new BatchOutcome.Failed("InvalidBatchItemFailures", result.executedVersion());
    }
    if (answer == null || answer.isNull() || !answer.isObject()) {
      return answer == null || answer.isNull()
          ? new BatchOutcome.Succeeded()
          : new BatchOutcome.Failed("InvalidBatchItemFailures", result.executedVersion());
    }
    JsonNode failures = answer.get("batchItemFailures");
    if (failures == null || failures.isNull() || (failures.isArray() && failures.isEmpty())) {
      return new BatchOutcome.Succeeded();
    }
    if (!failures.isArray()) {
      return new BatchOutcome.Failed("InvalidBatchItemFailures", result.executedVersion());
    }
    Set<String> known = new HashSet<>();
    records.forEach(r -> known.add(r.itemIdentifier()));
    Set<String> failed = new HashSet<>();
    for (JsonNode item : failures) {
      JsonNode id = item.get("itemIdentifier");
      // Kafka's answers name a record as {"partition": "topic-0", "offset": 15}
      if (id != null && id.isObject() && id.has("offset")) {
        id = id.get("offset");
      }
      String text = id == null || id.isNull() ? "" : id.asText();
      if (text.isEmpty() || !known.contains(text)) {
        return new BatchOutcome.Failed("InvalidBatchItemFailures", result.executedVersion());
      }
      failed.add(text);
    }
    return new BatchOutcome.Partial(failed);
  }
}
