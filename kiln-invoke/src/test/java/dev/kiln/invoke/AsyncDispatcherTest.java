package dev.kiln.invoke;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.model.EventInvokeConfig;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import dev.kiln.store.EventQueue;
import dev.kiln.store.EventQueue.Event;
import dev.kiln.store.SqliteEventQueue;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Retries, backoff, ageing and destinations, driven by a fake clock and a scripted function. */
class AsyncDispatcherTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final String DEST = "arn:aws:lambda:us-east-1:000000000000:function:dest";
  static final String FAIL = "arn:aws:lambda:us-east-1:000000000000:function:fail";

  final Instant t0 = Instant.parse("2026-11-25T00:00:00Z");
  final AtomicReference<Instant> now = new AtomicReference<>(t0);
  final InstantSource clock = () -> now.get();
  final Deque<Object> script = new ArrayDeque<>();
  final List<String> requestIds = new java.util.concurrent.CopyOnWriteArrayList<>();
  final List<String> invokedOn = new java.util.concurrent.CopyOnWriteArrayList<>();
  EventInvokeConfig config =
      new EventInvokeConfig(
          "f", "$LATEST", 2, 21_600, Optional.of(DEST), Optional.of(FAIL), Instant.EPOCH);
  EventQueue queue;
  AsyncDispatcher.Target target;
  AsyncDispatcher dispatcher;

  @BeforeEach
  void start() throws Exception {
    queue =
        SqliteEventQueue.open(
            dev.kiln.testing.TempDirs.create("kiln-events-").resolve("e.db"), clock);
    target =
        new AsyncDispatcher.Target() {
          @Override
          public InvocationResult invoke(Event e) {
            invokedOn.add(Thread.currentThread().getName());
            requestIds.add(e.requestId());
            Object next = script.pop();
            if (next instanceof LambdaError error) {
              throw error;
            }
            return (InvocationResult) next;
          }

          @Override
          public EventInvokeConfig config(String function, String qualifier) {
            return config;
          }

          @Override
          public Optional<String> deadLetter(String function, String qualifier) {
            return Optional.empty();
          }

          @Override
          public String functionArn(String function, String qualifier) {
            return "arn:aws:lambda:us-east-1:000000000000:function:" + function + ":" + qualifier;
          }

          @Override
          public FunctionRef function(String arn) {
            return new FunctionRef(arn.substring(arn.lastIndexOf(':') + 1), Optional.empty());
          }
        };
    dispatcher =
        new AsyncDispatcher(
            queue,
            target,
            clock,
            Duration.ofMinutes(1),
            4,
            Runnable::run,
            Thread.ofPlatform().daemon().name("test-dispatcher").factory(),
            KilnMetrics.inMemory());
  }

  @AfterEach
  void stop() {
    dispatcher.close();
    queue.close();
  }

  static InvocationResult ok(String body) {
    return new InvocationResult.Success(
        "r", "$LATEST", body.getBytes(StandardCharsets.UTF_8), Optional.empty());
  }

  static InvocationResult error() {
    return new InvocationResult.FunctionError(
        "r",
        "$LATEST",
        "Sandbox.Timedout",
        "{\"errorType\":\"Sandbox.Timedout\"}".getBytes(StandardCharsets.UTF_8),
        Optional.empty());
  }

  void accept(String payload) {
    queue.enqueue(
        Event.accepted(
            "req-1",
            "f",
            "$LATEST",
            payload.getBytes(StandardCharsets.UTF_8),
            clock.instant(),
            Optional.of("Root=1-5759e988-bd862e3fe1be46a994272793")));
  }

  void at(Duration sinceStart) {
    now.set(t0.plus(sinceStart));
  }

  /**
   * The one event waiting for {@code function}, claimed (and so taken off the queue) by the test.
   */
  JsonNode followUp(String function) throws Exception {
    now.set(Instant.parse("2100-01-01T00:00:00Z")); // whenever it is due
    List<Event> due = queue.claim("test", 10, Duration.ofMinutes(1));
    assertThat(due).extracting(Event::function).containsExactly(function);
    return JSON.readTree(due.get(0).payload());
  }

  @Test
  void aFailedEvent_isRetriedAfterOneThenTwoMinutes_withItsRequestId_thenSucceeds()
      throws Exception {
    script.addAll(List.of(error(), error(), ok("{\"done\":true}")));
    accept("{\"n\":1}");
    assertThat(dispatcher.dispatchDue()).isEqualTo(1);
    at(Duration.ofSeconds(59));
    assertThat(dispatcher.dispatchDue()).as("not before a minute").isZero();
    at(Duration.ofSeconds(60));
    assertThat(dispatcher.dispatchDue()).isEqualTo(1);
    at(Duration.ofSeconds(60 + 119));
    assertThat(dispatcher.dispatchDue()).as("the second retry waits two minutes").isZero();
    at(Duration.ofSeconds(60 + 120));
    assertThat(dispatcher.dispatchDue()).isEqualTo(1);
    assertThat(requestIds).containsExactly("req-1", "req-1", "req-1");

    JsonNode record = followUp("dest");
    assertThat(record.at("/requestContext/requestId").asText()).isEqualTo("req-1");
    assertThat(record.at("/requestContext/condition").asText()).isEqualTo("Success");
    assertThat(record.at("/requestContext/approximateInvokeCount").asInt()).isEqualTo(3);
    assertThat(record.at("/requestPayload/n").asInt()).isEqualTo(1);
    assertThat(record.at("/responseContext/statusCode").asInt()).isEqualTo(200);
    assertThat(record.at("/responsePayload/done").asBoolean()).isTrue();
    assertThat(queue.counts("f")).isEqualTo(new EventQueue.Counts(0, 0, 1, 0));
  }

  /**
   * The loop runs on a thread of the factory the dispatcher was given, made at start; with a
   * caller-runs worker pool the attempt runs on that thread too.
   */
  @Test
  void started_theLoopRunsOnAThreadOfItsGivenFactory_andDispatchesWhatArrives() throws Exception {
    dispatcher.close();
    java.util.concurrent.atomic.AtomicInteger made =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.ThreadFactory loopThreads =
        r -> {
          made.incrementAndGet();
          return Thread.ofPlatform().daemon().name("test-loop").unstarted(r);
        };
    dispatcher =
        new AsyncDispatcher(
            queue,
            target,
            clock,
            Duration.ofMinutes(1),
            4,
            Runnable::run,
            loopThreads,
            KilnMetrics.inMemory());
    script.add(ok("{}")); // before start, which the loop thread reads it after
    assertThat(made).as("nothing made before start").hasValue(0);
    dispatcher.start();
    assertThat(made).hasValue(1);

    accept("{\"n\":1}");
    dispatcher.wake();
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> !requestIds.isEmpty());
    // (its success then goes to its OnSuccess destination, as a new event on the same loop)
    assertThat(requestIds).startsWith("req-1");
    assertThat(invokedOn).isNotEmpty().containsOnly("test-loop");
    assertThat(made).as("one loop thread, however many events").hasValue(1);
  }

  @Test
  void anEventThatFailsEveryAttempt_goesToOnFailure_asRetriesExhausted() throws Exception {
    config =
        new EventInvokeConfig(
            "f", "$LATEST", 1, 21_600, Optional.empty(), Optional.of(FAIL), Instant.EPOCH);
    script.addAll(List.of(error(), error()));
    accept("{}");
    dispatcher.dispatchDue();
    at(Duration.ofMinutes(1));
    dispatcher.dispatchDue();
    JsonNode record = followUp("fail");
    assertThat(record.at("/requestContext/condition").asText()).isEqualTo("RetriesExhausted");
    assertThat(record.at("/requestContext/approximateInvokeCount").asInt()).isEqualTo(2);
    assertThat(record.at("/responseContext/functionError").asText()).isEqualTo("Unhandled");
    assertThat(queue.counts("f").failed()).isEqualTo(1);
  }

  @Test
  void aThrottledEvent_isKeptAndRetriedWithBackoff_withoutUsingAnAttempt() throws Exception {
    LambdaError throttled =
        LambdaError.tooManyRequests("Rate Exceeded.", "ConcurrentInvocationLimitExceeded");
    script.addAll(List.of(throttled, throttled, ok("{}")));
    accept("{}");
    dispatcher.dispatchDue();
    at(Duration.ofMillis(999));
    assertThat(dispatcher.dispatchDue()).isZero();
    at(Duration.ofSeconds(1));
    assertThat(dispatcher.dispatchDue()).isEqualTo(1);
    at(Duration.ofMillis(2999));
    assertThat(dispatcher.dispatchDue()).as("then 2 s").isZero();
    at(Duration.ofSeconds(3));
    assertThat(dispatcher.dispatchDue()).isEqualTo(1);
    JsonNode record = followUp("dest");
    assertThat(record.at("/requestContext/approximateInvokeCount").asInt())
        .as("throttles are not attempts")
        .isEqualTo(1);
  }

  @Test
  void anEventOlderThanItsMaximumAge_goesToOnFailure_asEventAgeExceeded() throws Exception {
    config =
        new EventInvokeConfig(
            "f", "$LATEST", 2, 60, Optional.empty(), Optional.of(FAIL), Instant.EPOCH);
    LambdaError throttled =
        LambdaError.tooManyRequests("Rate Exceeded.", "ConcurrentInvocationLimitExceeded");
    for (int i = 0; i < 10; i++) {
      script.add(throttled);
    }
    accept("{}");
    for (int s = 0; s <= 70; s++) {
      at(Duration.ofSeconds(s));
      dispatcher.dispatchDue();
    }
    JsonNode record = followUp("fail");
    assertThat(record.at("/requestContext/condition").asText()).isEqualTo("EventAgeExceeded");
    assertThat(record.at("/requestContext/approximateInvokeCount").asInt()).isZero();
    assertThat(record.has("responseContext")).isFalse();
  }
}
