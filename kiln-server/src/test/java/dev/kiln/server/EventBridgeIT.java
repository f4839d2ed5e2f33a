package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.eventbridge.model.EventBridgeException;
import software.amazon.awssdk.services.eventbridge.model.InvalidEventPatternException;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;
import software.amazon.awssdk.services.eventbridge.model.PutEventsResponse;
import software.amazon.awssdk.services.eventbridge.model.PutTargetsResponse;
import software.amazon.awssdk.services.eventbridge.model.ResourceNotFoundException;
import software.amazon.awssdk.services.eventbridge.model.RuleState;
import software.amazon.awssdk.services.eventbridge.model.Target;

/**
 * EventBridge as a user drives it against a real Kiln: rules, targets and events from the SDK for
 * Java v2's {@link EventBridgeClient} and from the AWS CLI, delivered to a Python function that
 * prints every event it gets ({@code GOT <event>}), read back from its log group. Checks AWS's
 * envelope field by field, an input transformer's output, a custom bus, that a disabled rule and a
 * function without EventBridge's permission get nothing, and every refusal with its message and
 * with nothing stored changed.
 */
class EventBridgeIT {

  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();

  static final ObjectMapper JSON = new ObjectMapper();
  static final String RULE_PREFIX = "arn:aws:events:us-east-1:000000000000:rule/";

  static final String RECORDER =
      "import json\n"
          + "def handler(event, context):\n"
          + "    print('GOT ' + json.dumps(event))\n"
          + "    return {}\n";

  static EventBridgeClient events;

  static EventBridgeClient events() {
    if (events == null) {
      events =
          EventBridgeClient.builder()
              .endpointOverride(kiln.fixture().server.endpoint())
              .region(Region.US_EAST_1)
              .credentialsProvider(StaticCredentialsProvider.create(kiln.fixture().credentials()))
              .build();
    }
    return events;
  }

  @AfterAll
  static void closeClient() {
    if (events != null) {
      events.close();
    }
  }

  static List<JsonNode> got(String function) {
    return Deliveries.read(kiln.fixture().logsClient(), function, "GOT");
  }

  static void allowRule(String function, String ruleArn) {
    kiln.fixture()
        .lambda
        .addPermission(
            b ->
                b.functionName(function)
                    .statementId("events-" + ruleArn.hashCode())
                    .action("lambda:InvokeFunction")
                    .principal("events.amazonaws.com")
                    .sourceArn(ruleArn));
  }

  static Target target(String id, String function) {
    return Target.builder()
        .id(id)
        .arn("arn:aws:lambda:us-east-1:000000000000:function:" + function)
        .build();
  }

  static PutEventsRequestEntry entry(String source, String detail) {
    return PutEventsRequestEntry.builder()
        .source(source)
        .detailType("Order Placed")
        .detail(detail)
        .build();
  }

  /** The count of {@code kiln_router_events_total} for a rule and outcome in {@code /metrics}. */
  static double routed(String rule, String outcome) throws Exception {
    String text =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(kiln.fixture().server.endpoint() + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    Matcher m =
        Pattern.compile(
                "kiln_router_events_total\\{[^}]*name=\""
                    + Pattern.quote(rule)
                    + "\"[^}]*outcome=\""
                    + outcome
                    + "\"[^}]*} ([0-9.eE+]+)")
            .matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  /**
   * A function puts events on the bus with the AWS SDK for JavaScript that its runtime carries, and
   * nothing in its code names Kiln: its instance's {@code AWS_ENDPOINT_URL_EVENTBRIDGE} does, and
   * its role's policy must allow {@code events:PutEvents}, as on AWS.
   */
  @Test
  void aFunction_putsEventsWithTheSdkItsRuntimeCarries_andARuleRoutesThem() throws Exception {
    String role;
    try (var iam = kiln.fixture().iamClient()) {
      role =
          iam.createRole(
                  b -> b.roleName("eb-publisher").assumeRolePolicyDocument(RolesIT.LAMBDA_TRUST))
              .role()
              .arn();
      iam.putRolePolicy(
          b ->
              b.roleName("eb-publisher")
                  .policyName("publish")
                  .policyDocument(
                      "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                          + "\"Action\":\"events:PutEvents\",\"Resource\":\"*\"}]}"));
    }
    String code =
        """
        const { EventBridgeClient, PutEventsCommand } = require('@aws-sdk/client-eventbridge');
        exports.handler = async (event) => {
          const answer = await new EventBridgeClient({}).send(new PutEventsCommand({ Entries: [
            { Source: 'app.publisher', DetailType: 'Published', Detail: JSON.stringify(event) }] }));
          return answer.FailedEntryCount;
        };
        """;
    kiln.fixture()
        .lambda
        .createFunction(
            b ->
                b.functionName("eb-publisher")
                    .runtime(software.amazon.awssdk.services.lambda.model.Runtime.NODEJS20_X)
                    .handler("index.handler")
                    .role(role)
                    .timeout(60)
                    .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of("index.js", code)))));
    kiln.fixture().lambda.waiter().waitUntilFunctionActiveV2(b -> b.functionName("eb-publisher"));
    kiln.fixture().python("eb-subscriber", RECORDER);
    String ruleArn =
        events()
            .putRule(b -> b.name("published").eventPattern("{\"source\": [\"app.publisher\"]}"))
            .ruleArn();
    kiln.lambda()
        .addPermission(
            b ->
                b.functionName("eb-subscriber")
                    .statementId("published")
                    .action("lambda:InvokeFunction")
                    .principal("events.amazonaws.com")
                    .sourceArn(ruleArn));
    String subscriberArn =
        kiln.lambda()
            .getFunction(b -> b.functionName("eb-subscriber"))
            .configuration()
            .functionArn();
    events().putTargets(b -> b.rule("published").targets(t -> t.id("s").arn(subscriberArn)));

    var answer =
        kiln.lambda()
            .invoke(
                b ->
                    b.functionName("eb-publisher")
                        .payload(SdkBytes.fromUtf8String("{\"order\": 42}")));
    assertThat(answer.functionError()).as(answer.payload().asUtf8String()).isNull();
    assertThat(answer.payload().asUtf8String()).isEqualTo("0");
    JsonNode got =
        Awaitility.await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> got("eb-subscriber"), l -> !l.isEmpty())
            .get(0);
    assertThat(got.path("source").asText()).isEqualTo("app.publisher");
    assertThat(got.path("detail-type").asText()).isEqualTo("Published");
    assertThat(got.at("/detail/order").asInt()).isEqualTo(42);
  }

  @Test
  void aMatchedEventReachesThePythonFunctionInAwsEnvelope_andThroughAnInputTransformer() {
    kiln.fixture().python("eb-recorder", RECORDER);
    String arn =
        events()
            .putRule(
                b ->
                    b.name("orders")
                        .eventPattern(
                            "{\"source\": [\"com.shop\"], \"detail\": {\"amount\": [{\"numeric\":"
                                + " [\">\", 100]}]}}"))
            .ruleArn();
    assertThat(arn).isEqualTo(RULE_PREFIX + "orders");
    allowRule("eb-recorder", arn);
    PutTargetsResponse put =
        events()
            .putTargets(
                b ->
                    b.rule("orders")
                        .targets(
                            target("whole", "eb-recorder"),
                            target("shaped", "eb-recorder").toBuilder()
                                .inputTransformer(
                                    t ->
                                        t.inputPathsMap(
                                                Map.of("amount", "$.detail.amount", "id", "$.id"))
                                            .inputTemplate(
                                                "{\"shaped\": true, \"amount\": <amount>, \"text\":"
                                                    + " \"order <id> of <amount>\", \"rule\":"
                                                    + " \"<aws.events.rule-name>\"}"))
                                .build()));
    assertThat(put.failedEntryCount()).isZero();
    assertThat(events().listTargetsByRule(b -> b.rule("orders")).targets())
        .extracting(Target::id)
        .containsExactly("whole", "shaped");

    Instant before = Instant.now().minusSeconds(2);
    PutEventsResponse sent =
        events()
            .putEvents(
                b ->
                    b.entries(
                        entry("com.shop", "{\"amount\": 150, \"item\": \"lamp\"}").toBuilder()
                            .resources("arn:aws:shop:us-east-1:000000000000:order/1")
                            .build(),
                        entry("com.shop", "{\"amount\": 5}"),
                        entry("com.other", "{\"amount\": 500}")));
    assertThat(sent.failedEntryCount()).isZero();
    String id = sent.entries().get(0).eventId();

    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> got("eb-recorder").size() >= 2);
    List<JsonNode> got = got("eb-recorder");
    JsonNode whole = got.stream().filter(g -> g.has("version")).findFirst().orElseThrow();
    assertThat(whole.get("version").asText()).isEqualTo("0");
    assertThat(whole.get("id").asText()).isEqualTo(id);
    assertThat(whole.get("detail-type").asText()).isEqualTo("Order Placed");
    assertThat(whole.get("source").asText()).isEqualTo("com.shop");
    assertThat(whole.get("account").asText()).isEqualTo("000000000000");
    assertThat(whole.get("region").asText()).isEqualTo("us-east-1");
    assertThat(whole.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
    assertThat(Instant.parse(whole.get("time").asText())).isAfter(before);
    assertThat(whole.get("resources").get(0).asText())
        .isEqualTo("arn:aws:shop:us-east-1:000000000000:order/1");
    assertThat(whole.get("detail"))
        .isEqualTo(JSON.createObjectNode().put("amount", 150).put("item", "lamp"));
    JsonNode shaped = got.stream().filter(g -> g.has("shaped")).findFirst().orElseThrow();
    assertThat(shaped)
        .isEqualTo(
            JSON.createObjectNode()
                .put("shaped", true)
                .put("amount", 150)
                .put("text", "order " + id + " of 150")
                .put("rule", "orders"));
    // the two events that match nothing reached nobody: only the 150 one was delivered (twice)
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(routed("default/orders", "delivered")).isEqualTo(2));
    assertThat(got("eb-recorder")).hasSize(2);
  }

  @Test
  void aCustomBusRoutesItsOwnEvents_andADisabledRuleDeliversNothing() {
    kiln.fixture().python("eb-custom", RECORDER);
    assertThat(events().createEventBus(b -> b.name("shop")).eventBusArn())
        .isEqualTo("arn:aws:events:us-east-1:000000000000:event-bus/shop");
    String arn =
        events()
            .putRule(
                b ->
                    b.name("on-shop")
                        .eventBusName("shop")
                        .eventPattern("{\"source\": [\"com.shop\"]}"))
            .ruleArn();
    assertThat(arn).isEqualTo(RULE_PREFIX + "shop/on-shop");
    allowRule("eb-custom", arn);
    events()
        .putTargets(b -> b.rule("on-shop").eventBusName("shop").targets(target("1", "eb-custom")));
    assertThat(events().describeRule(b -> b.name("on-shop").eventBusName("shop")).state())
        .isEqualTo(RuleState.ENABLED);

    // on the default bus it matches nothing; disabled, it takes nothing
    events().putEvents(b -> b.entries(entry("com.shop", "{\"n\": \"default-bus\"}")));
    events().disableRule(b -> b.name("on-shop").eventBusName("shop"));
    events()
        .putEvents(
            b ->
                b.entries(
                    entry("com.shop", "{\"n\": \"while-disabled\"}").toBuilder()
                        .eventBusName("shop")
                        .build()));
    events().enableRule(b -> b.name("on-shop").eventBusName("shop"));
    events()
        .putEvents(
            b ->
                b.entries(
                    entry("com.shop", "{\"n\": \"enabled\"}").toBuilder()
                        .eventBusName("arn:aws:events:us-east-1:000000000000:event-bus/shop")
                        .build()));
    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> !got("eb-custom").isEmpty());
    // the async queue delivers in order: once the last event arrived, the earlier ones would have
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(routed("shop/on-shop", "delivered")).isEqualTo(1));
    assertThat(got("eb-custom"))
        .extracting(g -> g.get("detail").get("n").asText())
        .containsExactly("enabled");
    assertThat(events().listEventBuses(b -> b.namePrefix("sh")).eventBuses())
        .extracting(bus -> bus.name())
        .containsExactly("shop");
    assertThat(events().listRules(b -> b.eventBusName("shop")).rules())
        .extracting(r -> r.name())
        .containsExactly("on-shop");
  }

  @Test
  void withoutEventBridgesPermissionTheFunctionIsNotInvoked() throws Exception {
    kiln.fixture().python("eb-unpermitted", RECORDER);
    events().putRule(b -> b.name("no-permission").eventPattern("{\"source\": [\"com.locked\"]}"));
    // a permission for another rule does not count
    allowRule("eb-unpermitted", RULE_PREFIX + "some-other-rule");
    events().putTargets(b -> b.rule("no-permission").targets(target("1", "eb-unpermitted")));
    PutEventsResponse sent =
        events().putEvents(b -> b.entries(entry("com.locked", "{\"secret\": 1}")));
    // accepted by the bus, as on AWS: the refusal is the delivery's
    assertThat(sent.failedEntryCount()).isZero();
    // PutEvents returns once its deliveries are decided, so the meters already say so
    assertThat(routed("default/no-permission", "failed")).isEqualTo(1);
    assertThat(routed("default/no-permission", "delivered")).isZero();
    assertThat(
            kiln.fixture()
                .lambda
                .getFunction(b -> b.functionName("eb-unpermitted"))
                .configuration()
                .functionName())
        .isEqualTo("eb-unpermitted");
    assertThat(got("eb-unpermitted")).isEmpty();
  }

  static void assertRefused(Runnable call, int status, String type, String message) {
    EventBridgeException e = catchThrowableOfType(EventBridgeException.class, call::run);
    assertThat(e).as("refused").isNotNull();
    assertThat(e.statusCode()).isEqualTo(status);
    assertThat(e.awsErrorDetails().errorCode()).isEqualTo(type);
    assertThat(e.awsErrorDetails().errorMessage()).isEqualTo(message);
  }

  @Test
  void badInputIsRefusedWithEventBridgesErrors_andChangesNothing() throws Exception {
    kiln.fixture().python("eb-bad", RECORDER);
    events().putRule(b -> b.name("kept").eventPattern("{\"source\": [\"a\"]}"));
    events().putTargets(b -> b.rule("kept").targets(target("1", "eb-bad")));
    var rulesBefore = events().listRules(b -> b.namePrefix("")).rules();
    var targetsBefore = events().listTargetsByRule(b -> b.rule("kept")).targets();

    InvalidEventPatternException invalid =
        catchThrowableOfType(
            InvalidEventPatternException.class,
            () -> events().putRule(b -> b.name("bad").eventPattern("{\"source\": \"a\"}")));
    assertThat(invalid.statusCode()).isEqualTo(400);
    assertThat(invalid.awsErrorDetails().errorMessage())
        .startsWith("Event pattern is not valid. Reason: \"source\" must be an object or an array");
    assertRefused(
        () -> events().putRule(b -> b.name("bad")),
        400,
        "ValidationException",
        "Parameter(s) EventPattern or ScheduleExpression must be specified.");
    assertRefused(
        () ->
            events().putRule(b -> b.name("bad").eventBusName("nope").eventPattern("{\"a\": [1]}")),
        400,
        "ResourceNotFoundException",
        "Event bus nope does not exist.");
    assertRefused(
        () -> events().deleteRule(b -> b.name("kept")),
        400,
        "ValidationException",
        "Rule can't be deleted since it has targets.");
    assertRefused(
        () -> events().deleteEventBus(b -> b.name("default")),
        400,
        "ValidationException",
        "Cannot delete event bus default.");
    ResourceNotFoundException noRule =
        catchThrowableOfType(
            ResourceNotFoundException.class,
            () -> events().putTargets(b -> b.rule("nope").targets(target("1", "eb-bad"))));
    assertThat(noRule.awsErrorDetails().errorMessage())
        .isEqualTo("Rule nope does not exist on EventBus default.");

    // a target that is not a Kiln function: refused in its place, the others stored
    PutTargetsResponse put =
        events()
            .putTargets(
                b ->
                    b.rule("kept")
                        .targets(
                            target("ghost", "no-such-function"),
                            Target.builder()
                                .id("queue")
                                .arn("arn:aws:sqs:us-east-1:000000000000:q")
                                .build()));
    assertThat(put.failedEntryCount()).isEqualTo(2);
    assertThat(put.failedEntries())
        .extracting(f -> f.targetId() + " " + f.errorCode() + " " + f.errorMessage())
        .containsExactly(
            "ghost ValidationException Target Arn"
                + " arn:aws:lambda:us-east-1:000000000000:function:no-such-function names a"
                + " function this Kiln does not have.",
            "queue ValidationException Target Arn arn:aws:sqs:us-east-1:000000000000:q is not a"
                + " Lambda function's ARN: Kiln delivers events to its own functions only.");

    // PutEvents: over ten entries, over 256 KB, and bad entries answered in their places
    List<PutEventsRequestEntry> eleven = new ArrayList<>();
    for (int i = 0; i < 11; i++) {
      eleven.add(entry("a", "{}"));
    }
    assertRefused(
        () -> events().putEvents(b -> b.entries(eleven)),
        400,
        "ValidationException",
        "1 validation error detected: Value '[11 entries]' at 'entries' failed to satisfy"
            + " constraint: Member must have length less than or equal to 10");
    String big = "{\"x\": \"" + "a".repeat(200 * 1024) + "\"}";
    assertRefused(
        () -> events().putEvents(b -> b.entries(entry("a", big), entry("a", big))),
        400,
        "ValidationException",
        "Total size of the entries in the request is over the limit.");
    PutEventsResponse mixed =
        events()
            .putEvents(
                b ->
                    b.entries(
                        entry("a", "{\"ok\": 1}"),
                        PutEventsRequestEntry.builder().detailType("T").detail("{}").build(),
                        entry("a", "[1, 2]"),
                        entry("a", "{}").toBuilder().eventBusName("nope").build()));
    assertThat(mixed.failedEntryCount()).isEqualTo(3);
    assertThat(mixed.entries().get(0).eventId()).isNotBlank();
    assertThat(mixed.entries().subList(1, 4))
        .extracting(r -> r.errorCode() + ": " + r.errorMessage())
        .containsExactly(
            "InvalidArgument: Parameter Source is not valid. Reason: Source is a required argument.",
            "MalformedDetail: Detail is malformed.",
            "ResourceNotFoundException: Event bus nope does not exist.");

    // of all the events above only the one valid entry on the default bus reached the rule: the
    // refused requests put nothing on the bus
    assertThat(routed("default/kept", "received")).isEqualTo(1);
    assertThat(events().listRules(b -> b.namePrefix("")).rules()).isEqualTo(rulesBefore);
    assertThat(events().listTargetsByRule(b -> b.rule("kept")).targets()).isEqualTo(targetsBefore);
    assertThat(events().listEventBuses(b -> b.namePrefix("nope")).eventBuses()).isEmpty();
  }

  static HttpResponse<String> raw(String operation, String body) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            kiln.fixture()
                .signed(
                    "POST",
                    "/",
                    Map.of(
                        "X-Amz-Target",
                        "AWSEvents." + operation,
                        "Content-Type",
                        "application/x-amz-json-1.1"),
                    body.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    "events"),
            HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void errorsAreJson11s_forUnknownOperationsWrongTypesAndMissingMembers() throws Exception {
    HttpResponse<String> unknown = raw("PutPermission", "{}");
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(unknown.headers().firstValue("Content-Type")).hasValue("application/x-amz-json-1.1");
    JsonNode u = JSON.readTree(unknown.body());
    assertThat(u.get("__type").asText()).isEqualTo("UnknownOperationException");
    assertThat(u.get("message").asText())
        .startsWith("Kiln does not implement the EventBridge operation PutPermission");

    JsonNode wrongType = JSON.readTree(raw("PutRule", "{\"Name\": 5}").body());
    assertThat(wrongType.get("__type").asText()).isEqualTo("SerializationException");
    assertThat(wrongType.get("message").asText())
        .isEqualTo("Unexpected type for member Name in the request");

    HttpResponse<String> missing = raw("DescribeRule", "{}");
    assertThat(missing.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(missing.body()).get("message").asText())
        .isEqualTo(
            "1 validation error detected: Value null at 'name' failed to satisfy constraint:"
                + " Member must not be null");

    JsonNode notJson = JSON.readTree(raw("ListRules", "{not json").body());
    assertThat(notJson.get("__type").asText()).isEqualTo("SerializationException");

    // the default bus is there from the start, with AWS's ARN
    JsonNode bus = JSON.readTree(raw("DescribeEventBus", "{}").body());
    assertThat(bus.get("Name").asText()).isEqualTo("default");
    assertThat(bus.get("Arn").asText())
        .isEqualTo("arn:aws:events:us-east-1:000000000000:event-bus/default");
  }

  static Tools.Result aws(Path dir, String... args) throws Exception {
    Tools.Result r = Tools.aws(kiln.fixture(), dir, args);
    assertThat(r.exit()).as(String.join(" ", args) + "\n" + r.output()).isZero();
    return r;
  }

  @Test
  void theAwsCliPutsARuleATargetAndAnEvent() throws Exception {
    kiln.fixture().python("eb-cli", RECORDER);
    Path dir = Files.createTempDirectory("kiln-eb-cli-");
    JsonNode rule =
        JSON.readTree(
            aws(
                    dir,
                    "events",
                    "put-rule",
                    "--name",
                    "cli-rule",
                    "--event-pattern",
                    "{\"source\": [\"com.cli\"]}")
                .output());
    String arn = rule.get("RuleArn").asText();
    assertThat(arn).isEqualTo(RULE_PREFIX + "cli-rule");
    aws(
        dir,
        "lambda",
        "add-permission",
        "--function-name",
        "eb-cli",
        "--statement-id",
        "cli-rule",
        "--action",
        "lambda:InvokeFunction",
        "--principal",
        "events.amazonaws.com",
        "--source-arn",
        arn);
    JsonNode targets =
        JSON.readTree(
            aws(
                    dir,
                    "events",
                    "put-targets",
                    "--rule",
                    "cli-rule",
                    "--targets",
                    "Id=1,Arn=arn:aws:lambda:us-east-1:000000000000:function:eb-cli")
                .output());
    assertThat(targets.get("FailedEntryCount").asInt()).isZero();
    JsonNode put =
        JSON.readTree(
            aws(
                    dir,
                    "events",
                    "put-events",
                    "--entries",
                    "[{\"Source\": \"com.cli\", \"DetailType\": \"From CLI\", \"Detail\":"
                        + " \"{\\\"via\\\": \\\"cli\\\"}\"}]")
                .output());
    assertThat(put.get("FailedEntryCount").asInt()).isZero();
    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> !got("eb-cli").isEmpty());
    JsonNode event = got("eb-cli").get(0);
    assertThat(event.get("detail-type").asText()).isEqualTo("From CLI");
    assertThat(event.get("id").asText())
        .isEqualTo(put.get("Entries").get(0).get("EventId").asText());
    assertThat(event.get("detail").get("via").asText()).isEqualTo("cli");

    JsonNode described =
        JSON.readTree(aws(dir, "events", "describe-rule", "--name", "cli-rule").output());
    assertThat(described.get("Arn").asText()).isEqualTo(arn);
    assertThat(described.get("State").asText()).isEqualTo("ENABLED");
    assertThat(described.get("EventBusName").asText()).isEqualTo("default");
    assertThat(
            JSON.readTree(aws(dir, "events", "list-targets-by-rule", "--rule", "cli-rule").output())
                .get("Targets")
                .get(0)
                .get("Arn")
                .asText())
        .isEqualTo("arn:aws:lambda:us-east-1:000000000000:function:eb-cli");
    aws(dir, "events", "remove-targets", "--rule", "cli-rule", "--ids", "1");
    aws(dir, "events", "delete-rule", "--name", "cli-rule");
    Tools.Result gone =
        Tools.aws(kiln.fixture(), dir, "events", "describe-rule", "--name", "cli-rule");
    assertThat(gone.exit()).isNotZero();
    assertThat(gone.output())
        .contains("ResourceNotFoundException")
        .contains("Rule cli-rule does not exist on EventBus default.");
  }
}
