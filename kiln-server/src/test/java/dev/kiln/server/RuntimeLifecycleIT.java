package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient;
import software.amazon.awssdk.services.cloudwatchlogs.model.OutputLogEvent;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * The runtime's side of an invocation's life, as Lambda draws it: an invocation runs until the
 * runtime asks for its next event (so what it prints after answering is that invocation's), a
 * graceful stop sends SIGTERM while the runtime's {@code /next} is still pending and keeps what it
 * prints on its way out, and a runtime that never finishes its init is reported as such.
 */
class RuntimeLifecycleIT {

  /**
   * A custom runtime in Python that prints after it answers, as AWS's Java runtime client prints an
   * error's stack trace after posting it, and that says how its {@code /next} ended on a stop.
   */
  static final String BOOTSTRAP =
      """
      #!/usr/bin/env python3
      import json, os, signal, sys, threading, time, urllib.request, urllib.error
      api = 'http://' + os.environ['AWS_LAMBDA_RUNTIME_API']

      def on_term(signum, frame):
          print('SIGTERM arrived while next was pending', flush=True)
          os._exit(0)
      signal.signal(signal.SIGTERM, on_term)

      # as AWS's Go library registers to be sent SIGTERM (lambda.WithEnableSIGTERM)
      req = urllib.request.Request(api + '/2020-01-01/extension/register',
                                   data=b'{"events": null}', method='POST',
                                   headers={'Lambda-Extension-Name': 'GoLangEnableSIGTERM'})
      try:
          with urllib.request.urlopen(req) as r:
              registered = r.status
              ext_id = r.headers['Lambda-Extension-Identifier']
      except urllib.error.HTTPError as e:
          registered = e.code
          ext_id = None
      if ext_id:
          def wait():
              rq = urllib.request.Request(api + '/2020-01-01/extension/event/next',
                                          headers={'Lambda-Extension-Identifier': ext_id})
              try:
                  urllib.request.urlopen(rq).read()
              except Exception:
                  pass
          threading.Thread(target=wait, daemon=True).start()

      while True:
          try:
              with urllib.request.urlopen(api + '/2018-06-01/runtime/invocation/next') as r:
                  rid = r.headers['Lambda-Runtime-Aws-Request-Id']
                  event = json.loads(r.read() or b'{}')
          except urllib.error.HTTPError as e:
              print('next was answered ' + str(e.code), flush=True)
              sys.exit(0)
          if event.get('fail'):
              url = api + '/2018-06-01/runtime/invocation/' + rid + '/error'
              body = b'{"errorType": "Boom", "errorMessage": "failed"}'
          else:
              url = api + '/2018-06-01/runtime/invocation/' + rid + '/response'
              body = json.dumps({'registered': registered}).encode()
          urllib.request.urlopen(urllib.request.Request(url, data=body, method='POST')).read()
          # the caller has its answer by now; this still belongs to the invocation
          time.sleep(event.get('linger', 0.3))
          print('printed after answering ' + rid, flush=True)
      """;

  static String decodedTail(InvokeResponse r) {
    return new String(Base64.getDecoder().decode(r.logResult()), StandardCharsets.UTF_8);
  }

  static InvokeResponse invoke(KilnFixture kiln, String name, String payload, LogType type) {
    return kiln.lambda.invoke(
        b -> b.functionName(name).logType(type).payload(SdkBytes.fromUtf8String(payload)));
  }

  void createBootstrap(KilnFixture kiln, String name) {
    kiln.create(
        name,
        Runtime.PROVIDED_AL2023,
        "unused",
        ZipsWithLinks.executable("bootstrap", BOOTSTRAP.getBytes(StandardCharsets.UTF_8)));
  }

  /** The messages of the function's log stream {@code stream}, in order. */
  static List<String> streamEvents(CloudWatchLogsClient logs, String function, String stream) {
    return logs
        .getLogEvents(
            b ->
                b.logGroupName("/aws/lambda/" + function).logStreamName(stream).startFromHead(true))
        .events()
        .stream()
        .map(OutputLogEvent::message)
        .toList();
  }

  /** The function's one log stream, once its first lines are written (in the background). */
  static String onlyStream(CloudWatchLogsClient logs, String function) {
    return Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .ignoreExceptions()
        .until(
            () ->
                logs.describeLogStreams(b -> b.logGroupName("/aws/lambda/" + function))
                    .logStreams()
                    .get(0)
                    .logStreamName(),
            name -> name != null);
  }

  @Test
  void whatARuntimePrintsAfterAnswering_isInThatInvocationsLog() {
    try (KilnFixture kiln = new KilnFixture();
        CloudWatchLogsClient logs = kiln.logsClient()) {
      createBootstrap(kiln, "late-printer");

      InvokeResponse ok = invoke(kiln, "late-printer", "{}", LogType.TAIL);
      assertThat(ok.functionError()).isNull();
      String okId = ok.responseMetadata().requestId();
      String tail = decodedTail(ok);
      assertThat(tail)
          .as("the tail holds what the runtime printed after its response, before END")
          .contains("printed after answering " + okId + "\nEND RequestId: " + okId);
      assertThat(tail).contains("REPORT RequestId: " + okId);

      InvokeResponse failed = invoke(kiln, "late-printer", "{\"fail\": true}", LogType.TAIL);
      assertThat(failed.functionError()).isEqualTo("Unhandled");
      String failedId = failed.responseMetadata().requestId();
      assertThat(decodedTail(failed))
          .as("after an error too, as AWS's Java runtime client logs its stack trace")
          .contains("printed after answering " + failedId + "\nEND RequestId: " + failedId)
          .doesNotContain("printed after answering " + okId);

      // without a tail the caller is answered at once; the log still ends at the next /next
      InvokeResponse plain = invoke(kiln, "late-printer", "{}", LogType.NONE);
      assertThat(plain.logResult()).isNull();
      String plainId = plain.responseMetadata().requestId();

      String stream = onlyStream(logs, "late-printer");
      Awaitility.await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () -> {
                List<String> events = streamEvents(logs, "late-printer", stream);
                for (String id : List.of(okId, failedId, plainId)) {
                  int printed = events.indexOf("printed after answering " + id);
                  int end = events.indexOf("END RequestId: " + id);
                  int start = events.indexOf("START RequestId: " + id + " Version: $LATEST");
                  assertThat(printed).as("the line of %s in the stream", id).isPositive();
                  assertThat(start).isBetween(0, printed);
                  assertThat(end).as("END follows it").isEqualTo(printed + 1);
                }
              });
    }
  }

  @Test
  void aGracefulStop_sendsSigtermWhileNextIsPending_andKeepsWhatTheRuntimePrints() {
    try (KilnFixture kiln = new KilnFixture(Duration.ofMillis(300));
        CloudWatchLogsClient logs = kiln.logsClient()) {
      createBootstrap(kiln, "sigterm-handler");
      InvokeResponse r = invoke(kiln, "sigterm-handler", "{}", LogType.NONE);
      assertThat(r.payload().asUtf8String())
          .as("an extension registered with {\"events\": null} is accepted, as on Lambda")
          .isEqualTo("{\"registered\": 200}");
      String stream = onlyStream(logs, "sigterm-handler");
      // the keep-alive (300 ms) stops the idle instance gracefully
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () ->
                  assertThat(streamEvents(logs, "sigterm-handler", stream))
                      .contains("SIGTERM arrived while next was pending"));
      assertThat(streamEvents(logs, "sigterm-handler", stream))
          .as("its /next was not answered before the signal")
          .noneMatch(line -> line.startsWith("next was answered"));
    }
  }

  @Test
  void aRuntimeThatNeverAsksForAnEvent_isReportedAsInitialisingAllAlong() {
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.lambda.createFunction(
          b ->
              b.functionName("never-ready")
                  .runtime(Runtime.PROVIDED_AL2023)
                  .handler("unused")
                  .role(KilnFixture.ROLE)
                  .timeout(1)
                  .code(
                      c ->
                          c.zipFile(
                              SdkBytes.fromByteArray(
                                  ZipsWithLinks.executable(
                                      "bootstrap",
                                      "#!/bin/sh\nexec sleep 600\n"
                                          .getBytes(StandardCharsets.UTF_8))))));
      InvokeResponse r = invoke(kiln, "never-ready", "{}", LogType.TAIL);
      assertThat(r.functionError()).isEqualTo("Unhandled");
      assertThat(r.payload().asUtf8String()).contains("Sandbox.Timedout");
      Matcher init = Pattern.compile("Init Duration: ([0-9.]+) ms").matcher(decodedTail(r));
      assertThat(init.find()).as("the REPORT line has an Init Duration").isTrue();
      // it waited the init limit and the timeout for the runtime; init lasted all of that
      assertThat(Double.parseDouble(init.group(1))).isGreaterThanOrEqualTo(1000.0);
    }
  }

  @Test
  void aRuntimeStillBusyAfterAnsweringAtItsDeadline_timesOut_andTheTailDoesNotWaitForIt() {
    try (KilnFixture kiln = new KilnFixture();
        CloudWatchLogsClient logs = kiln.logsClient()) {
      createBootstrap(kiln, "lingerer"); // the default timeout, 3 s
      InvokeResponse warm = invoke(kiln, "lingerer", "{}", LogType.NONE);
      String stream = onlyStream(logs, "lingerer");

      InvokeResponse r = invoke(kiln, "lingerer", "{\"linger\": 30}", LogType.TAIL);
      assertThat(r.functionError()).as("it answered in time").isNull();
      String id = r.responseMetadata().requestId();
      assertThat(decodedTail(r))
          .as("the tail is sent without waiting for the invocation's end")
          .contains("START RequestId: " + id)
          .doesNotContain("END RequestId: " + id);

      Awaitility.await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () -> {
                List<String> events = streamEvents(logs, "lingerer", stream);
                assertThat(events)
                    .anyMatch(l -> l.endsWith(id + " Task timed out after 3.00 seconds"));
                assertThat(events)
                    .anyMatch(
                        l ->
                            l.startsWith("REPORT RequestId: " + id)
                                && l.endsWith("Status: timeout"));
              });
      // the instance that ran past its deadline is gone: the next call starts a new one
      assertThat(invoke(kiln, "lingerer", "{}", LogType.TAIL).logResult())
          .satisfies(
              tail ->
                  assertThat(new String(Base64.getDecoder().decode(tail))).contains("INIT_START"));
      assertThat(warm.functionError()).isNull();
    }
  }

  @Test
  void theNextCall_waitsForAnInstanceAboutToBeBack_ratherThanStartingAnother() {
    try (KilnFixture kiln = new KilnFixture()) {
      createBootstrap(kiln, "quick-return");
      invoke(kiln, "quick-return", "{\"linger\": 0.1}", LogType.NONE);
      // answered at once; its runtime is back in next 0.1 s later, and this call takes it then
      InvokeResponse second = invoke(kiln, "quick-return", "{\"linger\": 0.1}", LogType.TAIL);
      assertThat(decodedTail(second)).as("a warm instance").doesNotContain("INIT_START");
      assertThat(kiln.server.invoker().instanceCount()).isEqualTo(1);
    }
  }
}
