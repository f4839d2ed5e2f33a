package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.testing.brokers.ElasticMq;
import java.net.URI;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.model.CreateEventSourceMappingResponse;
import software.amazon.awssdk.services.lambda.model.EventSourceMappingConfiguration;
import software.amazon.awssdk.services.lambda.model.FunctionResponseType;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * SQS queues as a user triggers functions from them: a real ElasticMQ, messages sent with the AWS
 * SDK's SQS client, mappings made with the Lambda client, functions in Python and Node that print
 * what they receive. Checks the event Lambda sends, deletion only after success, partial batch
 * responses, filters, the queue's redrive policy, disabling and re-enabling, and the API's answers
 * and refusals.
 */
class EsmSqsIT {

  static final ElasticMq BROKER = ElasticMq.start();

  @RegisterExtension
  static final KilnServerExtension kiln =
      KilnServerExtension.withSettings(
          s ->
              s.withTriggers(
                  new ServerSettings.Triggers(Optional.of(BROKER.endpoint()), Optional.empty())));

  static final SqsClient SQS =
      SqsClient.builder()
          .endpointOverride(BROKER.endpoint())
          .region(Region.US_EAST_1)
          .credentialsProvider(
              StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x")))
          .build();

  @AfterAll
  static void stopBroker() {
    SQS.close();
    BROKER.close();
  }

  /** Prints one line per record: its id, body, receive count, and the event's source fields. */
  static final String RECORDER =
      "import json\n"
          + "def handler(event, context):\n"
          + "    for r in event['Records']:\n"
          + "        print('GOT ' + json.dumps({'id': r['messageId'], 'body': r['body'],\n"
          + "            'count': r['attributes']['ApproximateReceiveCount'],\n"
          + "            'source': r['eventSource'], 'arn': r['eventSourceARN'],\n"
          + "            'region': r['awsRegion'], 'md5': r['md5OfBody'],\n"
          + "            'handle': bool(r['receiptHandle']), 'attrs': r['messageAttributes']}))\n"
          + "    return {}\n";

  static String queue(String name, Map<String, String> attributes) {
    BROKER.createQueue(name, attributes);
    return BROKER.queueArn(name);
  }

  static void send(String queue, String body) {
    SQS.sendMessage(b -> b.queueUrl(BROKER.queueUrl(queue)).messageBody(body));
  }

  static int visibleAndInFlight(String queue) {
    Map<QueueAttributeName, String> a =
        SQS.getQueueAttributes(
                b ->
                    b.queueUrl(BROKER.queueUrl(queue))
                        .attributeNames(
                            QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES,
                            QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE))
            .attributes();
    return Integer.parseInt(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES))
        + Integer.parseInt(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE));
  }

  static List<JsonNode> got(String function) {
    return Deliveries.read(kiln.fixture().logsClient(), function, "GOT");
  }

  static software.amazon.awssdk.services.lambda.model.GetEventSourceMappingResponse awaitState(
      String uuid, String state) {
    return Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> kiln.fixture().lambda.getEventSourceMapping(b -> b.uuid(uuid)),
            m -> m.state().equals(state));
  }

  @Test
  void everyMessageReachesThePythonFunctionOnce_asLambdaSendsIt_andIsDeletedAfter()
      throws Exception {
    String arn = queue("orders", Map.of("VisibilityTimeout", "30"));
    kiln.fixture().python("orders-fn", RECORDER);
    CreateEventSourceMappingResponse created =
        kiln.fixture()
            .lambda
            .createEventSourceMapping(
                b -> b.functionName("orders-fn").eventSourceArn(arn).batchSize(5));
    assertThat(created.state()).isEqualTo("Creating");
    assertThat(created.batchSize()).isEqualTo(5);
    assertThat(created.eventSourceArn()).isEqualTo(arn);
    assertThat(created.functionArn())
        .isEqualTo("arn:aws:lambda:us-east-1:000000000000:function:orders-fn");
    assertThat(created.eventSourceMappingArn())
        .isEqualTo("arn:aws:lambda:us-east-1:000000000000:event-source-mapping:" + created.uuid());
    assertThat(created.startingPosition()).isNull();
    assertThat(created.maximumRetryAttempts()).isNull();
    awaitState(created.uuid(), "Enabled");

    IntStream.range(0, 23).forEach(i -> send("orders", "{\"order\":" + i + "}"));

    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> got("orders-fn").size() >= 23);
    List<JsonNode> got = got("orders-fn");
    Set<String> bodies = new HashSet<>();
    got.forEach(g -> bodies.add(g.get("body").asText()));
    assertThat(got).hasSize(23);
    assertThat(bodies).hasSize(23).contains("{\"order\":0}", "{\"order\":22}");
    JsonNode first = got.get(0);
    assertThat(first.get("source").asText()).isEqualTo("aws:sqs");
    assertThat(first.get("arn").asText()).isEqualTo(arn);
    assertThat(first.get("region").asText()).isEqualTo("us-east-1");
    assertThat(first.get("count").asText()).isEqualTo("1");
    assertThat(first.get("handle").asBoolean()).isTrue();
    assertThat(first.get("md5").asText()).hasSize(32);
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> visibleAndInFlight("orders") == 0);

    // the mapping's meters, and every event source series the Grafana dashboard queries
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> MetricsIT.scrape(kiln.fixture()).contains("kiln_esm_lag{"));
    String scrape = MetricsIT.scrape(kiln.fixture());
    assertThat(scrape)
        .contains(
            "kiln_esm_records_total{function=\"orders-fn\",outcome=\"invoked\",source=\"sqs\",uuid=\""
                + created.uuid()
                + "\"} 23.0");
    assertThat(scrape).contains("kiln_esm_batch_size_count{");
    java.util.regex.Matcher series =
        java.util.regex.Pattern.compile("\\bkiln_esm_[a-z_]+")
            .matcher(
                java.nio.file.Files.readString(
                    ReadmeIT.projectRoot().resolve("docs/grafana/kiln-dashboard.json")));
    int queried = 0;
    while (series.find()) {
      assertThat(scrape).as("the dashboard queries " + series.group()).contains(series.group());
      queried++;
    }
    assertThat(queried).isGreaterThanOrEqualTo(3);
  }

  @Test
  void aNodeFunctionsBatchItemFailures_bringBackOnlyTheFailedMessages() {
    String arn = queue("partial", Map.of("VisibilityTimeout", "2"));
    kiln.fixture()
        .node(
            "partial-fn",
            "index.mjs",
            "export const handler = async (event) => {\n"
                + "  const failures = [];\n"
                + "  for (const r of event.Records) {\n"
                + "    console.log('GOT ' + JSON.stringify({id: r.messageId, body: r.body,\n"
                + "      count: r.attributes.ApproximateReceiveCount}));\n"
                + "    if (r.body.startsWith('fail') && r.attributes.ApproximateReceiveCount === '1')\n"
                + "      failures.push({itemIdentifier: r.messageId});\n"
                + "  }\n"
                + "  return {batchItemFailures: failures};\n"
                + "};\n");
    kiln.fixture()
        .lambda
        .createEventSourceMapping(
            b ->
                b.functionName("partial-fn")
                    .eventSourceArn(arn)
                    .batchSize(10)
                    .functionResponseTypes(FunctionResponseType.REPORT_BATCH_ITEM_FAILURES));
    send("partial", "ok-1");
    send("partial", "fail-1");
    send("partial", "ok-2");

    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> got("partial-fn").size() >= 4);
    List<JsonNode> got = got("partial-fn");
    assertThat(got)
        .extracting(g -> g.get("body").asText() + "#" + g.get("count").asText())
        .containsExactlyInAnyOrder("ok-1#1", "fail-1#1", "ok-2#1", "fail-1#2");
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> visibleAndInFlight("partial") == 0);
  }

  @Test
  void filters_deliverOnlyWhatMatches_andTheRestIsDeletedUndelivered() {
    String arn = queue("filtered", Map.of());
    kiln.fixture().python("filtered-fn", RECORDER);
    kiln.fixture()
        .lambda
        .createEventSourceMapping(
            b ->
                b.functionName("filtered-fn")
                    .eventSourceArn(arn)
                    .filterCriteria(
                        f -> f.filters(p -> p.pattern("{\"body\":{\"kind\":[\"order\"]}}"))));
    send("filtered", "{\"kind\":\"order\",\"n\":1}");
    send("filtered", "{\"kind\":\"refund\",\"n\":2}");
    send("filtered", "not json");
    send("filtered", "{\"kind\":\"order\",\"n\":3}");

    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> visibleAndInFlight("filtered") == 0);
    assertThat(got("filtered-fn"))
        .extracting(g -> g.get("body").asText())
        .containsExactlyInAnyOrder("{\"kind\":\"order\",\"n\":1}", "{\"kind\":\"order\",\"n\":3}");
  }

  @Test
  void aMessageThatKeepsFailing_goesToTheQueuesDeadLetterQueue_byItsRedrivePolicy() {
    BROKER.createQueueWithDeadLetterQueue(
        "poison", "poison-dlq", 2, Map.of("VisibilityTimeout", "1"));
    kiln.fixture()
        .python(
            "poison-fn",
            "def handler(event, context):\n"
                + "    for r in event['Records']:\n"
                + "        print('GOT {\"count\": \"' + r['attributes']['ApproximateReceiveCount'] + '\"}')\n"
                + "    raise ValueError('always')\n");
    kiln.fixture()
        .lambda
        .createEventSourceMapping(
            b -> b.functionName("poison-fn").eventSourceArn(BROKER.queueArn("poison")));
    send("poison", "bad");

    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> visibleAndInFlight("poison-dlq") == 1);
    assertThat(visibleAndInFlight("poison")).isZero();
    assertThat(got("poison-fn")).extracting(g -> g.get("count").asText()).contains("1", "2");
  }

  @Test
  void aDisabledMappingLeavesMessagesOnTheQueue_andReEnabledDeliversThem() {
    String arn = queue("paused", Map.of());
    kiln.fixture().python("paused-fn", RECORDER);
    String uuid =
        kiln.fixture()
            .lambda
            .createEventSourceMapping(
                b -> b.functionName("paused-fn").eventSourceArn(arn).enabled(false))
            .uuid();
    assertThat(awaitState(uuid, "Disabled").state()).isEqualTo("Disabled");
    send("paused", "held");
    // a poller would have taken it within a second or two
    Awaitility.await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(10))
        .until(() -> visibleAndInFlight("paused") == 1);

    var enabling = kiln.fixture().lambda.updateEventSourceMapping(b -> b.uuid(uuid).enabled(true));
    assertThat(enabling.state()).isEqualTo("Enabling");
    awaitState(uuid, "Enabled");
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> got("paused-fn").size() == 1);
    assertThat(got("paused-fn").get(0).get("body").asText()).isEqualTo("held");
  }

  @Test
  void mappingsAreListedByFunctionAndArn_updatedAndTagged_andGoWithTheirFunction() {
    String arn = queue("listed", Map.of());
    kiln.fixture().python("listed-fn", RECORDER);
    var m =
        kiln.fixture()
            .lambda
            .createEventSourceMapping(
                b ->
                    b.functionName("listed-fn").eventSourceArn(arn).tags(Map.of("team", "orders")));
    assertThat(
            kiln.fixture()
                .lambda
                .listEventSourceMappings(b -> b.functionName("listed-fn"))
                .eventSourceMappings())
        .extracting(EventSourceMappingConfiguration::uuid)
        .containsExactly(m.uuid());
    assertThat(
            kiln.fixture()
                .lambda
                .listEventSourceMappings(b -> b.eventSourceArn(arn))
                .eventSourceMappings())
        .hasSize(1);
    assertThat(kiln.fixture().lambda.listTags(b -> b.resource(m.eventSourceMappingArn())).tags())
        .containsEntry("team", "orders");

    var updated =
        kiln.fixture()
            .lambda
            .updateEventSourceMapping(
                b -> b.uuid(m.uuid()).batchSize(7).scalingConfig(s -> s.maximumConcurrency(3)));
    assertThat(updated.state()).isEqualTo("Updating");
    assertThat(updated.batchSize()).isEqualTo(7);
    assertThat(awaitState(m.uuid(), "Enabled").scalingConfig().maximumConcurrency()).isEqualTo(3);

    kiln.fixture().lambda.deleteFunction(b -> b.functionName("listed-fn"));
    LambdaException gone =
        catchThrowableOfType(
            LambdaException.class,
            () -> kiln.fixture().lambda.getEventSourceMapping(b -> b.uuid(m.uuid())));
    assertThat(gone.statusCode()).isEqualTo(404);
    assertThat(gone.awsErrorDetails().errorCode()).isEqualTo("ResourceNotFoundException");
  }

  @Test
  void deletingAMapping_answersDeleting_andStopsDelivery() {
    String arn = queue("deleted", Map.of());
    kiln.fixture().python("deleted-fn", RECORDER);
    String uuid =
        kiln.fixture()
            .lambda
            .createEventSourceMapping(b -> b.functionName("deleted-fn").eventSourceArn(arn))
            .uuid();
    awaitState(uuid, "Enabled");
    var deleting = kiln.fixture().lambda.deleteEventSourceMapping(b -> b.uuid(uuid));
    assertThat(deleting.state()).isEqualTo("Deleting");
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                kiln.fixture()
                    .lambda
                    .listEventSourceMappings(b -> b.functionName("deleted-fn"))
                    .eventSourceMappings()
                    .isEmpty());
    send("deleted", "after");
    Awaitility.await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(10))
        .until(() -> visibleAndInFlight("deleted") == 1);
  }

  @Test
  void aKnownRoleWithoutSqsPermissions_cannotMapAQueue_untilItIsGrantedThem() {
    String arn = queue("guarded", Map.of());
    var iam = kiln.fixture().iamClient();
    String role =
        iam.createRole(
                b ->
                    b.roleName("no-sqs")
                        .assumeRolePolicyDocument(
                            "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                                + "\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},"
                                + "\"Action\":\"sts:AssumeRole\"}]}"))
            .role()
            .arn();
    iam.attachRolePolicy(
        b ->
            b.roleName("no-sqs")
                .policyArn("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"));
    kiln.fixture()
        .lambda
        .createFunction(
            b ->
                b.functionName("guarded-fn")
                    .runtime(software.amazon.awssdk.services.lambda.model.Runtime.PYTHON3_12)
                    .handler("app.handler")
                    .role(role)
                    .code(
                        c ->
                            c.zipFile(
                                software.amazon.awssdk.core.SdkBytes.fromByteArray(
                                    Zips.of("app.py", RECORDER)))));
    LambdaException denied =
        refused(
            () ->
                kiln.fixture()
                    .lambda
                    .createEventSourceMapping(
                        b -> b.functionName("guarded-fn").eventSourceArn(arn)));
    assertThat(denied.awsErrorDetails().errorCode()).isEqualTo("InvalidParameterValueException");
    assertThat(denied.awsErrorDetails().errorMessage())
        .isEqualTo(
            "The provided execution role does not have permissions to call ReceiveMessage on SQS");

    iam.attachRolePolicy(
        b ->
            b.roleName("no-sqs")
                .policyArn("arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"));
    assertThat(
            kiln.fixture()
                .lambda
                .createEventSourceMapping(b -> b.functionName("guarded-fn").eventSourceArn(arn))
                .state())
        .isEqualTo("Creating");
  }

  @Test
  void anUpdateMovesAMappingToAnotherFunction_unlessThatOneReadsTheQueueAlready() {
    String arn = queue("moving", Map.of());
    kiln.fixture().python("moving-a", RECORDER);
    kiln.fixture().python("moving-b", RECORDER);
    kiln.fixture().python("moving-c", RECORDER);
    String uuid =
        kiln.fixture()
            .lambda
            .createEventSourceMapping(b -> b.functionName("moving-a").eventSourceArn(arn))
            .uuid();
    String other =
        kiln.fixture()
            .lambda
            .createEventSourceMapping(b -> b.functionName("moving-c").eventSourceArn(arn))
            .uuid();
    LambdaException taken =
        catchThrowableOfType(
            LambdaException.class,
            () ->
                kiln.fixture()
                    .lambda
                    .updateEventSourceMapping(b -> b.uuid(uuid).functionName("moving-c")));
    assertThat(taken.statusCode()).isEqualTo(409);
    assertThat(taken.awsErrorDetails().errorMessage()).contains(other);
    kiln.fixture().lambda.deleteEventSourceMapping(b -> b.uuid(other));

    var moved =
        kiln.fixture().lambda.updateEventSourceMapping(b -> b.uuid(uuid).functionName("moving-b"));
    assertThat(moved.functionArn()).endsWith(":function:moving-b");
    awaitState(uuid, "Enabled");
    send("moving", "to-b");
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> got("moving-b").size() == 1);
    assertThat(got("moving-a")).isEmpty();
  }

  @Test
  void aMappingOnAnAlias_invokesTheVersionTheAliasNames() {
    String arn = queue("aliased", Map.of());
    kiln.fixture()
        .python(
            "aliased-fn",
            "def handler(event, context):\n"
                + "    print('GOT {\"arn\": \"' + context.invoked_function_arn + '\", \"version\": \"'"
                + " + context.function_version + '\"}')\n");
    String version =
        kiln.fixture().lambda.publishVersion(b -> b.functionName("aliased-fn")).version();
    kiln.fixture()
        .lambda
        .createAlias(b -> b.functionName("aliased-fn").name("live").functionVersion(version));
    var m =
        kiln.fixture()
            .lambda
            .createEventSourceMapping(b -> b.functionName("aliased-fn:live").eventSourceArn(arn));
    assertThat(m.functionArn())
        .isEqualTo("arn:aws:lambda:us-east-1:000000000000:function:aliased-fn:live");
    send("aliased", "x");
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> got("aliased-fn").size() == 1);
    JsonNode got = got("aliased-fn").get(0);
    assertThat(got.get("arn").asText()).endsWith(":function:aliased-fn:live");
    assertThat(got.get("version").asText()).isEqualTo(version);
  }

  @Test
  void theAwsCli_createsFiltersPausesAndDeletesAMapping_asTheReadmeShowsIt() throws Exception {
    String arn = queue("cli-orders", Map.of());
    kiln.fixture().python("cli-fn", RECORDER);
    java.nio.file.Path dir = dev.kiln.testing.TempDirs.create("kiln-esm-cli-");
    JsonNode created =
        Deliveries.JSON.readTree(
            cli(
                dir,
                "lambda",
                "create-event-source-mapping",
                "--function-name",
                "cli-fn",
                "--event-source-arn",
                arn,
                "--batch-size",
                "10",
                "--function-response-types",
                "ReportBatchItemFailures"));
    String uuid = created.get("UUID").asText();
    assertThat(created.get("State").asText()).isEqualTo("Creating");
    assertThat(created.get("FunctionResponseTypes").get(0).asText())
        .isEqualTo("ReportBatchItemFailures");
    JsonNode filtered =
        Deliveries.JSON.readTree(
            cli(
                dir,
                "lambda",
                "update-event-source-mapping",
                "--uuid",
                uuid,
                "--filter-criteria",
                "{\"Filters\":[{\"Pattern\":\"{\\\"body\\\":{\\\"kind\\\":[\\\"order\\\"]}}\"}]}"));
    assertThat(filtered.at("/FilterCriteria/Filters/0/Pattern").asText())
        .isEqualTo("{\"body\":{\"kind\":[\"order\"]}}");
    awaitState(uuid, "Enabled");
    send("cli-orders", "{\"kind\":\"order\"}");
    send("cli-orders", "{\"kind\":\"other\"}");
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> visibleAndInFlight("cli-orders") == 0 && !got("cli-fn").isEmpty());
    assertThat(got("cli-fn"))
        .extracting(g -> g.get("body").asText())
        .containsExactly("{\"kind\":\"order\"}");

    JsonNode paused =
        Deliveries.JSON.readTree(
            cli(dir, "lambda", "update-event-source-mapping", "--uuid", uuid, "--no-enabled"));
    assertThat(paused.get("State").asText()).isEqualTo("Disabling");
    JsonNode listed =
        Deliveries.JSON.readTree(
            cli(dir, "lambda", "list-event-source-mappings", "--function-name", "cli-fn"));
    assertThat(listed.get("EventSourceMappings")).hasSize(1);
    JsonNode deleting =
        Deliveries.JSON.readTree(cli(dir, "lambda", "delete-event-source-mapping", "--uuid", uuid));
    assertThat(deleting.get("State").asText()).isEqualTo("Deleting");
  }

  static String cli(java.nio.file.Path dir, String... args) throws Exception {
    Tools.Result r = Tools.aws(kiln.fixture(), dir, args);
    assertThat(r.exit()).as(String.join(" ", args) + "\n" + r.output()).isZero();
    return r.output();
  }

  // ---- bad input ------------------------------------------------------------------------------

  static LambdaException refused(Runnable call) {
    int before =
        kiln.fixture().lambda.listEventSourceMappings(b -> {}).eventSourceMappings().size();
    LambdaException e = catchThrowableOfType(LambdaException.class, call::run);
    assertThat(e).as("refused").isNotNull();
    assertThat(kiln.fixture().lambda.listEventSourceMappings(b -> {}).eventSourceMappings().size())
        .as("nothing stored")
        .isEqualTo(before);
    return e;
  }

  @Test
  void badRequests_getAwsErrors_andStoreNothing() {
    String arn = queue("strict", Map.of());
    kiln.fixture().python("strict-fn", RECORDER);
    String existing =
        kiln.fixture()
            .lambda
            .createEventSourceMapping(b -> b.functionName("strict-fn").eventSourceArn(arn))
            .uuid();

    LambdaException noFunction =
        refused(
            () ->
                kiln.fixture()
                    .lambda
                    .createEventSourceMapping(b -> b.functionName("nope").eventSourceArn(arn)));
    assertThat(noFunction.statusCode()).isEqualTo(404);
    assertThat(noFunction.awsErrorDetails().errorCode()).isEqualTo("ResourceNotFoundException");
    assertThat(noFunction.awsErrorDetails().errorMessage())
        .isEqualTo("Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope");

    LambdaException duplicate =
        refused(
            () ->
                kiln.fixture()
                    .lambda
                    .createEventSourceMapping(
                        b -> b.functionName("strict-fn").eventSourceArn(arn)));
    assertThat(duplicate.statusCode()).isEqualTo(409);
    assertThat(duplicate.awsErrorDetails().errorCode()).isEqualTo("ResourceConflictException");
    assertThat(duplicate.awsErrorDetails().errorMessage())
        .contains("already exists")
        .contains(arn)
        .contains(existing);

    LambdaException bigBatch =
        refused(
            () ->
                kiln.fixture()
                    .lambda
                    .createEventSourceMapping(
                        b -> b.functionName("strict-fn").eventSourceArn(arn + "-2").batchSize(11)));
    assertThat(bigBatch.awsErrorDetails().errorCode()).isEqualTo("InvalidParameterValueException");
    assertThat(bigBatch.awsErrorDetails().errorMessage())
        .isEqualTo(
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is"
                + " greater than 10");

    LambdaException tooBig =
        refused(
            () ->
                kiln.fixture()
                    .lambda
                    .createEventSourceMapping(
                        b ->
                            b.functionName("strict-fn")
                                .eventSourceArn(arn + "-2")
                                .batchSize(10001)));
    assertThat(tooBig.awsErrorDetails().errorCode()).isEqualTo("ValidationException");
    assertThat(tooBig.awsErrorDetails().errorMessage())
        .contains("'batchSize'")
        .contains("less than or equal to 10000");

    LambdaException position =
        refused(
            () ->
                kiln.fixture()
                    .lambda
                    .createEventSourceMapping(
                        b ->
                            b.functionName("strict-fn")
                                .eventSourceArn(arn + "-2")
                                .startingPosition("LATEST")));
    assertThat(position.awsErrorDetails().errorCode()).isEqualTo("InvalidParameterValueException");
    assertThat(position.awsErrorDetails().errorMessage())
        .isEqualTo("StartingPosition is not valid for SQS event sources.");

    LambdaException filter =
        refused(
            () ->
                kiln.fixture()
                    .lambda
                    .createEventSourceMapping(
                        b ->
                            b.functionName("strict-fn")
                                .eventSourceArn(arn + "-2")
                                .filterCriteria(f -> f.filters(p -> p.pattern("{\"body\": ")))));
    assertThat(filter.awsErrorDetails().errorCode()).isEqualTo("InvalidParameterValueException");
    assertThat(filter.awsErrorDetails().errorMessage())
        .isEqualTo("Invalid filter pattern definition.");

    LambdaException kinesis =
        refused(
            () ->
                kiln.fixture()
                    .lambda
                    .createEventSourceMapping(
                        b ->
                            b.functionName("strict-fn")
                                .eventSourceArn(
                                    "arn:aws:kinesis:us-east-1:000000000000:stream/clicks")
                                .startingPosition("LATEST")));
    assertThat(kinesis.awsErrorDetails().errorCode()).isEqualTo("InvalidParameterValueException");
    assertThat(kinesis.awsErrorDetails().errorMessage())
        .contains("arn:aws:kinesis:us-east-1:000000000000:stream/clicks");

    LambdaException destination =
        refused(
            () ->
                kiln.fixture().lambda.updateEventSourceMapping(b -> b.uuid(existing).batchSize(0)));
    assertThat(destination.awsErrorDetails().errorCode()).isEqualTo("ValidationException");
    assertThat(kiln.fixture().lambda.getEventSourceMapping(b -> b.uuid(existing)).batchSize())
        .as("the stored mapping is unchanged")
        .isEqualTo(10);

    LambdaException kms =
        refused(
            () ->
                kiln.fixture()
                    .lambda
                    .createEventSourceMapping(
                        b ->
                            b.functionName("strict-fn")
                                .eventSourceArn(arn + "-2")
                                .kmsKeyArn("arn:aws:kms:us-east-1:000000000000:key/k")));
    assertThat(kms.awsErrorDetails().errorCode()).isEqualTo("InvalidParameterValueException");
    assertThat(kms.awsErrorDetails().errorMessage()).startsWith("Unsupported parameter KMSKeyArn:");

    LambdaException unknown =
        catchThrowableOfType(
            LambdaException.class,
            () ->
                kiln.fixture()
                    .lambda
                    .getEventSourceMapping(b -> b.uuid("00000000-0000-0000-0000-000000000000")));
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.awsErrorDetails().errorMessage())
        .isEqualTo("The resource you requested does not exist.");
  }

  @Test
  void aMappingMadeBeforeItsQueueExists_isAccepted_saysWhy_andRecoversWhenTheQueueComes() {
    String arn = BROKER.queueArn("late");
    kiln.fixture().python("late-fn", RECORDER);
    String uuid =
        kiln.fixture()
            .lambda
            .createEventSourceMapping(b -> b.functionName("late-fn").eventSourceArn(arn))
            .uuid();
    assertThat(awaitState(uuid, "Enabled")).isNotNull();
    queue("late", Map.of());
    send("late", "finally");
    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> got("late-fn").size() == 1);
  }

  static URI endpoint() {
    return BROKER.endpoint();
  }
}
