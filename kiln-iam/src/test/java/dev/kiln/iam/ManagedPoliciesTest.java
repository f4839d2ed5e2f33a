package dev.kiln.iam;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The AWS managed policies Lambda users attach, under their real ARNs, and what they allow. */
class ManagedPoliciesTest {

  static final String FN = "arn:aws:lambda:us-east-1:123456789012:function:f";

  static Decision decide(String policy, String action, String resource) {
    PolicyDocument doc = ManagedPolicies.byArn(policy).orElseThrow().document();
    return PolicyEvaluator.evaluate(
            new AccessRequest(
                new Principal("AWS", "arn:aws:iam::123456789012:user/u", "123456789012"),
                action,
                resource,
                Map.of()),
            List.of(doc),
            List.of())
        .decision();
  }

  @Test
  void theIssuesPoliciesAreThere_underTheirRealArns() {
    assertThat(ManagedPolicies.all())
        .extracting(ManagedPolicies.Managed::arn)
        .contains(
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "arn:aws:iam::aws:policy/service-role/AWSLambdaRole",
            "arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess",
            "arn:aws:iam::aws:policy/AWSLambda_FullAccess",
            "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
            "arn:aws:iam::aws:policy/kiln/KilnInvokeAccess");
    ManagedPolicies.Managed basic =
        ManagedPolicies.byArn("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
            .orElseThrow();
    assertThat(basic.policyId()).isEqualTo("ANPAJNCQGXC42545SKXIK");
    assertThat(basic.path()).isEqualTo("/service-role/");
    assertThat(basic.versionId()).isEqualTo("v1");
    assertThat(ManagedPolicies.all()).allSatisfy(m -> assertThat(m.policyId()).hasSize(21));
    assertThat(ManagedPolicies.byArn("arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole"))
        .isEmpty();
  }

  @Test
  void readOnlyAccess_readsButDoesNotDelete() {
    String ro = "arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess";
    assertThat(decide(ro, "lambda:GetAccountSettings", "*")).isEqualTo(Decision.ALLOW);
    assertThat(decide(ro, "lambda:ListFunctions", "*")).isEqualTo(Decision.ALLOW);
    assertThat(decide(ro, "lambda:DeleteFunction", FN)).isEqualTo(Decision.IMPLICIT_DENY);
    assertThat(
            decide(
                ro,
                "logs:GetLogEvents",
                "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f:log-stream:s"))
        .isEqualTo(Decision.ALLOW);
    assertThat(
            decide(
                ro,
                "logs:GetLogEvents",
                "arn:aws:logs:us-east-1:123456789012:log-group:other:log-stream:s"))
        .isEqualTo(Decision.IMPLICIT_DENY);
  }

  @Test
  void theOthersMeanWhatAwsSays() {
    assertThat(decide("arn:aws:iam::aws:policy/AWSLambda_FullAccess", "lambda:DeleteFunction", FN))
        .isEqualTo(Decision.ALLOW);
    assertThat(
            decide(
                "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                "logs:PutLogEvents",
                "*"))
        .isEqualTo(Decision.ALLOW);
    assertThat(
            decide(
                "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                "lambda:InvokeFunction",
                FN))
        .isEqualTo(Decision.IMPLICIT_DENY);
    assertThat(
            decide(
                "arn:aws:iam::aws:policy/service-role/AWSLambdaRole", "lambda:InvokeFunction", FN))
        .isEqualTo(Decision.ALLOW);
    assertThat(
            decide(
                "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess", "xray:PutTraceSegments", "*"))
        .isEqualTo(Decision.ALLOW);
    assertThat(decide("arn:aws:iam::aws:policy/kiln/KilnInvokeAccess", "lambda:InvokeFunction", FN))
        .isEqualTo(Decision.ALLOW);
    assertThat(decide("arn:aws:iam::aws:policy/kiln/KilnInvokeAccess", "lambda:GetFunction", FN))
        .isEqualTo(Decision.IMPLICIT_DENY);
    assertThat(decide("arn:aws:iam::aws:policy/AdministratorAccess", "iam:CreateRole", "*"))
        .isEqualTo(Decision.ALLOW);
  }
}
