package dev.kiln.events.schedule;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A schedule expression as EventBridge Scheduler and EventBridge rules write it, and the instants
 * it names:
 *
 * <ul>
 *   <li>{@code at(yyyy-mm-ddThh:mm:ss)}: one time, on the wall clock of the schedule's time zone
 *       (Scheduler only; rules refuse it);
 *   <li>{@code rate(value unit)}: every {@code value} minutes, hours or days ({@code minute},
 *       {@code hour}, {@code day} for a value of 1, the plural above it, as AWS requires), counted
 *       from an anchor the owner gives (a schedule's StartDate or creation, a rule's creation);
 *   <li>{@code cron(minutes hours day-of-month month day-of-week year)}: AWS's six fields, with
 *       {@code ? L W # LW}, ranges, lists, steps and the names {@code JAN-DEC}, {@code SUN-SAT};
 *       one of day-of-month and day-of-week must be {@code ?}. Days of the week count 1 (SUN) to 7
 *       (SAT), as Quartz's do.
 * </ul>
 *
 * <p>cron() is read by cron-utils with its QUARTZ definition, which is AWS's syntax with a seconds
 * field in front ({@code "0 " + the six fields}). cron-utils was chosen over Quartz's own {@code
 * CronExpression} because it computes on {@code java.time} ({@link ZonedDateTime}), so daylight
 * saving follows the JDK's zone rules as Scheduler's documentation describes it: a wall-clock time
 * that does not exist on the spring-forward day is skipped, and one that exists twice on the
 * fall-back day fires once (at its first occurrence); both libraries agree on {@code L}, {@code W},
 * {@code LW}, {@code #} and on refusing a day-of-month and a day-of-week given together. One
 * difference from AWS: cron-utils's years end at 2099 (AWS's at 2199).
 *
 * <p>The parser is independent of Scheduler's API: it throws {@link InvalidScheduleExpression} with
 * a detail, and each API words its own error around it (Scheduler's {@code Invalid Schedule
 * Expression ...}, EventBridge's {@code Parameter ScheduleExpression is not valid.}); {@link
 * Kinds#RECURRING} refuses {@code at()} for rules. Instances are immutable and thread-safe.
 */
public sealed interface ScheduleExpression {

  /** Which expressions a caller accepts. */
  enum Kinds {
    /** at(), rate() and cron(): Scheduler's schedules. */
    ALL,
    /** rate() and cron() only: EventBridge rules. */
    RECURRING
  }

  /** The expression as written. */
  String text();

  /** The time zone its wall-clock times are in. */
  ZoneId zone();

  /**
   * The first instant the expression names strictly after {@code after}; empty when there is none
   * (an {@code at()} in the past, a cron whose years are over).
   *
   * @param rateAnchor where a rate's intervals are counted from (ignored by at() and cron())
   */
  Optional<Instant> nextAfter(Instant after, Instant rateAnchor);

  /** The last instant the expression names at or before {@code atOrBefore}, if any. */
  Optional<Instant> latestAtOrBefore(Instant atOrBefore, Instant rateAnchor);

  /** Whether this is a one-time {@code at()}. */
  default boolean oneTime() {
    return this instanceof At;
  }

  /** An expression refused; {@link #getMessage} is the detail, for logs and Kiln's own tests. */
  final class InvalidScheduleExpression extends IllegalArgumentException {
    private final String expression;

    InvalidScheduleExpression(String expression, String detail) {
      super(detail);
      this.expression = expression;
    }

    public String expression() {
      return expression;
    }
  }

  /** A time zone refused: not an IANA zone name. */
  final class InvalidTimeZone extends IllegalArgumentException {
    InvalidTimeZone(String zone) {
      super("unknown time zone " + zone);
    }
  }

  /**
   * The IANA time zone named {@code name} ({@code America/New_York}, {@code UTC}).
   *
   * @throws InvalidTimeZone for any other text (offsets such as {@code +02:00} too: AWS takes
   *     names)
   */
  static ZoneId zone(String name) {
    if (name == null || !ZoneId.getAvailableZoneIds().contains(name)) {
      throw new InvalidTimeZone(String.valueOf(name));
    }
    return ZoneId.of(name);
  }

  /**
   * Parses {@code text}, whose wall-clock times are in {@code zone}.
   *
   * @throws InvalidScheduleExpression when it is none of the kinds {@code allowed}
   */
  static ScheduleExpression parse(String text, ZoneId zone, Kinds allowed) {
    if (text == null) {
      throw new InvalidScheduleExpression("null", "no expression");
    }
    Matcher m = FORM.matcher(text);
    if (!m.matches()) {
      throw new InvalidScheduleExpression(text, "not at(...), rate(...) or cron(...)");
    }
    String body = m.group(2);
    return switch (m.group(1)) {
      case "at" -> {
        if (allowed != Kinds.ALL) {
          throw new InvalidScheduleExpression(text, "at() is not a recurring expression");
        }
        yield At.parse(text, body, zone);
      }
      case "rate" -> Rate.parse(text, body, zone);
      default -> Cron.parse(text, body, zone);
    };
  }

  Pattern FORM = Pattern.compile("(at|rate|cron)\\((.*)\\)", Pattern.DOTALL);

  /** One time, {@code at} on the zone's wall clock. */
  record At(String text, ZoneId zone, LocalDateTime at) implements ScheduleExpression {

    private static final Pattern DATE_TIME =
        Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}");

    static At parse(String text, String body, ZoneId zone) {
      if (!DATE_TIME.matcher(body).matches()) {
        throw new InvalidScheduleExpression(text, "at() takes yyyy-mm-ddThh:mm:ss");
      }
      try {
        return new At(text, zone, LocalDateTime.parse(body));
      } catch (DateTimeParseException e) {
        throw new InvalidScheduleExpression(text, "no such date and time: " + body);
      }
    }

    /** The instant it names (a wall-clock time in a spring-forward gap moves on by the gap). */
    public Instant instant() {
      return ZonedDateTime.of(at, zone).toInstant();
    }

    @Override
    public Optional<Instant> nextAfter(Instant after, Instant rateAnchor) {
      return Optional.of(instant()).filter(i -> i.isAfter(after));
    }

    @Override
    public Optional<Instant> latestAtOrBefore(Instant atOrBefore, Instant rateAnchor) {
      return Optional.of(instant()).filter(i -> !i.isAfter(atOrBefore));
    }
  }

  /** Every {@code period}, counted from an anchor. */
  record Rate(String text, ZoneId zone, Duration period) implements ScheduleExpression {

    private static final Pattern RATE =
        Pattern.compile("(\\d{1,9}) (minute|minutes|hour|hours|day|days)");

    static Rate parse(String text, String body, ZoneId zone) {
      Matcher m = RATE.matcher(body);
      if (!m.matches()) {
        throw new InvalidScheduleExpression(
            text, "rate() takes a whole number and minute(s), hour(s) or day(s)");
      }
      long value = Long.parseLong(m.group(1));
      String unit = m.group(2);
      if (value < 1) {
        throw new InvalidScheduleExpression(text, "a rate's value must be at least 1");
      }
      boolean plural = unit.endsWith("s");
      if (value == 1 && plural || value > 1 && !plural) {
        throw new InvalidScheduleExpression(
            text, "the unit must be singular for a value of 1 and plural above it");
      }
      Duration one =
          switch (unit.replaceAll("s$", "")) {
            case "minute" -> Duration.ofMinutes(1);
            case "hour" -> Duration.ofHours(1);
            default -> Duration.ofDays(1);
          };
      return new Rate(text, zone, one.multipliedBy(value));
    }

    @Override
    public Optional<Instant> nextAfter(Instant after, Instant rateAnchor) {
      if (after.isBefore(rateAnchor)) {
        return Optional.of(rateAnchor);
      }
      long periods = Duration.between(rateAnchor, after).toMillis() / period.toMillis();
      return Optional.of(rateAnchor.plus(period.multipliedBy(periods + 1)));
    }

    @Override
    public Optional<Instant> latestAtOrBefore(Instant atOrBefore, Instant rateAnchor) {
      if (atOrBefore.isBefore(rateAnchor)) {
        return Optional.empty();
      }
      long periods = Duration.between(rateAnchor, atOrBefore).toMillis() / period.toMillis();
      return Optional.of(rateAnchor.plus(period.multipliedBy(periods)));
    }
  }

  /** AWS's six-field cron, on the zone's wall clock. */
  record Cron(String text, ZoneId zone, ExecutionTime times) implements ScheduleExpression {

    private static final CronParser QUARTZ =
        new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.QUARTZ));

    static Cron parse(String text, String body, ZoneId zone) {
      String[] fields = body.trim().split("\\s+");
      if (fields.length != 6) {
        throw new InvalidScheduleExpression(
            text,
            "cron() takes six fields (minutes hours day-of-month month day-of-week year), got "
                + (body.isBlank() ? 0 : fields.length));
      }
      try {
        com.cronutils.model.Cron cron = QUARTZ.parse("0 " + String.join(" ", fields));
        cron.validate();
        return new Cron(text, zone, ExecutionTime.forCron(cron));
      } catch (IllegalArgumentException | DateTimeException e) {
        throw new InvalidScheduleExpression(text, String.valueOf(e.getMessage()));
      }
    }

    @Override
    public Optional<Instant> nextAfter(Instant after, Instant rateAnchor) {
      return times.nextExecution(after.atZone(zone)).map(ZonedDateTime::toInstant);
    }

    @Override
    public Optional<Instant> latestAtOrBefore(Instant atOrBefore, Instant rateAnchor) {
      // cron times fall on whole minutes: the last one before a millisecond later is at or before
      return times
          .lastExecution(atOrBefore.plusMillis(1).atZone(zone))
          .map(ZonedDateTime::toInstant)
          .filter(i -> !i.isAfter(atOrBefore));
    }
  }
}
