package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.server.ServerSettings.SandboxChoice;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * The Extensions API: external extensions from a layer's {@code extensions/} directory (an
 * extension over curl that counts invocations), internal extensions registered from the runtime
 * process, and an extension that fails its init.
 */
class ExtensionsIT {

  static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Waits (up to 8 s) for the counter extension to record the current invocation in the /tmp it
   * shares with the function, and returns what it registered with.
   */
  static final String FUNCTION =
      """
      import json, os, time
      STARTED_AFTER_REGISTRATION = os.path.exists('/tmp/counter-registration.json')
      def handler(event, context):
          mine = '/tmp/invoke-' + context.aws_request_id
          for _ in range(800):
              if os.path.exists(mine):
                  break
              time.sleep(0.01)
          return {'sawThisInvocation': os.path.exists(mine),
                  'invokeEvent': json.load(open(mine)) if os.path.exists(mine) else None,
                  'registration': json.load(open('/tmp/counter-registration.json')),
                  'startedAfterRegistration': STARTED_AFTER_REGISTRATION}
      """;

  @BeforeAll
  static void tools() {
    Tools.require("curl");
  }

  static byte[] extensionLayer(String... names) throws Exception {
    Map<String, String> files = new java.util.HashMap<>();
    for (String name : names) {
      try (var in = ExtensionsIT.class.getResourceAsStream("/extensions/" + name)) {
        files.put("extensions/" + name, new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
    }
    return ZipsWithLinks.withExecutables(files, Set.copyOf(files.keySet()));
  }

  static String publish(LambdaClient lambda, String name, byte[] zip) {
    return lambda
        .publishLayerVersion(
            b -> b.layerName(name).content(c -> c.zipFile(SdkBytes.fromByteArray(zip))))
        .layerVersionArn();
  }

  static void create(
      LambdaClient lambda, String name, String layer, String code, Map<String, String> env) {
    lambda.createFunction(
        b ->
            b.functionName(name)
                .runtime(Runtime.PYTHON3_12)
                .handler("app.handler")
                .role(KilnFixture.ROLE)
                .timeout(10)
                // a full vCPU: the extension (a shell forking curl and sed) shares the function's
                // CPU quota, which at 128 MB would make it crawl on a busy machine
                .memorySize(1769)
                .layers(layer)
                .environment(e -> e.variables(env))
                .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of("app.py", code)))));
  }

  static InvokeResponse invoke(LambdaClient lambda, String name) {
    return lambda.invoke(
        b -> b.functionName(name).logType(LogType.TAIL).payload(SdkBytes.fromUtf8String("{}")));
  }

  @Test
  void anExternalExtension_registersBeforeTheRuntimeStarts_andSeesEveryInvocation()
      throws Exception {
    try (KilnFixture kiln = new KilnFixture()) {
      String layer = publish(kiln.lambda, "counter", extensionLayer("counter.sh"));
      create(kiln.lambda, "counted", layer, FUNCTION, Map.of());
      JsonNode last = null;
      String firstLog = null;
      for (int i = 0; i < 3; i++) {
        InvokeResponse r = invoke(kiln.lambda, "counted");
        assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
        last = JSON.readTree(r.payload().asUtf8String());
        assertThat(last.get("sawThisInvocation").asBoolean())
            .as("the extension got INVOKE for this very invocation")
            .isTrue();
        assertThat(last.at("/invokeEvent/requestId").asText())
            .isEqualTo(r.responseMetadata().requestId());
        assertThat(last.at("/invokeEvent/invokedFunctionArn").asText())
            .isEqualTo("arn:aws:lambda:us-east-1:000000000000:function:counted");
        assertThat(last.at("/invokeEvent/deadlineMs").asLong())
            .isGreaterThan(System.currentTimeMillis());
        assertThat(last.at("/invokeEvent/tracing/value").asText()).startsWith("Root=1-");
        if (firstLog == null) {
          firstLog = new String(Base64.getDecoder().decode(r.logResult()), StandardCharsets.UTF_8);
        }
      }
      assertThat(last.get("startedAfterRegistration").asBoolean())
          .as("the function's init ran after the extension had registered")
          .isTrue();
      assertThat(last.at("/registration/functionName").asText()).isEqualTo("counted");
      assertThat(last.at("/registration/functionVersion").asText()).isEqualTo("$LATEST");
      assertThat(last.at("/registration/handler").asText()).isEqualTo("app.handler");
      assertThat(last.at("/registration/accountId").asText()).isEqualTo("000000000000");
      Matcher init = Pattern.compile("Init Duration: ([0-9.]+) ms").matcher(firstLog);
      assertThat(init.find()).as(firstLog).isTrue();
      assertThat(Double.parseDouble(init.group(1)))
          .as("init ends only when the extension, which sleeps a second, calls next")
          .isGreaterThanOrEqualTo(1000.0);
    }
  }

  @Test
  void shutdown_reachesTheExtension_beforeTheInstanceIsStopped() throws Exception {
    Path report = dev.kiln.testing.TempDirs.create("kiln-extension-report-");
    try (KilnFixture kiln = new KilnFixture(Duration.ofMinutes(5), SandboxChoice.PROCESS)) {
      String layer = publish(kiln.lambda, "counter", extensionLayer("counter.sh"));
      create(
          kiln.lambda,
          "spun-down",
          layer,
          "def handler(event, context):\n    return 'ok'\n",
          Map.of("EXTENSION_REPORT_DIR", report.toString()));
      for (int i = 0; i < 2; i++) {
        assertThat(invoke(kiln.lambda, "spun-down").functionError()).isNull();
      }
      // a configuration change retires the instances: SHUTDOWN, then the runtime is stopped
      kiln.lambda.updateFunctionConfiguration(b -> b.functionName("spun-down").memorySize(256));
      assertThat(invoke(kiln.lambda, "spun-down").functionError()).isNull();
      // and the server's own shutdown stops the last one the same way
    }
    List<Path> reports;
    try (var files = Files.list(report)) {
      reports = files.toList();
    }
    assertThat(reports).as("every instance's extension got SHUTDOWN").isNotEmpty();
    int counted = 0;
    for (Path file : reports) {
      String line = Files.readString(file).trim();
      int space = line.indexOf(' ');
      counted += Integer.parseInt(line.substring(0, space));
      JsonNode event = JSON.readTree(line.substring(space + 1));
      assertThat(event.get("eventType").asText()).isEqualTo("SHUTDOWN");
      assertThat(event.get("shutdownReason").asText()).isEqualTo("spindown");
      assertThat(event.get("deadlineMs").asLong()).isGreaterThan(0);
    }
    assertThat(counted).as("the extensions counted every invocation between them").isEqualTo(3);
  }

  @Test
  void anExtensionsInitError_failsTheInvocationWithItsErrorType() throws Exception {
    try (KilnFixture kiln = new KilnFixture()) {
      String layer = publish(kiln.lambda, "failing", extensionLayer("failing.sh"));
      create(kiln.lambda, "blocked", layer, "def handler(e, c):\n    return 1\n", Map.of());
      InvokeResponse r = invoke(kiln.lambda, "blocked");
      assertThat(r.functionError()).isEqualTo("Unhandled");
      JsonNode doc = JSON.readTree(r.payload().asUtf8String());
      assertThat(doc.get("errorType").asText()).isEqualTo("Extension.ConfigMissing");
      assertThat(doc.get("errorMessage").asText()).isEqualTo("no configuration found");
    }
  }

  @Test
  void anExtensionsExitError_retiresTheInstance() throws Exception {
    try (KilnFixture kiln = new KilnFixture()) {
      String layer = publish(kiln.lambda, "quitter", extensionLayer("quitter.sh"));
      create(kiln.lambda, "quits", layer, "def handler(e, c):\n    return 'ran'\n", Map.of());
      for (int i = 0; i < 2; i++) {
        InvokeResponse r = invoke(kiln.lambda, "quits");
        String log = new String(Base64.getDecoder().decode(r.logResult()), StandardCharsets.UTF_8);
        assertThat(log)
            .as("invocation %d starts a fresh instance: the last one's extension quit", i)
            .contains("Init Duration");
        if (r.functionError() != null) {
          // the extension quit before the runtime answered: the invocation fails with its error
          assertThat(JSON.readTree(r.payload().asUtf8String()).get("errorType").asText())
              .isEqualTo("Extension.Quit");
        } else {
          assertThat(r.payload().asUtf8String()).isEqualTo("\"ran\"");
        }
      }
    }
  }

  @Test
  void anInternalExtension_registersFromTheRuntime_andCannotAskForShutdown() throws Exception {
    String code =
        """
        import json, os, threading, time, urllib.request, urllib.error
        API = 'http://' + os.environ['AWS_LAMBDA_RUNTIME_API'] + '/2020-01-01/extension'
        def call(path, body=None, headers={}):
            req = urllib.request.Request(API + path, data=body, headers=headers,
                                         method='POST' if body is not None else 'GET')
            try:
                with urllib.request.urlopen(req) as r:
                    return r.status, dict(r.headers), r.read()
            except urllib.error.HTTPError as e:
                return e.code, dict(e.headers), e.read()
        refused = call('/register', b'{"events": ["SHUTDOWN"]}',
                       {'Lambda-Extension-Name': 'internal-shutdown'})
        status, headers, registration = call('/register', b'{"events": ["INVOKE"]}',
                                             {'Lambda-Extension-Name': 'internal-counter'})
        ID = headers['Lambda-Extension-Identifier']
        SEEN = []
        def loop():
            while True:
                code, _, body = call('/event/next', None, {'Lambda-Extension-Identifier': ID})
                if code != 200:
                    return
                SEEN.append(json.loads(body)['requestId'])
        threading.Thread(target=loop, daemon=True).start()
        def handler(event, context):
            for _ in range(800):
                if context.aws_request_id in SEEN:
                    break
                time.sleep(0.01)
            return {'registered': status, 'seen': list(SEEN),
                    'registration': json.loads(registration),
                    'refusedStatus': refused[0],
                    'refusedType': json.loads(refused[2])['errorType']}
        """;
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.python("internal", code);
      kiln.lambda.updateFunctionConfiguration(
          b -> b.functionName("internal").memorySize(1769).timeout(15));
      JsonNode out = null;
      for (int i = 0; i < 3; i++) {
        InvokeResponse r = invoke(kiln.lambda, "internal");
        assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
        out = JSON.readTree(r.payload().asUtf8String());
        assertThat(out.get("seen").toString())
            .as("the internal extension got INVOKE for this invocation")
            .contains(r.responseMetadata().requestId());
      }
      assertThat(out.get("registered").asInt()).isEqualTo(200);
      assertThat(out.at("/registration/functionName").asText()).isEqualTo("internal");
      assertThat(out.at("/registration/functionVersion").asText()).isEqualTo("$LATEST");
      assertThat(out.at("/registration/handler").asText()).isEqualTo("app.handler");
      assertThat(out.get("refusedStatus").asInt()).isEqualTo(403);
      assertThat(out.get("refusedType").asText())
          .isEqualTo("ShutdownEventNotSupportedForInternalExtension");
    }
  }
}
