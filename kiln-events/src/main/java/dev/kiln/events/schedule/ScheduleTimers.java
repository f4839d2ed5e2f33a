package dev.kiln.events.schedule;

import dev.kiln.model.Schedule;
import dev.kiln.store.ScheduleStore;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;

/**
 * Scheduler's schedules as the firing engine sees them: a {@link TimerSource} over the {@link
 * ScheduleStore}, each schedule a {@link Timer} that fires into its {@link LambdaTarget}. What is
 * schedule-specific (the target, ActionAfterCompletion) is here; when and how often is the
 * engine's.
 */
public final class ScheduleTimers implements TimerSource {

  private final ScheduleStore store;
  private final LambdaTarget target;

  public ScheduleTimers(ScheduleStore store, LambdaTarget target) {
    this.store = store;
    this.target = target;
  }

  /** One schedule as a timer; {@code target} may be null for computing due times only. */
  public static Timer timer(Schedule s, LambdaTarget target) {
    ScheduleExpression expression =
        ScheduleExpression.parse(
            s.scheduleExpression(), ZoneId.of(s.timezone()), ScheduleExpression.Kinds.ALL);
    return new Timer() {
      @Override
      public String id() {
        // the creation time tells a schedule from one deleted and created again with its name
        return s.arn() + "#" + s.creationDate().toEpochMilli();
      }

      @Override
      public String name() {
        return s.key();
      }

      @Override
      public ScheduleExpression expression() {
        return expression;
      }

      @Override
      public Instant rateAnchor() {
        return s.startDate()
            .orElse(s.creationDate())
            .truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
      }

      @Override
      public Optional<Instant> start() {
        return s.startDate();
      }

      @Override
      public Optional<Instant> end() {
        return s.endDate();
      }

      @Override
      public boolean enabled() {
        return s.enabled();
      }

      @Override
      public Duration maximumEventAge() {
        return Duration.ofSeconds(s.target().retryPolicy().maximumEventAgeInSeconds());
      }

      @Override
      public Duration flexibleWindow() {
        return s.flexibleTimeWindow().mode().equals("FLEXIBLE")
            ? Duration.ofMinutes(s.flexibleTimeWindow().maximumWindowInMinutes().orElse(0))
            : Duration.ZERO;
      }

      @Override
      public void fire(Instant due, String deduplicationKey) {
        target.deliver(s, due, deduplicationKey);
      }
    };
  }

  /** When a schedule first fires if it is stored now: empty when disabled or never. */
  public static Optional<Instant> firstDue(Schedule s, Instant now) {
    return s.enabled() ? ScheduleRunner.nextDue(timer(s, null), now) : Optional.empty();
  }

  @Override
  public Optional<Instant> earliestDue() {
    return store.earliestDue();
  }

  @Override
  public List<Due> due(Instant now, int max) {
    return store.due(now, max).stream()
        .map(d -> new Due(timer(d.schedule(), target), d.nextDue().orElseThrow()))
        .toList();
  }

  @Override
  public boolean advance(Timer timer, Instant expected, Optional<Instant> next) {
    String[] key = timer.name().split("/", 2);
    return store.advance(key[0], key[1], expected, next);
  }

  @Override
  public void completed(Timer timer) {
    String[] key = timer.name().split("/", 2);
    store
        .get(key[0], key[1])
        .filter(s -> s.schedule().actionAfterCompletion().equals("DELETE"))
        // only the schedule that completed, not one created since under its name
        .filter(s -> timer.id().equals(timer(s.schedule(), null).id()))
        .ifPresent(s -> store.delete(key[0], key[1]));
  }
}
