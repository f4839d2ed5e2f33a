package dev.kiln.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.api.auth.CodeLinks;
import dev.kiln.invoke.Catalog;
import dev.kiln.invoke.ConcurrencyBudget;
import dev.kiln.invoke.FunctionVersion;
import dev.kiln.invoke.InvocationResult;
import dev.kiln.invoke.Invocations;
import dev.kiln.invoke.InvokeRequest;
import dev.kiln.model.Account;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import dev.kiln.store.LocalCodeStore;
import dev.kiln.testing.InMemoryMetadataStore;
import io.helidon.webserver.WebServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Invoke API's HTTP side alone: LambdaApi's route over a fake {@link Invocations}, so what is
 * checked is exactly what the API layer does with a request and an answer (headers, status, error
 * shapes, what it hands the port), with no instance, store or sandbox behind it.
 */
class InvokeRouteTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  /** The port as the test scripts it: what resolve and run do, and what run was given. */
  static final class FakeInvocations implements Invocations {
    final List<InvokeRequest> runs = new ArrayList<>();
    final List<FunctionRef> resolved = new ArrayList<>();
    Function<InvokeRequest, InvocationResult> answer =
        r -> new InvocationResult.Success("req-1", "$LATEST", bytes("\"ok\""), Optional.empty());
    RuntimeException refusal;

    @Override
    public synchronized InvocationResult run(InvokeRequest request) {
      runs.add(request);
      return answer.apply(request);
    }

    @Override
    public synchronized FunctionVersion resolve(FunctionRef function) {
      resolved.add(function);
      if (refusal != null) {
        throw refusal;
      }
      return null; // the route only checks that the name resolves
    }
  }

  static FakeInvocations invocations;
  static WebServer server;

  @BeforeAll
  static void serve(@TempDir Path code) {
    invocations = new FakeInvocations();
    // the control plane's parts over an in-memory store: the Invoke route only asks the port
    Catalog catalog =
        Catalog.of(
            new InMemoryMetadataStore(),
            new LocalCodeStore(code),
            null,
            null,
            Account.DEFAULT,
            Clock.systemUTC());
    dev.kiln.testing.InMemoryIamStore iam = new dev.kiln.testing.InMemoryIamStore();
    LambdaApi api =
        new LambdaApi(
            catalog,
            invocations,
            new ConcurrencyBudget(1000, Map.of()),
            null,
            null,
            null,
            Optional.empty(),
            new CodeLinks(Clock.systemUTC()),
            new dev.kiln.api.auth.IdentityPolicies(
                iam, Account.DEFAULT, dev.kiln.api.auth.IdentityPolicies.Mode.COMPAT),
            new dev.kiln.api.iam.IamApi(iam, Account.DEFAULT, Clock.systemUTC()),
            java.util.Optional.empty(),
            Clock.systemUTC());
    server = WebServer.builder().port(0).routing(api::routes).build().start();
  }

  @AfterAll
  static void stop() {
    server.stop();
  }

  @BeforeEach
  void reset() {
    synchronized (invocations) {
      invocations.runs.clear();
      invocations.resolved.clear();
      invocations.refusal = null;
      invocations.answer =
          r -> new InvocationResult.Success("req-1", "$LATEST", bytes("\"ok\""), Optional.empty());
    }
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static HttpResponse<String> invoke(String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static final String INVOKE = "/2015-03-31/functions/orders/invocations";

  @Test
  void anAnswer_isSentWithTheRequestIdAndTheVersionThatRan_andThePortGetsWhatTheCallerSent()
      throws Exception {
    invocations.answer =
        r -> new InvocationResult.Success("req-7", "3", bytes("{\"n\":1}"), Optional.empty());
    String context = Base64.getEncoder().encodeToString(bytes("{\"custom\":{\"a\":\"b\"}}"));

    HttpResponse<String> r =
        invoke(
            INVOKE + "?Qualifier=live",
            "{\"x\":1}",
            "X-Amz-Client-Context",
            context,
            "X-Amzn-Trace-Id",
            "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"n\":1}");
    assertThat(r.headers().firstValue("x-amzn-RequestId")).contains("req-7");
    assertThat(r.headers().firstValue("X-Amz-Executed-Version")).contains("3");
    assertThat(r.headers().firstValue("X-Amz-Function-Error")).isEmpty();
    assertThat(r.headers().firstValue("X-Amz-Log-Result")).isEmpty();
    InvokeRequest sent = invocations.runs.getFirst();
    assertThat(sent.function().name()).isEqualTo("orders");
    assertThat(sent.function().qualifierOrLatest()).isEqualTo("live");
    assertThat(new String(sent.payload(), StandardCharsets.UTF_8)).isEqualTo("{\"x\":1}");
    assertThat(sent.queuedSince()).isEmpty();
    assertThat(sent.clientContext()).contains("{\"custom\":{\"a\":\"b\"}}");
    assertThat(sent.traceHeader()).contains("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");
    assertThat(sent.tailLog()).isFalse();
  }

  @Test
  void aFunctionError_isStill200_markedUnhandled_withTheLogTailWhenAskedFor() throws Exception {
    String tail = Base64.getEncoder().encodeToString(bytes("START RequestId: req-2\n"));
    invocations.answer =
        r ->
            new InvocationResult.FunctionError(
                "req-2",
                "$LATEST",
                "Runtime.ExitError",
                bytes("{\"errorType\":\"Runtime.ExitError\"}"),
                Optional.of(tail));

    HttpResponse<String> r = invoke(INVOKE, "{}", "X-Amz-Log-Type", "Tail");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("X-Amz-Function-Error")).contains("Unhandled");
    assertThat(r.headers().firstValue("X-Amz-Log-Result")).contains(tail);
    assertThat(r.body()).isEqualTo("{\"errorType\":\"Runtime.ExitError\"}");
    assertThat(invocations.runs.getFirst().tailLog()).isTrue();
  }

  @Test
  void aThrottle_is429_inAwsShape_withItsReasonAndRetryAfter() throws Exception {
    invocations.answer =
        r -> {
          throw LambdaError.tooManyRequests(
              "Rate Exceeded.", "ReservedFunctionConcurrentInvocationLimitExceeded", "1");
        };

    HttpResponse<String> r = invoke(INVOKE, "{}");

    assertThat(r.statusCode()).isEqualTo(429);
    assertThat(r.headers().firstValue("x-amzn-ErrorType")).contains("TooManyRequestsException");
    assertThat(r.headers().firstValue("Retry-After")).contains("1");
    JsonNode body = JSON.readTree(r.body());
    assertThat(body.path("message").asText()).isEqualTo("Rate Exceeded.");
    assertThat(body.path("Reason").asText())
        .isEqualTo("ReservedFunctionConcurrentInvocationLimitExceeded");
    assertThat(body.has("RetryAfterSeconds")).isFalse();
  }

  @Test
  void anUnknownFunction_is404_andNothingRuns() throws Exception {
    invocations.refusal =
        LambdaError.notFound(
            "Function not found: arn:aws:lambda:us-east-1:000000000000:function:orders");

    HttpResponse<String> r = invoke(INVOKE, "{}");

    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(r.headers().firstValue("x-amzn-ErrorType")).contains("ResourceNotFoundException");
    assertThat(JSON.readTree(r.body()).path("message").asText())
        .isEqualTo("Function not found: arn:aws:lambda:us-east-1:000000000000:function:orders");
    assertThat(invocations.runs).isEmpty();
  }

  @Test
  void aPayloadThatIsNotJson_is400_beforeAnythingResolvesOrRuns() throws Exception {
    HttpResponse<String> r = invoke(INVOKE, "{\"open\":");

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.headers().firstValue("x-amzn-ErrorType"))
        .contains("InvalidRequestContentException");
    assertThat(JSON.readTree(r.body()).path("message").asText())
        .startsWith("Could not parse request body into json: Could not parse payload into json:");
    assertThat(invocations.resolved).isEmpty();
    assertThat(invocations.runs).isEmpty();
  }

  @Test
  void anUnknownLogOrInvocationType_isAValidationError_namingTheMember() throws Exception {
    HttpResponse<String> log = invoke(INVOKE, "{}", "X-Amz-Log-Type", "Full");
    HttpResponse<String> type = invoke(INVOKE, "{}", "X-Amz-Invocation-Type", "Later");

    assertThat(log.statusCode()).isEqualTo(400);
    assertThat(log.headers().firstValue("x-amzn-ErrorType")).contains("ValidationException");
    assertThat(JSON.readTree(log.body()).path("message").asText())
        .contains("logType")
        .contains("Member must satisfy enum value set: [None, Tail]");
    assertThat(type.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(type.body()).path("message").asText())
        .contains("invocationType")
        .contains("Member must satisfy enum value set: [Event, RequestResponse, DryRun]");
    assertThat(invocations.runs).isEmpty();
  }

  @Test
  void aDryRun_resolvesTheFunction_answers204_andRunsNothing() throws Exception {
    HttpResponse<String> r = invoke(INVOKE, "{}", "X-Amz-Invocation-Type", "DryRun");

    assertThat(r.statusCode()).isEqualTo(204);
    assertThat(invocations.resolved).extracting(FunctionRef::name).containsExactly("orders");
    assertThat(invocations.runs).isEmpty();
  }
}
