package dev.kiln.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class FunctionRefTest {

  static final Account ACCOUNT = new Account("eu-west-1", "123456789012");

  @Test
  void parse_acceptsNamePartialArnAndFullArn() {
    assertThat(FunctionRef.parse("f", "functionName", ACCOUNT))
        .isEqualTo(new FunctionRef("f", Optional.empty()));
    assertThat(FunctionRef.parse("f:7", "functionName", ACCOUNT))
        .isEqualTo(new FunctionRef("f", Optional.of("7")));
    assertThat(FunctionRef.parse("123456789012:function:f", "functionName", ACCOUNT).name())
        .isEqualTo("f");
    assertThat(
            FunctionRef.parse(
                "arn:aws:lambda:eu-west-1:123456789012:function:f:$LATEST",
                "functionName",
                ACCOUNT))
        .isEqualTo(new FunctionRef("f", Optional.of("$LATEST")));
  }

  @Test
  void parse_refusesAnotherRegionOrAccount() {
    assertThatThrownBy(
            () ->
                FunctionRef.parse(
                    "arn:aws:lambda:us-east-1:123456789012:function:f", "functionName", ACCOUNT))
        .isInstanceOf(LambdaError.class)
        .hasMessageContaining("this Kiln serves region eu-west-1");
  }

  @Test
  void parse_refusesBadNamesWithTheFieldNamed() {
    assertThatThrownBy(() -> FunctionRef.parse("a b", "functionName", ACCOUNT))
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> {
              assertThat(e.errorType()).isEqualTo("ValidationException");
              assertThat(e.getMessage()).contains("at 'functionName'");
            });
  }

  @Test
  void withQualifier_refusesADisagreement() {
    FunctionRef ref = FunctionRef.parse("f:1", "functionName", ACCOUNT);
    assertThat(ref.withQualifier(Optional.of("1")).qualifier()).hasValue("1");
    assertThatThrownBy(() -> ref.withQualifier(Optional.of("2")))
        .hasMessageContaining("does not match the specified qualifier");
  }
}
