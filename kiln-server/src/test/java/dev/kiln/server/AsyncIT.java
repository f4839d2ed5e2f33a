package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvalidParameterValueException;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;

/**
 * Asynchronous invocation over the SDK: 202 once stored, delivery, destinations with AWS's
 * invocation record, throttled events kept and retried, and configuration errors.
 */
class AsyncIT {

  static final ObjectMapper JSON = new ObjectMapper();
  static final String RECORDER =
      "import json\ndef handler(e, c):\n    print('RECORD ' + json.dumps(e), flush=True)\n    return 'ok'\n";
  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();
  static String recorderArn;

  @BeforeAll
  static void start() {
    recorderArn = kiln.python("recorder", RECORDER).functionArn();
  }

  /** The record a destination received for {@code requestId}, from the recorder's output. */
  static JsonNode recordFor(String requestId) {
    return Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> findRecord(requestId), Optional::isPresent)
        .orElseThrow();
  }

  static Optional<JsonNode> findRecord(String requestId) throws Exception {
    try (Stream<Path> dirs = Files.list(kiln.dataDir().resolve("instances"))) {
      for (Path dir : dirs.toList()) {
        Path log = dir.resolve("output.log");
        if (!Files.exists(log)) {
          continue;
        }
        for (String line : Files.readAllLines(log)) {
          if (line.startsWith("RECORD ") && line.contains(requestId)) {
            return Optional.of(JSON.readTree(line.substring(7)));
          }
        }
      }
    }
    return Optional.empty();
  }

  static String send(String function, String payload) {
    var r =
        kiln.lambda()
            .invoke(
                b ->
                    b.functionName(function)
                        .invocationType(InvocationType.EVENT)
                        .payload(SdkBytes.fromUtf8String(payload)));
    assertThat(r.statusCode()).isEqualTo(202);
    assertThat(r.payload().asByteArray()).isEmpty();
    return r.responseMetadata().requestId();
  }

  static JsonNode counts(String function) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                kiln.signed("GET", "/kiln/functions/" + function + "/async-events"),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  @Test
  void anEvent_isAccepted_delivered_andItsSuccessRecordedAtTheDestination() throws Exception {
    kiln.python(
        "doubler",
        "def handler(e, c):\n    return {'twice': e['n'] * 2, 'id': c.aws_request_id}\n");
    var config =
        kiln.lambda()
            .putFunctionEventInvokeConfig(
                b ->
                    b.functionName("doubler")
                        .maximumRetryAttempts(0)
                        .destinationConfig(d -> d.onSuccess(s -> s.destination(recorderArn))));
    assertThat(config.maximumRetryAttempts()).isZero();
    assertThat(config.maximumEventAgeInSeconds()).isEqualTo(21600);
    String id = send("doubler", "{\"n\": 21}");

    JsonNode record = recordFor(id);
    assertThat(record.get("version").asText()).isEqualTo("1.0");
    assertThat(record.at("/requestContext/requestId").asText()).isEqualTo(id);
    assertThat(record.at("/requestContext/functionArn").asText())
        .isEqualTo("arn:aws:lambda:us-east-1:000000000000:function:doubler:$LATEST");
    assertThat(record.at("/requestContext/condition").asText()).isEqualTo("Success");
    assertThat(record.at("/requestContext/approximateInvokeCount").asInt()).isEqualTo(1);
    assertThat(record.at("/requestPayload/n").asInt()).isEqualTo(21);
    assertThat(record.at("/responseContext/statusCode").asInt()).isEqualTo(200);
    assertThat(record.at("/responseContext/executedVersion").asText()).isEqualTo("$LATEST");
    assertThat(record.at("/responsePayload/twice").asInt()).isEqualTo(42);
    assertThat(record.at("/responsePayload/id").asText())
        .as("the function ran under the event's request id")
        .isEqualTo(id);
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(counts("doubler").get("Succeeded").asInt()).isEqualTo(1));
    assertThat(counts("doubler").get("Queued").asInt()).isZero();
  }

  @Test
  void aFailingEvent_goesToOnFailure_whenItsRetriesAreSpent() throws Exception {
    kiln.python("faulty", "def handler(e, c):\n    raise ValueError('no good')\n");
    kiln.lambda()
        .putFunctionEventInvokeConfig(
            b ->
                b.functionName("faulty")
                    .maximumRetryAttempts(0)
                    .destinationConfig(d -> d.onFailure(s -> s.destination(recorderArn))));
    String id = send("faulty", "{\"x\": 1}");
    JsonNode record = recordFor(id);
    assertThat(record.at("/requestContext/condition").asText()).isEqualTo("RetriesExhausted");
    assertThat(record.at("/responseContext/functionError").asText()).isEqualTo("Unhandled");
    assertThat(record.at("/responsePayload/errorType").asText()).isEqualTo("ValueError");
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(counts("faulty").get("Failed").asInt()).isEqualTo(1));
  }

  @Test
  void aFailedEvent_withoutOnFailure_goesToTheDeadLetterFunction_asItWasSent() throws Exception {
    kiln.python("doomed", "def handler(e, c):\n    raise RuntimeError('never')\n");
    kiln.lambda()
        .updateFunctionConfiguration(
            b -> b.functionName("doomed").deadLetterConfig(d -> d.targetArn(recorderArn)));
    assertThat(
            kiln.lambda()
                .getFunctionConfiguration(b -> b.functionName("doomed"))
                .deadLetterConfig()
                .targetArn())
        .isEqualTo(recorderArn);
    kiln.lambda()
        .putFunctionEventInvokeConfig(b -> b.functionName("doomed").maximumRetryAttempts(0));
    String marker = "dead-" + System.nanoTime();
    send("doomed", "{\"marker\": \"" + marker + "\"}");
    JsonNode delivered = recordFor(marker);
    assertThat(delivered.get("marker").asText())
        .as("the dead-letter function gets the original event")
        .isEqualTo(marker);
    assertThatThrownBy(
            () ->
                kiln.lambda()
                    .updateFunctionConfiguration(
                        b ->
                            b.functionName("doomed")
                                .deadLetterConfig(
                                    d -> d.targetArn("arn:aws:sqs:us-east-1:000000000000:q"))))
        .isInstanceOf(InvalidParameterValueException.class);
    assertThat(
            kiln.lambda()
                .getFunctionConfiguration(b -> b.functionName("doomed"))
                .deadLetterConfig()
                .targetArn())
        .as("unchanged by the refused update")
        .isEqualTo(recorderArn);
  }

  @Test
  void aThrottledEvent_isKept_andDeliveredOnceThereIsRoom() throws Exception {
    kiln.python("paused", "def handler(e, c):\n    return 'ran'\n");
    kiln.lambda()
        .putFunctionConcurrency(b -> b.functionName("paused").reservedConcurrentExecutions(0));
    kiln.lambda()
        .putFunctionEventInvokeConfig(
            b ->
                b.functionName("paused")
                    .destinationConfig(d -> d.onSuccess(s -> s.destination(recorderArn))));
    String id = send("paused", "{}");
    Thread.sleep(2500);
    assertThat(counts("paused").get("Queued").asInt() + counts("paused").get("InFlight").asInt())
        .as("throttled, and kept")
        .isEqualTo(1);
    assertThat(findRecord(id)).isEmpty();
    kiln.lambda().deleteFunctionConcurrency(b -> b.functionName("paused"));
    assertThat(recordFor(id).at("/requestContext/condition").asText()).isEqualTo("Success");
  }

  @Test
  void invokeAsync_theDeprecatedApi_acceptsAnEventToo() throws Exception {
    // the SDK for Java v2 no longer has InvokeAsync; the CLI and boto3 still send it like this
    kiln.python("legacy", "def handler(e, c):\n    return 1\n");
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                kiln.signed(
                    "POST",
                    "/2014-11-13/functions/legacy/invoke-async/",
                    java.util.Map.of(),
                    "{\"a\": 1}".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    "lambda"),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(202);
    assertThat(JSON.readTree(r.body()).get("Status").asInt()).isEqualTo(202);
    assertThat(r.headers().firstValue("x-amzn-RequestId")).isPresent();
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(counts("legacy").get("Succeeded").asInt()).isEqualTo(1));
  }

  @Test
  void eventInvokeConfigs_areCheckedAsAwsChecksThem() {
    kiln.python("configured", "def handler(e, c):\n    return 1\n");
    assertThatThrownBy(
            () -> kiln.lambda().getFunctionEventInvokeConfig(b -> b.functionName("configured")))
        .isInstanceOfSatisfying(
            ResourceNotFoundException.class,
            e ->
                assertThat(e.awsErrorDetails().errorMessage())
                    .isEqualTo(
                        "The function arn:aws:lambda:us-east-1:000000000000:function:configured:$LATEST"
                            + " doesn't have an EventInvokeConfig"));
    assertThatThrownBy(
            () ->
                kiln.lambda()
                    .putFunctionEventInvokeConfig(
                        b ->
                            b.functionName("configured")
                                .destinationConfig(
                                    d ->
                                        d.onFailure(
                                            s ->
                                                s.destination(
                                                    "arn:aws:sqs:us-east-1:000000000000:dlq")))))
        .isInstanceOfSatisfying(
            InvalidParameterValueException.class,
            e ->
                assertThat(e.awsErrorDetails().errorMessage())
                    .startsWith(
                        "The destination ARN arn:aws:sqs:us-east-1:000000000000:dlq is invalid"));
    assertThatThrownBy(
            () ->
                kiln.lambda()
                    .putFunctionEventInvokeConfig(
                        b ->
                            b.functionName("configured")
                                .destinationConfig(
                                    d ->
                                        d.onSuccess(
                                            s ->
                                                s.destination(
                                                    "arn:aws:lambda:us-east-1:000000000000:function:ghost")))))
        .isInstanceOfSatisfying(
            InvalidParameterValueException.class,
            e -> assertThat(e.awsErrorDetails().errorMessage()).contains("does not exist"));
    assertThatThrownBy(
            () ->
                kiln.lambda()
                    .putFunctionEventInvokeConfig(
                        b -> b.functionName("configured").maximumRetryAttempts(3)))
        .isInstanceOfSatisfying(
            LambdaException.class,
            e -> {
              assertThat(e.awsErrorDetails().errorCode()).isEqualTo("ValidationException");
              assertThat(e.awsErrorDetails().errorMessage()).contains("maximumRetryAttempts");
            });
    assertThatThrownBy(
            () ->
                kiln.lambda()
                    .putFunctionEventInvokeConfig(
                        b -> b.functionName("configured").maximumEventAgeInSeconds(59)))
        .isInstanceOf(LambdaException.class);
    // nothing was stored by the refused calls
    assertThat(
            kiln.lambda()
                .listFunctionEventInvokeConfigs(b -> b.functionName("configured"))
                .functionEventInvokeConfigs())
        .isEmpty();

    kiln.lambda()
        .putFunctionEventInvokeConfig(
            b ->
                b.functionName("configured").maximumRetryAttempts(1).maximumEventAgeInSeconds(120));
    var updated =
        kiln.lambda()
            .updateFunctionEventInvokeConfig(
                b -> b.functionName("configured").maximumEventAgeInSeconds(300));
    assertThat(updated.maximumRetryAttempts()).as("kept by Update").isEqualTo(1);
    assertThat(updated.maximumEventAgeInSeconds()).isEqualTo(300);
    kiln.lambda().deleteFunctionEventInvokeConfig(b -> b.functionName("configured"));
    assertThat(
            kiln.lambda()
                .listFunctionEventInvokeConfigs(b -> b.functionName("configured"))
                .functionEventInvokeConfigs())
        .isEmpty();
  }
}
