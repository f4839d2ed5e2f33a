package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.scheduler.SchedulerClient;
import software.amazon.awssdk.services.scheduler.model.ActionAfterCompletion;
import software.amazon.awssdk.services.scheduler.model.ConflictException;
import software.amazon.awssdk.services.scheduler.model.CreateScheduleRequest;
import software.amazon.awssdk.services.scheduler.model.FlexibleTimeWindowMode;
import software.amazon.awssdk.services.scheduler.model.GetScheduleResponse;
import software.amazon.awssdk.services.scheduler.model.ResourceNotFoundException;
import software.amazon.awssdk.services.scheduler.model.ScheduleState;
import software.amazon.awssdk.services.scheduler.model.Tag;
import software.amazon.awssdk.services.scheduler.model.ValidationException;

/**
 * EventBridge Scheduler's API against a real server, through the SDK for Java v2's {@code
 * SchedulerClient} and the AWS CLI: every operation, ClientToken idempotency, every bad input with
 * its message and proof that nothing was stored, and an {@code at()} schedule that invokes a Python
 * function. The minute-by-minute firing is {@link SchedulerRateIT}; crashes are {@link
 * SchedulerCrashIT}.
 */
class SchedulerIT {

  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();
  static final ObjectMapper JSON = new ObjectMapper();
  static final String ROLE = "arn:aws:iam::000000000000:role/scheduler-role";
  static final String FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:sched-fn";

  /** Prints what it got after SCHEDULED, one line per invocation. */
  static final String RECORDER =
      """
      import json
      def handler(event, context):
          print("SCHEDULED " + json.dumps(event))
          return {"ok": True}
      """;

  static SchedulerClient scheduler;

  static Tools.Result aws(Path dir, String... args) throws Exception {
    Tools.Result r = Tools.aws(kiln.fixture(), dir, args);
    assertThat(r.exit()).as(String.join(" ", args) + "\n" + r.output()).isZero();
    return r;
  }

  @BeforeAll
  static void client() {
    scheduler = schedulerClient(kiln.fixture());
    kiln.fixture().python("sched-fn", RECORDER);
  }

  @AfterAll
  static void closeClient() {
    scheduler.close();
  }

  static SchedulerClient schedulerClient(KilnFixture fixture) {
    return SchedulerClient.builder()
        .endpointOverride(fixture.server.endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(
            StaticCredentialsProvider.create(KilnFixture.credentials(fixture.dataDir)))
        .build();
  }

  static CreateScheduleRequest.Builder valid(String name) {
    return CreateScheduleRequest.builder()
        .name(name)
        .scheduleExpression("rate(5 minutes)")
        .flexibleTimeWindow(w -> w.mode(FlexibleTimeWindowMode.OFF))
        .target(t -> t.arn(FUNCTION_ARN).roleArn(ROLE));
  }

  @Test
  void createGetUpdateListDelete_throughTheSdk() {
    String arn =
        scheduler
            .createSchedule(
                valid("nightly")
                    .scheduleExpression("cron(0 2 * * ? *)")
                    .scheduleExpressionTimezone("America/New_York")
                    .description("every night at two")
                    .target(
                        t ->
                            t.arn(FUNCTION_ARN)
                                .roleArn(ROLE)
                                .input("{\"job\":\"backup\"}")
                                .retryPolicy(
                                    r -> r.maximumEventAgeInSeconds(3600).maximumRetryAttempts(3)))
                    .build())
            .scheduleArn();
    assertThat(arn).isEqualTo("arn:aws:scheduler:us-east-1:000000000000:schedule/default/nightly");
    GetScheduleResponse got = scheduler.getSchedule(b -> b.name("nightly"));
    assertThat(got.arn()).isEqualTo(arn);
    assertThat(got.groupName()).isEqualTo("default");
    assertThat(got.scheduleExpression()).isEqualTo("cron(0 2 * * ? *)");
    assertThat(got.scheduleExpressionTimezone()).isEqualTo("America/New_York");
    assertThat(got.description()).isEqualTo("every night at two");
    assertThat(got.state()).isEqualTo(ScheduleState.ENABLED);
    assertThat(got.actionAfterCompletion()).isEqualTo(ActionAfterCompletion.NONE);
    assertThat(got.flexibleTimeWindow().mode()).isEqualTo(FlexibleTimeWindowMode.OFF);
    assertThat(got.target().input()).isEqualTo("{\"job\":\"backup\"}");
    assertThat(got.target().retryPolicy().maximumEventAgeInSeconds()).isEqualTo(3600);
    assertThat(got.target().retryPolicy().maximumRetryAttempts()).isEqualTo(3);
    assertThat(got.lastModificationDate()).isEqualTo(got.creationDate());

    // UpdateSchedule replaces every member: what it leaves out takes its default again
    scheduler.updateSchedule(
        b ->
            b.name("nightly")
                .scheduleExpression("rate(1 hour)")
                .state(ScheduleState.DISABLED)
                .flexibleTimeWindow(
                    w -> w.mode(FlexibleTimeWindowMode.FLEXIBLE).maximumWindowInMinutes(15))
                .target(t -> t.arn(FUNCTION_ARN).roleArn(ROLE)));
    GetScheduleResponse updated = scheduler.getSchedule(b -> b.name("nightly"));
    assertThat(updated.scheduleExpression()).isEqualTo("rate(1 hour)");
    assertThat(updated.scheduleExpressionTimezone()).isEqualTo("UTC");
    assertThat(updated.description()).isNull();
    assertThat(updated.state()).isEqualTo(ScheduleState.DISABLED);
    assertThat(updated.flexibleTimeWindow().maximumWindowInMinutes()).isEqualTo(15);
    assertThat(updated.target().input()).isNull();
    assertThat(updated.target().retryPolicy().maximumRetryAttempts()).isEqualTo(185);
    assertThat(updated.creationDate()).isEqualTo(got.creationDate());
    assertThat(updated.lastModificationDate()).isAfterOrEqualTo(got.creationDate());

    assertThat(scheduler.listSchedules(b -> b.namePrefix("night")).schedules())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.arn()).isEqualTo(arn);
              assertThat(s.state()).isEqualTo(ScheduleState.DISABLED);
              assertThat(s.target().arn()).isEqualTo(FUNCTION_ARN);
            });
    assertThat(
            scheduler
                .listSchedules(b -> b.namePrefix("night").state(ScheduleState.ENABLED))
                .schedules())
        .isEmpty();

    scheduler.deleteSchedule(b -> b.name("nightly"));
    assertThatThrownBy(() -> scheduler.getSchedule(b -> b.name("nightly")))
        .isInstanceOf(ResourceNotFoundException.class)
        .hasMessageContaining("Schedule nightly does not exist.");
    assertThatThrownBy(() -> scheduler.deleteSchedule(b -> b.name("nightly")))
        .isInstanceOf(ResourceNotFoundException.class);
  }

  @Test
  void clientTokenMakesCreateIdempotent_andANameIsTakenOnce() {
    scheduler.createSchedule(valid("once-only").clientToken("token-1").build());
    assertThat(
            scheduler
                .createSchedule(valid("once-only").clientToken("token-1").build())
                .scheduleArn())
        .endsWith("schedule/default/once-only");
    assertThatThrownBy(
            () -> scheduler.createSchedule(valid("once-only").clientToken("token-2").build()))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("Schedule once-only already exists.");
    scheduler.deleteSchedule(b -> b.name("once-only"));
  }

  @Test
  void anAtScheduleWithDeleteAfterCompletionFiresAndGoes_throughTheSdk() {
    String at =
        Instant.now()
            .plusSeconds(3)
            .truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
            .toString()
            .replace("Z", "");
    scheduler.createSchedule(
        valid("sdk-once")
            .scheduleExpression("at(" + at + ")")
            .actionAfterCompletion(ActionAfterCompletion.DELETE)
            .target(t -> t.arn(FUNCTION_ARN).roleArn(ROLE).input("{\"from\":\"sdk\"}"))
            .build());
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () ->
                assertThatThrownBy(() -> scheduler.getSchedule(b -> b.name("sdk-once")))
                    .isInstanceOf(ResourceNotFoundException.class));
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                Deliveries.read(kiln.fixture().logsClient(), "sched-fn", "SCHEDULED").stream()
                    .anyMatch(e -> e.path("from").asText().equals("sdk")));
  }

  @Test
  void listSchedulesPages() {
    for (String n : List.of("page-a", "page-b", "page-c")) {
      scheduler.createSchedule(valid(n).build());
    }
    var first = scheduler.listSchedules(b -> b.namePrefix("page-").maxResults(2));
    assertThat(first.schedules()).extracting(s -> s.name()).containsExactly("page-a", "page-b");
    assertThat(first.nextToken()).isNotNull();
    var second =
        scheduler.listSchedules(
            b -> b.namePrefix("page-").maxResults(2).nextToken(first.nextToken()));
    assertThat(second.schedules()).extracting(s -> s.name()).containsExactly("page-c");
    assertThat(second.nextToken()).isNull();
    assertThat(
            scheduler.listSchedulesPaginator(b -> b.namePrefix("page-").maxResults(1)).schedules())
        .hasSize(3);
    assertThatThrownBy(() -> scheduler.listSchedules(b -> b.maxResults(101)))
        .isInstanceOf(ValidationException.class)
        .hasMessageContaining("Member must have value less than or equal to 100");
    assertThatThrownBy(() -> scheduler.listSchedules(b -> b.nextToken("!!")))
        .isInstanceOf(ValidationException.class)
        .hasMessageContaining("Invalid NextToken");
    for (String n : List.of("page-a", "page-b", "page-c")) {
      scheduler.deleteSchedule(b -> b.name(n));
    }
  }

  @Test
  void groupsTheirSchedulesAndTags() {
    String groupArn =
        scheduler
            .createScheduleGroup(
                b -> b.name("ops").tags(Tag.builder().key("team").value("sre").build()))
            .scheduleGroupArn();
    assertThat(groupArn).isEqualTo("arn:aws:scheduler:us-east-1:000000000000:schedule-group/ops");
    assertThatThrownBy(() -> scheduler.createScheduleGroup(b -> b.name("ops")))
        .isInstanceOf(ConflictException.class);
    assertThat(scheduler.getScheduleGroup(b -> b.name("ops")).state().toString())
        .isEqualTo("ACTIVE");
    assertThat(scheduler.getScheduleGroup(b -> b.name("default")).arn())
        .endsWith("schedule-group/default");
    assertThat(scheduler.listScheduleGroups(b -> b.namePrefix("o")).scheduleGroups())
        .extracting(g -> g.name())
        .containsExactly("ops");

    scheduler.tagResource(
        b -> b.resourceArn(groupArn).tags(Tag.builder().key("tier").value("1").build()));
    assertThat(scheduler.listTagsForResource(b -> b.resourceArn(groupArn)).tags())
        .extracting(Tag::key)
        .containsExactlyInAnyOrder("team", "tier");
    scheduler.untagResource(b -> b.resourceArn(groupArn).tagKeys("team"));
    assertThat(scheduler.listTagsForResource(b -> b.resourceArn(groupArn)).tags())
        .extracting(Tag::key)
        .containsExactly("tier");

    scheduler.createSchedule(valid("in-ops").groupName("ops").build());
    assertThat(scheduler.listSchedules(b -> b.groupName("ops")).schedules()).hasSize(1);
    assertThatThrownBy(() -> scheduler.getSchedule(b -> b.name("in-ops")))
        .as("the default group has no schedule of that name")
        .isInstanceOf(ResourceNotFoundException.class);
    assertThat(scheduler.getSchedule(b -> b.name("in-ops").groupName("ops")).groupName())
        .isEqualTo("ops");

    scheduler.deleteScheduleGroup(b -> b.name("ops"));
    assertThatThrownBy(() -> scheduler.getScheduleGroup(b -> b.name("ops")))
        .isInstanceOf(ResourceNotFoundException.class)
        .hasMessageContaining("Schedule group ops does not exist.");
    assertThat(scheduler.listSchedules(b -> b.namePrefix("in-ops")).schedules())
        .as("a group's schedules go with it")
        .isEmpty();
    assertThatThrownBy(() -> scheduler.deleteScheduleGroup(b -> b.name("default")))
        .isInstanceOf(ValidationException.class)
        .hasMessageContaining("The default schedule group cannot be deleted.");
    assertThatThrownBy(() -> scheduler.createSchedule(valid("orphan").groupName("nope").build()))
        .isInstanceOf(ResourceNotFoundException.class)
        .hasMessageContaining("Schedule group nope does not exist.");
  }

  @Test
  void aKeyWithPoliciesIsJudgedBySchedulersActionsAndResources() {
    String readOnly =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
            + "[\"scheduler:GetSchedule\",\"scheduler:ListSchedules\"],\"Resource\":\"*\"}]}";
    dev.kiln.api.auth.AccessKeys.Key key =
        dev.kiln.api.auth.AccessKeys.open(kiln.fixture().dataDir)
            .add(
                dev.kiln.api.auth.AccessKeys.Role.POLICY,
                "reader",
                List.of(),
                java.util.Map.of("read", readOnly));
    scheduler.createSchedule(valid("watched").build());
    try (SchedulerClient reader =
        SchedulerClient.builder()
            .endpointOverride(kiln.fixture().server.endpoint())
            .region(Region.US_EAST_1)
            .credentialsProvider(
                StaticCredentialsProvider.create(
                    software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(
                        key.accessKeyId(), key.secretAccessKey())))
            .build()) {
      assertThat(reader.getSchedule(b -> b.name("watched")).name()).isEqualTo("watched");
      assertThat(reader.listSchedules(b -> b.namePrefix("watched")).schedules()).hasSize(1);
      assertThatThrownBy(() -> reader.createSchedule(valid("not-allowed").build()))
          .isInstanceOfSatisfying(
              software.amazon.awssdk.services.scheduler.model.SchedulerException.class,
              e -> {
                assertThat(e.statusCode()).isEqualTo(403);
                assertThat(e.awsErrorDetails().errorCode()).isEqualTo("AccessDeniedException");
                assertThat(e.getMessage())
                    .contains(
                        "is not authorized to perform: scheduler:CreateSchedule on resource:"
                            + " arn:aws:scheduler:us-east-1:000000000000:schedule/default/not-allowed");
              });
      assertThatThrownBy(() -> reader.deleteSchedule(b -> b.name("watched")))
          .isInstanceOf(software.amazon.awssdk.services.scheduler.model.SchedulerException.class)
          .hasMessageContaining("scheduler:DeleteSchedule");
    }
    assertThatThrownBy(() -> scheduler.getSchedule(b -> b.name("not-allowed")))
        .isInstanceOf(ResourceNotFoundException.class);
    scheduler.deleteSchedule(b -> b.name("watched"));
  }

  @Test
  void theGateRefusesInSchedulersShape() throws Exception {
    var unsigned =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(kiln.fixture().server.endpoint() + "/schedules"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(unsigned.statusCode()).isEqualTo(403);
    assertThat(unsigned.headers().firstValue("x-amzn-ErrorType")).isPresent();
    assertThat(JSON.readTree(unsigned.body()).get("Message").asText()).isNotBlank();
    try (SchedulerClient wrong =
        SchedulerClient.builder()
            .endpointOverride(kiln.fixture().server.endpoint())
            .region(Region.US_EAST_1)
            .credentialsProvider(
                StaticCredentialsProvider.create(
                    software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(
                        KilnFixture.credentials(kiln.fixture().dataDir).accessKeyId(),
                        "not-the-secret")))
            .build()) {
      assertThatThrownBy(() -> wrong.listSchedules(b -> {}))
          .isInstanceOfSatisfying(
              software.amazon.awssdk.services.scheduler.model.SchedulerException.class,
              e -> {
                assertThat(e.statusCode()).isEqualTo(403);
                assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidSignatureException");
                assertThat(e.awsErrorDetails().errorMessage()).contains("signature");
              });
    }
  }

  /** A refused create: the message, and that no schedule of that name exists afterwards. */
  private static void refused(
      String name, Consumer<CreateScheduleRequest.Builder> change, String message) {
    CreateScheduleRequest.Builder b = valid(name);
    change.accept(b);
    assertThatThrownBy(() -> scheduler.createSchedule(b.build()))
        .isInstanceOf(ValidationException.class)
        .hasMessageContaining(message);
    assertThatThrownBy(() -> scheduler.getSchedule(g -> g.name(name)))
        .as("nothing was stored")
        .isInstanceOf(ResourceNotFoundException.class);
  }

  @Test
  void badInputIsRefusedWithScheduleresMessages_andNothingIsStored() {
    for (String bad :
        List.of(
            "cron(0 9 * * *)",
            "cron(0 9 5 * MON *)",
            "cron(61 * * * ? *)",
            "rate(5 minute)",
            "rate(1 minutes)",
            "rate(0 minutes)",
            "rate(1 second)",
            "at(2026-02-30T10:00:00)",
            "at(2030-01-01 10:00:00)",
            "every day")) {
      refused(
          "bad-expression",
          b -> b.scheduleExpression(bad),
          "Invalid Schedule Expression " + bad + ".");
    }
    refused(
        "bad-zone",
        b -> b.scheduleExpressionTimezone("Mars/Olympus_Mons"),
        "Invalid Schedule Expression Timezone Mars/Olympus_Mons.");
    refused(
        "bad-dates",
        b ->
            b.startDate(Instant.parse("2031-01-02T00:00:00Z"))
                .endDate(Instant.parse("2031-01-01T00:00:00Z")),
        "The EndDate must be after the StartDate.");
    refused(
        "bad-target",
        b -> b.target(t -> t.arn("arn:aws:sqs:us-east-1:000000000000:queue").roleArn(ROLE)),
        "Invalid Target Arn arn:aws:sqs:us-east-1:000000000000:queue: Kiln delivers to Lambda"
            + " functions only");
    refused(
        "other-account",
        b -> b.target(t -> t.arn("arn:aws:lambda:us-east-1:111111111111:function:f").roleArn(ROLE)),
        "Invalid Target Arn arn:aws:lambda:us-east-1:111111111111:function:f");
    refused(
        "bad-role",
        b -> b.target(t -> t.arn(FUNCTION_ARN).roleArn("not-a-role")),
        "Value 'not-a-role' at 'target.roleArn' failed to satisfy constraint: Member must satisfy"
            + " regular expression pattern");
    refused(
        "bad-retry",
        b ->
            b.target(
                t ->
                    t.arn(FUNCTION_ARN)
                        .roleArn(ROLE)
                        .retryPolicy(r -> r.maximumEventAgeInSeconds(10))),
        "Value '10' at 'target.retryPolicy.maximumEventAgeInSeconds' failed to satisfy constraint:"
            + " Member must have value greater than or equal to 60");
    refused(
        "bad-window",
        b -> b.flexibleTimeWindow(w -> w.mode(FlexibleTimeWindowMode.FLEXIBLE)),
        "MaximumWindowInMinutes must be provided when the FlexibleTimeWindow's Mode is FLEXIBLE.");
    refused(
        "bad-input",
        b -> b.target(t -> t.arn(FUNCTION_ARN).roleArn(ROLE).input("{not json")),
        "Target Input must be well-formed JSON");
    assertThatThrownBy(() -> scheduler.createSchedule(valid("bad name!").build()))
        .isInstanceOf(ValidationException.class)
        .hasMessageContaining("at 'name' failed to satisfy constraint");

    // an update with a bad expression leaves the schedule as it was
    scheduler.createSchedule(valid("kept").build());
    assertThatThrownBy(
            () ->
                scheduler.updateSchedule(
                    b ->
                        b.name("kept")
                            .scheduleExpression("cron(nope)")
                            .flexibleTimeWindow(w -> w.mode(FlexibleTimeWindowMode.OFF))
                            .target(t -> t.arn(FUNCTION_ARN).roleArn(ROLE))))
        .isInstanceOf(ValidationException.class)
        .hasMessageContaining("Invalid Schedule Expression cron(nope).");
    assertThat(scheduler.getSchedule(b -> b.name("kept")).scheduleExpression())
        .isEqualTo("rate(5 minutes)");
    scheduler.deleteSchedule(b -> b.name("kept"));
  }

  @Test
  void anAtScheduleInvokesItsFunctionOnce_throughTheCli() throws Exception {
    Path dir = Files.createTempDirectory("kiln-sched-cli-");
    // at() takes whole seconds on the zone's wall clock: a few seconds from now, in UTC
    String at =
        Instant.now()
            .plusSeconds(5)
            .truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
            .toString()
            .replace("Z", "");
    JsonNode created =
        JSON.readTree(
            aws(
                    dir,
                    "scheduler",
                    "create-schedule",
                    "--name",
                    "cli-once",
                    "--schedule-expression",
                    "at(" + at + ")",
                    "--flexible-time-window",
                    "Mode=OFF",
                    "--target",
                    "{\"Arn\":\""
                        + FUNCTION_ARN
                        + "\",\"RoleArn\":\""
                        + ROLE
                        + "\",\"Input\":\"{\\\"from\\\":\\\"cli\\\"}\"}")
                .output());
    assertThat(created.get("ScheduleArn").asText()).endsWith("schedule/default/cli-once");
    JsonNode got =
        JSON.readTree(aws(dir, "scheduler", "get-schedule", "--name", "cli-once").output());
    assertThat(got.get("ScheduleExpression").asText()).isEqualTo("at(" + at + ")");

    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                Deliveries.read(kiln.fixture().logsClient(), "sched-fn", "SCHEDULED").stream()
                    .anyMatch(e -> e.path("from").asText().equals("cli")));
    assertThat(
            Deliveries.read(kiln.fixture().logsClient(), "sched-fn", "SCHEDULED").stream()
                .filter(e -> e.path("from").asText().equals("cli")))
        .hasSize(1);
    // a one-time schedule with ActionAfterCompletion NONE (Debian 12's CLI predates the member)
    // stays, and fires no more
    aws(dir, "scheduler", "delete-schedule", "--name", "cli-once");

    // the CLI shows Scheduler's error for a bad expression
    Tools.Result bad =
        Tools.aws(
            kiln.fixture(),
            dir,
            "scheduler",
            "create-schedule",
            "--name",
            "cli-bad",
            "--schedule-expression",
            "rate(5 minute)",
            "--flexible-time-window",
            "Mode=OFF",
            "--target",
            "Arn=" + FUNCTION_ARN + ",RoleArn=" + ROLE);
    assertThat(bad.exit()).isNotZero();
    assertThat(bad.output())
        .contains(
            "An error occurred (ValidationException) when calling the CreateSchedule operation:"
                + " Invalid Schedule Expression rate(5 minute).");
  }
}
