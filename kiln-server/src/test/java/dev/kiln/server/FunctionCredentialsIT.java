package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.LambdaException;

/**
 * A function's own credentials: the AWS SDK inside a function (boto3, with no endpoint in its code)
 * invokes another Kiln function with the temporary key of its instance, may do nothing else with
 * it, and the key ends with the instance.
 */
class FunctionCredentialsIT {

  static final ObjectMapper JSON = new ObjectMapper();

  static final String CALLER =
      "import boto3, json, os\n"
          + "def handler(event, context):\n"
          + "    lam = boto3.client('lambda')\n"
          + "    r = lam.invoke(FunctionName='callee', Payload=json.dumps({'n': event['n']}))\n"
          + "    out = json.load(r['Payload'])\n"
          + "    try:\n"
          + "        lam.delete_function(FunctionName='callee')\n"
          + "        denied = 'allowed'\n"
          + "    except Exception as e:\n"
          + "        denied = e.response['Error']['Code']\n"
          + "    return {'out': out, 'denied': denied,\n"
          + "            'key': os.environ['AWS_ACCESS_KEY_ID'],\n"
          + "            'secret': os.environ['AWS_SECRET_ACCESS_KEY'],\n"
          + "            'token': os.environ['AWS_SESSION_TOKEN'],\n"
          + "            'endpoint': os.environ['AWS_ENDPOINT_URL_LAMBDA']}\n";

  @Test
  void boto3InAFunction_invokesAnother_withTheInstancesTemporaryKey() throws Exception {
    Tools.pythonWithBoto3();
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.python("callee", "def handler(event, context):\n    return {'twice': event['n'] * 2}\n");
      kiln.python("caller", CALLER);
      kiln.lambda.updateFunctionConfiguration(
          b -> b.functionName("caller").timeout(60).memorySize(1769));
      JsonNode result =
          JSON.readTree(
              kiln.lambda
                  .invoke(
                      b -> b.functionName("caller").payload(SdkBytes.fromUtf8String("{\"n\": 21}")))
                  .payload()
                  .asUtf8String());
      assertThat(result.path("out").path("twice").asInt()).as(result.toString()).isEqualTo(42);
      assertThat(result.path("denied").asText())
          .as("the instance's key may only invoke")
          .isEqualTo("AccessDeniedException");
      assertThat(result.path("key").asText()).startsWith("ASIA");
      assertThat(result.path("token").asText()).isNotEmpty();
      assertThat(result.path("endpoint").asText()).startsWith("http://");
      assertThat(kiln.lambda.getFunction(b -> b.functionName("callee")).configuration())
          .isNotNull();

      // the key works from outside too while the instance lives, with its token only
      AwsSessionCredentials key = sessionKey(result);
      try (LambdaClient asInstance = client(kiln, key)) {
        assertThat(
                asInstance
                    .invoke(
                        b ->
                            b.functionName("callee").payload(SdkBytes.fromUtf8String("{\"n\": 1}")))
                    .statusCode())
            .isEqualTo(200);
      }
      try (LambdaClient wrongToken =
          client(
              kiln,
              AwsSessionCredentials.create(
                  result.path("key").asText(), result.path("secret").asText(), "not-the-token"))) {
        LambdaException e =
            catchThrowableOfType(
                LambdaException.class, () -> wrongToken.invoke(b -> b.functionName("callee")));
        assertThat(e.awsErrorDetails().errorCode()).isEqualTo("UnrecognizedClientException");
      }

      // a function's own endpoint is its own; the key is Kiln's whatever it says
      kiln.python(
          "own-endpoint",
          "import os\n"
              + "def handler(event, context):\n"
              + "    return [os.environ.get(k) for k in ('AWS_ENDPOINT_URL',"
              + " 'AWS_ENDPOINT_URL_LAMBDA', 'AWS_ACCESS_KEY_ID')]\n");
      JsonNode given =
          JSON.readTree(
              kiln.lambda.invoke(b -> b.functionName("own-endpoint")).payload().asUtf8String());
      assertThat(given.get(0).isNull())
          .as("no AWS_ENDPOINT_URL, which would send S3, STS and every other client to Kiln")
          .isTrue();
      assertThat(given.get(1).asText()).startsWith("http://");
      kiln.lambda.updateFunctionConfiguration(
          b ->
              b.functionName("own-endpoint")
                  .environment(
                      e -> e.variables(java.util.Map.of("AWS_ENDPOINT_URL", "http://minio:9000"))));
      JsonNode own =
          JSON.readTree(
              kiln.lambda.invoke(b -> b.functionName("own-endpoint")).payload().asUtf8String());
      assertThat(own.get(0).asText()).isEqualTo("http://minio:9000");
      assertThat(own.get(1).asText())
          .as("Kiln's own, beside the instance's Runtime API")
          .startsWith("http://")
          .endsWith(":" + java.net.URI.create(result.path("endpoint").asText()).getPort());
      assertThat(own.get(2).asText()).startsWith("ASIA");

      // the instance ends with its function, and its key with it
      kiln.lambda.deleteFunction(b -> b.functionName("caller"));
      try (LambdaClient asInstance = client(kiln, key)) {
        KilnFixture.awaitRefused(
            asInstance, "callee", "UnrecognizedClientException", Duration.ofSeconds(20));
      }
    }
  }

  /**
   * The AWS SDK for JavaScript v3 comes with the Node.js runtimes, as on Lambda: an ES module whose
   * own module imports {@code @aws-sdk/client-lambda} (resolved from the runtime's NODE_PATH, which
   * ES modules ignore unless the runtime helps) and a CommonJS handler that requires it both invoke
   * another function, with no endpoint and no key in their code.
   */
  @Test
  void jsSdkInANodeFunction_invokesAnother_withNoEndpointInItsCode() throws Exception {
    Tools.require("npm"); // without it Kiln is built without the SDK (and CI fails here)
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.python("callee", "def handler(event, context):\n    return {'twice': event['n'] * 2}\n");
      kiln.create(
          "esm-caller",
          software.amazon.awssdk.services.lambda.model.Runtime.NODEJS20_X,
          "index.handler",
          Zips.of(
              "index.mjs",
              "import { call } from './lib/call.mjs';\n"
                  + "import './lib/once.mjs';\n"
                  + "const { LambdaClient } = await import('@aws-sdk/client-lambda');\n"
                  + "export const handler = async (event) => ({...(await call(event.n)),\n"
                  + "  loads: globalThis.loads, dynamic: typeof LambdaClient});\n",
              "lib/once.mjs",
              "globalThis.loads = (globalThis.loads || 0) + 1;\n",
              "lib/call.mjs",
              "import { LambdaClient, InvokeCommand } from '@aws-sdk/client-lambda';\n"
                  + "const lambda = new LambdaClient({});\n"
                  + "export async function call(n) {\n"
                  + "  const r = await lambda.send(new InvokeCommand({FunctionName: 'callee',\n"
                  + "    Payload: JSON.stringify({n})}));\n"
                  + "  return {out: JSON.parse(Buffer.from(r.Payload).toString()),\n"
                  + "    url: import.meta.url};\n"
                  + "}\n"));
      kiln.create(
          "cjs-caller",
          software.amazon.awssdk.services.lambda.model.Runtime.NODEJS22_X,
          "index.handler",
          Zips.of(
              "index.js",
              "const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');\n"
                  + "const lambda = new LambdaClient({});\n"
                  + "exports.handler = async (event) => {\n"
                  + "  const r = await lambda.send(new InvokeCommand({FunctionName: 'callee',\n"
                  + "    Payload: JSON.stringify({n: event.n})}));\n"
                  + "  return {out: JSON.parse(Buffer.from(r.Payload).toString()),\n"
                  + "    sdk: require('@aws-sdk/client-lambda/package.json').version};\n"
                  + "};\n"));
      for (String caller : java.util.List.of("esm-caller", "cjs-caller")) {
        kiln.lambda.updateFunctionConfiguration(
            b -> b.functionName(caller).timeout(60).memorySize(1024));
      }

      var esm =
          kiln.lambda.invoke(
              b -> b.functionName("esm-caller").payload(SdkBytes.fromUtf8String("{\"n\": 21}")));
      assertThat(esm.functionError()).as(esm.payload().asUtf8String()).isNull();
      JsonNode esmResult = JSON.readTree(esm.payload().asUtf8String());
      assertThat(esmResult.path("out").path("twice").asInt()).isEqualTo(42);
      assertThat(esmResult.path("url").asText())
          .as("the function's own module, under its own URL")
          .startsWith("file:///")
          .endsWith("/lib/call.mjs");
      assertThat(esmResult.path("dynamic").asText())
          .as("a top-level await import() of the SDK")
          .isEqualTo("function");
      assertThat(esmResult.path("loads").asInt()).as("each module runs once").isEqualTo(1);

      var cjs =
          kiln.lambda.invoke(
              b -> b.functionName("cjs-caller").payload(SdkBytes.fromUtf8String("{\"n\": 5}")));
      assertThat(cjs.functionError()).as(cjs.payload().asUtf8String()).isNull();
      JsonNode cjsResult = JSON.readTree(cjs.payload().asUtf8String());
      assertThat(cjsResult.path("out").path("twice").asInt()).isEqualTo(10);
      assertThat(cjsResult.path("sdk").asText()).startsWith("3.");

      // a package neither the function, its layers nor the runtime has is still Lambda's error
      kiln.create(
          "missing",
          software.amazon.awssdk.services.lambda.model.Runtime.NODEJS20_X,
          "index.handler",
          Zips.of(
              "index.mjs",
              "import '@aws-sdk/client-lambda';\n"
                  + "import x from './lib/util.mjs';\n"
                  + "export const handler = async () => x;\n",
              "lib/util.mjs",
              "import x from 'no-such-package';\nexport default x;\n"));
      var missing = kiln.lambda.invoke(b -> b.functionName("missing"));
      assertThat(missing.functionError()).isEqualTo("Unhandled");
      assertThat(missing.payload().asUtf8String())
          .contains("Runtime.ImportModuleError")
          .contains("Cannot find package 'no-such-package' imported from")
          .contains("lib/util.mjs");
    }
  }

  /** The temporary key a function reported, as {@code key}, {@code secret} and {@code token}. */
  static AwsSessionCredentials sessionKey(JsonNode reported) {
    return AwsSessionCredentials.create(
        reported.path("key").asText(),
        reported.path("secret").asText(),
        reported.path("token").asText());
  }

  static LambdaClient client(KilnFixture kiln, AwsSessionCredentials key) {
    return LambdaClient.builder()
        .endpointOverride(kiln.server.endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(key))
        .build();
  }
}
