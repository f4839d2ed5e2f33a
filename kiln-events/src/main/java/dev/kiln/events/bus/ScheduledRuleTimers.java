package dev.kiln.events.bus;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.kiln.events.schedule.ScheduleExpression;
import dev.kiln.events.schedule.ScheduleRunner;
import dev.kiln.events.schedule.Timer;
import dev.kiln.events.schedule.TimerSource;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * EventBridge's scheduled rules as the schedule engine ({@link ScheduleRunner}) sees them: a second
 * {@link TimerSource} beside Scheduler's schedules, so that one engine fires both and a due time of
 * a rule is delivered once, exactly as a schedule's is.
 *
 * <h2>Model</h2>
 *
 * A timer is one enabled rule with a {@code ScheduleExpression} ({@code rate()} or {@code cron()},
 * in UTC as EventBridge reads them). Firing a due time sends AWS's "Scheduled Event" to each of the
 * rule's targets ({@link EventRouter#deliverScheduled}) under the deduplication key {@code id@due},
 * extended with the target's id, so the async queue takes each target's delivery of a due time once
 * however often it is fired: after a kill -9 between the enqueue and the engine moving on, or by
 * two nodes at once. The timer's id is the rule's ARN, expression and creation time, so a rule
 * given a new schedule, or deleted and put again, is a new timer. A rate counts from the rule's
 * creation, as on AWS.
 *
 * <p>Unlike a schedule's, a rule's {@code next_due} is kept in memory, not in the store: what makes
 * a due time fire once is the queue's deduplication key, which is durable. When the engine first
 * sees a rule (at its first look after a start, or after the rule was put or enabled) its next due
 * time is the latest one at or before now that is after the rule's creation and younger than a day
 * (the longest event age of a rule's target): so a time missed while Kiln was down fires once, one
 * that already fired is refused by its key, and a rule never fires for a time before it existed.
 * Otherwise it is the next due time after now.
 *
 * <h2>Threading</h2>
 *
 * The engine calls this from its one thread; {@code nextDue} is guarded by this object's monitor
 * all the same, so that nothing depends on that.
 */
public final class ScheduledRuleTimers implements TimerSource {

  /** The longest a rule's target lets an event wait (its RetryPolicy's maximum event age). */
  static final Duration MAXIMUM_EVENT_AGE = Duration.ofHours(24);

  private final EventRouter router;
  private final InstantSource clock;

  @GuardedBy("this")
  private final Map<String, Instant> nextDue = new HashMap<>();

  public ScheduledRuleTimers(EventRouter router, InstantSource clock) {
    this.router = router;
    this.clock = clock;
  }

  @Override
  public synchronized Optional<Instant> earliestDue() {
    return refresh().stream().map(d -> d.nextDue()).min(Comparator.naturalOrder());
  }

  @Override
  public synchronized List<Due> due(Instant now, int max) {
    return refresh().stream()
        .filter(d -> !d.nextDue().isAfter(now))
        .sorted(Comparator.comparing(Due::nextDue))
        .limit(max)
        .toList();
  }

  @Override
  public synchronized boolean advance(Timer timer, Instant expected, Optional<Instant> next) {
    Instant current = nextDue.get(timer.id());
    if (current == null || !current.equals(expected)) {
      return false;
    }
    if (next.isPresent()) {
      nextDue.put(timer.id(), next.get());
    } else {
      nextDue.remove(timer.id());
    }
    return true;
  }

  @Override
  public void completed(Timer timer) {
    // a rule's schedule never completes: rate and cron have no end, and rules no EndDate
  }

  /** The enabled scheduled rules now, each with its next due time; drops the ones gone. */
  @GuardedBy("this")
  private List<Due> refresh() {
    Instant now = clock.instant();
    List<Due> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (EventRouter.ScheduledRule rule : router.scheduledRules()) {
      Timer timer;
      try {
        timer = timer(rule);
      } catch (ScheduleExpression.InvalidScheduleExpression stored) {
        // PutRule checks the expression with this parser; one stored before that check is skipped
        continue;
      }
      seen.add(timer.id());
      Instant due =
          nextDue.computeIfAbsent(
              timer.id(),
              id ->
                  timer
                      .expression()
                      .latestAtOrBefore(now, rule.created())
                      .filter(t -> t.isAfter(rule.created()))
                      .filter(t -> t.isAfter(now.minus(MAXIMUM_EVENT_AGE)))
                      .or(() -> ScheduleRunner.nextDue(timer, now))
                      .orElse(Instant.MAX));
      if (!due.equals(Instant.MAX)) {
        out.add(new Due(timer, due));
      }
    }
    nextDue.keySet().retainAll(seen);
    return out;
  }

  private Timer timer(EventRouter.ScheduledRule rule) {
    ScheduleExpression expression =
        ScheduleExpression.parse(
            rule.scheduleExpression(), ZoneOffset.UTC, ScheduleExpression.Kinds.RECURRING);
    return new Timer() {
      @Override
      public String id() {
        return rule.arn() + "#" + rule.scheduleExpression() + "#" + rule.created().toEpochMilli();
      }

      @Override
      public String name() {
        return rule.bus() + "/" + rule.name();
      }

      @Override
      public ScheduleExpression expression() {
        return expression;
      }

      @Override
      public Instant rateAnchor() {
        return rule.created();
      }

      @Override
      public Optional<Instant> start() {
        return Optional.empty();
      }

      @Override
      public Optional<Instant> end() {
        return Optional.empty();
      }

      @Override
      public boolean enabled() {
        return true;
      }

      @Override
      public Duration maximumEventAge() {
        return MAXIMUM_EVENT_AGE;
      }

      @Override
      public Duration flexibleWindow() {
        return Duration.ZERO;
      }

      @Override
      public void fire(Instant due, String deduplicationKey) {
        router.deliverScheduled(rule.bus(), rule.name(), due, deduplicationKey);
      }
    };
  }
}
