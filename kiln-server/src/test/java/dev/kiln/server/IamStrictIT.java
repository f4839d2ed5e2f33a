package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.kiln.api.auth.IdentityPolicies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.lambda.model.InvalidParameterValueException;

/**
 * {@code kiln server --iam strict}: a Role Kiln's IAM does not know is refused at CreateFunction
 * and UpdateFunctionConfiguration with AWS's message, as AWS refuses it; a role that exists and
 * trusts Lambda is accepted. (The default, compat, accepts the unknown role: every other test's
 * functions use one.)
 */
class IamStrictIT {

  @RegisterExtension
  static final KilnServerExtension kiln =
      KilnServerExtension.withSettings(s -> s.withIam(IdentityPolicies.Mode.STRICT));

  @Test
  void anUnknownRole_isRefused_andAKnownOneAccepted() {
    InvalidParameterValueException refused =
        catchThrowableOfType(
            InvalidParameterValueException.class,
            () -> kiln.fixture().python("strict-fn", "def handler(e, c):\n    return 1\n"));
    assertThat(refused.awsErrorDetails().errorMessage())
        .isEqualTo("The role defined for the function cannot be assumed by Lambda.");
    assertThat(kiln.fixture().lambda.listFunctions().functions()).isEmpty();

    try (IamClient iam = kiln.fixture().iamClient()) {
      iam.createRole(b -> b.roleName("lambda-role").assumeRolePolicyDocument(RolesIT.LAMBDA_TRUST));
    }
    // KilnFixture's functions use arn:aws:iam::000000000000:role/lambda-role
    kiln.fixture().python("strict-fn", "def handler(e, c):\n    return 1\n");
    InvalidParameterValueException update =
        catchThrowableOfType(
            InvalidParameterValueException.class,
            () ->
                kiln.fixture()
                    .lambda
                    .updateFunctionConfiguration(
                        b ->
                            b.functionName("strict-fn")
                                .role("arn:aws:iam::000000000000:role/missing")));
    assertThat(update.awsErrorDetails().errorMessage())
        .isEqualTo("The role defined for the function cannot be assumed by Lambda.");
    assertThat(
            kiln.fixture().lambda.getFunctionConfiguration(b -> b.functionName("strict-fn")).role())
        .isEqualTo(KilnFixture.ROLE);
  }
}
