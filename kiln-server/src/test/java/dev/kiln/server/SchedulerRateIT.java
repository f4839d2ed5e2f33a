package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.services.scheduler.SchedulerClient;
import software.amazon.awssdk.services.scheduler.model.FlexibleTimeWindowMode;

/**
 * A {@code rate(1 minute)} schedule on a real server, on the real clock, invoking a Python function
 * once a minute for two minutes: each due time exactly once, a minute after the one before, the
 * first a minute after the schedule was made, and the schedule's meters in {@code /metrics}; beside
 * it, on the same engine and in the same minutes, an EventBridge rule with {@code rate(1 minute)}
 * sending AWS's Scheduled Event to a function of its own. The one slow Scheduler test (about two
 * and a half minutes), in a class of its own.
 */
class SchedulerRateIT {

  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();

  @Test
  void aRateOfOneMinuteFiresOnEachMinute_forASchedule_andForAScheduledRule() throws Exception {
    kiln.fixture().python("every-minute-fn", SchedulerIT.RECORDER);
    kiln.fixture().python("every-minute-rule-fn", SchedulerIT.RECORDER);
    String ruleArn;
    try (var events =
        software.amazon.awssdk.services.eventbridge.EventBridgeClient.builder()
            .endpointOverride(kiln.fixture().server.endpoint())
            .region(software.amazon.awssdk.regions.Region.US_EAST_1)
            .credentialsProvider(
                software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                    kiln.fixture().credentials()))
            .build()) {
      ruleArn =
          events
              .putRule(b -> b.name("every-minute-rule").scheduleExpression("rate(1 minute)"))
              .ruleArn();
      String arn = ruleArn;
      kiln.lambda()
          .addPermission(
              b ->
                  b.functionName("every-minute-rule-fn")
                      .statementId("rule")
                      .action("lambda:InvokeFunction")
                      .principal("events.amazonaws.com")
                      .sourceArn(arn));
      events.putTargets(
          b ->
              b.rule("every-minute-rule")
                  .targets(
                      t ->
                          t.id("fn")
                              .arn(
                                  "arn:aws:lambda:us-east-1:000000000000:function:every-minute-rule-fn")));
    }
    Instant created;
    try (SchedulerClient scheduler = SchedulerIT.schedulerClient(kiln.fixture())) {
      scheduler.createSchedule(
          b ->
              b.name("every-minute")
                  .scheduleExpression("rate(1 minute)")
                  .flexibleTimeWindow(w -> w.mode(FlexibleTimeWindowMode.OFF))
                  .target(
                      t ->
                          t.arn("arn:aws:lambda:us-east-1:000000000000:function:every-minute-fn")
                              .roleArn(SchedulerIT.ROLE)
                              .input(
                                  "{\"due\":\"<aws.scheduler.scheduled-time>\","
                                      + "\"execution\":\"<aws.scheduler.execution-id>\"}")));
      created = scheduler.getSchedule(b -> b.name("every-minute")).creationDate();
    }
    Awaitility.await()
        .atMost(Duration.ofMinutes(5))
        .pollInterval(Duration.ofSeconds(5))
        .until(() -> got().size() >= 2 && gotByRule().size() >= 2);
    List<JsonNode> got = got();
    List<Instant> due = got.stream().map(e -> Instant.parse(e.get("due").asText())).toList();
    assertThat(due.get(0)).isEqualTo(created.plusSeconds(60));
    assertThat(due.get(1)).isEqualTo(due.get(0).plusSeconds(60));
    assertThat(got.stream().map(e -> e.get("execution").asText()).distinct())
        .as("one execution per due time")
        .hasSize(got.size());
    assertThat(due).as("no due time twice").doesNotHaveDuplicates();
    List<JsonNode> byRule = gotByRule();
    for (JsonNode e : byRule) {
      assertThat(e.get("source").asText()).isEqualTo("aws.events");
      assertThat(e.get("detail-type").asText()).isEqualTo("Scheduled Event");
      assertThat(e.get("resources").get(0).asText()).isEqualTo(ruleArn);
      assertThat(e.get("detail").size()).isZero();
    }
    List<Instant> ruleTimes =
        byRule.stream().map(e -> Instant.parse(e.get("time").asText())).toList();
    assertThat(ruleTimes).as("each minute once").doesNotHaveDuplicates();
    assertThat(Duration.between(ruleTimes.get(0), ruleTimes.get(1)))
        .isEqualTo(Duration.ofMinutes(1));
    String metrics = MetricsIT.scrape(kiln.fixture());
    assertThat(metrics)
        .containsPattern(
            "kiln_router_events_total\\{[^}]*kind=\"schedule\"[^}]*name=\"default/every-minute\""
                + "[^}]*outcome=\"delivered\"[^}]*} [2-9]")
        .contains(
            "kiln_router_delivery_delay_seconds_count{kind=\"schedule\",name=\"default/every-minute\"");
  }

  private static List<JsonNode> gotByRule() {
    return Deliveries.read(kiln.fixture().logsClient(), "every-minute-rule-fn", "SCHEDULED");
  }

  private static List<JsonNode> got() {
    return Deliveries.read(kiln.fixture().logsClient(), "every-minute-fn", "SCHEDULED");
  }
}
