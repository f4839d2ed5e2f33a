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
 * once a minute for three minutes: each due time exactly once, a minute after the one before, the
 * first a minute after the schedule was made, and the schedule's meters in {@code /metrics}. The
 * one slow Scheduler test (about three and a half minutes), in a class of its own.
 */
class SchedulerRateIT {

  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();

  @Test
  void aRateOfOneMinuteFiresOnEachMinute() throws Exception {
    kiln.fixture().python("every-minute-fn", SchedulerIT.RECORDER);
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
        .until(() -> got().size() >= 3);
    List<JsonNode> got = got();
    List<Instant> due = got.stream().map(e -> Instant.parse(e.get("due").asText())).toList();
    assertThat(due.get(0)).isEqualTo(created.plusSeconds(60));
    assertThat(due.get(1)).isEqualTo(due.get(0).plusSeconds(60));
    assertThat(due.get(2)).isEqualTo(due.get(1).plusSeconds(60));
    assertThat(got.stream().map(e -> e.get("execution").asText()).distinct())
        .as("one execution per due time")
        .hasSize(got.size());
    assertThat(due).as("no due time twice").doesNotHaveDuplicates();
    String metrics = MetricsIT.scrape(kiln.fixture());
    assertThat(metrics)
        .containsPattern(
            "kiln_router_events_total\\{[^}]*kind=\"schedule\"[^}]*name=\"default/every-minute\""
                + "[^}]*outcome=\"delivered\"[^}]*} [3-9]")
        .contains(
            "kiln_router_delivery_delay_seconds_count{kind=\"schedule\",name=\"default/every-minute\"");
  }

  private static List<JsonNode> got() {
    return Deliveries.read(kiln.fixture().logsClient(), "every-minute-fn", "SCHEDULED");
  }
}
