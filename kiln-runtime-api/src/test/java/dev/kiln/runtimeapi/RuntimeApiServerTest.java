package dev.kiln.runtimeapi;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Runtime API's routes, status codes and bodies, spoken to as a runtime would. */
class RuntimeApiServerTest {

  RuntimeApiServer server;
  RuntimeChannel channel;
  HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() {
    server = RuntimeApiServer.startWithoutPeerChecks();
    channel = server.open("instance-1", Set::of);
  }

  @AfterEach
  void stop() {
    channel.close();
    server.close();
  }

  URI uri(String path) {
    return URI.create("http://" + channel.runtimeApiAddress() + "/2018-06-01/runtime" + path);
  }

  HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static RuntimeEvent event(String id) {
    return new RuntimeEvent(
        id,
        "{\"x\":1}".getBytes(StandardCharsets.UTF_8),
        3000,
        "arn:aws:lambda:us-east-1:000000000000:function:f",
        "Root=1-abc",
        Optional.of("{\"custom\":{}}"),
        Optional.empty());
  }

  @Test
  void next_handsOutTheEventWithLambdasHeaders_andResponseCompletesIt() throws Exception {
    RuntimeChannel.Submission s = channel.submit(event("req-1"));
    long before = System.currentTimeMillis();
    HttpResponse<String> next = get("/invocation/next");
    assertThat(next.statusCode()).isEqualTo(200);
    assertThat(next.body()).isEqualTo("{\"x\":1}");
    assertThat(next.headers().firstValue("Lambda-Runtime-Aws-Request-Id")).hasValue("req-1");
    assertThat(next.headers().firstValue("Lambda-Runtime-Invoked-Function-Arn"))
        .hasValue("arn:aws:lambda:us-east-1:000000000000:function:f");
    assertThat(next.headers().firstValue("Lambda-Runtime-Trace-Id")).hasValue("Root=1-abc");
    assertThat(next.headers().firstValue("Lambda-Runtime-Client-Context"))
        .hasValue("{\"custom\":{}}");
    long deadline =
        Long.parseLong(next.headers().firstValue("Lambda-Runtime-Deadline-Ms").orElseThrow());
    assertThat(deadline).isBetween(before + 3000, System.currentTimeMillis() + 3000);
    assertThat(s.handoff().join().deadlineEpochMillis()).isEqualTo(deadline);

    HttpResponse<String> answered = post("/invocation/req-1/response", "\"done\"");
    assertThat(answered.statusCode()).isEqualTo(202);
    assertThat(answered.body()).isEqualTo("{\"status\":\"OK\"}");
    assertThat(s.answer().join())
        .isInstanceOfSatisfying(
            RuntimeAnswer.Response.class,
            r -> assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("\"done\""));
  }

  @Test
  void error_carriesTheErrorTypeHeaderAndDocument() throws Exception {
    RuntimeChannel.Submission s = channel.submit(event("req-2"));
    get("/invocation/next");
    HttpResponse<String> r =
        post(
            "/invocation/req-2/error",
            "{\"errorMessage\":\"boom\",\"errorType\":\"ValueError\"}",
            "lambda-runtime-function-error-type",
            "Unhandled");
    assertThat(r.statusCode()).isEqualTo(202);
    assertThat(s.answer().join())
        .isInstanceOfSatisfying(
            RuntimeAnswer.FunctionError.class,
            e -> {
              assertThat(e.errorType()).isEqualTo("Unhandled");
              assertThat(new String(e.body(), StandardCharsets.UTF_8)).contains("boom");
            });
  }

  @Test
  void anAnswerForAnotherOrAFinishedInvocation_isRefused() throws Exception {
    RuntimeChannel.Submission s = channel.submit(event("req-3"));
    get("/invocation/next");
    HttpResponse<String> wrong = post("/invocation/someone-else/response", "1");
    assertThat(wrong.statusCode()).isEqualTo(400);
    assertThat(wrong.body()).contains("\"errorType\":\"InvalidRequestID\"");
    assertThat(post("/invocation/req-3/response", "1").statusCode()).isEqualTo(202);
    HttpResponse<String> twice = post("/invocation/req-3/response", "2");
    assertThat(twice.statusCode()).isEqualTo(400);
    assertThat(s.answer().join()).isInstanceOf(RuntimeAnswer.Response.class);
  }

  @Test
  void aResponseOverTheLimit_is413AndReportedAsTooLarge() throws Exception {
    RuntimeChannel.Submission s = channel.submit(event("req-4"));
    get("/invocation/next");
    HttpResponse<String> r =
        post("/invocation/req-4/response", "x".repeat(RuntimeApiServer.MAX_RESPONSE_BYTES + 1));
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(r.body()).contains("RequestEntityTooLarge");
    assertThat(s.answer().join()).isInstanceOf(RuntimeAnswer.ResponseTooLarge.class);
  }

  @Test
  void initError_answersTheWaitingEvent() throws Exception {
    RuntimeChannel.Submission s = channel.submit(event("req-5"));
    HttpResponse<String> r =
        post(
            "/init/error",
            "{\"errorMessage\":\"Unable to import module 'app'\",\"errorType\":\"Runtime.ImportModuleError\"}",
            "Lambda-Runtime-Function-Error-Type",
            "Runtime.ImportModuleError");
    assertThat(r.statusCode()).isEqualTo(202);
    assertThat(s.answer().join())
        .isInstanceOfSatisfying(
            RuntimeAnswer.InitError.class,
            e -> assertThat(e.errorType()).isEqualTo("Runtime.ImportModuleError"));
  }

  @Test
  void closingTheChannel_releasesAWaitingNext() throws Exception {
    CompletableFuture<HttpResponse<String>> waiting =
        http.sendAsync(
            HttpRequest.newBuilder(uri("/invocation/next")).build(),
            HttpResponse.BodyHandlers.ofString());
    channel.firstPoll().join();
    channel.close();
    HttpResponse<String> r = waiting.join();
    assertThat(r.statusCode()).isIn(403, 410);
  }

  @Test
  void anAddressWithNoInstance_isRefused() throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:"
                            + server.port()
                            + "/2018-06-01/runtime/invocation/next"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("No instance is served at 127.0.0.1");
  }

  HttpResponse<String> extension(String method, String path, String body, String... headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(
                URI.create(
                    "http://" + channel.runtimeApiAddress() + "/2020-01-01/extension" + path))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void anExtensionRegisteredWithNullEvents_isAccepted_andGetsNoEvents() throws Exception {
    // AWS's Go library (lambda.WithEnableSIGTERM) registers so, then waits in next forever
    HttpResponse<String> registered =
        extension(
            "POST",
            "/register",
            "{\"events\": null}",
            "Lambda-Extension-Name",
            "GoLangEnableSIGTERM");
    assertThat(registered.statusCode()).isEqualTo(200);
    String id = registered.headers().firstValue("Lambda-Extension-Identifier").orElseThrow();
    CompletableFuture<HttpResponse<String>> extensionNext =
        http.sendAsync(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://"
                            + channel.runtimeApiAddress()
                            + "/2020-01-01/extension/event/next"))
                .header("Lambda-Extension-Identifier", id)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    RuntimeChannel.Submission s = channel.submit(event("req-go"));
    HttpResponse<String> next = get("/invocation/next");
    assertThat(next.statusCode()).as("init is not held up by it").isEqualTo(200);
    post("/invocation/req-go/response", "{}");
    assertThat(s.answer().join()).isInstanceOf(RuntimeAnswer.Response.class);
    assertThat(channel.extensionsIdle().isDone())
        .as("an extension with no events is never busy")
        .isTrue();
    assertThat(extensionNext.isDone()).as("it was sent nothing").isFalse();
  }

  @Test
  void aRegistrationWhoseEventsAreNotAnArray_is400NamingEvents() throws Exception {
    HttpResponse<String> r =
        extension("POST", "/register", "{\"events\": \"INVOKE\"}", "Lambda-Extension-Name", "x");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("InvalidRequest").contains("events must be an array");
  }
}
