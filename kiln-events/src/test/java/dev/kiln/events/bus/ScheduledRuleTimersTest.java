package dev.kiln.events.bus;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.events.schedule.ScheduleRunner;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * EventBridge's scheduled rules fired by the schedule engine: AWS's Scheduled Event at each due
 * time (a rate from the rule's creation, a cron in UTC), one deduplication key per due time and
 * target, and after a restart the latest time missed while down, once.
 */
class ScheduledRuleTimersTest {

  private final BusFixture kiln = new BusFixture(); // the clock starts at 2026-03-01T09:30:00.250Z

  /** The rules' creation time, in the timer's id. */
  private static final long CREATED = BusFixture.T0.toEpochMilli();

  private String scheduledRule(String name, String expression) {
    String arn =
        kiln.buses.putRule(
            new EventBuses.RuleRequest(
                name,
                Optional.empty(),
                Optional.empty(),
                Optional.of(expression),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Map.of()));
    kiln.function("f", arn);
    kiln.buses.putTargets(name, Optional.empty(), List.of(BusFixture.target("t1", "f")));
    return arn;
  }

  private ScheduleRunner engine() {
    return new ScheduleRunner(
        List.of(new ScheduledRuleTimers(kiln.router, kiln.time)), kiln.time, kiln.time);
  }

  @Test
  void aRateRule_firesAScheduledEvent_atEachMultipleOfItsRate_once() throws Exception {
    String arn = scheduledRule("every-5", "rate(5 minutes)");
    engine();
    kiln.time.advance(Duration.ofMinutes(4)); // 09:34:00.250: nothing due yet
    assertThat(kiln.queued()).isEmpty();
    kiln.time.advance(Duration.ofMinutes(1)); // 09:35:00.250, five minutes after its creation
    kiln.time.advance(Duration.ofMinutes(5)); // and 09:40:00.250
    List<JsonNode> events = kiln.queued();
    assertThat(events)
        .extracting(e -> e.get("time").asText())
        .containsExactly("2026-03-01T09:35:00Z", "2026-03-01T09:40:00Z");
    assertThat(events.get(0).get("detail-type").asText()).isEqualTo("Scheduled Event");
    assertThat(events.get(0).get("resources").get(0).asText()).isEqualTo(arn);
    assertThat(kiln.keys)
        .containsExactly(
            Optional.of(arn + "#rate(5 minutes)#" + CREATED + "@2026-03-01T09:35:00.250Z/t1"),
            Optional.of(arn + "#rate(5 minutes)#" + CREATED + "@2026-03-01T09:40:00.250Z/t1"));
  }

  @Test
  void aCronRule_firesInUtc() throws Exception {
    scheduledRule("quarter-to", "cron(45 9 * * ? *)");
    engine();
    kiln.time.advance(Duration.ofMinutes(16));
    assertThat(kiln.queued())
        .extracting(e -> e.get("time").asText())
        .containsExactly("2026-03-01T09:45:00Z");
  }

  @Test
  void afterARestart_theLatestMissedTimeFiresOnce_underTheKeyItHadBefore() throws Exception {
    String arn = scheduledRule("every-5", "rate(5 minutes)");
    // the first run's engine ticks on a scheduler of its own, which stops when Kiln stops
    dev.kiln.testing.ManualTime firstRunTicks = new dev.kiln.testing.ManualTime(BusFixture.T0);
    new ScheduleRunner(
        List.of(new ScheduledRuleTimers(kiln.router, kiln.time)), firstRunTicks, kiln.time);
    kiln.time.advance(Duration.ofMinutes(5)); // 09:35:00.250
    firstRunTicks.advance(Duration.ofSeconds(1)); // its first look: nothing due yet
    firstRunTicks.advance(Duration.ofSeconds(1)); // fires 09:35
    assertThat(kiln.keys)
        .containsExactly(
            Optional.of(arn + "#rate(5 minutes)#" + CREATED + "@2026-03-01T09:35:00.250Z/t1"));
    // Kiln is down from here: 09:40 and 09:45 go by with no engine looking
    kiln.time.advance(Duration.ofMinutes(12));
    kiln.keys.clear();
    engine(); // the next start
    kiln.time.advance(Duration.ofSeconds(1));
    kiln.time.advance(Duration.ofSeconds(1));
    assertThat(kiln.keys)
        .as("only the latest missed time, once")
        .containsExactly(
            Optional.of(arn + "#rate(5 minutes)#" + CREATED + "@2026-03-01T09:45:00.250Z/t1"));
  }

  @Test
  void aRuleNeverFiresForATimeBeforeItExisted() throws Exception {
    engine();
    kiln.time.advance(Duration.ofSeconds(2));
    // 09:30:02.250: its cron's latest time, 09:30:00, is before it existed
    scheduledRule("half-past", "cron(30 9 * * ? *)");
    kiln.time.advance(Duration.ofSeconds(20));
    assertThat(kiln.queued()).isEmpty();
    kiln.time.advance(Duration.ofDays(1));
    assertThat(kiln.queued())
        .extracting(e -> e.get("time").asText())
        .containsExactly("2026-03-02T09:30:00Z");
  }
}
