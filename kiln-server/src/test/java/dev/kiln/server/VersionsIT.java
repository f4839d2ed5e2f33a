package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.AliasConfiguration;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.InvalidParameterValueException;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.PreconditionFailedException;
import software.amazon.awssdk.services.lambda.model.ResourceConflictException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;

/** PublishVersion, ListVersionsByFunction and aliases with weighted routing, over the SDK. */
class VersionsIT {

  static final ObjectMapper JSON = new ObjectMapper();
  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();

  static String code(int v) {
    return "V = "
        + v
        + "\ndef handler(e, c):\n    return {'v': V, 'version': c.function_version,"
        + " 'arn': c.invoked_function_arn, 'instance': c.log_stream_name}\n";
  }

  static void updateCode(String name, int v) {
    kiln.lambda()
        .updateFunctionCode(
            b -> b.functionName(name).zipFile(SdkBytes.fromByteArray(Zips.of("app.py", code(v)))));
  }

  static JsonNode invoke(String name, String qualifier) throws Exception {
    InvokeResponse r =
        kiln.lambda()
            .invoke(
                b ->
                    b.functionName(name)
                        .qualifier(qualifier)
                        .payload(SdkBytes.fromUtf8String("{}")));
    assertThat(r.functionError()).isNull();
    JsonNode out = JSON.readTree(r.payload().asUtf8String());
    assertThat(r.executedVersion()).isEqualTo(out.get("version").asText());
    return out;
  }

  @Test
  void publishVersion_snapshotsLatest_andEachVersionRunsItsOwnCodeInItsOwnInstances()
      throws Exception {
    kiln.python("pub", code(1));
    var v1 = kiln.lambda().publishVersion(b -> b.functionName("pub").description("first"));
    assertThat(v1.version()).isEqualTo("1");
    assertThat(v1.description()).isEqualTo("first");
    assertThat(v1.functionArn()).endsWith(":function:pub:1");
    assertThat(kiln.lambda().publishVersion(b -> b.functionName("pub")).version())
        .as("nothing changed since version 1")
        .isEqualTo("1");
    updateCode("pub", 2);
    String sha = kiln.lambda().getFunctionConfiguration(b -> b.functionName("pub")).codeSha256();
    assertThat(kiln.lambda().publishVersion(b -> b.functionName("pub").codeSha256(sha)).version())
        .isEqualTo("2");

    assertThat(
            kiln.lambda().listVersionsByFunction(b -> b.functionName("pub")).versions().stream()
                .map(FunctionConfiguration::version))
        .containsExactly("$LATEST", "1", "2");
    var page = kiln.lambda().listVersionsByFunction(b -> b.functionName("pub").maxItems(2));
    assertThat(page.versions()).hasSize(2);
    assertThat(
            kiln
                .lambda()
                .listVersionsByFunction(b -> b.functionName("pub").marker(page.nextMarker()))
                .versions()
                .stream()
                .map(FunctionConfiguration::version))
        .containsExactly("2");

    JsonNode one = invoke("pub", "1");
    JsonNode two = invoke("pub", "2");
    assertThat(one.get("v").asInt()).isEqualTo(1);
    assertThat(two.get("v").asInt()).isEqualTo(2);
    assertThat(one.get("instance").asText()).isNotEqualTo(two.get("instance").asText());
    assertThat(one.get("arn").asText()).endsWith(":function:pub:1");
  }

  @Test
  void publishVersion_checksItsPreconditions() {
    kiln.python("guarded", code(1));
    assertThatThrownBy(
            () ->
                kiln.lambda()
                    .publishVersion(b -> b.functionName("guarded").codeSha256("not-the-sha")))
        .isInstanceOfSatisfying(
            InvalidParameterValueException.class,
            e ->
                assertThat(e.awsErrorDetails().errorMessage())
                    .startsWith("CodeSHA256 (not-the-sha) is different from current CodeSHA256"));
    assertThatThrownBy(
            () -> kiln.lambda().publishVersion(b -> b.functionName("guarded").revisionId("stale")))
        .isInstanceOf(PreconditionFailedException.class);
    assertThat(kiln.lambda().listVersionsByFunction(b -> b.functionName("guarded")).versions())
        .as("nothing was published")
        .hasSize(1);
  }

  @Test
  void anAlias_namesAVersion_andCanBeInvokedGotAndMoved() throws Exception {
    kiln.python("aliased", code(1));
    kiln.lambda().publishVersion(b -> b.functionName("aliased"));
    updateCode("aliased", 2);
    kiln.lambda().publishVersion(b -> b.functionName("aliased"));
    var prod =
        kiln.lambda()
            .createAlias(
                b ->
                    b.functionName("aliased")
                        .name("prod")
                        .functionVersion("1")
                        .description("live"));
    assertThat(prod.aliasArn()).endsWith(":function:aliased:prod");
    JsonNode r = invoke("aliased", "prod");
    assertThat(r.get("v").asInt()).isEqualTo(1);
    assertThat(r.get("arn").asText()).endsWith(":function:aliased:prod");
    assertThat(
            kiln.lambda()
                .getFunctionConfiguration(b -> b.functionName("aliased").qualifier("prod"))
                .version())
        .isEqualTo("1");

    var moved =
        kiln.lambda()
            .updateAlias(
                b ->
                    b.functionName("aliased")
                        .name("prod")
                        .functionVersion("2")
                        .revisionId(prod.revisionId()));
    assertThat(invoke("aliased", "prod").get("v").asInt()).isEqualTo(2);
    assertThat(kiln.lambda().getAlias(b -> b.functionName("aliased").name("prod")).description())
        .as("what UpdateAlias was not given is kept")
        .isEqualTo("live");
    assertThatThrownBy(
            () ->
                kiln.lambda()
                    .updateAlias(
                        b ->
                            b.functionName("aliased")
                                .name("prod")
                                .functionVersion("1")
                                .revisionId(prod.revisionId())))
        .isInstanceOf(PreconditionFailedException.class);

    kiln.lambda().createAlias(b -> b.functionName("aliased").name("old").functionVersion("1"));
    assertThat(
            kiln.lambda().listAliases(b -> b.functionName("aliased")).aliases().stream()
                .map(AliasConfiguration::name))
        .containsExactly("old", "prod");
    assertThat(
            kiln
                .lambda()
                .listAliases(b -> b.functionName("aliased").functionVersion("2"))
                .aliases()
                .stream()
                .map(AliasConfiguration::name))
        .containsExactly("prod");
    assertThatThrownBy(
            () -> kiln.lambda().deleteFunction(b -> b.functionName("aliased").qualifier("1")))
        .isInstanceOfSatisfying(
            ResourceConflictException.class,
            e ->
                assertThat(e.awsErrorDetails().errorMessage())
                    .isEqualTo(
                        "Unable to delete version because the following aliases reference it:"
                            + " [old]"));
    kiln.lambda().deleteAlias(b -> b.functionName("aliased").name("old"));
    assertThatThrownBy(() -> kiln.lambda().getAlias(b -> b.functionName("aliased").name("old")))
        .isInstanceOf(ResourceNotFoundException.class);
    assertThat(moved.functionVersion()).isEqualTo("2");
  }

  @Test
  void aWeightedAlias_splitsInvocationsBetweenTwoVersions() throws Exception {
    kiln.python("canary", code(1));
    kiln.lambda().publishVersion(b -> b.functionName("canary"));
    updateCode("canary", 2);
    kiln.lambda().publishVersion(b -> b.functionName("canary"));
    kiln.lambda()
        .createAlias(
            b ->
                b.functionName("canary")
                    .name("live")
                    .functionVersion("1")
                    .routingConfig(r -> r.additionalVersionWeights(Map.of("2", 0.3))));
    Map<String, Integer> ran = new HashMap<>();
    int n = 400;
    for (int i = 0; i < n; i++) {
      ran.merge(invoke("canary", "live").get("version").asText(), 1, Integer::sum);
    }
    // binomial(400, 0.3): mean 120, standard deviation 9.2; five of them either side
    assertThat(ran.getOrDefault("2", 0)).isBetween(74, 166);
    assertThat(ran.get("1") + ran.getOrDefault("2", 0)).isEqualTo(n);
  }

  @Test
  void badAliases_areRefusedWithAwsErrors() {
    kiln.python("strict", code(1));
    kiln.lambda().publishVersion(b -> b.functionName("strict"));
    kiln.lambda().createAlias(b -> b.functionName("strict").name("a").functionVersion("1"));
    assertThatThrownBy(
            () ->
                kiln.lambda()
                    .createAlias(b -> b.functionName("strict").name("a").functionVersion("1")))
        .isInstanceOfSatisfying(
            ResourceConflictException.class,
            e ->
                assertThat(e.awsErrorDetails().errorMessage())
                    .isEqualTo("Alias already exists: a"));
    assertThatThrownBy(
            () ->
                kiln.lambda()
                    .createAlias(b -> b.functionName("strict").name("b").functionVersion("9")))
        .isInstanceOfSatisfying(
            ResourceNotFoundException.class,
            e ->
                assertThat(e.awsErrorDetails().errorMessage())
                    .isEqualTo(
                        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:strict:9"));
    assertThatThrownBy(
            () ->
                kiln.lambda()
                    .createAlias(b -> b.functionName("strict").name("123").functionVersion("1")))
        .isInstanceOfSatisfying(
            LambdaException.class,
            e -> {
              assertThat(e.awsErrorDetails().errorCode()).isEqualTo("ValidationException");
              assertThat(e.awsErrorDetails().errorMessage()).contains("'name'");
            });
    assertThatThrownBy(
            () ->
                kiln.lambda()
                    .createAlias(
                        b ->
                            b.functionName("strict")
                                .name("c")
                                .functionVersion("$LATEST")
                                .routingConfig(r -> r.additionalVersionWeights(Map.of("1", 0.5)))))
        .isInstanceOfSatisfying(
            InvalidParameterValueException.class,
            e ->
                assertThat(e.awsErrorDetails().errorMessage())
                    .isEqualTo(
                        "$LATEST is not supported for an alias pointing to more than 1 version"));
    assertThatThrownBy(
            () ->
                kiln.lambda()
                    .createAlias(
                        b ->
                            b.functionName("strict")
                                .name("d")
                                .functionVersion("1")
                                .routingConfig(r -> r.additionalVersionWeights(Map.of("1", 1.5)))))
        .isInstanceOfSatisfying(
            LambdaException.class,
            e -> assertThat(e.awsErrorDetails().errorMessage()).contains("between 0.0 and 1.0"));
    assertThatThrownBy(
            () -> kiln.lambda().deleteFunction(b -> b.functionName("strict").qualifier("a")))
        .isInstanceOfSatisfying(
            InvalidParameterValueException.class,
            e -> assertThat(e.awsErrorDetails().errorMessage()).contains("use DeleteAlias"));
    assertThatThrownBy(() -> kiln.lambda().invoke(b -> b.functionName("strict").qualifier("nope")))
        .isInstanceOf(ResourceNotFoundException.class);
    // nothing of the failed calls was stored
    assertThat(kiln.lambda().listAliases(b -> b.functionName("strict")).aliases())
        .extracting(AliasConfiguration::name)
        .containsExactly("a");
  }
}
