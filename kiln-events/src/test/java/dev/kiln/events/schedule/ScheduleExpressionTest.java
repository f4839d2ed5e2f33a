package dev.kiln.events.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.events.schedule.ScheduleExpression.InvalidScheduleExpression;
import dev.kiln.events.schedule.ScheduleExpression.InvalidTimeZone;
import dev.kiln.events.schedule.ScheduleExpression.Kinds;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScheduleExpressionTest {

  private static final Instant ANCHOR = Instant.parse("2026-01-01T00:00:00Z");

  private static List<Instant> next(String expression, String zone, String from, int count) {
    ScheduleExpression e = ScheduleExpression.parse(expression, ZoneId.of(zone), Kinds.ALL);
    List<Instant> out = new ArrayList<>();
    Instant t = Instant.parse(from);
    for (int i = 0; i < count; i++) {
      t = e.nextAfter(t, ANCHOR).orElseThrow();
      out.add(t);
    }
    return out;
  }

  private static List<Instant> instants(String... texts) {
    return java.util.Arrays.stream(texts).map(Instant::parse).toList();
  }

  @Test
  void lastWeekdayOfTheMonth() {
    assertThat(next("cron(0 9 LW * ? *)", "UTC", "2026-01-01T00:00:00Z", 4))
        .isEqualTo(
            instants(
                "2026-01-30T09:00:00Z", // the 31st is a Saturday
                "2026-02-27T09:00:00Z",
                "2026-03-31T09:00:00Z",
                "2026-04-30T09:00:00Z"));
  }

  @Test
  void thirdFriday() {
    assertThat(next("cron(0 12 ? * 6#3 *)", "UTC", "2026-01-01T00:00:00Z", 3))
        .isEqualTo(
            instants("2026-01-16T12:00:00Z", "2026-02-20T12:00:00Z", "2026-03-20T12:00:00Z"));
  }

  @Test
  void lastDayOfTheMonth() {
    assertThat(next("cron(0 10 L * ? *)", "UTC", "2026-01-01T00:00:00Z", 3))
        .isEqualTo(
            instants("2026-01-31T10:00:00Z", "2026-02-28T10:00:00Z", "2026-03-31T10:00:00Z"));
  }

  @Test
  void namesOfDaysAndMonths() {
    assertThat(next("cron(0 18 ? * MON-FRI *)", "UTC", "2026-01-01T00:00:00Z", 3))
        .isEqualTo(
            instants("2026-01-01T18:00:00Z", "2026-01-02T18:00:00Z", "2026-01-05T18:00:00Z"));
    assertThat(next("cron(0/15 * * JAN ? 2027)", "UTC", "2026-06-01T00:00:00Z", 2))
        .isEqualTo(instants("2027-01-01T00:00:00Z", "2027-01-01T00:15:00Z"));
  }

  @Test
  void springForwardSkipsTheTimeThatDoesNotExist() {
    // 2026-03-08: New York's clocks go from 02:00 to 03:00, so 02:00 never happens that day
    assertThat(next("cron(0 2 * * ? *)", "America/New_York", "2026-03-06T00:00:00Z", 4))
        .isEqualTo(
            instants(
                "2026-03-06T07:00:00Z",
                "2026-03-07T07:00:00Z",
                "2026-03-09T06:00:00Z",
                "2026-03-10T06:00:00Z"));
  }

  @Test
  void fallBackFiresTheRepeatedTimeOnce() {
    // 2026-11-01: 01:00-02:00 happens twice in New York; 01:30 fires once, at its first occurrence
    assertThat(next("cron(30 1 * * ? *)", "America/New_York", "2026-10-31T00:00:00Z", 3))
        .isEqualTo(
            instants("2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"));
    // and 02:00 keeps its wall-clock time across the change
    assertThat(next("cron(0 2 * * ? *)", "America/New_York", "2026-10-31T00:00:00Z", 2))
        .isEqualTo(instants("2026-10-31T06:00:00Z", "2026-11-01T07:00:00Z"));
  }

  @Test
  void rateCountsFromItsAnchor() {
    ScheduleExpression e = ScheduleExpression.parse("rate(5 minutes)", ZoneOffset.UTC, Kinds.ALL);
    Instant anchor = Instant.parse("2026-01-01T00:00:30Z");
    assertThat(e.nextAfter(Instant.parse("2025-12-31T00:00:00Z"), anchor)).contains(anchor);
    assertThat(e.nextAfter(anchor, anchor)).contains(anchor.plus(Duration.ofMinutes(5)));
    assertThat(e.nextAfter(Instant.parse("2026-01-01T00:12:00Z"), anchor))
        .contains(Instant.parse("2026-01-01T00:15:30Z"));
    assertThat(e.latestAtOrBefore(Instant.parse("2026-01-01T00:12:00Z"), anchor))
        .contains(Instant.parse("2026-01-01T00:10:30Z"));
    assertThat(ScheduleExpression.parse("rate(1 day)", ZoneOffset.UTC, Kinds.ALL))
        .isEqualTo(new ScheduleExpression.Rate("rate(1 day)", ZoneOffset.UTC, Duration.ofDays(1)));
    assertThat(ScheduleExpression.parse("rate(2 hours)", ZoneOffset.UTC, Kinds.RECURRING))
        .isInstanceOf(ScheduleExpression.Rate.class);
  }

  @Test
  void atIsOneTimeOnTheZonesWallClock() {
    ScheduleExpression e =
        ScheduleExpression.parse("at(2026-07-04T09:30:00)", ZoneId.of("Europe/Paris"), Kinds.ALL);
    assertThat(e.oneTime()).isTrue();
    Instant at = Instant.parse("2026-07-04T07:30:00Z");
    assertThat(e.nextAfter(ANCHOR, ANCHOR)).contains(at);
    assertThat(e.nextAfter(at, ANCHOR)).isEmpty();
    assertThat(e.latestAtOrBefore(at, ANCHOR)).contains(at);
    assertThat(e.latestAtOrBefore(at.minusMillis(1), ANCHOR)).isEmpty();
  }

  @Test
  void latestCronTimeAtOrBefore() {
    ScheduleExpression e = ScheduleExpression.parse("cron(0 * * * ? *)", ZoneOffset.UTC, Kinds.ALL);
    assertThat(e.latestAtOrBefore(Instant.parse("2026-01-01T05:00:00Z"), ANCHOR))
        .contains(Instant.parse("2026-01-01T05:00:00Z"));
    assertThat(e.latestAtOrBefore(Instant.parse("2026-01-01T05:59:59Z"), ANCHOR))
        .contains(Instant.parse("2026-01-01T05:00:00Z"));
  }

  @Test
  void rulesRefuseAt() {
    assertThatThrownBy(
            () ->
                ScheduleExpression.parse(
                    "at(2026-07-04T09:30:00)", ZoneOffset.UTC, Kinds.RECURRING))
        .isInstanceOf(InvalidScheduleExpression.class)
        .hasMessageContaining("not a recurring");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "every 5 minutes",
        "rate(5 minute)",
        "rate(1 minutes)",
        "rate(0 minutes)",
        "rate(5 seconds)",
        "rate(-1 hours)",
        "rate(five minutes)",
        "cron(0 9 * * *)",
        "cron(0 9 * * ? * *)",
        "cron(0 9 5 * MON *)", // a day of the month and a day of the week
        "cron(0 9 * * * *)",
        "cron(61 9 * * ? *)",
        "cron(0 25 * * ? *)",
        "cron(0 9 ? * 8 *)",
        "cron(0 9 ? FOO * *)",
        "cron()",
        "at(2026-02-30T10:00:00)",
        "at(2026-02-01 10:00:00)",
        "at(2026-02-01T10:00)",
        "at()",
        "AT(2026-02-01T10:00:00)"
      })
  void refuses(String expression) {
    assertThatThrownBy(() -> ScheduleExpression.parse(expression, ZoneOffset.UTC, Kinds.ALL))
        .isInstanceOf(InvalidScheduleExpression.class);
  }

  @Test
  void timeZonesAreIanaNames() {
    assertThat(ScheduleExpression.zone("America/New_York"))
        .isEqualTo(ZoneId.of("America/New_York"));
    assertThat(ScheduleExpression.zone("UTC")).isEqualTo(ZoneId.of("UTC"));
    for (String bad : new String[] {"Mars/Olympus", "+02:00", "america/new_york", ""}) {
      assertThatThrownBy(() -> ScheduleExpression.zone(bad)).isInstanceOf(InvalidTimeZone.class);
    }
  }
}
