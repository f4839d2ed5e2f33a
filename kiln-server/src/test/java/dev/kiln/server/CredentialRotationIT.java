package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * An instance's temporary key ends after the server's credentials lifetime, so instances are
 * replaced before theirs does: a warm instance serves while its key outlasts an invocation, then
 * stops (its key with it), and the next invocation gets a new instance with a new key. A key used
 * past its end is refused with AWS's {@code ExpiredTokenException}.
 */
class CredentialRotationIT {

  static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Reports which instance ran it and with what key; optionally sleeps, then invokes a function.
   */
  static final String REPORTER =
      "import boto3, os, time, uuid\n"
          + "INSTANCE = uuid.uuid4().hex\n"
          + "def handler(event, context):\n"
          + "    time.sleep(event.get('sleep', 0))\n"
          + "    out = {'instance': INSTANCE, 'key': os.environ['AWS_ACCESS_KEY_ID'],\n"
          + "           'secret': os.environ['AWS_SECRET_ACCESS_KEY'],\n"
          + "           'token': os.environ['AWS_SESSION_TOKEN']}\n"
          + "    if event.get('call'):\n"
          + "        try:\n"
          + "            boto3.client('lambda').invoke(FunctionName=event['call'])\n"
          + "            out['called'] = 'ok'\n"
          + "        except Exception as e:\n"
          + "            out['called'] = e.response['Error']['Code']\n"
          + "            out['message'] = e.response['Error']['Message']\n"
          + "    return out\n";

  @Test
  void anInstanceIsReplacedBeforeItsKeyEnds_andTheNextInvocationGetsANewKey() throws Exception {
    Tools.pythonWithBoto3();
    // keys of 20 s, a 1 s timeout and Kiln's 5 s margin: an instance serves for its first 14 s
    try (KilnFixture kiln =
        new KilnFixture(s -> s.withInstanceCredentialsLifetime(Duration.ofSeconds(20)))) {
      kiln.python("reporter", REPORTER);
      kiln.lambda.updateFunctionConfiguration(
          b -> b.functionName("reporter").timeout(1).memorySize(512));

      JsonNode first = invoke(kiln, "{}");
      JsonNode second = invoke(kiln, "{}");
      assertThat(second.path("instance").asText())
          .as("a warm instance serves while its key lasts")
          .isEqualTo(first.path("instance").asText());

      // without any invocation, the idle instance is stopped before its key ends, and its key
      // ends with it: refused as unknown, not as expired, which it would be were it still alive
      try (LambdaClient asFirst =
          FunctionCredentialsIT.client(kiln, FunctionCredentialsIT.sessionKey(first))) {
        KilnFixture.awaitRefused(
            asFirst, "reporter", "UnrecognizedClientException", Duration.ofSeconds(60));
      }

      JsonNode third = invoke(kiln, "{}");
      assertThat(third.path("instance").asText()).isNotEqualTo(first.path("instance").asText());
      assertThat(third.path("key").asText())
          .startsWith("ASIA")
          .isNotEqualTo(first.path("key").asText());
    }
  }

  @Test
  void aKeyUsedPastItsEnd_isRefusedAsExpired() throws Exception {
    Tools.pythonWithBoto3();
    // keys of 3 s: the function outlives its own key by sleeping, then calls Kiln with it
    try (KilnFixture kiln =
        new KilnFixture(s -> s.withInstanceCredentialsLifetime(Duration.ofSeconds(3)))) {
      kiln.python("callee", "def handler(event, context):\n    return 'called'\n");
      kiln.python("sleeper", REPORTER);
      kiln.lambda.updateFunctionConfiguration(
          b -> b.functionName("sleeper").timeout(30).memorySize(512));

      JsonNode out = invoke(kiln, "sleeper", "{\"sleep\": 5, \"call\": \"callee\"}");
      assertThat(out.path("called").asText()).as(out.toString()).isEqualTo("ExpiredTokenException");
      assertThat(out.path("message").asText())
          .isEqualTo("The security token included in the request is expired");

      // an instance whose key cannot outlast an invocation serves that one only
      JsonNode next = invoke(kiln, "sleeper", "{}");
      assertThat(next.path("instance").asText()).isNotEqualTo(out.path("instance").asText());
    }
  }

  @Test
  void aProvisionedInstance_handsOverBeforeItsKeyEnds_andProvisioningStaysReady() throws Exception {
    // keys of 40 s, a 1 s timeout: an instance serves for 34 s and hands over between 20 and 27 s
    try (KilnFixture kiln =
        new KilnFixture(s -> s.withInstanceCredentialsLifetime(Duration.ofSeconds(40)))) {
      kiln.python(
          "kept",
          "import os, uuid\n"
              + "INSTANCE = uuid.uuid4().hex\n"
              + "def handler(event, context):\n"
              + "    return {'instance': INSTANCE,\n"
              + "            'type': os.environ['AWS_LAMBDA_INITIALIZATION_TYPE']}\n");
      kiln.lambda.updateFunctionConfiguration(b -> b.functionName("kept").timeout(1));
      kiln.lambda.publishVersion(b -> b.functionName("kept"));
      kiln.lambda.createAlias(b -> b.functionName("kept").name("live").functionVersion("1"));
      kiln.lambda.putProvisionedConcurrencyConfig(
          b -> b.functionName("kept").qualifier("live").provisionedConcurrentExecutions(1));
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> status(kiln).equals("READY"));

      java.util.Set<String> instances = new java.util.LinkedHashSet<>();
      long end = System.nanoTime() + Duration.ofSeconds(50).toNanos();
      while (System.nanoTime() < end) {
        assertThat(status(kiln)).as("provisioned capacity never dips").isEqualTo("READY");
        var r =
            kiln.lambda.invoke(
                b ->
                    b.functionName("kept")
                        .qualifier("live")
                        .payload(SdkBytes.fromUtf8String("{}")));
        JsonNode out = JSON.readTree(r.payload().asUtf8String());
        assertThat(out.path("type").asText())
            .as("every call on a provisioned instance, none on a cold on-demand one")
            .isEqualTo("provisioned-concurrency");
        instances.add(out.path("instance").asText());
        Thread.sleep(500);
      }
      assertThat(instances).as("the first instance was replaced").hasSizeGreaterThan(1);
    }
  }

  static String status(KilnFixture kiln) {
    return kiln.lambda
        .getProvisionedConcurrencyConfig(b -> b.functionName("kept").qualifier("live"))
        .statusAsString();
  }

  static JsonNode invoke(KilnFixture kiln, String payload) throws Exception {
    return invoke(kiln, "reporter", payload);
  }

  static JsonNode invoke(KilnFixture kiln, String function, String payload) throws Exception {
    var r =
        kiln.lambda.invoke(b -> b.functionName(function).payload(SdkBytes.fromUtf8String(payload)));
    assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
    return JSON.readTree(r.payload().asUtf8String());
  }
}
