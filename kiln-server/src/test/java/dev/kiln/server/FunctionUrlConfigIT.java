package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.Cors;
import software.amazon.awssdk.services.lambda.model.CreateFunctionUrlConfigResponse;
import software.amazon.awssdk.services.lambda.model.FunctionUrlAuthType;
import software.amazon.awssdk.services.lambda.model.FunctionUrlConfig;
import software.amazon.awssdk.services.lambda.model.GetFunctionUrlConfigResponse;
import software.amazon.awssdk.services.lambda.model.InvokeMode;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.ListFunctionUrlConfigsResponse;
import software.amazon.awssdk.services.lambda.model.ResourceConflictException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;
import software.amazon.awssdk.services.lambda.model.Runtime;
import software.amazon.awssdk.services.lambda.model.UpdateFunctionUrlConfigResponse;

/**
 * The function URL API (Create, Get, Update, Delete, List FunctionUrlConfig) through the SDK for
 * Java v2 and the AWS CLI: every response field as AWS shapes it, every refusal in AWS's words with
 * nothing stored changed, configs going with their alias and function, and surviving kill -9.
 */
class FunctionUrlConfigIT {

  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();

  static final ObjectMapper JSON = new ObjectMapper();
  static final String ARN = "arn:aws:lambda:us-east-1:000000000000:function:web";
  static final String TIME = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}Z";

  static LambdaClient lambda;

  @BeforeAll
  static void functions() {
    lambda = kiln.lambda();
    kiln.python("web", "def handler(e, c):\n    return {'statusCode': 200, 'body': 'hi'}\n");
    lambda.publishVersion(b -> b.functionName("web"));
    lambda.createAlias(b -> b.functionName("web").name("live").functionVersion("1"));
  }

  @AfterEach
  void deleteUrls() {
    for (FunctionUrlConfig c :
        lambda.listFunctionUrlConfigs(b -> b.functionName("web")).functionUrlConfigs()) {
      String arn = c.functionArn();
      lambda.deleteFunctionUrlConfig(
          b -> {
            b.functionName("web");
            if (!arn.equals(ARN)) {
              b.qualifier(arn.substring(arn.lastIndexOf(':') + 1));
            }
          });
    }
  }

  String urlPattern() {
    return "http://[a-z0-9]{32}\\.lambda-url\\.us-east-1\\.localhost:" + kiln.server().port() + "/";
  }

  @Test
  void create_get_update_list_delete_onTheFunctionAndAnAlias() {
    CreateFunctionUrlConfigResponse created =
        lambda.createFunctionUrlConfig(
            b -> b.functionName("web").authType(FunctionUrlAuthType.NONE));
    assertThat(created.sdkHttpResponse().statusCode()).isEqualTo(201);
    assertThat(created.functionUrl()).matches(urlPattern());
    assertThat(created.functionArn()).isEqualTo(ARN);
    assertThat(created.authType()).isEqualTo(FunctionUrlAuthType.NONE);
    assertThat(created.cors()).isNull();
    assertThat(created.creationTime()).matches(TIME);
    assertThat(created.invokeMode()).isEqualTo(InvokeMode.BUFFERED);

    GetFunctionUrlConfigResponse got = lambda.getFunctionUrlConfig(b -> b.functionName("web"));
    assertThat(got.functionUrl()).isEqualTo(created.functionUrl());
    assertThat(got.creationTime()).isEqualTo(created.creationTime());
    assertThat(got.lastModifiedTime()).isEqualTo(created.creationTime());

    Cors cors =
        Cors.builder()
            .allowCredentials(true)
            .allowOrigins("https://www.example.com")
            .allowMethods("POST", "GET")
            .allowHeaders("keep-alive")
            .exposeHeaders("x-custom")
            .maxAge(86_400)
            .build();
    CreateFunctionUrlConfigResponse live =
        lambda.createFunctionUrlConfig(
            b ->
                b.functionName("web")
                    .qualifier("live")
                    .authType(FunctionUrlAuthType.AWS_IAM)
                    .cors(cors)
                    .invokeMode(InvokeMode.RESPONSE_STREAM));
    assertThat(live.functionArn()).isEqualTo(ARN + ":live");
    assertThat(live.functionUrl()).matches(urlPattern()).isNotEqualTo(created.functionUrl());
    assertThat(live.cors()).isEqualTo(cors);
    assertThat(live.invokeMode()).isEqualTo(InvokeMode.RESPONSE_STREAM);
    // the qualified name form names the same config
    assertThat(lambda.getFunctionUrlConfig(b -> b.functionName("web:live")).functionUrl())
        .isEqualTo(live.functionUrl());

    UpdateFunctionUrlConfigResponse updated =
        lambda.updateFunctionUrlConfig(
            b ->
                b.functionName("web")
                    .authType(FunctionUrlAuthType.AWS_IAM)
                    .cors(Cors.builder().allowOrigins("*").build()));
    assertThat(updated.functionUrl()).isEqualTo(created.functionUrl());
    assertThat(updated.authType()).isEqualTo(FunctionUrlAuthType.AWS_IAM);
    assertThat(updated.cors()).isEqualTo(Cors.builder().allowOrigins("*").build());
    assertThat(updated.invokeMode()).isEqualTo(InvokeMode.BUFFERED);
    assertThat(updated.creationTime()).isEqualTo(created.creationTime());
    assertThat(updated.lastModifiedTime()).matches(TIME);
    assertThat(updated.lastModifiedTime()).isGreaterThanOrEqualTo(created.creationTime());

    ListFunctionUrlConfigsResponse first =
        lambda.listFunctionUrlConfigs(b -> b.functionName("web").maxItems(1));
    assertThat(first.functionUrlConfigs())
        .extracting(FunctionUrlConfig::functionArn)
        .containsExactly(ARN);
    assertThat(first.nextMarker()).isNotNull();
    ListFunctionUrlConfigsResponse second =
        lambda.listFunctionUrlConfigs(
            b -> b.functionName("web").maxItems(1).marker(first.nextMarker()));
    assertThat(second.functionUrlConfigs())
        .extracting(FunctionUrlConfig::functionArn)
        .containsExactly(ARN + ":live");
    assertThat(second.nextMarker()).isNull();
    FunctionUrlConfig listed = second.functionUrlConfigs().getFirst();
    assertThat(listed.functionUrl()).isEqualTo(live.functionUrl());
    assertThat(listed.authType()).isEqualTo(FunctionUrlAuthType.AWS_IAM);
    assertThat(listed.lastModifiedTime()).matches(TIME);

    var deleted = lambda.deleteFunctionUrlConfig(b -> b.functionName("web").qualifier("live"));
    assertThat(deleted.sdkHttpResponse().statusCode()).isEqualTo(204);
    assertNotFound(
        () -> lambda.getFunctionUrlConfig(b -> b.functionName("web").qualifier("live")),
        "The resource you requested does not exist.");
    assertThat(urls()).containsExactly(ARN);
  }

  /** The ARNs of the stored configs, and their URLs and settings, to show nothing changed. */
  List<String> urls() {
    return lambda.listFunctionUrlConfigs(b -> b.functionName("web")).functionUrlConfigs().stream()
        .map(c -> c.functionArn())
        .toList();
  }

  List<FunctionUrlConfig> stored() {
    return lambda.listFunctionUrlConfigs(b -> b.functionName("web")).functionUrlConfigs();
  }

  static void assertNotFound(ThrowingCallable call, String message) {
    ResourceNotFoundException e = catchThrowableOfType(ResourceNotFoundException.class, call);
    assertThat(e).as("ResourceNotFoundException").isNotNull();
    assertThat(e.statusCode()).isEqualTo(404);
    assertThat(e.awsErrorDetails().errorMessage()).isEqualTo(message);
  }

  static void assertError(ThrowingCallable call, String type, String message) {
    LambdaException e = catchThrowableOfType(LambdaException.class, call);
    assertThat(e).as(type).isNotNull();
    assertThat(e.statusCode()).isEqualTo(400);
    assertThat(e.awsErrorDetails().errorCode()).isEqualTo(type);
    assertThat(e.awsErrorDetails().errorMessage()).isEqualTo(message);
  }

  @Test
  void aSecondConfigForTheSameQualifier_isAConflict_andChangesNothing() {
    lambda.createFunctionUrlConfig(
        b -> b.functionName("web").qualifier("live").authType(FunctionUrlAuthType.NONE));
    List<FunctionUrlConfig> before = stored();
    ResourceConflictException e =
        catchThrowableOfType(
            ResourceConflictException.class,
            () ->
                lambda.createFunctionUrlConfig(
                    b ->
                        b.functionName("web")
                            .qualifier("live")
                            .authType(FunctionUrlAuthType.AWS_IAM)));
    assertThat(e.statusCode()).isEqualTo(409);
    assertThat(e.awsErrorDetails().errorMessage())
        .isEqualTo(
            "Failed to create function url config for [functionArn = "
                + ARN
                + ":live]. Error message:  FunctionUrlConfig exists for this Lambda function");
    assertThat(stored()).isEqualTo(before);
  }

  @Test
  void versionsLatestUnknownFunctionsAndAliases_areRefusedInAwsWords_andNothingIsStored() {
    assertError(
        () ->
            lambda.createFunctionUrlConfig(
                b -> b.functionName("web").qualifier("1").authType(FunctionUrlAuthType.NONE)),
        "ValidationException",
        "1 validation error detected: Value '1' at 'qualifier' failed to satisfy constraint:"
            + " Member must satisfy regular expression pattern:"
            + " (^\\$LATEST$)|((?!^[0-9]+$)([a-zA-Z0-9-_]+))");
    assertError(
        () ->
            lambda.createFunctionUrlConfig(
                b -> b.functionName("web").qualifier("$LATEST").authType(FunctionUrlAuthType.NONE)),
        "ValidationException",
        "1 validation error detected: Value '$LATEST' at 'qualifier' failed to satisfy"
            + " constraint: Member must satisfy regular expression pattern:"
            + " ((?!^\\d+$)^[0-9a-zA-Z-_]+$)");
    assertNotFound(
        () ->
            lambda.createFunctionUrlConfig(
                b -> b.functionName("nope").authType(FunctionUrlAuthType.NONE)),
        "Function does not exist");
    assertNotFound(
        () ->
            lambda.createFunctionUrlConfig(
                b -> b.functionName("web").qualifier("beta").authType(FunctionUrlAuthType.NONE)),
        "Function does not exist");
    assertNotFound(
        () -> lambda.listFunctionUrlConfigs(b -> b.functionName("nope")),
        "Function does not exist");
    assertThat(stored()).isEmpty();
  }

  @Test
  void badAuthTypeInvokeModeAndCors_areRefusedWithTheModelsLimits_andNothingChanges() {
    lambda.createFunctionUrlConfig(b -> b.functionName("web").authType(FunctionUrlAuthType.NONE));
    List<FunctionUrlConfig> before = stored();
    assertError(
        () ->
            lambda.createFunctionUrlConfig(
                b -> b.functionName("web").qualifier("live").authType("OPEN")),
        "ValidationException",
        "1 validation error detected: Value 'OPEN' at 'authType' failed to satisfy constraint:"
            + " Member must satisfy enum value set: [AWS_IAM, NONE]");
    assertError(
        () -> lambda.updateFunctionUrlConfig(b -> b.functionName("web").invokeMode("FAST")),
        "ValidationException",
        "1 validation error detected: Value 'FAST' at 'invokeMode' failed to satisfy"
            + " constraint: Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]");
    assertError(
        () ->
            lambda.updateFunctionUrlConfig(b -> b.functionName("web").cors(c -> c.maxAge(86_401))),
        "ValidationException",
        "1 validation error detected: Value '86401' at 'cors.maxAge' failed to satisfy"
            + " constraint: Member must have value less than or equal to 86400");
    assertError(
        () ->
            lambda.updateFunctionUrlConfig(
                b ->
                    b.functionName("web")
                        .cors(
                            c ->
                                c.allowMethods(
                                    "GET", "PUT", "POST", "HEAD", "PATCH", "DELETE", "OPTIONS"))),
        "ValidationException",
        "1 validation error detected: Value '[GET, PUT, POST, HEAD, PATCH, DELETE, OPTIONS]' at"
            + " 'cors.allowMethods' failed to satisfy constraint: Member must have length less"
            + " than or equal to 6");
    String longOrigin = "https://" + "a".repeat(246);
    assertError(
        () ->
            lambda.updateFunctionUrlConfig(
                b -> b.functionName("web").cors(c -> c.allowOrigins(longOrigin))),
        "ValidationException",
        "1 validation error detected: Value '["
            + longOrigin
            + "]' at 'cors.allowOrigins' failed to satisfy constraint: Member must satisfy"
            + " constraint: [Member must have length less than or equal to 253]");
    assertError(
        () -> lambda.listFunctionUrlConfigs(b -> b.functionName("web").maxItems(51)),
        "ValidationException",
        "1 validation error detected: Value '51' at 'maxItems' failed to satisfy constraint:"
            + " Member must have value less than or equal to 50");
    assertError(
        () -> lambda.createFunctionUrlConfig(b -> b.functionName("web").qualifier("live")),
        "ValidationException",
        "1 validation error detected: Value 'null' at 'authType' failed to satisfy constraint:"
            + " Member must not be null");
    assertThat(stored()).isEqualTo(before);
  }

  @Test
  void getUpdateDeleteOfAMissingConfig_isNotFound() {
    String message = "The resource you requested does not exist.";
    assertNotFound(() -> lambda.getFunctionUrlConfig(b -> b.functionName("web")), message);
    assertNotFound(
        () ->
            lambda.updateFunctionUrlConfig(
                b -> b.functionName("web").authType(FunctionUrlAuthType.NONE)),
        message);
    assertNotFound(
        () -> lambda.deleteFunctionUrlConfig(b -> b.functionName("web").qualifier("live")),
        message);
    assertNotFound(() -> lambda.getFunctionUrlConfig(b -> b.functionName("nope")), message);
    assertThat(stored()).isEmpty();
  }

  @Test
  void configsGoWithTheirAliasAndTheirFunction() {
    kiln.python("temp", "def handler(e, c):\n    return 1\n");
    lambda.publishVersion(b -> b.functionName("temp"));
    lambda.createAlias(b -> b.functionName("temp").name("a").functionVersion("1"));
    lambda.createFunctionUrlConfig(b -> b.functionName("temp").authType(FunctionUrlAuthType.NONE));
    lambda.createFunctionUrlConfig(
        b -> b.functionName("temp").qualifier("a").authType(FunctionUrlAuthType.NONE));

    lambda.deleteAlias(b -> b.functionName("temp").name("a"));
    assertThat(lambda.listFunctionUrlConfigs(b -> b.functionName("temp")).functionUrlConfigs())
        .extracting(FunctionUrlConfig::functionArn)
        .containsExactly("arn:aws:lambda:us-east-1:000000000000:function:temp");

    lambda.deleteFunction(b -> b.functionName("temp"));
    kiln.python("temp", "def handler(e, c):\n    return 1\n");
    assertThat(lambda.listFunctionUrlConfigs(b -> b.functionName("temp")).functionUrlConfigs())
        .as("a function made again under the same name has no URL of the old one")
        .isEmpty();
    lambda.deleteFunction(b -> b.functionName("temp"));
  }

  @Test
  void theAwsCli_createsAUrlAndGrantsPublicAccess_asAwsDocsShowIt() throws Exception {
    Path dir = dev.kiln.testing.TempDirs.create("kiln-url-cli-");
    Tools.Result create =
        Tools.aws(
            kiln.fixture(),
            dir,
            "lambda",
            "create-function-url-config",
            "--function-name",
            "web",
            "--auth-type",
            "NONE",
            "--cors",
            "AllowOrigins=https://example.com,AllowMethods=GET,MaxAge=300");
    assertThat(create.exit()).as(create.output()).isZero();
    JsonNode created = JSON.readTree(create.output());
    assertThat(created.path("FunctionUrl").asText()).matches(urlPattern());
    assertThat(created.path("FunctionArn").asText()).isEqualTo(ARN);
    assertThat(created.path("AuthType").asText()).isEqualTo("NONE");
    assertThat(created.at("/Cors/AllowOrigins/0").asText()).isEqualTo("https://example.com");
    assertThat(created.at("/Cors/MaxAge").asInt()).isEqualTo(300);
    assertThat(created.path("CreationTime").asText()).matches(TIME);
    assertThat(created.has("LastModifiedTime")).isFalse();

    Tools.Result add =
        Tools.aws(
            kiln.fixture(),
            dir,
            "lambda",
            "add-permission",
            "--function-name",
            "web",
            "--action",
            "lambda:InvokeFunctionUrl",
            "--principal",
            "*",
            "--function-url-auth-type",
            "NONE",
            "--statement-id",
            "FunctionURLAllowPublicAccess");
    assertThat(add.exit()).as(add.output()).isZero();
    JsonNode statement = JSON.readTree(JSON.readTree(add.output()).path("Statement").asText());
    assertThat(statement.path("Action").asText()).isEqualTo("lambda:InvokeFunctionUrl");
    assertThat(statement.path("Principal").asText()).isEqualTo("*");
    assertThat(statement.path("Resource").asText()).isEqualTo(ARN);
    assertThat(statement.path("Condition").toString())
        .isEqualTo("{\"StringEquals\":{\"lambda:FunctionUrlAuthType\":\"NONE\"}}");

    Tools.Result get =
        Tools.aws(kiln.fixture(), dir, "lambda", "get-policy", "--function-name", "web");
    assertThat(get.exit()).as(get.output()).isZero();
    JsonNode policy = JSON.readTree(JSON.readTree(get.output()).path("Policy").asText());
    assertThat(policy.at("/Statement/0/Condition/StringEquals/lambda:FunctionUrlAuthType").asText())
        .isEqualTo("NONE");

    Tools.Result bad =
        Tools.aws(
            kiln.fixture(),
            dir,
            "lambda",
            "add-permission",
            "--function-name",
            "web",
            "--action",
            "lambda:InvokeFunctionUrl",
            "--principal",
            "*",
            "--function-url-auth-type",
            "OPEN",
            "--statement-id",
            "bad");
    assertThat(bad.exit()).isNotZero();
    assertThat(bad.output())
        .contains(
            "1 validation error detected: Value 'OPEN' at 'functionUrlAuthType' failed to"
                + " satisfy constraint: Member must satisfy enum value set: [AWS_IAM, NONE]");
    lambda.removePermission(b -> b.functionName("web").statementId("FunctionURLAllowPublicAccess"));
  }

  @Test
  void aConfigSurvivesKillMinus9AndARestart_withItsUrlIdAndTimes() throws Exception {
    Path data = dev.kiln.testing.TempDirs.create("kiln-url-restart-");
    int port = ServerProcess.freePort();
    GetFunctionUrlConfigResponse before;
    try (ServerProcess first = ServerProcess.start(data, port);
        LambdaClient client = KilnFixture.client(first)) {
      client.createFunction(
          b ->
              b.functionName("kept")
                  .runtime(Runtime.PYTHON3_12)
                  .handler("app.handler")
                  .role(KilnFixture.ROLE)
                  .code(
                      c ->
                          c.zipFile(
                              SdkBytes.fromByteArray(
                                  Zips.of("app.py", "def handler(e, c):\n    return 1\n")))));
      client.createFunctionUrlConfig(
          b ->
              b.functionName("kept")
                  .authType(FunctionUrlAuthType.AWS_IAM)
                  .cors(c -> c.allowOrigins("*").maxAge(10))
                  .invokeMode(InvokeMode.RESPONSE_STREAM));
      before = client.getFunctionUrlConfig(b -> b.functionName("kept"));
      first.process.destroyForcibly(); // SIGKILL: no shutdown hook runs
      assertThat(first.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
    try (ServerProcess second = ServerProcess.start(data, port);
        LambdaClient client = KilnFixture.client(second)) {
      GetFunctionUrlConfigResponse after = client.getFunctionUrlConfig(b -> b.functionName("kept"));
      assertThat(after.functionUrl()).isEqualTo(before.functionUrl());
      assertThat(after.functionUrl())
          .matches("http://[a-z0-9]{32}\\.lambda-url\\.us-east-1\\.localhost:" + port + "/");
      assertThat(after.creationTime()).isEqualTo(before.creationTime());
      assertThat(after.lastModifiedTime()).isEqualTo(before.lastModifiedTime());
      assertThat(after.authType()).isEqualTo(FunctionUrlAuthType.AWS_IAM);
      assertThat(after.cors()).isEqualTo(before.cors());
      assertThat(after.invokeMode()).isEqualTo(InvokeMode.RESPONSE_STREAM);
    }
  }

  @Test
  void withAFunctionUrlDomain_urlsAreHttpsUnderIt_asAwsOnAwsForm() {
    try (KilnFixture own = new KilnFixture(s -> s.withFunctionUrlDomain("kiln.example.com"))) {
      own.python("d", "def handler(e, c):\n    return 1\n");
      String url =
          own.lambda
              .createFunctionUrlConfig(b -> b.functionName("d").authType(FunctionUrlAuthType.NONE))
              .functionUrl();
      assertThat(url)
          .matches("https://[a-z0-9]{32}\\.lambda-url\\.us-east-1\\.kiln\\.example\\.com/");
    }
    IllegalArgumentException bad =
        catchThrowableOfType(
            IllegalArgumentException.class,
            () ->
                ServerSettings.defaults(Path.of("/tmp"))
                    .withFunctionUrlDomain("https://kiln.example.com:443"));
    assertThat(bad)
        .hasMessage(
            "--function-url-domain must be a DNS name in lower case such as kiln.example.com (no"
                + " scheme, port or path), got 'https://kiln.example.com:443'");
  }
}
