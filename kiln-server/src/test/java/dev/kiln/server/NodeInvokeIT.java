package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.Runtime;

/** Node.js functions in every module and handler style AWS's Node runtime accepts. */
class NodeInvokeIT {

  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();
  static final ObjectMapper JSON = new ObjectMapper();

  static InvokeResponse invoke(String name, String payload) {
    return kiln.lambda()
        .invoke(b -> b.functionName(name).payload(SdkBytes.fromUtf8String(payload)));
  }

  @Test
  void eachNodeRuntime_carriesAnSdkThatSupportsItsNode_withNoVersionWarningInTheLog()
      throws Exception {
    String code =
        """
        const { LambdaClient, ListFunctionsCommand } = require('@aws-sdk/client-lambda');
        exports.handler = async () => {
          const client = new LambdaClient({});
          // the SDK checks Node's version as it sends; the function's key may not list
          await client.send(new ListFunctionsCommand({})).catch(() => {});
          return require('@aws-sdk/client-lambda/package.json').version;
        };
        """;
    // nodejs22.x too: on a host whose Node.js is older than 22 it must carry the SDK for that one
    for (String runtime : java.util.List.of("nodejs18.x", "nodejs20.x", "nodejs22.x")) {
      String name = "sdk-" + runtime.replace(".", "-");
      kiln.lambda()
          .createFunction(
              b ->
                  b.functionName(name)
                      .runtime(runtime)
                      .handler("index.handler")
                      .role(KilnFixture.ROLE)
                      .timeout(30)
                      .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of("index.js", code)))));
      InvokeResponse r =
          kiln.lambda()
              .invoke(
                  b ->
                      b.functionName(name)
                          .logType(LogType.TAIL)
                          .payload(SdkBytes.fromUtf8String("{}")));
      assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
      String log = new String(Base64.getDecoder().decode(r.logResult()), StandardCharsets.UTF_8);
      assertThat(log).as(runtime + "'s log").doesNotContain("NodeVersionSupportWarning");
    }
  }

  @Test
  void commonJsAsyncHandler() throws Exception {
    kiln.node(
        "cjs-async",
        "index.js",
        """
        exports.handler = async (event, context) => ({
          got: event.n + 1,
          name: context.functionName,
          version: context.functionVersion,
          memory: context.memoryLimitInMB,
          requestId: context.awsRequestId,
          remaining: context.getRemainingTimeInMillis(),
        });
        """);
    InvokeResponse r = invoke("cjs-async", "{\"n\": 41}");
    JsonNode out = JSON.readTree(r.payload().asByteArray());
    assertThat(out.get("got").asInt()).isEqualTo(42);
    assertThat(out.get("name").asText()).isEqualTo("cjs-async");
    assertThat(out.get("version").asText()).isEqualTo("$LATEST");
    assertThat(out.get("memory").asText()).isEqualTo("128");
    assertThat(out.get("requestId").asText()).isEqualTo(r.responseMetadata().requestId());
    assertThat(out.get("remaining").asLong()).isBetween(1L, 3000L);
  }

  @Test
  void esModuleByExtension() {
    kiln.node(
        "esm-mjs", "index.mjs", "export const handler = async (event) => 'esm ' + event.x;\n");
    assertThat(invoke("esm-mjs", "{\"x\": 1}").payload().asUtf8String()).isEqualTo("\"esm 1\"");
  }

  @Test
  void esModuleByPackageType() {
    kiln.create(
        "esm-type",
        Runtime.NODEJS22_X,
        "index.handler",
        Zips.of(
            "package.json", "{\"type\": \"module\"}",
            "index.js", "export async function handler() { return 'type module'; }\n"));
    assertThat(invoke("esm-type", "{}").payload().asUtf8String()).isEqualTo("\"type module\"");
  }

  @Test
  void callbackAndPromiseHandlers() {
    kiln.node(
        "callback",
        "index.js",
        "exports.handler = (event, context, callback) => { callback(null, {cb: true}); };\n");
    assertThat(invoke("callback", "{}").payload().asUtf8String()).isEqualTo("{\"cb\":true}");
    kiln.node(
        "promise",
        "index.js",
        "exports.handler = (event) => new Promise((resolve) => setTimeout(() => resolve('later'), 10));\n");
    assertThat(invoke("promise", "{}").payload().asUtf8String()).isEqualTo("\"later\"");
  }

  @Test
  void callbackWaitsForEmptyEventLoop_decidesWhetherPendingWorkDelaysTheResponse() {
    // a timer still pending when the callback is called: by default the response waits for it
    kiln.node(
        "cb-wait",
        "index.js",
        """
        let ticks = 0;
        exports.handler = (event, context, callback) => {
          context.callbackWaitsForEmptyEventLoop = event.wait;
          const started = ticks;
          setTimeout(() => { ticks++; }, 1500);
          callback(null, started);
        };
        """);
    assertThat(invoke("cb-wait", "{\"wait\": true}").payload().asUtf8String()).isEqualTo("0");
    // the timer of the first call ran before its response was sent
    assertThat(invoke("cb-wait", "{\"wait\": false}").payload().asUtf8String()).isEqualTo("1");
    // with false the response went out at once, so the second timer had not run yet
    assertThat(invoke("cb-wait", "{\"wait\": true}").payload().asUtf8String()).isEqualTo("1");
  }

  @Test
  void thrownError_isAFunctionErrorWithNodesErrorDocument() throws Exception {
    kiln.node(
        "node-error",
        "index.js",
        "exports.handler = async () => { throw new TypeError('bad thing'); };\n");
    InvokeResponse r = invoke("node-error", "{}");
    assertThat(r.functionError()).isEqualTo("Unhandled");
    JsonNode doc = JSON.readTree(r.payload().asByteArray());
    assertThat(doc.get("errorType").asText()).isEqualTo("TypeError");
    assertThat(doc.get("errorMessage").asText()).isEqualTo("bad thing");
    assertThat(doc.get("trace").isArray()).isTrue();
  }

  @Test
  void consoleOutput_isInTheLogWithLambdasPrefix() {
    kiln.node(
        "node-log",
        "index.js",
        "exports.handler = async () => { console.log('hello from node'); return 1; };\n");
    InvokeResponse r = kiln.lambda().invoke(b -> b.functionName("node-log").logType(LogType.TAIL));
    String log = new String(Base64.getDecoder().decode(r.logResult()), StandardCharsets.UTF_8);
    assertThat(log)
        .containsPattern(
            "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\t"
                + r.responseMetadata().requestId()
                + "\tINFO\thello from node");
  }

  @Test
  void initFailures_areReportedWithAwsErrorTypes() throws Exception {
    kiln.node("node-missing", "other.js", "exports.x = 1;\n");
    JsonNode doc = JSON.readTree(invoke("node-missing", "{}").payload().asByteArray());
    assertThat(doc.get("errorType").asText()).isEqualTo("Runtime.ImportModuleError");

    kiln.node("node-nohandler", "index.js", "exports.other = async () => 1;\n");
    doc = JSON.readTree(invoke("node-nohandler", "{}").payload().asByteArray());
    assertThat(doc.get("errorType").asText()).isEqualTo("Runtime.HandlerNotFound");
    assertThat(doc.get("errorMessage").asText())
        .isEqualTo("index.handler is undefined or not exported");

    kiln.node("node-syntax", "index.js", "exports.handler = async () => {\n");
    doc = JSON.readTree(invoke("node-syntax", "{}").payload().asByteArray());
    assertThat(doc.get("errorType").asText()).isEqualTo("Runtime.UserCodeSyntaxError");
  }
}
