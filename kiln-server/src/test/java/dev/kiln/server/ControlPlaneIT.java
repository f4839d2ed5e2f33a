package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.CreateFunctionResponse;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.GetAccountSettingsResponse;
import software.amazon.awssdk.services.lambda.model.GetFunctionResponse;
import software.amazon.awssdk.services.lambda.model.LastUpdateStatus;
import software.amazon.awssdk.services.lambda.model.PackageType;
import software.amazon.awssdk.services.lambda.model.PreconditionFailedException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;
import software.amazon.awssdk.services.lambda.model.Runtime;
import software.amazon.awssdk.services.lambda.model.State;
import software.amazon.awssdk.services.lambda.model.UpdateFunctionConfigurationResponse;

/** The control plane, driven by the real AWS SDK for Java v2 as a user would drive it. */
class ControlPlaneIT {

  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();

  static final String CODE = "def handler(event, context):\n    return {'ok': True}\n";

  @Test
  void createFunction_answersWithTheFullConfigurationAsAwsDoes() throws Exception {
    byte[] zip = Zips.of("app.py", CODE);
    CreateFunctionResponse created =
        kiln.lambda()
            .createFunction(
                b ->
                    b.functionName("cp-create")
                        .runtime(Runtime.PYTHON3_12)
                        .handler("app.handler")
                        .role(KilnFixture.ROLE)
                        .description("made by a test")
                        .memorySize(256)
                        .timeout(7)
                        .environment(e -> e.variables(Map.of("GREETING", "hi")))
                        .ephemeralStorage(s -> s.size(1024))
                        .tags(Map.of("team", "kiln"))
                        .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));

    String sha =
        Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(zip));
    assertThat(created.functionName()).isEqualTo("cp-create");
    assertThat(created.functionArn())
        .isEqualTo("arn:aws:lambda:us-east-1:000000000000:function:cp-create");
    assertThat(created.codeSha256()).isEqualTo(sha);
    assertThat(created.codeSize()).isEqualTo(zip.length);
    assertThat(created.version()).isEqualTo("$LATEST");
    assertThat(created.memorySize()).isEqualTo(256);
    assertThat(created.timeout()).isEqualTo(7);
    assertThat(created.description()).isEqualTo("made by a test");
    assertThat(created.environment().variables()).containsEntry("GREETING", "hi");
    assertThat(created.ephemeralStorage().size()).isEqualTo(1024);
    assertThat(created.state()).isEqualTo(State.ACTIVE);
    assertThat(created.lastUpdateStatus()).isEqualTo(LastUpdateStatus.SUCCESSFUL);
    assertThat(created.packageType()).isEqualTo(PackageType.ZIP);
    assertThat(created.architectures()).containsExactly(Architecture.X86_64);
    assertThat(created.revisionId()).isNotBlank();
    assertThat(created.role()).isEqualTo(KilnFixture.ROLE);
    assertThat(created.lastModified())
        .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\+0000");
    assertThat(created.loggingConfig().logGroup()).isEqualTo("/aws/lambda/cp-create");
    assertThat(created.tracingConfig().modeAsString()).isEqualTo("PassThrough");
  }

  @Test
  void createFunction_appliesAwsDefaults() {
    CreateFunctionResponse created = kiln.python("cp-defaults", CODE);
    assertThat(created.memorySize()).isEqualTo(128);
    assertThat(created.timeout()).isEqualTo(3);
    assertThat(created.ephemeralStorage().size()).isEqualTo(512);
    assertThat(created.description()).isEmpty();
    assertThat(created.environment()).isNull();
  }

  @Test
  void getFunction_returnsConfigurationCodeLocationAndTags() throws Exception {
    byte[] zip = Zips.of("app.py", CODE);
    kiln.lambda()
        .createFunction(
            b ->
                b.functionName("cp-get")
                    .runtime(Runtime.PYTHON3_11)
                    .handler("app.handler")
                    .role(KilnFixture.ROLE)
                    .tags(Map.of("env", "test"))
                    .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));

    GetFunctionResponse got = kiln.lambda().getFunction(b -> b.functionName("cp-get"));
    assertThat(got.configuration().functionName()).isEqualTo("cp-get");
    assertThat(got.tags()).containsEntry("env", "test");
    assertThat(got.code().repositoryType()).isEqualTo("S3");
    // the location serves the very zip that was uploaded
    var http = java.net.http.HttpClient.newHttpClient();
    var download =
        http.send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create(got.code().location()))
                .build(),
            java.net.http.HttpResponse.BodyHandlers.ofByteArray());
    assertThat(download.statusCode()).isEqualTo(200);
    assertThat(download.body()).isEqualTo(zip);
  }

  @Test
  void aFunctionCanBeNamedByNamePartialArnOrFullArn() {
    kiln.python("cp-names", CODE);
    for (String name :
        List.of(
            "cp-names",
            "000000000000:function:cp-names",
            "arn:aws:lambda:us-east-1:000000000000:function:cp-names",
            "arn:aws:lambda:us-east-1:000000000000:function:cp-names:$LATEST")) {
      var c = kiln.lambda().getFunctionConfiguration(b -> b.functionName(name));
      assertThat(c.functionName()).as(name).isEqualTo("cp-names");
    }
  }

  @Test
  void listFunctions_pagesWithMarker() {
    for (int i = 0; i < 5; i++) {
      kiln.python("cp-list-" + i, CODE);
    }
    List<String> names =
        kiln.lambda().listFunctionsPaginator(b -> b.maxItems(2)).functions().stream()
            .map(FunctionConfiguration::functionName)
            .filter(n -> n.startsWith("cp-list-"))
            .toList();
    assertThat(names)
        .containsExactly("cp-list-0", "cp-list-1", "cp-list-2", "cp-list-3", "cp-list-4");
    var firstPage = kiln.lambda().listFunctions(b -> b.maxItems(2));
    assertThat(firstPage.functions()).hasSize(2);
    assertThat(firstPage.nextMarker()).isNotBlank();
  }

  @Test
  void listFunctions_withFunctionVersionAll_includesPublishedVersions() {
    kiln.python("cp-list-all", CODE);
    kiln.lambda()
        .updateFunctionCode(
            b ->
                b.functionName("cp-list-all")
                    .publish(true)
                    .zipFile(SdkBytes.fromByteArray(Zips.of("app.py", CODE + "# v1\n"))));
    List<String> versions =
        kiln
            .lambda()
            .listFunctionsPaginator(b -> b.functionVersion("ALL").maxItems(3))
            .functions()
            .stream()
            .filter(f -> f.functionName().equals("cp-list-all"))
            .map(FunctionConfiguration::version)
            .toList();
    assertThat(versions).containsExactly("$LATEST", "1");
  }

  @Test
  void updateFunctionConfiguration_changesSettingsAndRevision() {
    CreateFunctionResponse created = kiln.python("cp-update-config", CODE);
    UpdateFunctionConfigurationResponse updated =
        kiln.lambda()
            .updateFunctionConfiguration(
                b ->
                    b.functionName("cp-update-config")
                        .memorySize(512)
                        .timeout(30)
                        .environment(e -> e.variables(Map.of("AB", "1"))));
    assertThat(updated.memorySize()).isEqualTo(512);
    assertThat(updated.timeout()).isEqualTo(30);
    assertThat(updated.environment().variables()).containsExactly(Map.entry("AB", "1"));
    assertThat(updated.revisionId()).isNotEqualTo(created.revisionId());
    assertThat(updated.codeSha256()).isEqualTo(created.codeSha256());
    assertThat(
            kiln.lambda()
                .getFunctionConfiguration(b -> b.functionName("cp-update-config"))
                .memorySize())
        .isEqualTo(512);
  }

  @Test
  void updateFunctionConfiguration_withStaleRevisionId_isRefusedAndChangesNothing() {
    CreateFunctionResponse created = kiln.python("cp-revision", CODE);
    kiln.lambda().updateFunctionConfiguration(b -> b.functionName("cp-revision").timeout(10));

    assertThatThrownBy(
            () ->
                kiln.lambda()
                    .updateFunctionConfiguration(
                        b ->
                            b.functionName("cp-revision")
                                .timeout(20)
                                .revisionId(created.revisionId())))
        .isInstanceOf(PreconditionFailedException.class)
        .hasMessageContaining("The Revision Id provided does not match the latest Revision Id");
    assertThat(kiln.lambda().getFunctionConfiguration(b -> b.functionName("cp-revision")).timeout())
        .isEqualTo(10);
  }

  @Test
  void updateFunctionCode_replacesTheCodeAndCanPublish() {
    CreateFunctionResponse created = kiln.python("cp-code", CODE);
    byte[] next = Zips.of("app.py", "def handler(e, c):\n    return 2\n");
    var updated =
        kiln.lambda()
            .updateFunctionCode(
                b -> b.functionName("cp-code").zipFile(SdkBytes.fromByteArray(next)).publish(true));
    assertThat(updated.codeSha256()).isNotEqualTo(created.codeSha256());
    assertThat(updated.version()).isEqualTo("1");
    assertThat(updated.functionArn()).endsWith(":function:cp-code:1");
    assertThat(
            kiln.lambda()
                .getFunctionConfiguration(b -> b.functionName("cp-code").qualifier("1"))
                .codeSha256())
        .isEqualTo(updated.codeSha256());
  }

  @Test
  void updateFunctionCode_withStaleRevisionId_isRefused() {
    CreateFunctionResponse created = kiln.python("cp-code-revision", CODE);
    kiln.lambda().updateFunctionConfiguration(b -> b.functionName("cp-code-revision").timeout(9));
    assertThatThrownBy(
            () ->
                kiln.lambda()
                    .updateFunctionCode(
                        b ->
                            b.functionName("cp-code-revision")
                                .zipFile(SdkBytes.fromByteArray(Zips.of("app.py", "x = 1\n")))
                                .revisionId(created.revisionId())))
        .isInstanceOf(PreconditionFailedException.class);
    assertThat(
            kiln.lambda()
                .getFunctionConfiguration(b -> b.functionName("cp-code-revision"))
                .codeSha256())
        .isEqualTo(created.codeSha256());
  }

  @Test
  void createFunction_withPublish_createsVersionOne() {
    var created =
        kiln.lambda()
            .createFunction(
                b ->
                    b.functionName("cp-publish")
                        .runtime(Runtime.PYTHON3_12)
                        .handler("app.handler")
                        .role(KilnFixture.ROLE)
                        .publish(true)
                        .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of("app.py", CODE)))));
    assertThat(created.version()).isEqualTo("1");
    assertThat(
            kiln.lambda()
                .getFunction(b -> b.functionName("cp-publish:1"))
                .configuration()
                .version())
        .isEqualTo("1");
  }

  @Test
  void deleteFunction_removesItEverywhere() {
    kiln.python("cp-delete", CODE);
    kiln.lambda().deleteFunction(b -> b.functionName("cp-delete"));
    assertThatThrownBy(() -> kiln.lambda().getFunction(b -> b.functionName("cp-delete")))
        .isInstanceOf(ResourceNotFoundException.class)
        .hasMessageContaining(
            "Function not found: arn:aws:lambda:us-east-1:000000000000:function:cp-delete");
    assertThatThrownBy(() -> kiln.lambda().deleteFunction(b -> b.functionName("cp-delete")))
        .isInstanceOf(ResourceNotFoundException.class);
  }

  @Test
  void deleteFunction_withAVersion_removesOnlyThatVersion() {
    kiln.lambda()
        .createFunction(
            b ->
                b.functionName("cp-delete-version")
                    .runtime(Runtime.PYTHON3_12)
                    .handler("app.handler")
                    .role(KilnFixture.ROLE)
                    .publish(true)
                    .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of("app.py", CODE)))));
    assertThatThrownBy(
            () ->
                kiln.lambda()
                    .deleteFunction(b -> b.functionName("cp-delete-version").qualifier("$LATEST")))
        .isInstanceOfSatisfying(
            software.amazon.awssdk.awscore.exception.AwsServiceException.class,
            e ->
                BadInputIT.assertAwsError(
                    e,
                    400,
                    "InvalidParameterValueException",
                    "$LATEST version cannot be deleted without deleting the function."));
    kiln.lambda().deleteFunction(b -> b.functionName("cp-delete-version").qualifier("1"));
    assertThatThrownBy(
            () ->
                kiln.lambda().getFunction(b -> b.functionName("cp-delete-version").qualifier("1")))
        .isInstanceOf(ResourceNotFoundException.class)
        .hasMessageContaining("function:cp-delete-version:1");
    assertThat(
            kiln.lambda()
                .getFunction(b -> b.functionName("cp-delete-version"))
                .configuration()
                .version())
        .isEqualTo("$LATEST");
  }

  @Test
  void tags_canBeAddedListedAndRemoved() {
    String arn = kiln.python("cp-tags", CODE).functionArn();
    kiln.lambda().tagResource(b -> b.resource(arn).tags(Map.of("a", "1", "b", "2")));
    assertThat(kiln.lambda().listTags(b -> b.resource(arn)).tags())
        .containsExactlyInAnyOrderEntriesOf(Map.of("a", "1", "b", "2"));
    kiln.lambda().untagResource(b -> b.resource(arn).tagKeys("a"));
    assertThat(kiln.lambda().listTags(b -> b.resource(arn)).tags())
        .containsExactlyInAnyOrderEntriesOf(Map.of("b", "2"));
  }

  @Test
  void getAccountSettings_reportsLimitsAndRealUsage() {
    kiln.python("cp-account", CODE);
    GetAccountSettingsResponse s = kiln.lambda().getAccountSettings(b -> {});
    assertThat(s.accountLimit().codeSizeZipped()).isEqualTo(52_428_800L);
    assertThat(s.accountLimit().codeSizeUnzipped()).isEqualTo(262_144_000L);
    assertThat(s.accountLimit().concurrentExecutions()).isEqualTo(1000);
    assertThat(s.accountUsage().functionCount())
        .isEqualTo(kiln.lambda().listFunctionsPaginator(b -> {}).functions().stream().count());
    assertThat(s.accountUsage().totalCodeSize()).isPositive();
  }

  @Test
  void getAccountSettings_answersWithAndWithoutTrailingSlash() throws Exception {
    var http = java.net.http.HttpClient.newHttpClient();
    for (String path : List.of("/2016-08-19/account-settings", "/2016-08-19/account-settings/")) {
      var r =
          http.send(kiln.signed("GET", path), java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(path).isEqualTo(200);
      assertThat(r.body()).contains("\"AccountLimit\"").contains("\"FunctionCount\"");
    }
  }

  @Test
  void waiters_functionActiveV2AndFunctionUpdatedV2_succeed() {
    kiln.python("cp-waiters", CODE);
    try (var waiter = kiln.lambda().waiter()) {
      assertThat(
              waiter
                  .waitUntilFunctionActiveV2(b -> b.functionName("cp-waiters"))
                  .matched()
                  .response())
          .isPresent();
      kiln.lambda().updateFunctionConfiguration(b -> b.functionName("cp-waiters").timeout(5));
      assertThat(
              waiter
                  .waitUntilFunctionUpdatedV2(b -> b.functionName("cp-waiters"))
                  .matched()
                  .response())
          .isPresent();
    }
  }
}
