package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.api.auth.AccessKeys;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvalidParameterValueException;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Execution roles that mean something: a function's SDK calls (boto3 and the AWS SDK for JavaScript
 * v3 inside the function, with nothing but the instance's own credentials) are allowed or denied by
 * its role's policies, as on AWS, and a change to the role applies to the running instance at once.
 * Also keys with policies of their own, a Deny over an Allow, tag conditions and the trust check at
 * CreateFunction.
 */
class RolesIT {

  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();
  static final ObjectMapper JSON = new ObjectMapper();

  static final String LAMBDA_TRUST =
      "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"
          + "{\"Service\":\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}";

  /** Makes the calls the event lists, with boto3 and the instance's key; says what each gave. */
  static final String PYTHON_PROBE =
      "import boto3\n"
          + "def handler(event, context):\n"
          + "    out = []\n"
          + "    for service, op, args in event['calls']:\n"
          + "        try:\n"
          + "            r = getattr(boto3.client(service), op)(**args)\n"
          + "            r.pop('ResponseMetadata', None)\n"
          + "            out.append({'ok': True, 'result': str(r)[:20000]})\n"
          + "        except Exception as e:\n"
          + "            err = getattr(e, 'response', {}).get('Error', {})\n"
          + "            out.append({'ok': False, 'code': err.get('Code', type(e).__name__),\n"
          + "                        'message': err.get('Message', str(e))})\n"
          + "    return out\n";

  /** The same with the AWS SDK for JavaScript v3 that the Node.js runtime carries. */
  static final String NODE_PROBE =
      "const { LambdaClient, GetAccountSettingsCommand, ListFunctionsCommand,"
          + " DeleteFunctionCommand } = require('@aws-sdk/client-lambda');\n"
          + "const { STSClient, GetCallerIdentityCommand } = require('@aws-sdk/client-sts');\n"
          + "const commands = { GetAccountSettings: GetAccountSettingsCommand,"
          + " ListFunctions: ListFunctionsCommand, DeleteFunction: DeleteFunctionCommand,"
          + " GetCallerIdentity: GetCallerIdentityCommand };\n"
          + "exports.handler = async (event) => {\n"
          + "  const out = [];\n"
          + "  for (const [service, op, args] of event.calls) {\n"
          + "    const client = service === 'sts' ? new STSClient({}) : new LambdaClient({});\n"
          + "    try {\n"
          + "      const r = await client.send(new commands[op](args));\n"
          + "      delete r.$metadata;\n"
          + "      out.push({ ok: true, result: JSON.stringify(r).slice(0, 20000) });\n"
          + "    } catch (e) {\n"
          + "      out.push({ ok: false, code: e.name, message: e.message });\n"
          + "    }\n"
          + "  }\n"
          + "  return out;\n"
          + "};\n";

  static final String ACCOUNT = "000000000000";

  static String roleArn(String name) {
    return "arn:aws:iam::" + ACCOUNT + ":role/" + name;
  }

  static void role(IamClient iam, String name, String... managedPolicies) {
    iam.createRole(b -> b.roleName(name).assumeRolePolicyDocument(LAMBDA_TRUST));
    for (String arn : managedPolicies) {
      iam.attachRolePolicy(b -> b.roleName(name).policyArn(arn));
    }
  }

  static void function(String name, Runtime runtime, String role) {
    boolean node = runtime.toString().startsWith("nodejs");
    byte[] zip = node ? Zips.of("index.js", NODE_PROBE) : Zips.of("app.py", PYTHON_PROBE);
    kiln.fixture()
        .lambda
        .createFunction(
            b ->
                b.functionName(name)
                    .runtime(runtime)
                    .handler(node ? "index.handler" : "app.handler")
                    .role(roleArn(role))
                    .timeout(60)
                    .memorySize(1024)
                    .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
  }

  /** Invokes a probe with the calls, one [service, operation, arguments] each. */
  static JsonNode probe(String function, List<List<Object>> calls) throws Exception {
    String payload = JSON.writeValueAsString(Map.of("calls", calls));
    String answer =
        kiln.fixture()
            .lambda
            .invoke(b -> b.functionName(function).payload(SdkBytes.fromUtf8String(payload)))
            .payload()
            .asUtf8String();
    JsonNode out = JSON.readTree(answer);
    assertThat(out.isArray()).as(answer).isTrue();
    return out;
  }

  static String denial(String principal, String action, String resource) {
    return "User: "
        + principal
        + " is not authorized to perform: "
        + action
        + " on resource: "
        + resource
        + " because no identity-based policy allows the "
        + action
        + " action";
  }

  @Test
  void readOnlyRole_letsBoto3AndTheJsSdkRead_butNotDelete() throws Exception {
    Tools.pythonWithBoto3();
    try (IamClient iam = kiln.fixture().iamClient()) {
      role(iam, "reader", "arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess");
    }
    kiln.fixture().python("target", "def handler(e, c):\n    return 1\n");
    function("py-reader", Runtime.PYTHON3_12, "reader");
    function("js-reader", Runtime.NODEJS20_X, "reader");
    String target = "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:target";

    JsonNode py =
        probe(
            "py-reader",
            List.of(
                List.of("lambda", "get_account_settings", Map.of()),
                List.of("lambda", "list_functions", Map.of()),
                List.of("lambda", "delete_function", Map.of("FunctionName", "target")),
                List.of("sts", "get_caller_identity", Map.of())));
    assertThat(py.get(0).path("ok").asBoolean()).as(py.toString()).isTrue();
    assertThat(py.get(0).path("result").asText()).contains("AccountLimit");
    assertThat(py.get(1).path("result").asText()).contains("'FunctionName': 'target'");
    assertThat(py.get(2).path("code").asText()).isEqualTo("AccessDeniedException");
    assertThat(py.get(2).path("message").asText())
        .isEqualTo(
            denial(
                "arn:aws:sts::" + ACCOUNT + ":assumed-role/reader/py-reader",
                "lambda:DeleteFunction",
                target));
    assertThat(py.get(3).path("result").asText())
        .contains("'Arn': 'arn:aws:sts::" + ACCOUNT + ":assumed-role/reader/py-reader'")
        .contains("'Account': '" + ACCOUNT + "'");

    JsonNode js =
        probe(
            "js-reader",
            List.of(
                List.of("lambda", "GetAccountSettings", Map.of()),
                List.of("lambda", "ListFunctions", Map.of()),
                List.of("lambda", "DeleteFunction", Map.of("FunctionName", "target")),
                List.of("sts", "GetCallerIdentity", Map.of())));
    assertThat(js.get(0).path("ok").asBoolean()).as(js.toString()).isTrue();
    assertThat(js.get(1).path("result").asText()).contains("\"FunctionName\":\"target\"");
    assertThat(js.get(2).path("code").asText()).isEqualTo("AccessDeniedException");
    assertThat(js.get(2).path("message").asText())
        .isEqualTo(
            denial(
                "arn:aws:sts::" + ACCOUNT + ":assumed-role/reader/js-reader",
                "lambda:DeleteFunction",
                target));
    assertThat(js.get(3).path("result").asText()).contains("assumed-role/reader/js-reader");
    // the target is still there
    assertThat(kiln.fixture().lambda.getFunction(b -> b.functionName("target")).configuration())
        .isNotNull();
  }

  @Test
  void roleChanges_applyToTheRunningInstance_andDenyWinsOverAllow() throws Exception {
    Tools.pythonWithBoto3();
    try (IamClient iam = kiln.fixture().iamClient()) {
      role(iam, "changing");
      function("py-changing", Runtime.PYTHON3_12, "changing");
      List<List<Object>> list = List.of(List.of("lambda", "list_functions", Map.of()));
      String principal = "arn:aws:sts::" + ACCOUNT + ":assumed-role/changing/py-changing";

      JsonNode before = probe("py-changing", list);
      assertThat(before.get(0).path("message").asText())
          .isEqualTo(denial(principal, "lambda:ListFunctions", "*"));

      iam.putRolePolicy(
          b ->
              b.roleName("changing")
                  .policyName("list")
                  .policyDocument(
                      "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                          + "\"Action\":\"lambda:List*\",\"Resource\":\"*\"}]}"));
      JsonNode allowed = probe("py-changing", list);
      assertThat(allowed.get(0).path("ok").asBoolean()).as(allowed.toString()).isTrue();

      iam.putRolePolicy(
          b ->
              b.roleName("changing")
                  .policyName("no-list")
                  .policyDocument(
                      "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\","
                          + "\"Action\":\"lambda:ListFunctions\",\"Resource\":\"*\"}]}"));
      JsonNode denied = probe("py-changing", list);
      assertThat(denied.get(0).path("message").asText())
          .isEqualTo(
              "User: "
                  + principal
                  + " is not authorized to perform: lambda:ListFunctions on resource: * with an"
                  + " explicit deny in an identity-based policy");
    }
  }

  @Test
  void aRoleMayInvokeOneFunctionOnly() throws Exception {
    Tools.pythonWithBoto3();
    kiln.fixture().python("open-door", "def handler(e, c):\n    return 'in'\n");
    kiln.fixture().python("closed-door", "def handler(e, c):\n    return 'in'\n");
    try (IamClient iam = kiln.fixture().iamClient()) {
      role(iam, "one-door");
      iam.putRolePolicy(
          b ->
              b.roleName("one-door")
                  .policyName("invoke-open")
                  .policyDocument(
                      "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                          + "\"Action\":\"lambda:InvokeFunction\",\"Resource\":"
                          + "\"arn:aws:lambda:us-east-1:"
                          + ACCOUNT
                          + ":function:open-door\"}]}"));
    }
    function("py-door", Runtime.PYTHON3_12, "one-door");
    JsonNode out =
        probe(
            "py-door",
            List.of(
                List.of("lambda", "invoke", Map.of("FunctionName", "open-door")),
                List.of("lambda", "invoke", Map.of("FunctionName", "closed-door"))));
    assertThat(out.get(0).path("ok").asBoolean()).as(out.toString()).isTrue();
    assertThat(out.get(1).path("message").asText())
        .isEqualTo(
            denial(
                "arn:aws:sts::" + ACCOUNT + ":assumed-role/one-door/py-door",
                "lambda:InvokeFunction",
                "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:closed-door"));
  }

  @Test
  void aKeyLimitedToOneFunction_byResourceArnAndByTag() throws Exception {
    kiln.fixture().python("blue-fn", "def handler(e, c):\n    return 'blue'\n");
    kiln.fixture().python("red-fn", "def handler(e, c):\n    return 'red'\n");
    String blue = "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:blue-fn";
    String red = "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:red-fn";
    kiln.fixture().lambda.tagResource(b -> b.resource(blue).tags(Map.of("team", "blue")));
    kiln.fixture().lambda.tagResource(b -> b.resource(red).tags(Map.of("team", "red")));

    AccessKeys.Key byArn =
        AccessKeys.open(kiln.dataDir())
            .add(
                AccessKeys.Role.POLICY,
                "blue only",
                List.of(),
                Map.of(
                    "blue",
                    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
                        + "[\"lambda:GetFunction\",\"lambda:InvokeFunction\"],\"Resource\":\""
                        + blue
                        + "\"}]}"));
    AccessKeys.Key byTag =
        AccessKeys.open(kiln.dataDir())
            .add(
                AccessKeys.Role.POLICY,
                "team blue",
                List.of(),
                Map.of(
                    "team",
                    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
                        + "\"lambda:GetFunction\",\"Resource\":\"*\",\"Condition\":"
                        + "{\"StringEquals\":{\"aws:ResourceTag/team\":\"blue\"}}}]}"));
    for (AccessKeys.Key key : List.of(byArn, byTag)) {
      try (LambdaClient client =
          KilnFixture.client(
              kiln.fixture().server.endpoint(),
              AwsBasicCredentials.create(key.accessKeyId(), key.secretAccessKey()))) {
        assertThat(
                client.getFunction(b -> b.functionName("blue-fn")).configuration().functionName())
            .isEqualTo("blue-fn");
        LambdaException denied =
            catchThrowableOfType(
                LambdaException.class, () -> client.getFunction(b -> b.functionName("red-fn")));
        assertThat(denied.statusCode()).isEqualTo(403);
        assertThat(denied.awsErrorDetails().errorMessage())
            .isEqualTo(
                denial(
                    "arn:aws:iam::" + ACCOUNT + ":user/" + key.accessKeyId(),
                    "lambda:GetFunction",
                    red));
      }
    }
  }

  @Test
  void givingAFunctionARole_needsIamPassRole_asOnAws() throws Exception {
    try (IamClient iam = kiln.fixture().iamClient()) {
      role(iam, "passed", "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole");
    }
    String createOnly =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
            + "[\"lambda:CreateFunction\",\"lambda:GetFunction\"],\"Resource\":\"*\"}]}";
    AccessKeys.Key deployer =
        AccessKeys.open(kiln.dataDir())
            .add(AccessKeys.Role.POLICY, "deployer", List.of(), Map.of("create", createOnly));
    AccessKeys.Key full =
        AccessKeys.open(kiln.dataDir())
            .add(
                AccessKeys.Role.POLICY,
                "full",
                List.of("arn:aws:iam::aws:policy/AWSLambda_FullAccess"),
                Map.of());
    byte[] zip = Zips.of("app.py", "def handler(e, c):\n    return 1\n");
    try (LambdaClient narrow =
            KilnFixture.client(
                kiln.fixture().server.endpoint(),
                AwsBasicCredentials.create(deployer.accessKeyId(), deployer.secretAccessKey()));
        LambdaClient wide =
            KilnFixture.client(
                kiln.fixture().server.endpoint(),
                AwsBasicCredentials.create(full.accessKeyId(), full.secretAccessKey()))) {
      LambdaException denied =
          catchThrowableOfType(
              LambdaException.class,
              () ->
                  narrow.createFunction(
                      b ->
                          b.functionName("passed-fn")
                              .runtime(Runtime.PYTHON3_12)
                              .handler("app.handler")
                              .role(roleArn("passed"))
                              .code(c -> c.zipFile(SdkBytes.fromByteArray(zip)))));
      assertThat(denied.statusCode()).isEqualTo(403);
      assertThat(denied.awsErrorDetails().errorCode()).isEqualTo("AccessDeniedException");
      assertThat(denied.awsErrorDetails().errorMessage())
          .isEqualTo(
              denial(
                  "arn:aws:iam::" + ACCOUNT + ":user/" + deployer.accessKeyId(),
                  "iam:PassRole",
                  roleArn("passed")));
      assertThat(kiln.fixture().lambda.listFunctions().functions())
          .noneMatch(f -> f.functionName().equals("passed-fn"));

      // AWSLambda_FullAccess grants iam:PassRole when the role is passed to Lambda
      wide.createFunction(
          b ->
              b.functionName("passed-fn")
                  .runtime(Runtime.PYTHON3_12)
                  .handler("app.handler")
                  .role(roleArn("passed"))
                  .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
      assertThat(narrow.getFunction(b -> b.functionName("passed-fn")).configuration().role())
          .isEqualTo(roleArn("passed"));
    }
  }

  @Test
  void createFunction_refusesARoleThatDoesNotTrustLambda() throws Exception {
    try (IamClient iam = kiln.fixture().iamClient()) {
      iam.createRole(
          b ->
              b.roleName("ec2-only")
                  .assumeRolePolicyDocument(
                      "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                          + "\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},"
                          + "\"Action\":\"sts:AssumeRole\"}]}"));
    }
    InvalidParameterValueException refused =
        catchThrowableOfType(
            InvalidParameterValueException.class,
            () -> function("untrusted", Runtime.PYTHON3_12, "ec2-only"));
    assertThat(refused.awsErrorDetails().errorMessage())
        .isEqualTo("The role defined for the function cannot be assumed by Lambda.");
    assertThat(kiln.fixture().lambda.listFunctions().functions())
        .noneMatch(f -> f.functionName().equals("untrusted"));
  }

  @Test
  void aDeletedRole_leavesItsFunctionInvokeOnly_inCompatMode() throws Exception {
    Tools.pythonWithBoto3();
    try (IamClient iam = kiln.fixture().iamClient()) {
      role(iam, "short-lived", "arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess");
      function("py-orphan", Runtime.PYTHON3_12, "short-lived");
      List<List<Object>> list = List.of(List.of("lambda", "list_functions", Map.of()));
      assertThat(probe("py-orphan", list).get(0).path("ok").asBoolean()).isTrue();
      iam.detachRolePolicy(
          b ->
              b.roleName("short-lived")
                  .policyArn("arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess"));
      iam.deleteRole(b -> b.roleName("short-lived"));
      JsonNode after = probe("py-orphan", list);
      assertThat(after.get(0).path("message").asText())
          .isEqualTo(
              denial(
                  "arn:aws:sts::" + ACCOUNT + ":assumed-role/short-lived/py-orphan",
                  "lambda:ListFunctions",
                  "*"));
    }
  }
}
