package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.api.auth.AccessKeys;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.AttachedPolicy;
import software.amazon.awssdk.services.iam.model.DeleteConflictException;
import software.amazon.awssdk.services.iam.model.EntityAlreadyExistsException;
import software.amazon.awssdk.services.iam.model.IamException;
import software.amazon.awssdk.services.iam.model.LimitExceededException;
import software.amazon.awssdk.services.iam.model.MalformedPolicyDocumentException;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;
import software.amazon.awssdk.services.iam.model.PolicyScopeType;
import software.amazon.awssdk.services.iam.model.Role;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.model.GetCallerIdentityResponse;

/**
 * The IAM subset and STS GetCallerIdentity at Kiln's endpoint, driven by the AWS SDK for Java v2's
 * IAM and STS clients and the AWS CLI, with IAM's errors for bad input (and nothing stored by a
 * refused request).
 */
class IamIT {

  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();
  static final ObjectMapper JSON = new ObjectMapper();

  static final String TRUST = RolesIT.LAMBDA_TRUST;
  static final String READ_LOGS =
      "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
          + "\"Action\":\"logs:GetLogEvents\",\"Resource\":\"*\"}]}";

  static String decoded(String document) {
    return URLDecoder.decode(document, StandardCharsets.UTF_8);
  }

  @Test
  void roles_areCreatedShownListedTaggedAndDeleted() {
    try (IamClient iam = kiln.fixture().iamClient()) {
      Role created =
          iam.createRole(
                  b ->
                      b.roleName("app-role")
                          .path("/service/")
                          .description("runs the app")
                          .assumeRolePolicyDocument(TRUST)
                          .tags(t -> t.key("team").value("blue")))
              .role();
      assertThat(created.arn()).isEqualTo("arn:aws:iam::000000000000:role/service/app-role");
      assertThat(created.roleId()).startsWith("AROA").hasSize(21);
      assertThat(created.maxSessionDuration()).isEqualTo(3600);

      Role got = iam.getRole(b -> b.roleName("APP-ROLE")).role();
      assertThat(got.roleName()).isEqualTo("app-role");
      assertThat(decoded(got.assumeRolePolicyDocument())).isEqualTo(TRUST);
      assertThat(got.description()).isEqualTo("runs the app");
      assertThat(got.tags())
          .singleElement()
          .satisfies(t -> assertThat(t.value()).isEqualTo("blue"));

      assertThat(iam.listRoles(b -> b.pathPrefix("/service/")).roles())
          .extracting(Role::roleName)
          .containsExactly("app-role");

      iam.tagRole(b -> b.roleName("app-role").tags(t -> t.key("env").value("prod")));
      iam.untagRole(b -> b.roleName("app-role").tagKeys("team"));
      assertThat(iam.listRoleTags(b -> b.roleName("app-role")).tags())
          .singleElement()
          .satisfies(t -> assertThat(t.key() + "=" + t.value()).isEqualTo("env=prod"));

      EntityAlreadyExistsException twice =
          catchThrowableOfType(
              EntityAlreadyExistsException.class,
              () -> iam.createRole(b -> b.roleName("App-Role").assumeRolePolicyDocument(TRUST)));
      assertThat(twice.awsErrorDetails().errorMessage())
          .isEqualTo("Role with name App-Role already exists.");

      iam.putRolePolicy(
          b -> b.roleName("app-role").policyName("read-logs").policyDocument(READ_LOGS));
      DeleteConflictException inline =
          catchThrowableOfType(
              DeleteConflictException.class, () -> iam.deleteRole(b -> b.roleName("app-role")));
      assertThat(inline.awsErrorDetails().errorMessage())
          .isEqualTo("Cannot delete entity, must delete policies first.");
      iam.deleteRolePolicy(b -> b.roleName("app-role").policyName("read-logs"));
      iam.deleteRole(b -> b.roleName("app-role"));

      NoSuchEntityException gone =
          catchThrowableOfType(
              NoSuchEntityException.class, () -> iam.getRole(b -> b.roleName("app-role")));
      assertThat(gone.statusCode()).isEqualTo(404);
      assertThat(gone.awsErrorDetails().errorMessage())
          .isEqualTo("The role with name app-role cannot be found.");
    }
  }

  @Test
  void policies_inlineAttachedManagedAndVersioned() {
    try (IamClient iam = kiln.fixture().iamClient()) {
      iam.createRole(b -> b.roleName("worker").assumeRolePolicyDocument(TRUST));
      iam.putRolePolicy(
          b -> b.roleName("worker").policyName("read-logs").policyDocument(READ_LOGS));
      assertThat(iam.listRolePolicies(b -> b.roleName("worker")).policyNames())
          .containsExactly("read-logs");
      assertThat(
              decoded(
                  iam.getRolePolicy(b -> b.roleName("worker").policyName("read-logs"))
                      .policyDocument()))
          .isEqualTo(READ_LOGS);

      String basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
      var managed = iam.getPolicy(b -> b.policyArn(basic)).policy();
      assertThat(managed.policyName()).isEqualTo("AWSLambdaBasicExecutionRole");
      String document =
          decoded(
              iam.getPolicyVersion(b -> b.policyArn(basic).versionId(managed.defaultVersionId()))
                  .policyVersion()
                  .document());
      assertThat(document).contains("logs:CreateLogGroup").contains("logs:PutLogEvents");
      assertThat(iam.listPolicies(b -> b.scope(PolicyScopeType.AWS)).policies())
          .extracting(p -> p.policyName())
          .contains(
              "AWSLambdaBasicExecutionRole",
              "AWSLambdaRole",
              "AWSLambda_ReadOnlyAccess",
              "AWSLambda_FullAccess",
              "AWSXRayDaemonWriteAccess");

      var mine =
          iam.createPolicy(b -> b.policyName("logs-reader").policyDocument(READ_LOGS)).policy();
      assertThat(mine.arn()).isEqualTo("arn:aws:iam::000000000000:policy/logs-reader");
      assertThat(mine.defaultVersionId()).isEqualTo("v1");
      iam.attachRolePolicy(b -> b.roleName("worker").policyArn(basic));
      iam.attachRolePolicy(b -> b.roleName("worker").policyArn(mine.arn()));
      assertThat(iam.listAttachedRolePolicies(b -> b.roleName("worker")).attachedPolicies())
          .extracting(AttachedPolicy::policyArn)
          .containsExactly(basic, mine.arn());
      assertThat(iam.getPolicy(b -> b.policyArn(mine.arn())).policy().attachmentCount())
          .isEqualTo(1);

      DeleteConflictException attached =
          catchThrowableOfType(
              DeleteConflictException.class, () -> iam.deletePolicy(b -> b.policyArn(mine.arn())));
      assertThat(attached.awsErrorDetails().errorMessage())
          .isEqualTo("Cannot delete a policy attached to entities.");
      DeleteConflictException role =
          catchThrowableOfType(
              DeleteConflictException.class, () -> iam.deleteRole(b -> b.roleName("worker")));
      assertThat(role.awsErrorDetails().errorMessage())
          .isEqualTo("Cannot delete entity, must delete policies first.");

      for (int i = 2; i <= 5; i++) {
        iam.createPolicyVersion(
            b -> b.policyArn(mine.arn()).policyDocument(READ_LOGS).setAsDefault(true));
      }
      assertThat(iam.getPolicy(b -> b.policyArn(mine.arn())).policy().defaultVersionId())
          .isEqualTo("v5");
      LimitExceededException sixth =
          catchThrowableOfType(
              LimitExceededException.class,
              () ->
                  iam.createPolicyVersion(b -> b.policyArn(mine.arn()).policyDocument(READ_LOGS)));
      assertThat(sixth.awsErrorDetails().errorMessage())
          .isEqualTo(
              "A managed policy can have up to 5 versions. Before you create a new version, you"
                  + " must delete an existing version.");

      NoSuchEntityException notAttached =
          catchThrowableOfType(
              NoSuchEntityException.class,
              () ->
                  iam.detachRolePolicy(
                      b ->
                          b.roleName("worker").policyArn("arn:aws:iam::aws:policy/AWSLambdaRole")));
      assertThat(notAttached.awsErrorDetails().errorMessage())
          .isEqualTo("Policy arn:aws:iam::aws:policy/AWSLambdaRole was not found.");
      NoSuchEntityException unknown =
          catchThrowableOfType(
              NoSuchEntityException.class,
              () ->
                  iam.attachRolePolicy(
                      b ->
                          b.roleName("worker")
                              .policyArn("arn:aws:iam::000000000000:policy/nothing")));
      assertThat(unknown.awsErrorDetails().errorMessage())
          .isEqualTo(
              "Policy arn:aws:iam::000000000000:policy/nothing does not exist or is not"
                  + " attachable.");
    }
  }

  @Test
  void badDocumentsAndNames_areRefusedInIamsWords_andNothingChanges() {
    try (IamClient iam = kiln.fixture().iamClient()) {
      iam.createRole(b -> b.roleName("guarded").assumeRolePolicyDocument(TRUST));
      iam.putRolePolicy(b -> b.roleName("guarded").policyName("p").policyDocument(READ_LOGS));

      for (String bad :
          List.of(
              "{not json",
              "{\"Version\":\"2011-01-01\",\"Statement\":[{\"Effect\":\"Allow\","
                  + "\"Action\":\"lambda:*\",\"Resource\":\"*\"}]}",
              "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Action\":\"lambda:*\","
                  + "\"Resource\":\"*\"}]}",
              "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                  + "\"Resource\":\"*\"}]}")) {
        MalformedPolicyDocumentException e =
            catchThrowableOfType(
                MalformedPolicyDocumentException.class,
                () ->
                    iam.putRolePolicy(
                        b -> b.roleName("guarded").policyName("p").policyDocument(bad)));
        assertThat(e.statusCode()).as(bad).isEqualTo(400);
        assertThat(e.awsErrorDetails().errorCode()).isEqualTo("MalformedPolicyDocument");
        assertThat(e.awsErrorDetails().errorMessage()).as(bad).isNotBlank();
      }
      assertThat(
              decoded(
                  iam.getRolePolicy(b -> b.roleName("guarded").policyName("p")).policyDocument()))
          .isEqualTo(READ_LOGS);

      StringBuilder actions = new StringBuilder();
      for (int i = 0; i < 700; i++) {
        actions.append(i == 0 ? "" : ",").append("\"lambda:GetFunction").append(i).append('"');
      }
      String huge =
          "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":["
              + actions
              + "],\"Resource\":\"*\"}]}";
      LimitExceededException tooBig =
          catchThrowableOfType(
              LimitExceededException.class,
              () ->
                  iam.putRolePolicy(
                      b -> b.roleName("guarded").policyName("p").policyDocument(huge)));
      assertThat(tooBig.awsErrorDetails().errorMessage())
          .isEqualTo("Cannot exceed quota for PolicySize: 10240");

      IamException badName =
          catchThrowableOfType(
              IamException.class,
              () -> iam.createRole(b -> b.roleName("no spaces!").assumeRolePolicyDocument(TRUST)));
      assertThat(badName.awsErrorDetails().errorCode()).isEqualTo("ValidationError");
      assertThat(badName.awsErrorDetails().errorMessage())
          .isEqualTo(
              "1 validation error detected: Value 'no spaces!' at 'roleName' failed to satisfy"
                  + " constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+");

      MalformedPolicyDocumentException principal =
          catchThrowableOfType(
              MalformedPolicyDocumentException.class,
              () ->
                  iam.createRole(
                      b -> b.roleName("no-principal").assumeRolePolicyDocument(READ_LOGS)));
      assertThat(principal.awsErrorDetails().errorMessage()).isNotBlank();
      assertThat(iam.listRoles().roles()).extracting(Role::roleName).doesNotContain("no-principal");
    }
  }

  @Test
  void getCallerIdentity_namesTheKey_andAKeyWithoutIamRightsIsDenied() {
    AwsBasicCredentials admin = kiln.fixture().credentials();
    try (StsClient sts = kiln.fixture().stsClient(admin)) {
      GetCallerIdentityResponse me = sts.getCallerIdentity();
      assertThat(me.account()).isEqualTo("000000000000");
      assertThat(me.arn()).isEqualTo("arn:aws:iam::000000000000:user/" + admin.accessKeyId());
      assertThat(me.userId()).isEqualTo(admin.accessKeyId());
    }
    AccessKeys.Key invoke = AccessKeys.open(kiln.dataDir()).add(AccessKeys.Role.INVOKE, "ci");
    AwsBasicCredentials key =
        AwsBasicCredentials.create(invoke.accessKeyId(), invoke.secretAccessKey());
    try (StsClient sts = kiln.fixture().stsClient(key);
        IamClient iam = kiln.fixture().iamClient(key)) {
      assertThat(sts.getCallerIdentity().arn()).endsWith(":user/" + invoke.accessKeyId());
      IamException denied = catchThrowableOfType(IamException.class, iam::listRoles);
      assertThat(denied.statusCode()).isEqualTo(403);
      assertThat(denied.awsErrorDetails().errorCode()).isEqualTo("AccessDenied");
      assertThat(denied.awsErrorDetails().errorMessage())
          .isEqualTo(
              "User: arn:aws:iam::000000000000:user/"
                  + invoke.accessKeyId()
                  + " is not authorized to perform: iam:ListRoles on resource: * because no"
                  + " identity-based policy allows the iam:ListRoles action");
    }
  }

  @Test
  void theAwsCli_createsARoleAndReadsItBack() throws Exception {
    Path dir = dev.kiln.testing.TempDirs.create("kiln-iam-cli-");
    Files.writeString(dir.resolve("trust.json"), TRUST);
    Tools.Result created =
        Tools.aws(
            kiln.fixture(),
            dir,
            "iam",
            "create-role",
            "--role-name",
            "cli-role",
            "--assume-role-policy-document",
            "file://trust.json");
    assertThat(created.exit()).as(created.output()).isZero();
    Tools.Result attach =
        Tools.aws(
            kiln.fixture(),
            dir,
            "iam",
            "attach-role-policy",
            "--role-name",
            "cli-role",
            "--policy-arn",
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole");
    assertThat(attach.exit()).as(attach.output()).isZero();
    JsonNode role =
        JSON.readTree(
            Tools.aws(kiln.fixture(), dir, "iam", "get-role", "--role-name", "cli-role").output());
    assertThat(role.at("/Role/Arn").asText()).isEqualTo("arn:aws:iam::000000000000:role/cli-role");
    // the CLI decodes the document IAM sends percent-encoded
    assertThat(role.at("/Role/AssumeRolePolicyDocument/Statement/0/Principal/Service").asText())
        .isEqualTo("lambda.amazonaws.com");
    JsonNode attached =
        JSON.readTree(
            Tools.aws(
                    kiln.fixture(),
                    dir,
                    "iam",
                    "list-attached-role-policies",
                    "--role-name",
                    "cli-role")
                .output());
    assertThat(attached.at("/AttachedPolicies/0/PolicyName").asText())
        .isEqualTo("AWSLambdaBasicExecutionRole");
    JsonNode me =
        JSON.readTree(Tools.aws(kiln.fixture(), dir, "sts", "get-caller-identity").output());
    assertThat(me.path("Account").asText()).isEqualTo("000000000000");
    Tools.Result missing =
        Tools.aws(kiln.fixture(), dir, "iam", "get-role", "--role-name", "no-such-role");
    assertThat(missing.exit()).isNotZero();
    assertThat(missing.output())
        .contains("NoSuchEntity")
        .contains("The role with name no-such-role cannot be found.");
  }
}
