package dev.kiln.esm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.esm.source.EventSourceKind.Semantics;
import dev.kiln.esm.source.EventSourceReader;
import dev.kiln.esm.source.SourceBatch;
import dev.kiln.esm.source.SourceRecord;
import dev.kiln.invoke.FunctionVersion;
import dev.kiln.invoke.InvocationResult;
import dev.kiln.invoke.Invocations;
import dev.kiln.invoke.InvokeRequest;
import dev.kiln.model.EventSourceMapping;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The failure handling of one batch, per source semantics, against an in-memory source and a
 * scripted function: what is invoked with which records, what is checkpointed, and what goes to
 * OnFailure.
 */
class BatchProcessorTest {

  static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");

  final List<List<String>> invocations = new CopyOnWriteArrayList<>();
  final List<ObjectNode> failures = new CopyOnWriteArrayList<>();
  final List<String> results = new CopyOnWriteArrayList<>();
  final List<Duration> sleeps = new CopyOnWriteArrayList<>();
  Function<List<String>, InvocationResult> function = ids -> ok("");

  static InvocationResult ok(String payload) {
    return new InvocationResult.Success(
        "r", "$LATEST", payload.getBytes(StandardCharsets.UTF_8), Optional.empty());
  }

  static InvocationResult error() {
    return new InvocationResult.FunctionError(
        "r",
        "$LATEST",
        "Error",
        "{\"errorType\":\"Error\"}".getBytes(StandardCharsets.UTF_8),
        Optional.empty());
  }

  Invocations port() {
    return new Invocations() {
      @Override
      public InvocationResult run(InvokeRequest request) {
        List<String> ids = new ArrayList<>();
        try {
          JsonNode event = FakeSource.JSON.readTree(request.payload());
          event.get("Records").forEach(r -> ids.add(r.get("id").asText()));
        } catch (java.io.IOException e) {
          throw new AssertionError(e);
        }
        invocations.add(ids);
        return function.apply(ids);
      }

      @Override
      public FunctionVersion resolve(FunctionRef function) {
        throw new UnsupportedOperationException();
      }
    };
  }

  EventSourceMapping.Builder mapping() {
    return new EventSourceMapping.Builder("m-1", "fake", "f", NOW)
        .eventSourceArn(Optional.of("arn:aws:fake:q"))
        .batchSize(10);
  }

  void run(FakeSource source, EventSourceMapping mapping, SourceRecord... records)
      throws Exception {
    run(source, mapping, r -> true, records);
  }

  void run(
      FakeSource source,
      EventSourceMapping mapping,
      java.util.function.Predicate<JsonNode> filter,
      SourceRecord... records)
      throws Exception {
    EventSourceReader reader = source.reader(mapping.batchSize());
    BatchProcessor processor =
        new BatchProcessor(
            mapping,
            "arn:aws:lambda:us-east-1:000000000000:function:f",
            reader,
            source.semantics,
            filter,
            port(),
            (m, arn, record) -> failures.add(record),
            new MappingMetrics(new SimpleMeterRegistry(), mapping.uuid(), "f", "fake"),
            RetryTiming.DEFAULT,
            InstantSource.fixed(NOW),
            new BatchProcessor.Reporter() {
              @Override
              public void processed(String result) {
                results.add(result);
              }

              @Override
              public void throttled() {
                results.add("throttled");
              }
            },
            sleeps::add);
    processor.process(new SourceBatch("lane-0", List.of(records), null), () -> true);
  }

  static SourceRecord rec(String id) {
    return FakeSource.record(id, "{\"n\":\"" + id + "\"}", NOW.minusSeconds(10));
  }

  // ---- queues ---------------------------------------------------------------------------------

  @Test
  void aQueueBatchThatSucceeds_isDeletedWhole() throws Exception {
    FakeSource queue = new FakeSource(Semantics.QUEUE);
    run(queue, mapping().build(), rec("a"), rec("b"));
    assertThat(invocations).containsExactly(List.of("a", "b"));
    assertThat(queue.completed).containsExactly(List.of("a", "b"));
    assertThat(results).containsExactly("OK");
  }

  @Test
  void aQueueBatchThatFails_deletesOnlyWhatWasFilteredOut_andIsNotRetriedByKiln() throws Exception {
    FakeSource queue = new FakeSource(Semantics.QUEUE);
    function = ids -> error();
    run(queue, mapping().build(), v -> !v.get("id").asText().equals("skip"), rec("a"), rec("skip"));
    assertThat(invocations).containsExactly(List.of("a"));
    assertThat(queue.released).containsExactly(List.of("skip"));
    assertThat(queue.completed).isEmpty();
    assertThat(sleeps).isEmpty();
  }

  @Test
  void batchItemFailures_leaveOnlyTheNamedMessagesOnTheQueue() throws Exception {
    FakeSource queue = new FakeSource(Semantics.QUEUE);
    function = ids -> ok("{\"batchItemFailures\":[{\"itemIdentifier\":\"b\"}]}");
    run(
        queue,
        mapping().functionResponseTypes(List.of("ReportBatchItemFailures")).build(),
        rec("a"),
        rec("b"),
        rec("c"));
    assertThat(queue.released).containsExactly(List.of("a", "c"));
  }

  @Test
  void withoutReportBatchItemFailures_aBatchItemFailuresAnswerIsAPlainSuccess() throws Exception {
    FakeSource queue = new FakeSource(Semantics.QUEUE);
    function = ids -> ok("{\"batchItemFailures\":[{\"itemIdentifier\":\"b\"}]}");
    run(queue, mapping().build(), rec("a"), rec("b"));
    assertThat(queue.completed).containsExactly(List.of("a", "b"));
  }

  @Test
  void aPartialAnswerNamingNoRecordOfTheBatch_failsItWhole() throws Exception {
    FakeSource queue = new FakeSource(Semantics.QUEUE);
    var reporting = mapping().functionResponseTypes(List.of("ReportBatchItemFailures")).build();
    for (String answer :
        List.of(
            "{\"batchItemFailures\":[{\"itemIdentifier\":\"zzz\"}]}",
            "{\"batchItemFailures\":[{\"itemIdentifier\":\"\"}]}",
            "{\"batchItemFailures\":[{}]}",
            "not json",
            "{\"batchItemFailures\":\"b\"}")) {
      queue.released.clear();
      function = ids -> ok(answer);
      run(queue, reporting, rec("a"), rec("b"));
      assertThat(queue.released).as(answer).containsExactly(List.of());
    }
    for (String success : List.of("", "null", "{}", "{\"batchItemFailures\":[]}")) {
      queue.completed.clear();
      function = ids -> ok(success);
      run(queue, reporting, rec("a"), rec("b"));
      assertThat(queue.completed).as(success).containsExactly(List.of("a", "b"));
    }
  }

  @Test
  void aBatchWhollyFilteredOut_isCheckpointedWithoutAnInvocation() throws Exception {
    FakeSource queue = new FakeSource(Semantics.QUEUE);
    run(queue, mapping().build(), v -> false, rec("a"), rec("b"));
    assertThat(invocations).isEmpty();
    assertThat(queue.completed).containsExactly(List.of("a", "b"));
  }

  @Test
  void aThrottledQueueBatch_goesBackToTheQueue_andSlowsThePoller() throws Exception {
    FakeSource queue = new FakeSource(Semantics.QUEUE);
    function =
        ids -> {
          throw LambdaError.tooManyRequests("Rate Exceeded.", "ConcurrentInvocationLimitExceeded");
        };
    run(queue, mapping().build(), rec("a"));
    assertThat(queue.released).containsExactly(List.of());
    assertThat(results).containsExactly("throttled");
  }

  // ---- streams --------------------------------------------------------------------------------

  @Test
  void aStreamBatchIsRetriedInPlaceUntilItSucceeds_andCompletedOnce() throws Exception {
    FakeSource stream = new FakeSource(Semantics.STREAM);
    int[] calls = {0};
    function = ids -> ++calls[0] < 3 ? error() : ok("");
    run(stream, mapping().build(), rec("a"), rec("b"));
    assertThat(invocations).hasSize(3).allMatch(ids -> ids.equals(List.of("a", "b")));
    assertThat(stream.completed).containsExactly(List.of("a", "b"));
    assertThat(sleeps).containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2));
    assertThat(failures).isEmpty();
  }

  @Test
  void afterMaximumRetryAttempts_theBatchGoesToOnFailure_andTheLaneMovesOn() throws Exception {
    FakeSource stream = new FakeSource(Semantics.STREAM);
    function = ids -> error();
    run(
        stream,
        mapping()
            .maximumRetryAttempts(2)
            .onFailureDestination(Optional.of("arn:aws:lambda:us-east-1:000000000000:function:dlq"))
            .build(),
        rec("a"),
        rec("b"));
    assertThat(invocations).hasSize(3);
    assertThat(stream.completed).containsExactly(List.of("a", "b"));
    assertThat(failures).hasSize(1);
    ObjectNode record = failures.get(0);
    assertThat(record.at("/requestContext/condition").asText()).isEqualTo("RetryAttemptsExhausted");
    assertThat(record.at("/requestContext/approximateInvokeCount").asInt()).isEqualTo(3);
    assertThat(record.at("/requestContext/functionArn").asText())
        .isEqualTo("arn:aws:lambda:us-east-1:000000000000:function:f");
    assertThat(record.at("/responseContext/functionError").asText()).isEqualTo("Unhandled");
    assertThat(record.at("/version").asText()).isEqualTo("1.0");
    assertThat(record.at("/FakeBatchInfo/first").asText()).isEqualTo("a");
    assertThat(record.at("/FakeBatchInfo/batchSize").asInt()).isEqualTo(2);
    assertThat(results).contains("PROBLEM: Function call failed");
  }

  @Test
  void bisecting_isolatesThePoisonRecord_withoutSpendingRetriesOnTheSplits() throws Exception {
    FakeSource stream = new FakeSource(Semantics.STREAM);
    function = ids -> ids.contains("c") ? error() : ok("");
    run(
        stream,
        mapping()
            .bisectBatchOnFunctionError(true)
            .maximumRetryAttempts(1)
            .onFailureDestination(Optional.of("arn:aws:lambda:us-east-1:000000000000:function:dlq"))
            .build(),
        rec("a"),
        rec("b"),
        rec("c"),
        rec("d"));
    assertThat(invocations)
        .containsExactly(
            List.of("a", "b", "c", "d"),
            List.of("a", "b"),
            List.of("c", "d"),
            List.of("c"),
            List.of("c"),
            List.of("d"));
    assertThat(failures).hasSize(1);
    assertThat(failures.get(0).at("/FakeBatchInfo/first").asText()).isEqualTo("c");
    assertThat(failures.get(0).at("/FakeBatchInfo/batchSize").asInt()).isEqualTo(1);
    assertThat(stream.completed).containsExactly(List.of("a", "b", "c", "d"));
  }

  @Test
  void aStreamsBatchItemFailures_retryFromTheFirstOneNamed() throws Exception {
    FakeSource stream = new FakeSource(Semantics.STREAM);
    int[] calls = {0};
    function =
        ids ->
            ++calls[0] == 1 ? ok("{\"batchItemFailures\":[{\"itemIdentifier\":\"c\"}]}") : ok("");
    run(
        stream,
        mapping().functionResponseTypes(List.of("ReportBatchItemFailures")).build(),
        rec("a"),
        rec("b"),
        rec("c"),
        rec("d"));
    assertThat(invocations).containsExactly(List.of("a", "b", "c", "d"), List.of("c", "d"));
    assertThat(stream.completed).containsExactly(List.of("a", "b", "c", "d"));
  }

  @Test
  void aKafkaStyleItemIdentifier_namesTheRecordByItsOffset() throws Exception {
    FakeSource stream = new FakeSource(Semantics.STREAM);
    int[] calls = {0};
    function =
        ids ->
            ++calls[0] == 1
                ? ok(
                    "{\"batchItemFailures\":[{\"itemIdentifier\":"
                        + "{\"partition\":\"t-0\",\"offset\":\"b\"}}]}")
                : ok("");
    run(
        stream,
        mapping().functionResponseTypes(List.of("ReportBatchItemFailures")).build(),
        rec("a"),
        rec("b"));
    assertThat(invocations).containsExactly(List.of("a", "b"), List.of("b"));
  }

  @Test
  void recordsOlderThanMaximumRecordAge_areGivenUpOnWithoutAnInvocation() throws Exception {
    FakeSource stream = new FakeSource(Semantics.STREAM);
    SourceRecord old = FakeSource.record("old", "{}", NOW.minusSeconds(120));
    run(
        stream,
        mapping()
            .maximumRecordAgeInSeconds(60)
            .onFailureDestination(Optional.of("arn:aws:lambda:us-east-1:000000000000:function:dlq"))
            .build(),
        old);
    assertThat(invocations).isEmpty();
    assertThat(failures).hasSize(1);
    assertThat(failures.get(0).at("/requestContext/condition").asText())
        .isEqualTo("RecordAgeExceeded");
    assertThat(stream.completed).containsExactly(List.of("old"));
  }

  @Test
  void aThrottledStreamBatch_isRetriedWithoutCountingAgainstItsRetries() throws Exception {
    FakeSource stream = new FakeSource(Semantics.STREAM);
    int[] calls = {0};
    function =
        ids -> {
          if (++calls[0] <= 3) {
            throw LambdaError.tooManyRequests(
                "Rate Exceeded.", "ReservedFunctionConcurrentInvocationLimitExceeded");
          }
          return ok("");
        };
    run(stream, mapping().maximumRetryAttempts(0).build(), rec("a"));
    assertThat(invocations).hasSize(4);
    assertThat(failures).isEmpty();
    assertThat(stream.completed).containsExactly(List.of("a"));
  }

  @Test
  void aStreamBatchStoppedMidRetry_isNotCompleted_soTheNextReaderReadsItAgain() throws Exception {
    FakeSource stream = new FakeSource(Semantics.STREAM);
    function = ids -> error();
    EventSourceReader reader = stream.reader(10);
    int[] checks = {0};
    BatchProcessor processor =
        new BatchProcessor(
            mapping().build(),
            "arn",
            reader,
            Semantics.STREAM,
            v -> true,
            port(),
            (m, arn, r) -> failures.add(r),
            new MappingMetrics(new SimpleMeterRegistry(), "m-1", "f", "fake"),
            RetryTiming.DEFAULT,
            InstantSource.fixed(NOW),
            new BatchProcessor.Reporter() {
              @Override
              public void processed(String result) {}

              @Override
              public void throttled() {}
            },
            sleeps::add);
    processor.process(new SourceBatch("lane-0", List.of(rec("a")), null), () -> ++checks[0] <= 2);
    assertThat(invocations).hasSize(2);
    assertThat(stream.completed).isEmpty();
  }
}
