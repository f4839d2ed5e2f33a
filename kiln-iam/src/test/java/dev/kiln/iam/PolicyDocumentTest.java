package dev.kiln.iam;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** What IAM refuses in a policy document, with IAM's message, and what it reads from one. */
class PolicyDocumentTest {

  static final String V = "\"Version\":\"2012-10-17\",";

  static List<Arguments> refused() {
    return List.of(
        Arguments.of("{not json", PolicyDocument.Kind.IDENTITY, "Syntax errors in policy."),
        Arguments.of("[1]", PolicyDocument.Kind.IDENTITY, "Syntax errors in policy."),
        Arguments.of(
            "{\"Version\":\"2011-01-01\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\"}]}",
            PolicyDocument.Kind.IDENTITY,
            "The policy failed legacy parsing"),
        Arguments.of(
            "{" + V + "\"Statements\":[]}",
            PolicyDocument.Kind.IDENTITY,
            "Syntax errors in policy."),
        Arguments.of(
            "{" + V + "\"Id\":\"x\"}",
            PolicyDocument.Kind.IDENTITY,
            "Missing required field Statement"),
        Arguments.of(
            "{" + V + "\"Statement\":[{\"Action\":\"lambda:*\",\"Resource\":\"*\"}]}",
            PolicyDocument.Kind.IDENTITY,
            "Missing required field Effect"),
        Arguments.of(
            "{"
                + V
                + "\"Statement\":[{\"Effect\":\"allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\"}]}",
            PolicyDocument.Kind.IDENTITY,
            "Invalid effect: allow"),
        Arguments.of(
            "{" + V + "\"Statement\":[{\"Effect\":\"Allow\",\"Resource\":\"*\"}]}",
            PolicyDocument.Kind.IDENTITY,
            "Policy statement must contain actions."),
        Arguments.of(
            "{" + V + "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"lambda:*\"}]}",
            PolicyDocument.Kind.IDENTITY,
            "Policy statement must contain resources."),
        Arguments.of(
            "{"
                + V
                + "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"ListFunctions\",\"Resource\":\"*\"}]}",
            PolicyDocument.Kind.IDENTITY,
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
        Arguments.of(
            "{"
                + V
                + "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"my-function\"}]}",
            PolicyDocument.Kind.IDENTITY,
            "Resource my-function must be in ARN format or \"*\"."),
        Arguments.of(
            "{"
                + V
                + "\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"lambda:*\",\"Resource\":\"*\"}]}",
            PolicyDocument.Kind.IDENTITY,
            "Has prohibited field Principal"),
        Arguments.of(
            "{"
                + V
                + "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"StringEqualz\":{\"aws:x\":\"y\"}}}]}",
            PolicyDocument.Kind.IDENTITY,
            "Invalid Condition type : StringEqualz"),
        Arguments.of(
            "{"
                + V
                + "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Colour\":\"red\"}]}",
            PolicyDocument.Kind.IDENTITY,
            "Syntax errors in policy."),
        Arguments.of(
            "{" + V + "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[],\"Resource\":\"*\"}]}",
            PolicyDocument.Kind.IDENTITY,
            "Syntax errors in policy."),
        Arguments.of(
            "{" + V + "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\"}]}",
            PolicyDocument.Kind.TRUST,
            "Missing required field Principal"),
        Arguments.of(
            "{"
                + V
                + "\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\",\"Resource\":\"*\"}]}",
            PolicyDocument.Kind.TRUST,
            "Has prohibited field Resource"),
        Arguments.of(
            "{"
                + V
                + "\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Robot\":\"x\"},\"Action\":\"sts:AssumeRole\"}]}",
            PolicyDocument.Kind.TRUST,
            "Invalid principal in policy: Robot"));
  }

  @ParameterizedTest(name = "{2}: {0}")
  @MethodSource("refused")
  void refusesWithIamsMessage(String json, PolicyDocument.Kind kind, String message) {
    assertThatThrownBy(() -> PolicyDocument.parse(json, kind))
        .isInstanceOf(MalformedPolicyException.class)
        .hasMessage(message);
  }

  @Test
  void readsStatementsPrincipalsAndConditions() throws Exception {
    PolicyDocument trust =
        PolicyDocument.parse(
            "{"
                + V
                + "\"Statement\":{\"Sid\":\"lambda\",\"Effect\":\"Allow\",\"Principal\":{\"Service\":[\"lambda.amazonaws.com\",\"edgelambda.amazonaws.com\"]},\"Action\":\"sts:AssumeRole\",\"Condition\":{\"Bool\":{\"aws:SecureTransport\":true},\"StringEquals\":{\"aws:SourceAccount\":[\"1\",\"2\"]}}}}",
            PolicyDocument.Kind.TRUST);
    PolicyDocument.Statement s = trust.statements().get(0);
    assertThat(s.sid()).isEqualTo("lambda");
    assertThat(s.allow()).isTrue();
    assertThat(s.principals().ids())
        .isEqualTo(Map.of("Service", List.of("lambda.amazonaws.com", "edgelambda.amazonaws.com")));
    assertThat(s.actions()).containsExactly("sts:AssumeRole");
    assertThat(s.resources()).isNull();
    assertThat(s.conditions())
        .containsExactly(
            new PolicyDocument.Condition("Bool", "aws:SecureTransport", List.of("true")),
            new PolicyDocument.Condition("StringEquals", "aws:SourceAccount", List.of("1", "2")));

    PolicyDocument everyone =
        PolicyDocument.parse(
            "{\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\",\"NotAction\":[\"lambda:Get*\"],\"Resource\":\"*\"}]}",
            PolicyDocument.Kind.RESOURCE);
    assertThat(everyone.version()).isEqualTo("2008-10-17");
    assertThat(everyone.statements().get(0).principals().everyone()).isTrue();
    assertThat(everyone.statements().get(0).notActions()).containsExactly("lambda:Get*");
  }

  @Test
  void knowsWhichContextKeysItReads() throws Exception {
    PolicyDocument tags =
        PolicyDocument.parse(
            "{"
                + V
                + "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\","
                + "\"Condition\":{\"StringEquals\":{\"aws:ResourceTag/team\":\"${aws:PrincipalTag/team}\"}}}]}",
            PolicyDocument.Kind.IDENTITY);
    assertThat(tags.readsKeyStartingWith("aws:ResourceTag/")).isTrue();
    assertThat(tags.readsKeyStartingWith("AWS:principaltag/")).isTrue();
    assertThat(tags.readsKeyStartingWith("aws:RequestTag/")).isFalse();
    PolicyDocument variable =
        PolicyDocument.parse(
            "{"
                + V
                + "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"lambda:*\","
                + "\"Resource\":\"arn:aws:lambda:*:*:function:${aws:ResourceTag/app}-*\"}]}",
            PolicyDocument.Kind.IDENTITY);
    assertThat(variable.readsKeyStartingWith("aws:ResourceTag/")).isTrue();
  }

  @Test
  void sizeIgnoresWhiteSpace() {
    assertThat(PolicyDocument.sizeWithoutWhitespace("{ \"a\" :\n\t1 }")).isEqualTo(7);
  }
}
