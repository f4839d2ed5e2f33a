package dev.kiln.iam;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The evaluator over a table of the cases the IAM User Guide documents ("Policy evaluation logic",
 * "Condition operators", "Multivalued context keys", "Policy variables"), each a policy, a request
 * and what AWS decides.
 */
class PolicyEvaluatorTest {

  static final String ACCOUNT = "123456789012";
  static final String USER = "arn:aws:iam::" + ACCOUNT + ":user/alice";
  static final String FN = "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:my-function";

  static PolicyDocument identity(String statements) {
    try {
      return PolicyDocument.parse(
          "{\"Version\":\"2012-10-17\",\"Statement\":[" + statements + "]}",
          PolicyDocument.Kind.IDENTITY);
    } catch (MalformedPolicyException e) {
      throw new AssertionError(e.getMessage(), e);
    }
  }

  static PolicyDocument resource(String statements) {
    try {
      return PolicyDocument.parse(
          "{\"Version\":\"2012-10-17\",\"Statement\":[" + statements + "]}",
          PolicyDocument.Kind.RESOURCE);
    } catch (MalformedPolicyException e) {
      throw new AssertionError(e.getMessage(), e);
    }
  }

  static AccessRequest request(String action, String resource, Map<String, List<String>> context) {
    return new AccessRequest(new Principal("AWS", USER, ACCOUNT), action, resource, context);
  }

  static Decision decide(
      String statements, String action, String resource, Map<String, List<String>> context) {
    return PolicyEvaluator.evaluate(
            request(action, resource, context), List.of(identity(statements)), List.of())
        .decision();
  }

  static Arguments row(
      String what,
      String statements,
      String action,
      String resource,
      Map<String, List<String>> ctx,
      Decision expected) {
    return Arguments.of(what, statements, action, resource, ctx, expected);
  }

  static final String ALLOW_ALL_LAMBDA =
      "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\"}";

  static List<Arguments> documentedCases() {
    Decision A = Decision.ALLOW;
    Decision D = Decision.EXPLICIT_DENY;
    Decision I = Decision.IMPLICIT_DENY;
    Map<String, List<String>> none = Map.of();
    return List.of(
        row(
            "no statement applies: implicitly denied",
            "{\"Effect\":\"Allow\",\"Action\":\"logs:*\",\"Resource\":\"*\"}",
            "lambda:ListFunctions",
            "*",
            none,
            I),
        row("an Allow allows", ALLOW_ALL_LAMBDA, "lambda:ListFunctions", "*", none, A),
        row(
            "an explicit Deny overrides an Allow",
            ALLOW_ALL_LAMBDA
                + ",{\"Effect\":\"Deny\",\"Action\":\"lambda:DeleteFunction\",\"Resource\":\"*\"}",
            "lambda:DeleteFunction",
            FN,
            none,
            D),
        row(
            "a Deny elsewhere leaves other actions allowed",
            ALLOW_ALL_LAMBDA
                + ",{\"Effect\":\"Deny\",\"Action\":\"lambda:DeleteFunction\",\"Resource\":\"*\"}",
            "lambda:GetFunction",
            FN,
            none,
            A),
        row(
            "actions compare ignoring case",
            "{\"Effect\":\"Allow\",\"Action\":\"LAMBDA:getfunction\",\"Resource\":\"*\"}",
            "lambda:GetFunction",
            FN,
            none,
            A),
        row(
            "action wildcards: lambda:Get*",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:Get*\",\"Resource\":\"*\"}",
            "lambda:GetAccountSettings",
            "*",
            none,
            A),
        row(
            "action wildcards: ? is one character",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:?etFunction\",\"Resource\":\"*\"}",
            "lambda:GetFunction",
            FN,
            none,
            A),
        row(
            "Get* does not match List",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:Get*\",\"Resource\":\"*\"}",
            "lambda:ListFunctions",
            "*",
            none,
            I),
        row(
            "NotAction with Allow: everything but IAM",
            "{\"Effect\":\"Allow\",\"NotAction\":\"iam:*\",\"Resource\":\"*\"}",
            "lambda:DeleteFunction",
            FN,
            none,
            A),
        row(
            "NotAction with Allow does not allow what it names",
            "{\"Effect\":\"Allow\",\"NotAction\":\"iam:*\",\"Resource\":\"*\"}",
            "iam:CreateRole",
            "*",
            none,
            I),
        row(
            "resource ARN: exact function",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:InvokeFunction\",\"Resource\":\""
                + FN
                + "\"}",
            "lambda:InvokeFunction",
            FN,
            none,
            A),
        row(
            "resource ARN: another function is not it",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:InvokeFunction\",\"Resource\":\""
                + FN
                + "\"}",
            "lambda:InvokeFunction",
            FN + "-2",
            none,
            I),
        row(
            "an unqualified ARN does not cover a version",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:InvokeFunction\",\"Resource\":\""
                + FN
                + "\"}",
            "lambda:InvokeFunction",
            FN + ":1",
            none,
            I),
        row(
            "function:name:* covers versions and aliases",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:InvokeFunction\",\"Resource\":\""
                + FN
                + ":*\"}",
            "lambda:InvokeFunction",
            FN + ":prod",
            none,
            A),
        row(
            "region wildcard within its part",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"arn:aws:lambda:*:"
                + ACCOUNT
                + ":function:my-*\"}",
            "lambda:GetFunction",
            FN,
            none,
            A),
        row(
            "resource ARNs are case-sensitive",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"arn:aws:lambda:us-east-1:"
                + ACCOUNT
                + ":function:MY-FUNCTION\"}",
            "lambda:GetFunction",
            FN,
            none,
            I),
        row(
            "NotResource with Allow: all but one function",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"NotResource\":\"" + FN + "\"}",
            "lambda:GetFunction",
            FN,
            none,
            I),
        row(
            "Deny with NotResource denies the others",
            ALLOW_ALL_LAMBDA
                + ",{\"Effect\":\"Deny\",\"Action\":\"lambda:*\",\"NotResource\":\""
                + FN
                + "\"}",
            "lambda:GetFunction",
            FN + "-other",
            none,
            D),
        row(
            "StringEquals on a resource tag",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"aws:ResourceTag/team\":\"blue\"}}}",
            "lambda:GetFunction",
            FN,
            Map.of("aws:ResourceTag/team", List.of("blue")),
            A),
        row(
            "StringEquals: another value",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"aws:ResourceTag/team\":\"blue\"}}}",
            "lambda:GetFunction",
            FN,
            Map.of("aws:ResourceTag/team", List.of("red")),
            I),
        row(
            "StringEquals: an absent key is false",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"aws:ResourceTag/team\":\"blue\"}}}",
            "lambda:GetFunction",
            FN,
            none,
            I),
        row(
            "condition keys compare ignoring case",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"AWS:RequestedRegion\":\"us-east-1\"}}}",
            "lambda:GetFunction",
            FN,
            Map.of("aws:RequestedRegion", List.of("us-east-1")),
            A),
        row(
            "values for one key: any matches",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"aws:ResourceTag/team\":[\"red\",\"blue\"]}}}",
            "lambda:GetFunction",
            FN,
            Map.of("aws:ResourceTag/team", List.of("blue")),
            A),
        row(
            "two keys: both must hold",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"aws:ResourceTag/team\":\"blue\",\"aws:RequestedRegion\":\"eu-west-1\"}}}",
            "lambda:GetFunction",
            FN,
            Map.of(
                "aws:ResourceTag/team",
                List.of("blue"),
                "aws:RequestedRegion",
                List.of("us-east-1")),
            I),
        row(
            "StringNotEquals: an absent key is true",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"StringNotEquals\":{\"aws:ResourceTag/team\":\"blue\"}}}",
            "lambda:GetFunction",
            FN,
            none,
            A),
        row(
            "negated with several values: true only if none matches",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"StringNotEquals\":{\"aws:ResourceTag/team\":[\"red\",\"blue\"]}}}",
            "lambda:GetFunction",
            FN,
            Map.of("aws:ResourceTag/team", List.of("blue")),
            I),
        row(
            "StringEqualsIgnoreCase",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"StringEqualsIgnoreCase\":{\"aws:ResourceTag/team\":\"BLUE\"}}}",
            "lambda:GetFunction",
            FN,
            Map.of("aws:ResourceTag/team", List.of("blue")),
            A),
        row(
            "StringLike with a wildcard",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"StringLike\":{\"aws:PrincipalArn\":\"arn:aws:iam::*:user/al*\"}}}",
            "lambda:GetFunction",
            FN,
            Map.of("aws:PrincipalArn", List.of(USER)),
            A),
        row(
            "StringNotLike denies the matching ones",
            ALLOW_ALL_LAMBDA
                + ",{\"Effect\":\"Deny\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"StringNotLike\":{\"lambda:Layer\":\"arn:aws:lambda:*:"
                + ACCOUNT
                + ":layer:*\"}}}",
            "lambda:CreateFunction",
            FN,
            Map.of("lambda:Layer", List.of("arn:aws:lambda:us-east-1:999999999999:layer:x:1")),
            D),
        row(
            "IfExists: an absent key passes",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"StringEqualsIfExists\":{\"aws:ResourceTag/team\":\"blue\"}}}",
            "lambda:ListFunctions",
            "*",
            none,
            A),
        row(
            "IfExists: a present key is checked",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"StringEqualsIfExists\":{\"aws:ResourceTag/team\":\"blue\"}}}",
            "lambda:GetFunction",
            FN,
            Map.of("aws:ResourceTag/team", List.of("red")),
            I),
        row(
            "Null true: the key must be absent",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"Null\":{\"aws:RequestTag/team\":\"true\"}}}",
            "lambda:TagResource",
            FN,
            Map.of("aws:RequestTag/team", List.of("x")),
            I),
        row(
            "Null false: the key must be present",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"Null\":{\"aws:RequestTag/team\":\"false\"}}}",
            "lambda:TagResource",
            FN,
            Map.of("aws:RequestTag/team", List.of("x")),
            A),
        row(
            "ForAllValues: every tag key allowed",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:TagResource\",\"Resource\":\"*\",\"Condition\":{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":[\"team\",\"env\"]}}}",
            "lambda:TagResource",
            FN,
            Map.of("aws:TagKeys", List.of("team", "env")),
            A),
        row(
            "ForAllValues: one key not allowed",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:TagResource\",\"Resource\":\"*\",\"Condition\":{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":[\"team\",\"env\"]}}}",
            "lambda:TagResource",
            FN,
            Map.of("aws:TagKeys", List.of("team", "cost")),
            I),
        row(
            "ForAllValues: an absent key is true",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:TagResource\",\"Resource\":\"*\",\"Condition\":{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":[\"team\"]}}}",
            "lambda:TagResource",
            FN,
            none,
            A),
        row(
            "ForAnyValue: one key suffices",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:TagResource\",\"Resource\":\"*\",\"Condition\":{\"ForAnyValue:StringEquals\":{\"aws:TagKeys\":[\"team\"]}}}",
            "lambda:TagResource",
            FN,
            Map.of("aws:TagKeys", List.of("cost", "team")),
            A),
        row(
            "ForAnyValue: an absent key is false",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:TagResource\",\"Resource\":\"*\",\"Condition\":{\"ForAnyValue:StringEquals\":{\"aws:TagKeys\":[\"team\"]}}}",
            "lambda:TagResource",
            FN,
            none,
            I),
        row(
            "ForAnyValue:StringNotEquals: some key is not listed",
            "{\"Effect\":\"Deny\",\"Action\":\"lambda:TagResource\",\"Resource\":\"*\",\"Condition\":{\"ForAnyValue:StringNotEquals\":{\"aws:TagKeys\":[\"team\"]}}},"
                + ALLOW_ALL_LAMBDA,
            "lambda:TagResource",
            FN,
            Map.of("aws:TagKeys", List.of("team", "cost")),
            D),
        row(
            "NumericLessThan",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"NumericLessThan\":{\"lambda:Count\":\"10\"}}}",
            "lambda:GetFunction",
            FN,
            Map.of("lambda:Count", List.of("9.5")),
            A),
        row(
            "NumericGreaterThanEquals, not a number",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"NumericGreaterThanEquals\":{\"lambda:Count\":\"10\"}}}",
            "lambda:GetFunction",
            FN,
            Map.of("lambda:Count", List.of("ten")),
            I),
        row(
            "DateLessThan aws:CurrentTime",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"DateLessThan\":{\"aws:CurrentTime\":\"2030-01-01T00:00:00Z\"}}}",
            "lambda:GetFunction",
            FN,
            Map.of("aws:CurrentTime", List.of("2026-12-06T10:00:00Z")),
            A),
        row(
            "DateGreaterThan aws:EpochTime",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"DateGreaterThan\":{\"aws:EpochTime\":\"2030-01-01T00:00:00Z\"}}}",
            "lambda:GetFunction",
            FN,
            Map.of("aws:EpochTime", List.of("1796551200")),
            I),
        row(
            "Bool",
            "{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}},"
                + ALLOW_ALL_LAMBDA,
            "lambda:GetFunction",
            FN,
            Map.of("aws:SecureTransport", List.of("false")),
            D),
        row(
            "ArnLike aws:SourceArn",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:lambda:*:"
                + ACCOUNT
                + ":function:*\"}}}",
            "lambda:GetFunction",
            FN,
            Map.of("aws:SourceArn", List.of(FN)),
            A),
        row(
            "ArnNotEquals",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"ArnNotEquals\":{\"lambda:FunctionArn\":\""
                + FN
                + "\"}}}",
            "lambda:CreateEventSourceMapping",
            "*",
            Map.of("lambda:FunctionArn", List.of(FN)),
            I),
        row(
            "IpAddress within a CIDR",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}}",
            "lambda:GetFunction",
            FN,
            Map.of("aws:SourceIp", List.of("203.0.113.7")),
            A),
        row(
            "NotIpAddress outside it",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"NotIpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}}",
            "lambda:GetFunction",
            FN,
            Map.of("aws:SourceIp", List.of("203.0.113.7")),
            I),
        row(
            "policy variable in Resource",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"arn:aws:lambda:*:*:function:${aws:username}-*\"}",
            "lambda:GetFunction",
            "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:alice-app",
            Map.of("aws:username", List.of("alice")),
            A),
        row(
            "policy variable absent: matches nothing",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"arn:aws:lambda:*:*:function:${aws:username}-*\"}",
            "lambda:GetFunction",
            "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:alice-app",
            none,
            I),
        row(
            "policy variable in a condition value",
            "{\"Effect\":\"Allow\",\"Action\":\"lambda:*\",\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"aws:ResourceTag/owner\":\"${aws:username}\"}}}",
            "lambda:GetFunction",
            FN,
            Map.of("aws:ResourceTag/owner", List.of("alice"), "aws:username", List.of("alice")),
            A));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("documentedCases")
  void decidesAsAwsDocuments(
      String what,
      String statements,
      String action,
      String resource,
      Map<String, List<String>> context,
      Decision expected) {
    assertThat(decide(statements, action, resource, context)).as(what).isEqualTo(expected);
  }

  @Test
  void aDenyInAnyPolicyWins_whateverItsOrder() {
    PolicyDocument allow = identity(ALLOW_ALL_LAMBDA);
    PolicyDocument deny =
        identity("{\"Effect\":\"Deny\",\"Action\":\"lambda:ListFunctions\",\"Resource\":\"*\"}");
    AccessRequest list = request("lambda:ListFunctions", "*", Map.of());
    assertThat(PolicyEvaluator.evaluate(list, List.of(allow, deny), List.of()))
        .isEqualTo(new Outcome(Decision.EXPLICIT_DENY, Outcome.Where.IDENTITY));
    assertThat(PolicyEvaluator.evaluate(list, List.of(deny, allow), List.of()).decision())
        .isEqualTo(Decision.EXPLICIT_DENY);
  }

  @Test
  void withinOneAccount_aResourcePolicyAloneAllows_andItsDenyOverridesTheIdentitysAllow() {
    PolicyDocument grant =
        resource(
            "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\""
                + USER
                + "\"},\"Action\":\"lambda:InvokeFunction\",\"Resource\":\""
                + FN
                + "\"}");
    AccessRequest invoke = request("lambda:InvokeFunction", FN, Map.of());
    assertThat(PolicyEvaluator.evaluate(invoke, List.of(), List.of(grant)))
        .isEqualTo(new Outcome(Decision.ALLOW, Outcome.Where.RESOURCE));

    PolicyDocument refuse =
        resource(
            "{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"lambda:*\",\"Resource\":\""
                + FN
                + "\"}");
    assertThat(
            PolicyEvaluator.evaluate(invoke, List.of(identity(ALLOW_ALL_LAMBDA)), List.of(refuse)))
        .isEqualTo(new Outcome(Decision.EXPLICIT_DENY, Outcome.Where.RESOURCE));
  }

  @Test
  void aResourcePolicyAppliesOnlyToThePrincipalsItNames() {
    AccessRequest invoke = request("lambda:InvokeFunction", FN, Map.of());
    for (String named : List.of(ACCOUNT, "arn:aws:iam::" + ACCOUNT + ":root", USER, "*")) {
      PolicyDocument grant =
          resource(
              "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\""
                  + named
                  + "\"},\"Action\":\"lambda:InvokeFunction\",\"Resource\":\""
                  + FN
                  + "\"}");
      assertThat(PolicyEvaluator.evaluate(invoke, List.of(), List.of(grant)).decision())
          .as(named)
          .isEqualTo(Decision.ALLOW);
    }
    PolicyDocument other =
        resource(
            "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::999999999999:root\"},\"Action\":\"lambda:InvokeFunction\",\"Resource\":\""
                + FN
                + "\"}");
    assertThat(PolicyEvaluator.evaluate(invoke, List.of(), List.of(other)).decision())
        .isEqualTo(Decision.IMPLICIT_DENY);

    AccessRequest bySession =
        new AccessRequest(
            new Principal("AWS", "arn:aws:sts::" + ACCOUNT + ":assumed-role/worker/fn", ACCOUNT),
            "lambda:InvokeFunction",
            FN,
            Map.of());
    PolicyDocument toRole =
        resource(
            "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::"
                + ACCOUNT
                + ":role/service/worker\"},\"Action\":\"lambda:InvokeFunction\",\"Resource\":\""
                + FN
                + "\"}");
    assertThat(PolicyEvaluator.evaluate(bySession, List.of(), List.of(toRole)).decision())
        .isEqualTo(Decision.ALLOW);
  }

  @Test
  void aTrustPolicyLetsTheServiceItNamesAssumeTheRole() throws Exception {
    PolicyDocument trust =
        PolicyDocument.parse(
            "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\",\"Condition\":{\"StringEquals\":{\"aws:SourceAccount\":\""
                + ACCOUNT
                + "\"}}}]}",
            PolicyDocument.Kind.TRUST);
    AccessRequest lambda =
        new AccessRequest(
            new Principal("Service", "lambda.amazonaws.com", null),
            "sts:AssumeRole",
            "arn:aws:iam::" + ACCOUNT + ":role/r",
            Map.of("aws:SourceAccount", List.of(ACCOUNT)));
    assertThat(PolicyEvaluator.evaluate(lambda, List.of(), List.of(trust)).decision())
        .isEqualTo(Decision.ALLOW);
    AccessRequest ec2 =
        new AccessRequest(
            new Principal("Service", "ec2.amazonaws.com", null),
            "sts:AssumeRole",
            "arn:aws:iam::" + ACCOUNT + ":role/r",
            Map.of("aws:SourceAccount", List.of(ACCOUNT)));
    assertThat(PolicyEvaluator.evaluate(ec2, List.of(), List.of(trust)).decision())
        .isEqualTo(Decision.IMPLICIT_DENY);
    AccessRequest otherAccount =
        new AccessRequest(
            new Principal("Service", "lambda.amazonaws.com", null),
            "sts:AssumeRole",
            "arn:aws:iam::" + ACCOUNT + ":role/r",
            Map.of("aws:SourceAccount", List.of("999999999999")));
    assertThat(PolicyEvaluator.evaluate(otherAccount, List.of(), List.of(trust)).decision())
        .isEqualTo(Decision.IMPLICIT_DENY);
  }

  @Test
  void denialMessages_areAwss() {
    AccessRequest r = request("lambda:GetAccountSettings", "*", Map.of());
    assertThat(
            PolicyEvaluator.denialMessage(
                r, new Outcome(Decision.IMPLICIT_DENY, Outcome.Where.NONE)))
        .isEqualTo(
            "User: "
                + USER
                + " is not authorized to perform: lambda:GetAccountSettings on resource: *"
                + " because no identity-based policy allows the lambda:GetAccountSettings action");
    assertThat(
            PolicyEvaluator.denialMessage(
                r, new Outcome(Decision.EXPLICIT_DENY, Outcome.Where.IDENTITY)))
        .isEqualTo(
            "User: "
                + USER
                + " is not authorized to perform: lambda:GetAccountSettings on resource: *"
                + " with an explicit deny in an identity-based policy");
    assertThat(
            PolicyEvaluator.denialMessage(
                r, new Outcome(Decision.EXPLICIT_DENY, Outcome.Where.RESOURCE)))
        .endsWith("with an explicit deny in a resource-based policy");
  }
}
