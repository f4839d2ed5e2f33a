package dev.kiln.server;

import static dev.kiln.server.BadInputIT.assertAwsError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.server.ServerSettings.SandboxChoice;
import java.net.URI;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.GetLayerVersionResponse;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LayerVersionsListItem;
import software.amazon.awssdk.services.lambda.model.PublishLayerVersionResponse;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Layers over the SDK: the layer API, and what a function sees of its layers under {@code /opt}
 * (each runtime's search paths, the order they are unpacked in, a layer's bootstrap).
 */
class LayersIT {

  static final ObjectMapper JSON = new ObjectMapper();
  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();

  static PublishLayerVersionResponse publish(String name, byte[] zip, Runtime... runtimes) {
    return kiln.lambda()
        .publishLayerVersion(
            b ->
                b.layerName(name)
                    .description("layer " + name)
                    .compatibleRuntimes(runtimes)
                    .content(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
  }

  static InvokeResponse invoke(String function, String payload) {
    return kiln.lambda()
        .invoke(b -> b.functionName(function).payload(SdkBytes.fromUtf8String(payload)));
  }

  static JsonNode invokeJson(String function) throws Exception {
    InvokeResponse r = invoke(function, "{}");
    assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
    return JSON.readTree(r.payload().asUtf8String());
  }

  @Test
  void publishGetListAndFind_describeTheLayerAsAwsDoes() throws Exception {
    byte[] zip = Zips.of("python/greeting.py", "WORD = 'hi'\n");
    PublishLayerVersionResponse v1 =
        kiln.lambda()
            .publishLayerVersion(
                b ->
                    b.layerName("meta")
                        .description("first")
                        .compatibleRuntimes(Runtime.PYTHON3_12, Runtime.PYTHON3_11)
                        .compatibleArchitectures(Architecture.X86_64)
                        .licenseInfo("MIT")
                        .content(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
    assertThat(v1.version()).isEqualTo(1);
    assertThat(v1.layerArn()).isEqualTo("arn:aws:lambda:us-east-1:000000000000:layer:meta");
    assertThat(v1.layerVersionArn()).isEqualTo(v1.layerArn() + ":1");
    assertThat(v1.content().codeSize()).isEqualTo(zip.length);
    assertThat(v1.content().codeSha256())
        .isEqualTo(
            Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(zip)));
    assertThat(v1.compatibleRuntimes()).containsExactly(Runtime.PYTHON3_12, Runtime.PYTHON3_11);
    assertThat(v1.compatibleArchitectures()).containsExactly(Architecture.X86_64);
    assertThat(v1.licenseInfo()).isEqualTo("MIT");
    assertThat(v1.createdDate()).isNotBlank();
    try (var in = URI.create(v1.content().location()).toURL().openStream()) {
      assertThat(in.readAllBytes()).as("Content.Location serves the zip").isEqualTo(zip);
    }
    PublishLayerVersionResponse v2 = publish("meta", zip, Runtime.NODEJS20_X);
    assertThat(v2.version()).isEqualTo(2);

    GetLayerVersionResponse got =
        kiln.lambda().getLayerVersion(b -> b.layerName("meta").versionNumber(1L));
    assertThat(got.description()).isEqualTo("first");
    assertThat(got.licenseInfo()).isEqualTo("MIT");
    assertThat(
            kiln.lambda()
                .getLayerVersion(b -> b.layerName(v1.layerArn()).versionNumber(2L))
                .compatibleRuntimes())
        .as("LayerName may be the layer's ARN")
        .containsExactly(Runtime.NODEJS20_X);
    assertThat(kiln.lambda().getLayerVersionByArn(b -> b.arn(v1.layerVersionArn())).description())
        .isEqualTo("first");

    assertThat(
            kiln.lambda().listLayerVersions(b -> b.layerName("meta")).layerVersions().stream()
                .map(LayerVersionsListItem::version))
        .as("newest first")
        .containsExactly(2L, 1L);
    assertThat(
            kiln
                .lambda()
                .listLayerVersions(b -> b.layerName("meta").compatibleRuntime(Runtime.PYTHON3_12))
                .layerVersions()
                .stream()
                .map(LayerVersionsListItem::version))
        .containsExactly(1L);
    var listed =
        kiln.lambda().listLayers(b -> {}).layers().stream()
            .filter(l -> l.layerName().equals("meta"))
            .findFirst()
            .orElseThrow();
    assertThat(listed.layerArn()).isEqualTo(v1.layerArn());
    assertThat(listed.latestMatchingVersion().version()).isEqualTo(2L);
    var pythonOnly =
        kiln.lambda().listLayers(b -> b.compatibleRuntime(Runtime.PYTHON3_11)).layers().stream()
            .filter(l -> l.layerName().equals("meta"))
            .findFirst()
            .orElseThrow();
    assertThat(pythonOnly.latestMatchingVersion().version())
        .as("the newest version that matches the filter")
        .isEqualTo(1L);

    assertAwsError(
        catchThrowableOfType(
            AwsServiceException.class,
            () -> kiln.lambda().getLayerVersion(b -> b.layerName("meta").versionNumber(9L))),
        404,
        "ResourceNotFoundException",
        "The resource you requested does not exist.");
  }

  @Test
  void pythonFunction_importsFromLayers_runsTheirBinaries_andLaterLayersWin() throws Exception {
    // site-packages is named after the interpreter that runs the function: the host's python3
    String python = "python3." + pythonMinor();
    String first =
        publish(
                "py-libs",
                ZipsWithLinks.withExecutables(
                    Map.of(
                        "python/shared.py",
                        "WHO = 'first'\n",
                        "python/only_first.py",
                        "X = 1\n",
                        "python/lib/" + python + "/site-packages/sitelib/__init__.py",
                        "NAME = 'site-packages'\n",
                        "bin/layer-tool",
                        "#!/bin/sh\necho tool-ran\n",
                        "lib/data.txt",
                        "library data\n"),
                    Set.of("bin/layer-tool")))
            .layerVersionArn();
    String second =
        publish("py-override", Zips.of("python/shared.py", "WHO = 'second'\n")).layerVersionArn();
    String code =
        "import os, subprocess, shared, only_first\n"
            + "def handler(event, context):\n"
            + "    try:\n"
            + "        import sitelib\n"
            + "        site = sitelib.NAME\n"
            + "    except ImportError as e:\n"
            + "        site = str(e)\n"
            + "    return {'who': shared.WHO, 'first': only_first.X, 'site': site,\n"
            + "            'tool': subprocess.run(['layer-tool'], capture_output=True,"
            + " text=True).stdout.strip(),\n"
            + "            'lib': open('/opt/lib/data.txt').read().strip(),\n"
            + "            'ld': os.environ['LD_LIBRARY_PATH']}\n";
    kiln.createWithLayers(
        "py-layered", Runtime.PYTHON3_12, "app.handler", Zips.of("app.py", code), first, second);
    var config = kiln.lambda().getFunctionConfiguration(b -> b.functionName("py-layered"));
    assertThat(config.layers()).extracting(l -> l.arn()).containsExactly(first, second);
    assertThat(config.layers().get(0).codeSize()).isPositive();

    JsonNode out = invokeJson("py-layered");
    assertThat(out.get("who").asText()).as("the later layer's file wins").isEqualTo("second");
    assertThat(out.get("first").asInt()).isEqualTo(1);
    assertThat(out.get("site").asText()).isEqualTo("site-packages");
    assertThat(out.get("tool").asText()).as("/opt/bin is on PATH").isEqualTo("tool-ran");
    assertThat(out.get("lib").asText()).isEqualTo("library data");
    assertThat(out.get("ld").asText()).contains("/opt/lib");

    // reordered: now the first layer's file wins
    kiln.lambda()
        .updateFunctionConfiguration(b -> b.functionName("py-layered").layers(second, first));
    assertThat(invokeJson("py-layered").get("who").asText()).isEqualTo("first");

    // no layers: the import fails at init, as it would on Lambda
    kiln.lambda().updateFunctionConfiguration(b -> b.functionName("py-layered").layers(List.of()));
    assertThat(kiln.lambda().getFunctionConfiguration(b -> b.functionName("py-layered")).layers())
        .isEmpty();
    InvokeResponse bare = invoke("py-layered", "{}");
    assertThat(bare.functionError()).isEqualTo("Unhandled");
    assertThat(bare.payload().asUtf8String()).contains("Runtime.ImportModuleError");
  }

  /** The host python's minor version, which is what the site-packages path must name. */
  private static String pythonMinor() throws Exception {
    Process p =
        new ProcessBuilder("python3", "-c", "import sys; print(sys.version_info[1])").start();
    return new String(p.getInputStream().readAllBytes()).trim();
  }

  @Test
  void nodeFunction_requiresAndImportsPackagesFromLayers() throws Exception {
    String layer =
        publish(
                "node-libs",
                Zips.of(
                    Map.of(
                        "nodejs/node_modules/cjs-lib/package.json",
                            "{\"name\":\"cjs-lib\",\"main\":\"index.js\"}",
                        "nodejs/node_modules/cjs-lib/index.js", "module.exports = {v: 'cjs'};\n",
                        "nodejs/node20/node_modules/esm-lib/package.json",
                            "{\"name\":\"esm-lib\",\"type\":\"module\",\"exports\":\"./index.js\"}",
                        "nodejs/node20/node_modules/esm-lib/index.js",
                            "export const v = 'esm';\n")))
            .layerVersionArn();
    kiln.createWithLayers(
        "node-cjs",
        Runtime.NODEJS20_X,
        "index.handler",
        Zips.of(
            "index.js",
            "const lib = require('cjs-lib');\n"
                + "exports.handler = async () => ({v: lib.v,"
                + " esm: (await import('esm-lib')).v});\n"),
        layer);
    JsonNode cjs = invokeJson("node-cjs");
    assertThat(cjs.get("v").asText()).isEqualTo("cjs");
    assertThat(cjs.get("esm").asText()).isEqualTo("esm");

    kiln.createWithLayers(
        "node-esm",
        Runtime.NODEJS20_X,
        "index.handler",
        Zips.of(
            "index.mjs",
            "import { v } from 'esm-lib';\n"
                + "import lib from 'cjs-lib';\n"
                + "export const handler = async () => ({esm: v, v:"
                + " lib.v});\n"),
        layer);
    JsonNode esm = invokeJson("node-esm");
    assertThat(esm.get("esm").asText()).as("an ES module import from a layer").isEqualTo("esm");
    assertThat(esm.get("v").asText()).isEqualTo("cjs");
  }

  @Test
  void rubyFunction_requiresFromTheLayersRubyLib() throws Exception {
    Tools.require("ruby");
    String layer =
        publish(
                "ruby-libs",
                Zips.of("ruby/lib/greeter.rb", "module Greeter; WORD = 'ruby-layer'; end\n"))
            .layerVersionArn();
    kiln.createWithLayers(
        "rb-layered",
        Runtime.RUBY3_3,
        "app.handler",
        Zips.of(
            "app.rb",
            "require 'greeter'\n"
                + "def handler(event:, context:)\n"
                + "  { 'word' => Greeter::WORD }\nend\n"),
        layer);
    assertThat(invokeJson("rb-layered").get("word").asText()).isEqualTo("ruby-layer");
  }

  @Test
  void aLayersBootstrap_servesAsTheCustomRuntime() throws Exception {
    Tools.require("curl");
    byte[] script;
    try (var in = getClass().getResourceAsStream("/custom/bootstrap.sh")) {
      script = in.readAllBytes();
    }
    String layer =
        publish("sh-runtime-layer", ZipsWithLinks.executable("bootstrap", script))
            .layerVersionArn();
    kiln.createWithLayers(
        "runtime-from-layer",
        Runtime.PROVIDED_AL2023,
        "function.handler",
        Zips.of("README", "code only"),
        layer);
    JsonNode out =
        JSON.readTree(invoke("runtime-from-layer", "{\"x\": 7}").payload().asUtf8String());
    assertThat(out.get("shell").asBoolean()).isTrue();
    assertThat(out.at("/event/x").asInt()).isEqualTo(7);
  }

  @Test
  void deletingALayerVersion_keepsFunctionsThatUseItWorking_butNoNewOneMayNameIt()
      throws Exception {
    String arn =
        publish("doomed", Zips.of("python/doomed.py", "V = 'still here'\n")).layerVersionArn();
    kiln.createWithLayers(
        "keeps-layer",
        Runtime.PYTHON3_12,
        "app.handler",
        Zips.of("app.py", "import doomed\ndef handler(e, c):\n    return doomed.V\n"),
        arn);
    kiln.lambda().deleteLayerVersion(b -> b.layerName("doomed").versionNumber(1L));
    kiln.lambda().deleteLayerVersion(b -> b.layerName("doomed").versionNumber(1L)); // idempotent
    // a new revision of the function gets new instances, which still find the layer's content
    kiln.lambda().updateFunctionConfiguration(b -> b.functionName("keeps-layer").timeout(5));
    assertThat(invoke("keeps-layer", "{}").payload().asUtf8String()).isEqualTo("\"still here\"");
    assertAwsError(
        catchThrowableOfType(
            AwsServiceException.class,
            () -> kiln.lambda().getLayerVersion(b -> b.layerName("doomed").versionNumber(1L))),
        404,
        "ResourceNotFoundException",
        "does not exist");
    assertAwsError(
        catchThrowableOfType(
            AwsServiceException.class,
            () ->
                kiln.lambda()
                    .updateFunctionConfiguration(b -> b.functionName("keeps-layer").layers(arn))),
        400,
        "InvalidParameterValueException",
        "Layer version " + arn + " does not exist.");
    assertThat(publish("doomed", Zips.of("python/doomed.py", "V = 2\n")).version())
        .as("numbering goes on after a delete")
        .isEqualTo(2L);
  }

  /** The error a create with these layers gets, after checking it stored nothing. */
  static AwsServiceException createFails(
      String name,
      java.util.function.Consumer<
              software.amazon.awssdk.services.lambda.model.CreateFunctionRequest.Builder>
          settings) {
    AwsServiceException e =
        catchThrowableOfType(
            AwsServiceException.class,
            () ->
                kiln.lambda()
                    .createFunction(
                        b -> {
                          b.functionName(name)
                              .runtime(Runtime.PYTHON3_12)
                              .handler("app.handler")
                              .role(KilnFixture.ROLE)
                              .code(
                                  c ->
                                      c.zipFile(
                                          SdkBytes.fromByteArray(Zips.of("app.py", "x=1\n"))));
                          settings.accept(b);
                        }));
    assertThat(e).as("create of " + name + " should fail").isNotNull();
    assertThat(
            kiln.lambda().listFunctionsPaginator(b -> {}).functions().stream()
                .map(f -> f.functionName()))
        .doesNotContain(name);
    return e;
  }

  @Test
  void badLayerLists_areRefusedWithAwsErrors_andNothingIsCreated() {
    String arn = publish("good", Zips.of("python/good.py", "X = 1\n")).layerVersionArn();
    String arn2 = publish("good", Zips.of("python/good.py", "X = 2\n")).layerVersionArn();
    assertAwsError(
        createFails("six-layers", b -> b.layers(arn, arn, arn, arn, arn, arn)),
        400,
        "InvalidParameterValueException",
        "Cannot reference more than 5 layers.");
    assertAwsError(
        createFails(
            "missing-layer", b -> b.layers("arn:aws:lambda:us-east-1:000000000000:layer:nope:1")),
        400,
        "InvalidParameterValueException",
        "Layer version arn:aws:lambda:us-east-1:000000000000:layer:nope:1 does not exist.");
    assertAwsError(
        createFails(
            "foreign-layer", b -> b.layers("arn:aws:lambda:eu-west-1:123456789012:layer:x:1")),
        400,
        "InvalidParameterValueException",
        "does not exist");
    assertAwsError(
        createFails("malformed-layer", b -> b.layers("not-an-arn")),
        400,
        "ValidationException",
        "Value 'not-an-arn' at 'layers' failed to satisfy constraint");
    assertAwsError(
        createFails("twice-layer", b -> b.layers(arn, arn2)),
        400,
        "InvalidParameterValueException",
        "Two different versions of the same layer are not allowed");
  }

  @Test
  void badPublishRequests_nameTheField() {
    assertAwsError(
        catchThrowableOfType(
            AwsServiceException.class,
            () ->
                kiln.lambda()
                    .publishLayerVersion(
                        b ->
                            b.layerName("bad name!")
                                .content(
                                    c -> c.zipFile(SdkBytes.fromByteArray(Zips.of("a", "b")))))),
        400,
        "ValidationException",
        "at 'layerName'");
    assertAwsError(
        catchThrowableOfType(
            AwsServiceException.class,
            () ->
                kiln.lambda()
                    .publishLayerVersion(
                        b -> b.layerName("no-zip").content(c -> c.s3Bucket("b").s3Key("k")))),
        400,
        "InvalidParameterValueException",
        "Content.S3Bucket is not supported by Kiln");
    assertAwsError(
        catchThrowableOfType(
            AwsServiceException.class,
            () ->
                kiln.lambda()
                    .publishLayerVersion(
                        b ->
                            b.layerName("not-zip")
                                .content(c -> c.zipFile(SdkBytes.fromUtf8String("plain text"))))),
        400,
        "InvalidParameterValueException",
        "Could not unzip uploaded file");
    assertAwsError(
        catchThrowableOfType(
            AwsServiceException.class,
            () ->
                kiln.lambda()
                    .publishLayerVersion(
                        b ->
                            b.layerName("bad-runtime")
                                .compatibleRuntimesWithStrings("cobol1")
                                .content(
                                    c -> c.zipFile(SdkBytes.fromByteArray(Zips.of("a", "b")))))),
        400,
        "ValidationException",
        "at 'compatibleRuntimes'");
    assertThat(kiln.lambda().listLayerVersions(b -> b.layerName("not-zip")).layerVersions())
        .isEmpty();
    assertAwsError(
        catchThrowableOfType(
            AwsServiceException.class, () -> kiln.lambda().listLayers(b -> b.maxItems(51))),
        400,
        "ValidationException",
        "Value '51' at 'maxItems' failed to satisfy constraint: Member must have value between 1"
            + " and 50");
  }

  @Test
  void layerVersionPolicies_addGetRemove_withRevisionChecks() throws Exception {
    publish("shared", Zips.of("python/s.py", "X = 1\n"));
    AwsServiceException none =
        catchThrowableOfType(
            AwsServiceException.class,
            () ->
                kiln.lambda().getLayerVersionPolicy(b -> b.layerName("shared").versionNumber(1L)));
    assertAwsError(
        none, 404, "ResourceNotFoundException", "No policy is associated with the given resource.");

    var added =
        kiln.lambda()
            .addLayerVersionPermission(
                b ->
                    b.layerName("shared")
                        .versionNumber(1L)
                        .statementId("everyone")
                        .action("lambda:GetLayerVersion")
                        .principal("*")
                        .organizationId("o-abcdefghij"));
    JsonNode statement = JSON.readTree(added.statement());
    assertThat(statement.get("Sid").asText()).isEqualTo("everyone");
    assertThat(statement.get("Principal").asText()).isEqualTo("*");
    assertThat(statement.get("Resource").asText())
        .isEqualTo("arn:aws:lambda:us-east-1:000000000000:layer:shared:1");
    assertThat(statement.at("/Condition/StringEquals/aws:PrincipalOrgID").asText())
        .isEqualTo("o-abcdefghij");
    kiln.lambda()
        .addLayerVersionPermission(
            b ->
                b.layerName("shared")
                    .versionNumber(1L)
                    .statementId("one-account")
                    .action("lambda:GetLayerVersion")
                    .principal("123456789012")
                    .revisionId(added.revisionId()));

    var policy = kiln.lambda().getLayerVersionPolicy(b -> b.layerName("shared").versionNumber(1L));
    JsonNode document = JSON.readTree(policy.policy());
    assertThat(document.get("Statement")).hasSize(2);
    assertThat(document.at("/Statement/1/Principal/AWS").asText())
        .isEqualTo("arn:aws:iam::123456789012:root");

    assertAwsError(
        catchThrowableOfType(
            AwsServiceException.class,
            () ->
                kiln.lambda()
                    .addLayerVersionPermission(
                        b ->
                            b.layerName("shared")
                                .versionNumber(1L)
                                .statementId("everyone")
                                .action("lambda:GetLayerVersion")
                                .principal("*"))),
        409,
        "ResourceConflictException",
        "The statement id (everyone) provided already exists.");
    assertAwsError(
        catchThrowableOfType(
            AwsServiceException.class,
            () ->
                kiln.lambda()
                    .addLayerVersionPermission(
                        b ->
                            b.layerName("shared")
                                .versionNumber(1L)
                                .statementId("bad")
                                .action("lambda:InvokeFunction")
                                .principal("*"))),
        400,
        "ValidationException",
        "at 'action'");
    assertAwsError(
        catchThrowableOfType(
            AwsServiceException.class,
            () ->
                kiln.lambda()
                    .addLayerVersionPermission(
                        b ->
                            b.layerName("shared")
                                .versionNumber(1L)
                                .statementId("stale")
                                .action("lambda:GetLayerVersion")
                                .principal("*")
                                .revisionId(added.revisionId()))),
        412,
        "PreconditionFailedException",
        "RevisionId");

    kiln.lambda()
        .removeLayerVersionPermission(
            b -> b.layerName("shared").versionNumber(1L).statementId("everyone"));
    assertThat(
            JSON.readTree(
                    kiln.lambda()
                        .getLayerVersionPolicy(b -> b.layerName("shared").versionNumber(1L))
                        .policy())
                .get("Statement"))
        .hasSize(1);
    assertAwsError(
        catchThrowableOfType(
            AwsServiceException.class,
            () ->
                kiln.lambda()
                    .removeLayerVersionPermission(
                        b -> b.layerName("shared").versionNumber(1L).statementId("everyone"))),
        404,
        "ResourceNotFoundException",
        "Statement everyone is not found in resource policy.");
  }

  @Test
  void onTheProcessDriver_layersAreFoundWhereTheyAre() throws Exception {
    try (KilnFixture plain = new KilnFixture(Duration.ofMinutes(5), SandboxChoice.PROCESS)) {
      String layer =
          plain
              .lambda
              .publishLayerVersion(
                  b ->
                      b.layerName("plain")
                          .content(
                              c ->
                                  c.zipFile(
                                      SdkBytes.fromByteArray(
                                          Zips.of("python/plainlib.py", "V = 'found'\n")))))
              .layerVersionArn();
      plain.createWithLayers(
          "plain-layered",
          Runtime.PYTHON3_12,
          "app.handler",
          Zips.of("app.py", "import plainlib\ndef handler(e, c):\n    return plainlib.V\n"),
          layer);
      assertThat(
              plain
                  .lambda
                  .invoke(
                      b -> b.functionName("plain-layered").payload(SdkBytes.fromUtf8String("{}")))
                  .payload()
                  .asUtf8String())
          .isEqualTo("\"found\"");
    }
  }
}
