package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.Runtime;

/** Synchronous invoke of Python functions through the real SDK client. */
class InvokeIT {

  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();
  static final ObjectMapper JSON = new ObjectMapper();

  static final String ECHO =
      """
      import os, json
      def handler(event, context):
          print("handling", json.dumps(event))
          return {
              "event": event,
              "instance": context.log_stream_name,
              "request_id": context.aws_request_id,
              "function_name": context.function_name,
              "function_version": context.function_version,
              "arn": context.invoked_function_arn,
              "memory": context.memory_limit_in_mb,
              "remaining": context.get_remaining_time_in_millis(),
              "log_group": context.log_group_name,
              "log_stream": context.log_stream_name,
              "client_custom": context.client_context.custom if context.client_context else None,
              "env": {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "LAMBDA_", "_HANDLER", "TZ", "MY_"))},
          }
      """;

  @BeforeAll
  static void start() {
    kiln.python("echo", ECHO);
  }

  static JsonNode json(InvokeResponse r) throws Exception {
    return JSON.readTree(r.payload().asByteArray());
  }

  static InvokeResponse invoke(String name, String payload) {
    return kiln.lambda()
        .invoke(b -> b.functionName(name).payload(SdkBytes.fromUtf8String(payload)));
  }

  @Test
  void invoke_returnsTheHandlersResultAndLambdasContext() throws Exception {
    InvokeResponse r = invoke("echo", "{\"hello\": \"world\"}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.functionError()).isNull();
    assertThat(r.executedVersion()).isEqualTo("$LATEST");
    JsonNode out = json(r);
    assertThat(out.get("event").get("hello").asText()).isEqualTo("world");
    assertThat(out.get("function_name").asText()).isEqualTo("echo");
    assertThat(out.get("function_version").asText()).isEqualTo("$LATEST");
    assertThat(out.get("arn").asText())
        .isEqualTo("arn:aws:lambda:us-east-1:000000000000:function:echo");
    assertThat(out.get("memory").asInt()).isEqualTo(128);
    assertThat(out.get("remaining").asLong()).isBetween(1L, 3000L);
    assertThat(out.get("log_group").asText()).isEqualTo("/aws/lambda/echo");
    assertThat(out.get("log_stream").asText())
        .matches("\\d{4}/\\d\\d/\\d\\d/\\[\\$LATEST\\][0-9a-f]{32}");
    assertThat(out.get("request_id").asText()).isEqualTo(r.responseMetadata().requestId());
    JsonNode env = out.get("env");
    assertThat(env.get("AWS_LAMBDA_FUNCTION_NAME").asText()).isEqualTo("echo");
    assertThat(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").asText()).isEqualTo("128");
    assertThat(env.get("AWS_REGION").asText()).isEqualTo("us-east-1");
    assertThat(env.get("AWS_EXECUTION_ENV").asText()).isEqualTo("AWS_Lambda_python3.12");
    assertThat(env.get("_HANDLER").asText()).isEqualTo("app.handler");
    assertThat(env.get("AWS_LAMBDA_INITIALIZATION_TYPE").asText()).isEqualTo("on-demand");
    assertThat(env.get("TZ").asText()).isEqualTo(":UTC");
    assertThat(env.has("LAMBDA_TASK_ROOT")).isTrue();
    assertThat(env.has("AWS_LAMBDA_RUNTIME_API")).isTrue();
  }

  @Test
  void aWarmInstanceIsReused() throws Exception {
    String first = json(invoke("echo", "{}")).get("instance").asText();
    String second = json(invoke("echo", "{}")).get("instance").asText();
    assertThat(second).isEqualTo(first);
  }

  @Test
  void concurrentInvocationsRunInParallelInstances() throws Exception {
    kiln.python(
        "sleeper",
        "import time\ndef handler(event, context):\n    time.sleep(event['s'])\n    return context.log_stream_name\n");
    // both calls are in flight together: each holds its instance until the other has started
    var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      List<CompletableFuture<InvokeResponse>> calls =
          List.of(
              CompletableFuture.supplyAsync(() -> invoke("sleeper", "{\"s\": 1.5}"), pool),
              CompletableFuture.supplyAsync(() -> invoke("sleeper", "{\"s\": 1.5}"), pool));
      List<String> pids = calls.stream().map(c -> c.join().payload().asUtf8String()).toList();
      assertThat(pids.get(0)).isNotEqualTo(pids.get(1));
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void logTail_carriesStartEndReportAndTheFunctionsOutput() {
    InvokeResponse r =
        kiln.lambda()
            .invoke(
                b ->
                    b.functionName("echo")
                        .logType(LogType.TAIL)
                        .payload(SdkBytes.fromUtf8String("{\"tail\": 1}")));
    String log = new String(Base64.getDecoder().decode(r.logResult()), StandardCharsets.UTF_8);
    String id = r.responseMetadata().requestId();
    assertThat(log).contains("START RequestId: " + id + " Version: $LATEST");
    assertThat(log).contains("handling {\"tail\": 1}");
    assertThat(log).contains("END RequestId: " + id);
    assertThat(log)
        .containsPattern(
            "REPORT RequestId: "
                + id
                + "\tDuration: [0-9.]+ ms\tBilled Duration: \\d+ ms\tMemory Size: 128 MB\tMax Memory Used: \\d+ MB");
  }

  @Test
  void clientContext_isPassedToTheFunction() throws Exception {
    String cc =
        Base64.getEncoder()
            .encodeToString("{\"custom\": {\"who\": \"me\"}}".getBytes(StandardCharsets.UTF_8));
    InvokeResponse r =
        kiln.lambda()
            .invoke(
                b ->
                    b.functionName("echo")
                        .clientContext(cc)
                        .payload(SdkBytes.fromUtf8String("{}")));
    assertThat(json(r).get("client_custom").get("who").asText()).isEqualTo("me");
  }

  @Test
  void handlerException_isAFunctionErrorWithPythonsErrorDocument() throws Exception {
    kiln.python("raiser", "def handler(event, context):\n    raise ValueError('boom')\n");
    InvokeResponse r = invoke("raiser", "{}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.functionError()).isEqualTo("Unhandled");
    JsonNode doc = json(r);
    assertThat(doc.get("errorType").asText()).isEqualTo("ValueError");
    assertThat(doc.get("errorMessage").asText()).isEqualTo("boom");
    assertThat(doc.get("stackTrace").isArray()).isTrue();
    // the instance survives a handled exception
    InvokeResponse again = invoke("raiser", "{}");
    assertThat(again.functionError()).isEqualTo("Unhandled");
  }

  @Test
  void timeout_killsTheInstanceAndAnswersSandboxTimedout() throws Exception {
    kiln.lambda()
        .createFunction(
            b ->
                b.functionName("slow")
                    .runtime(Runtime.PYTHON3_12)
                    .handler("app.handler")
                    .role(KilnFixture.ROLE)
                    .timeout(1)
                    .code(
                        c ->
                            c.zipFile(
                                SdkBytes.fromByteArray(
                                    Zips.of(
                                        "app.py",
                                        "import time\ndef handler(event, context):\n    if event.get('sleep'):\n        time.sleep(5)\n    return context.log_stream_name\n")))));
    String before = invoke("slow", "{}").payload().asUtf8String();
    long beforePid = Processes.instancePid(kiln.dataDir(), before);
    InvokeResponse r = invoke("slow", "{\"sleep\": true}");
    assertThat(r.functionError()).isEqualTo("Unhandled");
    JsonNode doc = json(r);
    assertThat(doc.get("errorType").asText()).isEqualTo("Sandbox.Timedout");
    assertThat(doc.get("errorMessage").asText())
        .isEqualTo(
            "RequestId: "
                + r.responseMetadata().requestId()
                + " Error: Task timed out after 1.00 seconds");
    assertThat(Processes.running(beforePid)).as("the timed-out instance is killed").isFalse();
    String after = invoke("slow", "{}").payload().asUtf8String();
    assertThat(after).isNotEqualTo(before);
  }

  @Test
  void crash_answersRuntimeExitErrorAndTheNextCallGetsAFreshInstance() throws Exception {
    kiln.python(
        "crasher",
        "import os\ndef handler(event, context):\n    if event.get('exit'):\n        os._exit(3)\n    return context.log_stream_name\n");
    String before = invoke("crasher", "{}").payload().asUtf8String();
    InvokeResponse r = invoke("crasher", "{\"exit\": true}");
    assertThat(r.functionError()).isEqualTo("Unhandled");
    JsonNode doc = json(r);
    assertThat(doc.get("errorType").asText()).isEqualTo("Runtime.ExitError");
    assertThat(doc.get("errorMessage").asText())
        .isEqualTo(
            "RequestId: "
                + r.responseMetadata().requestId()
                + " Error: Runtime exited with error: exit status 3");
    String after = invoke("crasher", "{}").payload().asUtf8String();
    assertThat(after).isNotEqualTo(before);
  }

  @Test
  void anInstanceThatDiesWhileIdle_isNotHandedTheNextEvent() throws Exception {
    kiln.python(
        "dies-idle",
        "import os, threading\ndef handler(event, context):\n"
            + "    threading.Timer(0.2, lambda: os._exit(0)).start()\n    return context.log_stream_name\n");
    String first = invoke("dies-idle", "{}").payload().asUtf8String();
    long firstPid = Processes.instancePid(kiln.dataDir(), first);
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(10))
        .until(() -> !Processes.running(firstPid));
    InvokeResponse next = invoke("dies-idle", "{}");
    assertThat(next.functionError()).isNull();
    assertThat(next.payload().asUtf8String()).isNotEqualTo(first);
  }

  @Test
  void initFailures_areReportedWithAwsErrorTypes() throws Exception {
    kiln.python("import-error", "import does_not_exist\ndef handler(e, c):\n    return 1\n");
    JsonNode doc = json(invoke("import-error", "{}"));
    assertThat(doc.get("errorType").asText()).isEqualTo("Runtime.ImportModuleError");
    assertThat(doc.get("errorMessage").asText())
        .isEqualTo("Unable to import module 'app': No module named 'does_not_exist'");

    kiln.python("no-handler", "def other(e, c):\n    return 1\n");
    doc = json(invoke("no-handler", "{}"));
    assertThat(doc.get("errorType").asText()).isEqualTo("Runtime.HandlerNotFound");
    assertThat(doc.get("errorMessage").asText())
        .isEqualTo("Handler 'handler' missing on module 'app'");

    kiln.python("syntax-error", "def handler(e, c)\n    return 1\n");
    doc = json(invoke("syntax-error", "{}"));
    assertThat(doc.get("errorType").asText()).isEqualTo("Runtime.UserCodeSyntaxError");
    assertThat(doc.get("errorMessage").asText()).startsWith("Syntax error in module 'app'");
  }

  @Test
  void handlerInASubdirectory() {
    kiln.create(
        "nested",
        Runtime.PYTHON3_12,
        "pkg/sub/mod.handler",
        Zips.of(
            "pkg/__init__.py", "",
            "pkg/sub/__init__.py", "",
            "pkg/sub/mod.py", "def handler(e, c):\n    return 'nested ok'\n"));
    assertThat(invoke("nested", "{}").payload().asUtf8String()).isEqualTo("\"nested ok\"");
  }

  @Test
  void updates_reachNewInvocationsAndRetireOldInstances() throws Exception {
    kiln.python(
        "changing",
        "import os\nV = 1\ndef handler(e, c):\n    return [V, c.log_stream_name, os.environ.get('MY_SETTING')]\n");
    JsonNode v1 = json(invoke("changing", "{}"));
    assertThat(v1.get(0).asInt()).isEqualTo(1);

    kiln.lambda()
        .updateFunctionConfiguration(
            b ->
                b.functionName("changing")
                    .environment(e -> e.variables(Map.of("MY_SETTING", "on"))));
    JsonNode v2 = json(invoke("changing", "{}"));
    assertThat(v2.get(2).asText()).isEqualTo("on");
    assertThat(v2.get(1).asText()).isNotEqualTo(v1.get(1).asText());
    long v2Pid = Processes.instancePid(kiln.dataDir(), v2.get(1).asText());

    kiln.lambda()
        .updateFunctionCode(
            b ->
                b.functionName("changing")
                    .zipFile(
                        SdkBytes.fromByteArray(
                            Zips.of(
                                "app.py",
                                "import os\nV = 2\ndef handler(e, c):\n    return [V, c.log_stream_name, os.environ.get('MY_SETTING')]\n"))));
    JsonNode v3 = json(invoke("changing", "{}"));
    assertThat(v3.get(0).asInt()).isEqualTo(2);
    assertThat(v3.get(2).asText()).isEqualTo("on");
    assertThat(Processes.running(v2Pid))
        .as("the instance of the previous revision is stopped")
        .isFalse();
  }

  @Test
  void publishedVersions_runTheirOwnSnapshot() throws Exception {
    kiln.python("versioned", "def handler(e, c):\n    return [1, c.function_version]\n");
    kiln.lambda()
        .updateFunctionCode(
            b ->
                b.functionName("versioned")
                    .publish(true)
                    .zipFile(
                        SdkBytes.fromByteArray(
                            Zips.of(
                                "app.py",
                                "def handler(e, c):\n    return [2, c.function_version]\n"))));
    kiln.lambda()
        .updateFunctionCode(
            b ->
                b.functionName("versioned")
                    .zipFile(
                        SdkBytes.fromByteArray(
                            Zips.of(
                                "app.py",
                                "def handler(e, c):\n    return [3, c.function_version]\n"))));
    InvokeResponse v1 =
        kiln.lambda()
            .invoke(
                b ->
                    b.functionName("versioned")
                        .qualifier("1")
                        .payload(SdkBytes.fromUtf8String("{}")));
    assertThat(v1.payload().asUtf8String()).isEqualTo("[2, \"1\"]");
    assertThat(v1.executedVersion()).isEqualTo("1");
    assertThat(invoke("versioned", "{}").payload().asUtf8String()).isEqualTo("[3, \"$LATEST\"]");
  }

  @Test
  void dryRun_checksTheFunctionWithoutRunningIt() {
    InvokeResponse r =
        kiln.lambda().invoke(b -> b.functionName("echo").invocationType(InvocationType.DRY_RUN));
    assertThat(r.statusCode()).isEqualTo(204);
  }

  @Test
  void anEventTooLargeForAsynchronousInvocation_isRefused() {
    String big = "\"" + "x".repeat(300 * 1024) + "\"";
    assertThatThrownBy(
            () ->
                kiln.lambda()
                    .invoke(
                        b ->
                            b.functionName("echo")
                                .invocationType(InvocationType.EVENT)
                                .payload(SdkBytes.fromUtf8String(big))))
        .isInstanceOfSatisfying(
            AwsServiceException.class,
            e -> {
              assertThat(e.statusCode()).isEqualTo(413);
              assertThat(e.awsErrorDetails().errorMessage())
                  .isEqualTo(
                      "Request must be smaller than 262144 bytes for the InvokeFunction operation");
            });
  }

  @Test
  void payloadThatIsNotJson_isInvalidRequestContent() {
    assertThatThrownBy(() -> invoke("echo", "not json"))
        .isInstanceOfSatisfying(
            AwsServiceException.class,
            e -> {
              assertThat(e.statusCode()).isEqualTo(400);
              assertThat(e.awsErrorDetails().errorCode())
                  .isEqualTo("InvalidRequestContentException");
              assertThat(e.awsErrorDetails().errorMessage())
                  .startsWith("Could not parse request body into json");
            });
  }

  @Test
  void requestOver6Mb_isRequestTooLarge() {
    String big = "\"" + "x".repeat(6 * 1024 * 1024) + "\"";
    assertThatThrownBy(() -> invoke("echo", big))
        .isInstanceOfSatisfying(
            AwsServiceException.class,
            e -> {
              assertThat(e.statusCode()).isEqualTo(413);
              assertThat(e.awsErrorDetails().errorCode()).isEqualTo("RequestTooLargeException");
              assertThat(e.awsErrorDetails().errorMessage())
                  .isEqualTo(
                      "Request must be smaller than 6291456 bytes for the InvokeFunction operation");
            });
  }

  @Test
  void responseOver6Mb_isAFunctionError() throws Exception {
    kiln.python("big-answer", "def handler(e, c):\n    return 'x' * (7 * 1024 * 1024)\n");
    // a full vCPU and time to spare: at 128 MB (a 14th of a CPU) encoding 7 MB on a busy machine
    // can outlast the default 3 s, and this test is about the size, not the speed
    kiln.lambda()
        .updateFunctionConfiguration(
            b -> b.functionName("big-answer").memorySize(1769).timeout(30));
    InvokeResponse r = invoke("big-answer", "{}");
    assertThat(r.functionError()).isEqualTo("Unhandled");
    JsonNode doc = json(r);
    assertThat(doc.get("errorType").asText()).isEqualTo("Function.ResponseSizeTooLarge");
    assertThat(doc.get("errorMessage").asText())
        .isEqualTo("Response payload size exceeded maximum allowed payload size (6291556 bytes).");
  }

  @Test
  void emptyPayload_reachesTheFunctionAsAnEmptyObject() throws Exception {
    InvokeResponse r = kiln.lambda().invoke(b -> b.functionName("echo"));
    assertThat(json(r).get("event").isObject()).isTrue();
    assertThat(json(r).get("event").size()).isZero();
  }

  @Test
  void runtimeApi_refusesCallersThatAreNotTheInstance() throws Exception {
    JsonNode out = json(invoke("echo", "{}"));
    String address = out.get("env").get("AWS_LAMBDA_RUNTIME_API").asText();
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://" + address + "/2018-06-01/runtime/invocation/next"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("not a process of the instance");
    // the instance is unharmed
    assertThat(invoke("echo", "{}").statusCode()).isEqualTo(200);
  }
}
