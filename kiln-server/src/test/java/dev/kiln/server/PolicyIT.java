package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.api.auth.AccessKeys;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.AddPermissionResponse;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.PreconditionFailedException;
import software.amazon.awssdk.services.lambda.model.ResourceConflictException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;

/**
 * Resource-based policies: AddPermission, GetPolicy and RemovePermission as AWS shapes them, with
 * the SDK and the AWS CLI, and enforced for a {@code policy} key, which may invoke only what a
 * function's policy grants it.
 */
class PolicyIT {

  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void permissions_areAddedShownAndRemoved_andGrantPolicyKeys() throws Exception {
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.python("shared", "def handler(e, c):\n    return 'shared'\n");
      kiln.python("private", "def handler(e, c):\n    return 'private'\n");
      kiln.lambda.publishVersion(b -> b.functionName("shared"));
      kiln.lambda.createAlias(b -> b.functionName("shared").name("live").functionVersion("1"));

      ResourceNotFoundException none =
          catchThrowableOfType(
              ResourceNotFoundException.class,
              () -> kiln.lambda.getPolicy(b -> b.functionName("shared")));
      assertThat(none.awsErrorDetails().errorMessage())
          .isEqualTo("The resource you requested does not exist.");

      AccessKeys.Key policyKey =
          AccessKeys.open(kiln.dataDir).add(AccessKeys.Role.POLICY, "a partner");
      String principal = "arn:aws:iam::000000000000:user/" + policyKey.accessKeyId();
      try (LambdaClient partner =
          KilnFixture.client(
              kiln.server.endpoint(),
              AwsBasicCredentials.create(policyKey.accessKeyId(), policyKey.secretAccessKey()))) {
        LambdaException before =
            catchThrowableOfType(
                LambdaException.class, () -> partner.invoke(b -> b.functionName("shared")));
        assertThat(before.statusCode()).isEqualTo(403);
        assertThat(before.awsErrorDetails().errorCode()).isEqualTo("AccessDeniedException");
        assertThat(before.awsErrorDetails().errorMessage())
            .isEqualTo(
                "User: "
                    + principal
                    + " is not authorized to perform: lambda:InvokeFunction on resource:"
                    + " arn:aws:lambda:us-east-1:000000000000:function:shared because no"
                    + " resource-based policy allows the lambda:InvokeFunction action");

        // Kiln has no organizations, function URLs or Alexa skills: a grant to everyone that one
        // of them conditions admits no key, and the condition is shown as IAM writes it
        kiln.lambda.addPermission(
            b ->
                b.functionName("shared")
                    .statementId("org")
                    .action("lambda:InvokeFunction")
                    .principal("*")
                    .principalOrgID("o-a1b2c3d4e5"));
        kiln.lambda.addPermission(
            b ->
                b.functionName("shared")
                    .statementId("alexa")
                    .action("lambda:InvokeFunction")
                    .principal("*")
                    .eventSourceToken("amzn1.ask.skill.1234"));
        // newer than this SDK's model: as a newer SDK sends it
        java.net.http.HttpResponse<String> url =
            java.net.http.HttpClient.newHttpClient()
                .send(
                    kiln.signed(
                        "POST",
                        "/2015-03-31/functions/shared/policy",
                        java.util.Map.of("Content-Type", "application/json"),
                        ("{\"StatementId\": \"url\", \"Action\": \"lambda:InvokeFunction\","
                                + " \"Principal\": \"*\", \"InvokedViaFunctionUrl\": true}")
                            .getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        "lambda"),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(url.statusCode()).as(url.body()).isEqualTo(201);
        JsonNode conditioned =
            JSON.readTree(kiln.lambda.getPolicy(b -> b.functionName("shared")).policy());
        assertThat(
                conditioned
                    .at("/Statement/1/Condition/StringEquals/lambda:EventSourceToken")
                    .asText())
            .isEqualTo("amzn1.ask.skill.1234");
        assertThat(
                conditioned.at("/Statement/2/Condition/Bool/lambda:InvokedViaFunctionUrl").asText())
            .isEqualTo("true");
        assertThat(
                catchThrowableOfType(
                        LambdaException.class, () -> partner.invoke(b -> b.functionName("shared")))
                    .awsErrorDetails()
                    .errorCode())
            .as(
                "statements with PrincipalOrgID, EventSourceToken or InvokedViaFunctionUrl match no"
                    + " Kiln key")
            .isEqualTo("AccessDeniedException");
        for (String sid : new String[] {"org", "alexa", "url"}) {
          kiln.lambda.removePermission(b -> b.functionName("shared").statementId(sid));
        }
        LambdaException badToken =
            catchThrowableOfType(
                LambdaException.class,
                () ->
                    kiln.lambda.addPermission(
                        b ->
                            b.functionName("shared")
                                .statementId("bad")
                                .action("lambda:InvokeFunction")
                                .principal("*")
                                .eventSourceToken("not a token")));
        assertThat(badToken.awsErrorDetails().errorMessage())
            .contains("'eventSourceToken'")
            .contains("Member must satisfy regular expression pattern");

        AddPermissionResponse added =
            kiln.lambda.addPermission(
                b ->
                    b.functionName("shared")
                        .statementId("partner")
                        .action("lambda:InvokeFunction")
                        .principal(principal));
        JsonNode statement = JSON.readTree(added.statement());
        assertThat(statement.path("Sid").asText()).isEqualTo("partner");
        assertThat(statement.path("Effect").asText()).isEqualTo("Allow");
        assertThat(statement.at("/Principal/AWS").asText()).isEqualTo(principal);
        assertThat(statement.path("Resource").asText())
            .isEqualTo("arn:aws:lambda:us-east-1:000000000000:function:shared");

        assertThat(partner.invoke(b -> b.functionName("shared")).payload().asUtf8String())
            .isEqualTo("\"shared\"");
        assertThat(
                partner
                    .invoke(b -> b.functionName("shared").qualifier("live"))
                    .payload()
                    .asUtf8String())
            .as("the function's policy covers its qualifiers")
            .isEqualTo("\"shared\"");
        assertThat(
                catchThrowableOfType(
                        LambdaException.class, () -> partner.invoke(b -> b.functionName("private")))
                    .awsErrorDetails()
                    .errorCode())
            .isEqualTo("AccessDeniedException");
        assertThat(
                catchThrowableOfType(LambdaException.class, partner::listFunctions)
                    .awsErrorDetails()
                    .errorCode())
            .as("a policy key has no rights of its own")
            .isEqualTo("AccessDeniedException");

        // a service principal with a source condition, on an alias
        kiln.lambda.addPermission(
            b ->
                b.functionName("shared")
                    .qualifier("live")
                    .statementId("bucket")
                    .action("lambda:InvokeFunction")
                    .principal("s3.amazonaws.com")
                    .sourceArn("arn:aws:s3:::uploads")
                    .sourceAccount("000000000000"));
        JsonNode alias =
            JSON.readTree(
                kiln.lambda.getPolicy(b -> b.functionName("shared").qualifier("live")).policy());
        assertThat(alias.path("Statement").get(0).at("/Principal/Service").asText())
            .isEqualTo("s3.amazonaws.com");
        assertThat(alias.path("Statement").get(0).at("/Condition/ArnLike/AWS:SourceArn").asText())
            .isEqualTo("arn:aws:s3:::uploads");
        assertThat(alias.path("Statement").get(0).path("Resource").asText())
            .endsWith("function:shared:live");

        ResourceConflictException twice =
            catchThrowableOfType(
                ResourceConflictException.class,
                () ->
                    kiln.lambda.addPermission(
                        b ->
                            b.functionName("shared")
                                .statementId("partner")
                                .action("lambda:InvokeFunction")
                                .principal("*")));
        assertThat(twice.awsErrorDetails().errorMessage())
            .startsWith("The statement id (partner) provided already exists.");
        LambdaException badAction =
            catchThrowableOfType(
                LambdaException.class,
                () ->
                    kiln.lambda.addPermission(
                        b ->
                            b.functionName("shared")
                                .statementId("x")
                                .action("invoke everything")
                                .principal("*")));
        assertThat(badAction.awsErrorDetails().errorCode()).isEqualTo("ValidationException");
        assertThat(badAction.awsErrorDetails().errorMessage()).contains("'action'");
        String revision = kiln.lambda.getPolicy(b -> b.functionName("shared")).revisionId();
        assertThat(
                catchThrowableOfType(
                    PreconditionFailedException.class,
                    () ->
                        kiln.lambda.removePermission(
                            b ->
                                b.functionName("shared").statementId("partner").revisionId("old"))))
            .isNotNull();
        kiln.lambda.removePermission(
            b -> b.functionName("shared").statementId("partner").revisionId(revision));
        assertThat(
                catchThrowableOfType(
                        ResourceNotFoundException.class,
                        () ->
                            kiln.lambda.removePermission(
                                b -> b.functionName("shared").statementId("partner")))
                    .awsErrorDetails()
                    .errorMessage())
            .isEqualTo("Statement partner is not found in resource policy.");
        assertThat(
                catchThrowableOfType(
                        LambdaException.class, () -> partner.invoke(b -> b.functionName("shared")))
                    .awsErrorDetails()
                    .errorCode())
            .as("removed: denied again")
            .isEqualTo("AccessDeniedException");
      }

      // the AWS CLI
      Path dir = dev.kiln.testing.TempDirs.create("kiln-policy-cli-");
      Tools.Result add =
          Tools.aws(
              kiln,
              dir,
              "lambda",
              "add-permission",
              "--function-name",
              "private",
              "--statement-id",
              "everyone",
              "--action",
              "lambda:InvokeFunction",
              "--principal",
              "*");
      assertThat(add.exit()).as(add.output()).isZero();
      Tools.Result get = Tools.aws(kiln, dir, "lambda", "get-policy", "--function-name", "private");
      assertThat(get.exit()).as(get.output()).isZero();
      assertThat(
              JSON.readTree(JSON.readTree(get.output()).path("Policy").asText())
                  .at("/Statement/0/Sid")
                  .asText())
          .isEqualTo("everyone");
    }
  }
}
