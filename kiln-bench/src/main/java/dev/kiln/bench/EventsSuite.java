package dev.kiln.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.scheduler.SchedulerClient;

/**
 * The event router: how many events per second go from PutEvents through a rule to a function's
 * async queue, against the async queue's own rate (Invoke with {@code InvocationType=Event}, which
 * answers once the event is committed) measured in the same run with the same clients; and how late
 * a schedule's function runs after its due time, against how long an accepted Event invocation
 * waits before its function runs.
 *
 * <p>Throughput: closed loops of raw signed HTTP calls (the same client and the same re-use of a
 * signed request as the async suite), each answered only once the events are durable: Event Invokes
 * of a no-op Python function; PutEvents of one entry; PutEvents of ten entries. Each entry matches
 * one rule on the default bus whose target is the same function, so each becomes one queued
 * invocation. Figures are events per second.
 *
 * <p>Latency, measured first, on an empty queue: a Python function prints, for each event, its
 * clock minus a time the event carries (epoch µs): for a schedule, its due time (an {@code at()}
 * schedule per due time, each with {@code Input} {@code {"t": due}}); for the baseline, the moment
 * before the Event Invoke was sent; for a rule, the moment before the PutEvents was sent. The bench
 * reads the numbers back from the function's log.
 */
final class EventsSuite implements Suite {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String RULE = "bench-events";
  private static final String STAMP_RULE = "bench-events-stamp";

  /** Prints how long ago (µs) the event's time was, with what it came through. */
  static final String STAMP =
      """
      import time

      def handler(event, context):
          now = time.time_ns() // 1000
          if "detail" in event:
              print("ROUTERLAT-rule " + str(now - event["detail"]["t"]))
          else:
              print("ROUTERLAT-" + event["kind"] + " " + str(now - event["t"]))
      """;

  record Throughput(
      int clients,
      double asyncInvokesPerSecond,
      double putEvents1PerSecond,
      double putEvents10PerSecond,
      double putEvents1OverAsync,
      double putEvents10OverAsync,
      long errors,
      String firstError) {}

  record Delay(
      int events,
      Latency asyncAcceptedToRun,
      Latency ruleSentToRun,
      Latency scheduleDueToRun,
      double ruleP50OverAsync,
      double scheduleP50OverAsync) {}

  @Override
  public String name() {
    return "events";
  }

  @Override
  public void run(BenchContext context, SuiteReport report) throws Exception {
    BenchSettings settings = context.settings();
    KilnProcess kiln = context.kiln();
    int clients = settings.asyncClients();
    int paced = settings.smoke() ? 3 : 20;
    report.note(
        clients
            + " clients, closed loop, warm-up "
            + settings.warmup().toMillis()
            + " ms then "
            + settings.duration().toMillis()
            + " ms each: Event Invokes of a no-op python3.12 function; PutEvents of 1 and of 10"
            + " entries, each entry matched by one rule on the default bus targeting that function."
            + " Delay: "
            + paced
            + " events each, one a second: an Event Invoke (from before the send), a PutEvents"
            + " (from before the send), an at() schedule (from its due time), to the function's"
            + " clock when it runs.");
    String noop = "bench-events-python";
    context.createNoop(noop, Language.PYTHON, Map.of());
    String stamp = "bench-events-stamp";
    context.createFunction(
        stamp,
        Language.PYTHON,
        Language.zip(Map.of("app.py", STAMP.getBytes(StandardCharsets.UTF_8))),
        Map.of());
    try (EventBridgeClient events = eventBridge(kiln);
        SchedulerClient scheduler = scheduler(kiln)) {
      route(kiln, events, RULE, "{\"source\":[\"kiln.bench\"]}", noop);
      route(kiln, events, STAMP_RULE, "{\"source\":[\"kiln.bench.stamp\"]}", stamp);

      // the delays first, while the queue is empty: after the throughput loops it holds tens of
      // thousands of the no-op's events, which any new event would wait behind
      Delay d = delays(kiln, events, scheduler, stamp, paced);
      report.result(d);
      report
          .table(
              Table.of(
                  "delay to the function's start, " + paced + " events each",
                  "",
                  "p50 ms",
                  "p99 ms",
                  "p50 ratio to Event Invoke"))
          .row(
              "Event Invoke (sent → runs)",
              d.asyncAcceptedToRun().p50Micros() / 1000,
              d.asyncAcceptedToRun().p99Micros() / 1000,
              1.0)
          .row(
              "PutEvents → rule (sent → runs)",
              d.ruleSentToRun().p50Micros() / 1000,
              d.ruleSentToRun().p99Micros() / 1000,
              d.ruleP50OverAsync())
          .row(
              "at() schedule (due → runs)",
              d.scheduleDueToRun().p50Micros() / 1000,
              d.scheduleDueToRun().p99Micros() / 1000,
              d.scheduleP50OverAsync());
      HttpClient http = context.http();
      URI root = kiln.endpoint().resolve("/");
      LoadGenerator.Call async =
          HttpCalls.invoke(http, kiln.invokeUri(noop), "Event", kiln.credentials());
      LoadGenerator.Call put1 = putEvents(http, root, kiln.credentials(), 1);
      LoadGenerator.Call put10 = putEvents(http, root, kiln.credentials(), 10);
      LoadGenerator.closedLoop(async, clients, settings.warmup());
      LoadGenerator.Recording a = LoadGenerator.closedLoop(async, clients, settings.duration());
      LoadGenerator.closedLoop(put1, clients, settings.warmup());
      LoadGenerator.Recording p1 = LoadGenerator.closedLoop(put1, clients, settings.duration());
      LoadGenerator.closedLoop(put10, clients, settings.warmup());
      LoadGenerator.Recording p10 = LoadGenerator.closedLoop(put10, clients, settings.duration());
      double asyncRate = a.callsPerSecond();
      Throughput t =
          new Throughput(
              clients,
              asyncRate,
              p1.callsPerSecond(),
              10 * p10.callsPerSecond(),
              p1.callsPerSecond() / asyncRate,
              10 * p10.callsPerSecond() / asyncRate,
              a.errors() + p1.errors() + p10.errors(),
              a.firstError() != null
                  ? a.firstError()
                  : p1.firstError() != null ? p1.firstError() : p10.firstError());
      report.result(t);
      report
          .table(
              Table.of(
                  "durable events, " + clients + " clients",
                  "",
                  "events per second",
                  "ratio to Event Invoke",
                  "p50 µs per call",
                  "errors"))
          .row(
              "Event Invoke accepted (202)",
              asyncRate,
              1.0,
              Latency.of(a.serviceTime(), a.errors()).p50Micros(),
              a.errors())
          .row(
              "PutEvents, 1 entry → rule → queue",
              t.putEvents1PerSecond(),
              t.putEvents1OverAsync(),
              Latency.of(p1.serviceTime(), p1.errors()).p50Micros(),
              p1.errors())
          .row(
              "PutEvents, 10 entries → rule → queue",
              t.putEvents10PerSecond(),
              t.putEvents10OverAsync(),
              Latency.of(p10.serviceTime(), p10.errors()).p50Micros(),
              p10.errors());
    }
  }

  private static Delay delays(
      KilnProcess kiln, EventBridgeClient events, SchedulerClient scheduler, String stamp, int n)
      throws Exception {
    String functionArn =
        kiln.lambda().getFunction(b -> b.functionName(stamp)).configuration().functionArn();
    // the schedules first, due from 10 s on, one a second, so that their creation is not timed
    Instant first = Instant.now().plusSeconds(10).truncatedTo(ChronoUnit.SECONDS);
    DateTimeFormatter at =
        DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);
    for (int i = 0; i < n; i++) {
      Instant due = first.plusSeconds(i);
      ObjectNode input = JSON.createObjectNode();
      input.put("kind", "schedule");
      input.put("t", due.toEpochMilli() * 1000);
      String name = "bench-at-" + i;
      scheduler.createSchedule(
          b ->
              b.name(name)
                  .scheduleExpression("at(" + at.format(due) + ")")
                  .scheduleExpressionTimezone("UTC")
                  .flexibleTimeWindow(f -> f.mode("OFF"))
                  .target(
                      t ->
                          t.arn(functionArn)
                              .roleArn("arn:aws:iam::000000000000:role/kiln-bench")
                              .input(input.toString())));
    }
    for (int i = 0; i < n; i++) {
      long sent = System.currentTimeMillis() * 1000;
      kiln.lambda()
          .invoke(
              b ->
                  b.functionName(stamp)
                      .invocationType("Event")
                      .payload(SdkBytes.fromUtf8String("{\"kind\":\"async\",\"t\":" + sent + "}")));
      long putSent = System.currentTimeMillis() * 1000;
      events.putEvents(
          b ->
              b.entries(
                  e ->
                      e.source("kiln.bench.stamp")
                          .detailType("tick")
                          .detail("{\"t\":" + putSent + "}")));
      KilnProcess.sleepMillis(1000);
    }
    long untilLastDue = Duration.between(Instant.now(), first.plusSeconds(n + 2)).toMillis();
    if (untilLastDue > 0) {
      KilnProcess.sleepMillis(untilLastDue);
    }
    Latency async = micros(FunctionLogNumbers.read(kiln, stamp, "ROUTERLAT-async", n));
    Latency rule = micros(FunctionLogNumbers.read(kiln, stamp, "ROUTERLAT-rule", n));
    Latency schedule = micros(FunctionLogNumbers.read(kiln, stamp, "ROUTERLAT-schedule", n));
    return new Delay(
        n,
        async,
        rule,
        schedule,
        rule.p50Micros() / async.p50Micros(),
        schedule.p50Micros() / async.p50Micros());
  }

  private static Latency micros(List<Long> values) {
    Histogram h = new Histogram(3);
    for (long v : values) {
      h.recordValue(Math.max(0, v) * 1000);
    }
    return Latency.of(h, 0);
  }

  /** A rule on the default bus matching {@code pattern}, with {@code function} as its target. */
  private static void route(
      KilnProcess kiln, EventBridgeClient events, String rule, String pattern, String function) {
    String ruleArn = events.putRule(b -> b.name(rule).eventPattern(pattern)).ruleArn();
    kiln.lambda()
        .addPermission(
            b ->
                b.functionName(function)
                    .statementId(rule)
                    .action("lambda:InvokeFunction")
                    .principal("events.amazonaws.com")
                    .sourceArn(ruleArn));
    String functionArn =
        kiln.lambda().getFunction(b -> b.functionName(function)).configuration().functionArn();
    events.putTargets(b -> b.rule(rule).targets(t -> t.id("f").arn(functionArn)));
  }

  /** PutEvents of {@code entries} entries for the throughput rule, signed again every 5 minutes. */
  private static LoadGenerator.Call putEvents(
      HttpClient http, URI root, AwsBasicCredentials key, int entries) {
    ObjectNode body = JSON.createObjectNode();
    ArrayNode list = body.putArray("Entries");
    for (int i = 0; i < entries; i++) {
      ObjectNode e = list.addObject();
      e.put("Source", "kiln.bench");
      e.put("DetailType", "tick");
      e.put("Detail", "{\"n\":" + i + "}");
    }
    byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
    Map<String, String> headers =
        Map.of("X-Amz-Target", "AWSEvents.PutEvents", "Content-Type", "application/x-amz-json-1.1");
    HttpRequest[] signed = {null};
    long[] signedAt = {0};
    return () -> {
      HttpRequest request;
      synchronized (signed) {
        long now = System.nanoTime();
        if (signed[0] == null || now - signedAt[0] > Duration.ofMinutes(5).toNanos()) {
          HttpRequest s =
              new dev.kiln.server.SignedRequests(key, Region.US_EAST_1.id())
                  .sign("POST", root, headers, bytes, "events");
          signed[0] =
              HttpRequest.newBuilder(s, (name, value) -> true)
                  .timeout(Duration.ofMinutes(2))
                  .build();
          signedAt[0] = now;
        }
        request = signed[0];
      }
      HttpResponse<byte[]> answer = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
      if (answer.statusCode() != 200) {
        throw new IllegalStateException(
            "PutEvents: HTTP " + answer.statusCode() + ": " + new String(answer.body()));
      }
      JsonNode result = JSON.readTree(answer.body());
      if (result.path("FailedEntryCount").asInt() != 0) {
        throw new IllegalStateException("PutEvents: " + result);
      }
    };
  }

  private static EventBridgeClient eventBridge(KilnProcess kiln) {
    return EventBridgeClient.builder()
        .endpointOverride(kiln.endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(kiln.credentials()))
        .httpClient(UrlConnectionHttpClient.create())
        .build();
  }

  private static SchedulerClient scheduler(KilnProcess kiln) {
    return SchedulerClient.builder()
        .endpointOverride(kiln.endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(kiln.credentials()))
        .httpClient(UrlConnectionHttpClient.create())
        .build();
  }
}
