package dev.kiln.invoke;

import static dev.kiln.invoke.CatalogFixture.assertError;
import static dev.kiln.invoke.CatalogFixture.ref;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.model.FunctionPolicy;
import dev.kiln.model.FunctionRef;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FunctionPoliciesTest {

  static final String CALLER = "arn:aws:iam::000000000000:user/caller";
  static final String INVOKE = "lambda:InvokeFunction";

  @TempDir Path dir;
  CatalogFixture kiln;
  FunctionPolicies policies;

  @BeforeEach
  void open() {
    kiln = new CatalogFixture(dir);
    policies = kiln.catalog.policies();
    kiln.create("f", true);
  }

  @AfterEach
  void close() {
    kiln.close();
  }

  FunctionPolicy.Statement add(FunctionRef ref, String sid, Optional<String> sourceArn) {
    return policies.addPermission(
        ref,
        sid,
        INVOKE,
        CALLER,
        sourceArn,
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty());
  }

  @Test
  void aStatementGrantsItsPrincipal_onItsQualifierOrTheWholeFunction() {
    assertThat(policies.allows(FunctionRef.of("f"), CALLER, INVOKE)).isFalse();
    FunctionPolicy.Statement s = add(ref("f", "1"), "one", Optional.empty());
    assertThat(s.resource()).isEqualTo("arn:aws:lambda:us-east-1:000000000000:function:f:1");
    assertThat(policies.allows(ref("f", "1"), CALLER, INVOKE)).isTrue();
    assertThat(policies.allows(FunctionRef.of("f"), CALLER, INVOKE)).isFalse();
    assertThat(policies.allows(ref("f", "1"), "arn:aws:iam::000000000000:user/other", INVOKE))
        .isFalse();

    add(FunctionRef.of("f"), "all", Optional.empty());
    assertThat(policies.allows(ref("f", "2"), CALLER, INVOKE)).isTrue();
    assertThat(policies.policy(FunctionRef.of("f")).statements())
        .extracting(FunctionPolicy.Statement::statementId)
        .containsExactly("all");
  }

  @Test
  void aStatementWithASourceCondition_grantsAwsServicesNeverAKey() {
    add(FunctionRef.of("f"), "s3", Optional.of("arn:aws:s3:::bucket"));
    assertThat(policies.allows(FunctionRef.of("f"), CALLER, INVOKE)).isFalse();
  }

  @Test
  void aServiceIsGrantedOnlyByAStatementNamingIt_andItsSourceArnCondition() {
    String rule = "arn:aws:events:us-east-1:000000000000:rule/orders";
    String events = "events.amazonaws.com";
    assertThat(policies.allowsService(FunctionRef.of("f"), events, INVOKE, rule, "000000000000"))
        .isFalse();
    policies.addPermission(
        FunctionRef.of("f"),
        "ev",
        INVOKE,
        events,
        Optional.of("arn:aws:events:us-east-1:000000000000:rule/ord*"),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty());
    assertThat(policies.allowsService(FunctionRef.of("f"), events, INVOKE, rule, "000000000000"))
        .isTrue();
    assertThat(
            policies.allowsService(
                FunctionRef.of("f"),
                events,
                INVOKE,
                "arn:aws:events:us-east-1:000000000000:rule/other",
                "000000000000"))
        .isFalse();
    assertThat(
            policies.allowsService(
                FunctionRef.of("f"), "scheduler.amazonaws.com", INVOKE, rule, "000000000000"))
        .isFalse();
    // a key is never granted by a service's statement
    assertThat(policies.allows(FunctionRef.of("f"), events, INVOKE)).isFalse();
  }

  @Test
  void statementIdsAreUnique_andRemovingAMissingOneIsNotFound() {
    add(FunctionRef.of("f"), "one", Optional.empty());
    assertError(
        () -> add(FunctionRef.of("f"), "one", Optional.empty()),
        "ResourceConflictException",
        409,
        "The statement id (one) provided already exists. Please provide a new statement id, or"
            + " remove the existing statement.");
    policies.removePermission(FunctionRef.of("f"), "one", Optional.empty());
    assertError(
        () -> policies.removePermission(FunctionRef.of("f"), "one", Optional.empty()),
        "ResourceNotFoundException",
        404,
        "Statement one is not found in resource policy.");
    assertError(
        () -> policies.policy(FunctionRef.of("f")),
        "ResourceNotFoundException",
        404,
        "The resource you requested does not exist.");
  }

  @Test
  void anOldPolicyRevision_isAPreconditionFailure() {
    add(FunctionRef.of("f"), "one", Optional.empty());
    String old = policies.policy(FunctionRef.of("f")).revisionId();
    add(FunctionRef.of("f"), "two", Optional.empty());
    assertError(
        () ->
            policies.addPermission(
                FunctionRef.of("f"),
                "three",
                INVOKE,
                CALLER,
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.of(old)),
        "PreconditionFailedException",
        412,
        "The RevisionId provided does not match the latest RevisionId for the Lambda function or"
            + " alias. Call the GetFunction or the GetAlias API to retrieve the latest RevisionId"
            + " for your resource.");
  }

  @Test
  void anInvalidStatementId_isRefusedAsTheServiceModelWordsIt() {
    assertError(
        () -> add(FunctionRef.of("f"), "no spaces", Optional.empty()),
        "ValidationException",
        400,
        "1 validation error detected: Value 'no spaces' at 'statementId' failed to satisfy"
            + " constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_.]+)");
  }

  @Test
  void arnLike_matchesWildcards_andNothingElse() {
    String arn = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:DiskFull";
    assertThat(FunctionPolicies.arnLike(arn, arn)).isTrue();
    assertThat(FunctionPolicies.arnLike("arn:aws:cloudwatch:*:*:alarm:Disk*", arn)).isTrue();
    assertThat(
            FunctionPolicies.arnLike(
                "arn:aws:cloudwatch:us-east-1:000000000000:alarm:Disk?ull", arn))
        .isTrue();
    assertThat(FunctionPolicies.arnLike("arn:aws:cloudwatch:*:*:alarm:Cpu*", arn)).isFalse();
    assertThat(FunctionPolicies.arnLike("arn:aws:s3:::photos", "arn:aws:s3:::photos2")).isFalse();
    assertThat(FunctionPolicies.arnLike("arn:aws:s3:::ph.tos", "arn:aws:s3:::photos"))
        .as("a dot is no wildcard")
        .isFalse();
  }
}
