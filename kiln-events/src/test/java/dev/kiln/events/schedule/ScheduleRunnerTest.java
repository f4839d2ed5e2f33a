package dev.kiln.events.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.events.RouterMetrics;
import dev.kiln.model.Account;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.Schedule;
import dev.kiln.store.EventQueue;
import dev.kiln.testing.InMemoryEventQueue;
import dev.kiln.testing.InMemoryScheduleStore;
import dev.kiln.testing.ManualTime;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ScheduleRunnerTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final Account ACCOUNT = Account.DEFAULT;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One fixture per test: a clock, the stores, the target and (once started) the engine. */
  private final class Fixture {
    final ManualTime time;
    final InMemoryScheduleStore store = new InMemoryScheduleStore();
    final InMemoryEventQueue queue;
    final Set<String> functions = new HashSet<>(Set.of("f", "dlq"));

    /** "role|function ARN" pairs an execution role may not invoke. */
    final Set<String> deniedToRoles = new HashSet<>();

    /** The deliveries the queue took, with when. */
    final List<Fired> fired = new ArrayList<>();

    /** Every key the engine asked for, taken or not. */
    final List<String> asked = new ArrayList<>();

    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final LambdaTarget target;
    final ScheduleTimers timers;
    ScheduleRunner runner;
    final Schedules schedules;

    Fixture(Instant start) {
      time = new ManualTime(start);
      queue = new InMemoryEventQueue(time);
      target =
          new LambdaTarget(
              this::enqueue,
              ref -> functions.contains(ref.name()),
              (role, action, resource) ->
                  !(action.equals("lambda:InvokeFunction")
                      && deniedToRoles.contains(role + "|" + resource)),
              ACCOUNT,
              new RouterMetrics(registry),
              time,
              time);
      timers = new ScheduleTimers(store, target);
      schedules =
          new Schedules(
              store,
              ACCOUNT,
              time,
              () -> {
                if (runner != null) {
                  runner.changed();
                }
              });
    }

    /** How many enqueues fail next, as a queue whose disk is full would. */
    int failEnqueues;

    private boolean enqueue(FunctionRef ref, byte[] payload, String key) {
      asked.add(key);
      if (failEnqueues > 0) {
        failEnqueues--;
        throw new IllegalStateException("the event queue cannot be written");
      }
      boolean added =
          queue.enqueueOnce(
              EventQueue.Event.accepted(
                  key,
                  ref.name(),
                  ref.qualifierOrLatest(),
                  payload,
                  time.instant(),
                  Optional.empty()),
              key);
      if (added) {
        fired.add(
            new Fired(
                ref.name(), key, time.instant(), new String(payload, StandardCharsets.UTF_8)));
      }
      return added;
    }

    Fixture start() {
      runner = new ScheduleRunner(List.of(timers), time, time);
      return this;
    }

    Schedule create(String name, String expression, String zone) {
      return create(schedule(name, expression, zone));
    }

    Schedule create(Schedule s) {
      schedules.create(s);
      return s;
    }

    Schedule schedule(String name, String expression, String zone) {
      return new Schedule(
          "default",
          name,
          schedules.scheduleArn("default", name),
          expression,
          zone,
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Schedule.ENABLED,
          Optional.empty(),
          new Schedule.Target(
              ACCOUNT.functionArn("f"),
              "arn:aws:iam::000000000000:role/r",
              Optional.of("{\"n\":\"" + name + "\"}"),
              Schedule.RetryPolicy.DEFAULT,
              Optional.empty()),
          Schedule.FlexibleTimeWindow.OFF,
          "NONE",
          time.instant(),
          time.instant(),
          Optional.empty());
    }

    List<Instant> firedAt() {
      return fired.stream().map(Fired::at).toList();
    }

    /** The due times fired, from their keys. */
    List<Instant> dueTimes() {
      return fired.stream()
          .map(f -> Instant.parse(f.key().substring(f.key().lastIndexOf('@') + 1)))
          .toList();
    }
  }

  private record Fired(String function, String key, Instant at, String payload) {}

  private static Schedule with(
      Schedule s,
      Optional<Instant> start,
      Optional<Instant> end,
      String state,
      Schedule.FlexibleTimeWindow window,
      String afterCompletion,
      Schedule.Target target) {
    return new Schedule(
        s.groupName(),
        s.name(),
        s.arn(),
        s.scheduleExpression(),
        s.timezone(),
        start,
        end,
        s.description(),
        state,
        s.kmsKeyArn(),
        target,
        window,
        afterCompletion,
        s.creationDate(),
        s.lastModificationDate(),
        s.clientToken());
  }

  @Test
  void aRateFiresOnceAPeriodFromItsCreation_withItsInput() {
    Fixture f = new Fixture(T0).start();
    f.create("every-minute", "rate(1 minute)", "UTC");
    f.time.advance(Duration.ofMinutes(3).plusSeconds(1));
    assertThat(f.firedAt())
        .containsExactly(T0.plusSeconds(60), T0.plusSeconds(120), T0.plusSeconds(180));
    assertThat(f.fired)
        .allSatisfy(
            x -> {
              assertThat(x.function()).isEqualTo("f");
              assertThat(x.payload()).isEqualTo("{\"n\":\"every-minute\"}");
            });
    assertThat(
            f.registry
                .get("kiln_router_events")
                .tag("kind", "schedule")
                .tag("name", "default/every-minute")
                .tag("outcome", "delivered")
                .counter()
                .count())
        .isEqualTo(3);
  }

  @Test
  void theInputGetsSchedulersContextAttributes() {
    Fixture f = new Fixture(T0).start();
    Schedule s = f.schedule("ctx", "rate(1 minute)", "UTC");
    f.create(
        with(
            s,
            s.startDate(),
            s.endDate(),
            s.state(),
            s.flexibleTimeWindow(),
            "NONE",
            new Schedule.Target(
                s.target().arn(),
                s.target().roleArn(),
                Optional.of(
                    "{\"t\":\"<aws.scheduler.scheduled-time>\",\"arn\":"
                        + "\"<aws.scheduler.schedule-arn>\",\"try\":<aws.scheduler.attempt-number>}"),
                s.target().retryPolicy(),
                Optional.empty())));
    f.time.advance(Duration.ofSeconds(61));
    assertThat(f.fired)
        .singleElement()
        .extracting(Fired::payload)
        .isEqualTo("{\"t\":\"2026-01-01T00:01:00Z\",\"arn\":\"" + s.arn() + "\",\"try\":1}");
  }

  @Test
  void aCronOnTheLastWeekdayOfTheMonth() {
    Fixture f = new Fixture(Instant.parse("2026-01-25T00:00:00Z")).start();
    f.create("month-end", "cron(0 9 LW * ? *)", "UTC");
    f.time.advance(Duration.ofDays(66));
    assertThat(f.firedAt())
        .containsExactly(
            Instant.parse("2026-01-30T09:00:00Z"),
            Instant.parse("2026-02-27T09:00:00Z"),
            Instant.parse("2026-03-31T09:00:00Z"));
  }

  @Test
  void aCronKeepsItsWallClockTimeAcrossDaylightSaving() {
    Fixture f = new Fixture(Instant.parse("2026-03-06T00:00:00Z")).start();
    f.create("two-am", "cron(0 2 * * ? *)", "America/New_York");
    f.time.advance(Duration.ofDays(4));
    // 02:00 does not exist on 2026-03-08 in New York: skipped, as Scheduler skips it
    assertThat(f.firedAt())
        .containsExactly(
            Instant.parse("2026-03-06T07:00:00Z"),
            Instant.parse("2026-03-07T07:00:00Z"),
            Instant.parse("2026-03-09T06:00:00Z"));
  }

  @Test
  void timesMissedWhileDownFireOnce_theLatest_atStart() {
    Fixture f = new Fixture(T0);
    f.create("every-minute", "rate(1 minute)", "UTC");
    f.time.advance(Duration.ofMinutes(10).plusSeconds(30)); // no engine: Kiln is down
    assertThat(f.fired).isEmpty();
    f.start();
    f.time.advance(Duration.ofSeconds(1));
    assertThat(f.dueTimes()).containsExactly(T0.plusSeconds(600));
    f.time.advance(Duration.ofSeconds(30));
    assertThat(f.dueTimes()).containsExactly(T0.plusSeconds(600), T0.plusSeconds(660));
  }

  @Test
  void aMissedTimeOlderThanTheMaximumEventAgeDoesNotFire() {
    Fixture f = new Fixture(T0);
    Schedule s = f.schedule("five", "rate(5 minutes)", "UTC");
    f.create(
        with(
            s,
            s.startDate(),
            s.endDate(),
            s.state(),
            s.flexibleTimeWindow(),
            "NONE",
            new Schedule.Target(
                s.target().arn(),
                s.target().roleArn(),
                s.target().input(),
                new Schedule.RetryPolicy(60, 0),
                Optional.empty())));
    f.time.advance(Duration.ofMinutes(7)); // down: 00:05 missed by two minutes
    f.start();
    f.time.advance(Duration.ofMinutes(3).plusSeconds(1));
    assertThat(f.dueTimes()).containsExactly(T0.plusSeconds(600));
  }

  @Test
  void aDisabledScheduleNeverFires() {
    Fixture f = new Fixture(T0).start();
    Schedule s = f.schedule("off", "rate(1 minute)", "UTC");
    f.create(
        with(
            s,
            s.startDate(),
            s.endDate(),
            Schedule.DISABLED,
            s.flexibleTimeWindow(),
            "NONE",
            s.target()));
    f.time.advance(Duration.ofMinutes(5));
    assertThat(f.fired).isEmpty();
    assertThat(f.store.get("default", "off").orElseThrow().nextDue()).isEmpty();
    // enabled again, it starts from now
    f.schedules.update(s);
    f.time.advance(Duration.ofMinutes(1).plusSeconds(1));
    assertThat(f.firedAt()).containsExactly(T0.plusSeconds(360));
  }

  @Test
  void aRecurringScheduleStopsAtItsEndDate_andDeleteRemovesIt() {
    Fixture f = new Fixture(T0).start();
    Schedule s = f.schedule("ends", "rate(1 minute)", "UTC");
    f.create(
        with(
            s,
            s.startDate(),
            Optional.of(T0.plusSeconds(150)),
            s.state(),
            s.flexibleTimeWindow(),
            "DELETE",
            s.target()));
    Schedule kept = f.schedule("kept", "rate(1 minute)", "UTC");
    f.create(
        with(
            kept,
            kept.startDate(),
            Optional.of(T0.plusSeconds(150)),
            kept.state(),
            kept.flexibleTimeWindow(),
            "NONE",
            kept.target()));
    f.time.advance(Duration.ofMinutes(5));
    assertThat(f.fired.stream().filter(x -> x.key().contains("/ends#")).map(Fired::at))
        .containsExactly(T0.plusSeconds(60), T0.plusSeconds(120));
    assertThat(f.store.get("default", "ends")).isEmpty();
    assertThat(f.store.get("default", "kept").orElseThrow().nextDue()).isEmpty();
  }

  @Test
  void aStartDateIsWhereARateCountsFrom() {
    Fixture f = new Fixture(T0).start();
    Schedule s = f.schedule("later", "rate(10 minutes)", "UTC");
    f.create(
        with(
            s,
            Optional.of(T0.plusSeconds(3600)),
            s.endDate(),
            s.state(),
            s.flexibleTimeWindow(),
            "NONE",
            s.target()));
    f.time.advance(Duration.ofMinutes(70).plusSeconds(1));
    assertThat(f.firedAt()).containsExactly(T0.plusSeconds(3600), T0.plusSeconds(4200));
  }

  @Test
  void anAtScheduleFiresOnce_andDeleteRemovesItAfterwards() {
    Fixture f = new Fixture(T0).start();
    Schedule s = f.schedule("once", "at(2026-01-01T00:05:00)", "UTC");
    f.create(
        with(
            s,
            s.startDate(),
            s.endDate(),
            s.state(),
            s.flexibleTimeWindow(),
            "DELETE",
            s.target()));
    f.create("once-kept", "at(2026-01-01T00:05:00)", "UTC");
    f.time.advance(Duration.ofMinutes(4));
    assertThat(f.fired).isEmpty();
    f.time.advance(Duration.ofMinutes(10));
    assertThat(f.firedAt()).containsExactly(T0.plusSeconds(300), T0.plusSeconds(300));
    assertThat(f.store.get("default", "once")).isEmpty();
    assertThat(f.store.get("default", "once-kept")).isPresent();
  }

  @Test
  void aFlexibleWindowFiresAtADelayDerivedFromTheScheduleAndDueTime() {
    Fixture f = new Fixture(T0).start();
    Schedule s = f.schedule("flex", "rate(1 hour)", "UTC");
    Schedule flex =
        with(
            s,
            s.startDate(),
            s.endDate(),
            s.state(),
            new Schedule.FlexibleTimeWindow("FLEXIBLE", Optional.of(15)),
            "NONE",
            s.target());
    f.create(flex);
    Timer timer = ScheduleTimers.timer(flex, null);
    Instant due1 = T0.plusSeconds(3600);
    Instant due2 = T0.plusSeconds(7200);
    Instant at1 = ScheduleRunner.fireAt(timer, due1);
    Instant at2 = ScheduleRunner.fireAt(timer, due2);
    assertThat(at1).isBetween(due1, due1.plus(Duration.ofMinutes(15)));
    assertThat(at2).isBetween(due2, due2.plus(Duration.ofMinutes(15)));
    assertThat(ScheduleRunner.fireAt(ScheduleTimers.timer(flex, null), due1))
        .as("the same schedule and due time give the same delay, after a restart too")
        .isEqualTo(at1);
    f.time.advance(Duration.between(T0, at1).minusSeconds(1));
    assertThat(f.fired).isEmpty();
    f.time.advance(Duration.ofHours(2));
    assertThat(f.firedAt()).containsExactly(at1, at2);
    assertThat(f.dueTimes()).containsExactly(due1, due2);
  }

  @Test
  void aCrashBetweenEnqueueAndAdvance_firesTheSameKeyAgain_whichTheQueueIgnores() {
    Fixture f = new Fixture(T0).start();
    f.create("every-minute", "rate(1 minute)", "UTC");
    f.time.advance(Duration.ofSeconds(61));
    assertThat(f.fired).hasSize(1);
    // as if Kiln died after the enqueue and before next_due moved on: next_due is the old one
    assertThat(
            f.store.advance(
                "default", "every-minute", T0.plusSeconds(120), Optional.of(T0.plusSeconds(60))))
        .isTrue();
    f.runner.changed();
    f.time.advance(Duration.ofSeconds(1));
    assertThat(f.asked).hasSize(2).containsOnly(f.asked.get(0));
    assertThat(f.fired).hasSize(1);
    assertThat(f.store.get("default", "every-minute").orElseThrow().nextDue())
        .contains(T0.plusSeconds(120));
  }

  @Test
  void aDueTimeTheQueueCouldNotTakeIsFiredAgainAtTheNextTick() {
    Fixture f = new Fixture(T0).start();
    f.failEnqueues = 2;
    f.create("every-minute", "rate(1 minute)", "UTC");
    f.time.advance(Duration.ofSeconds(62));
    assertThat(f.asked).hasSize(3).containsOnly(f.asked.get(0));
    assertThat(f.dueTimes()).containsExactly(T0.plusSeconds(60));
    assertThat(f.firedAt()).containsExactly(T0.plusSeconds(62));
  }

  @Test
  void twoEnginesOnOneStoreFireEachDueTimeOnce() {
    Fixture f = new Fixture(T0).start();
    ScheduleRunner second = new ScheduleRunner(List.of(f.timers), f.time, f.time);
    f.create("every-minute", "rate(1 minute)", "UTC");
    second.changed();
    f.time.advance(Duration.ofMinutes(3).plusSeconds(1));
    assertThat(f.firedAt())
        .containsExactly(T0.plusSeconds(60), T0.plusSeconds(120), T0.plusSeconds(180));
  }

  @Test
  void twoEnginesThatReadTheSameDueTimeBeforeEitherAdvanced_enqueueItOnce() {
    Fixture f = new Fixture(T0);
    f.create("every-minute", "rate(1 minute)", "UTC");
    // the second node read the due timers at the same moment as the first, before its advance
    List<TimerSource.Due> seenByBoth = new ArrayList<>();
    TimerSource racing =
        new TimerSource() {
          @Override
          public Optional<Instant> earliestDue() {
            return f.timers.earliestDue();
          }

          @Override
          public List<TimerSource.Due> due(Instant now, int max) {
            if (seenByBoth.isEmpty()) {
              seenByBoth.addAll(f.timers.due(now, max));
              return seenByBoth;
            }
            List<TimerSource.Due> stale = List.copyOf(seenByBoth);
            seenByBoth.clear();
            return stale;
          }

          @Override
          public boolean advance(Timer timer, Instant expected, Optional<Instant> next) {
            return f.timers.advance(timer, expected, next);
          }

          @Override
          public void completed(Timer timer) {
            f.timers.completed(timer);
          }
        };
    new ScheduleRunner(List.of(racing), f.time, f.time);
    new ScheduleRunner(List.of(racing), f.time, f.time);
    f.time.advance(Duration.ofSeconds(61));
    assertThat(f.asked)
        .as("both engines fired the due time")
        .hasSize(2)
        .containsOnly(f.asked.get(0));
    assertThat(f.dueTimes()).as("the queue kept one").containsExactly(T0.plusSeconds(60));
    assertThat(f.store.get("default", "every-minute").orElseThrow().nextDue())
        .contains(T0.plusSeconds(120));
  }

  @Test
  void anExecutionRoleThatMayNotInvokeTheFunction_failsTheDelivery_toTheDeadLetterFunction()
      throws Exception {
    Fixture f = new Fixture(T0).start();
    Schedule s = f.schedule("unallowed", "at(2026-01-01T00:01:00)", "UTC");
    f.deniedToRoles.add(s.target().roleArn() + "|" + ACCOUNT.functionArn("f"));
    f.create(
        with(
            s,
            s.startDate(),
            s.endDate(),
            s.state(),
            s.flexibleTimeWindow(),
            "NONE",
            new Schedule.Target(
                s.target().arn(),
                s.target().roleArn(),
                s.target().input(),
                new Schedule.RetryPolicy(3600, 0),
                Optional.of(ACCOUNT.functionArn("dlq")))));
    f.time.advance(Duration.ofMinutes(2));
    assertThat(f.fired).extracting(Fired::function).as("f never ran").containsExactly("dlq");
    JsonNode event = JSON.readTree(f.fired.get(0).payload());
    assertThat(event.at("/messageAttributes/ERROR_CODE").asText())
        .isEqualTo("AccessDeniedException");
    assertThat(event.at("/messageAttributes/ERROR_MESSAGE").asText())
        .contains("is not authorized to perform lambda:InvokeFunction");
  }

  @Test
  void aMissingTargetIsRetriedByTheRetryPolicy_thenGoesToTheDeadLetterFunction() throws Exception {
    Fixture f = new Fixture(T0).start();
    Schedule s = f.schedule("lost", "at(2026-01-01T00:01:00)", "UTC");
    f.create(
        with(
            s,
            s.startDate(),
            s.endDate(),
            s.state(),
            s.flexibleTimeWindow(),
            "NONE",
            new Schedule.Target(
                ACCOUNT.functionArn("missing"),
                s.target().roleArn(),
                s.target().input(),
                new Schedule.RetryPolicy(3600, 2),
                Optional.of(ACCOUNT.functionArn("dlq")))));
    f.time.advance(Duration.ofMinutes(2));
    assertThat(f.fired).hasSize(1);
    Fired dead = f.fired.get(0);
    assertThat(dead.function()).isEqualTo("dlq");
    JsonNode event = JSON.readTree(dead.payload());
    assertThat(event.get("body").asText()).isEqualTo("{\"n\":\"lost\"}");
    assertThat(event.at("/messageAttributes/ERROR_CODE").asText())
        .isEqualTo("ResourceNotFoundException");
    assertThat(event.at("/messageAttributes/RETRY_ATTEMPTS").asText()).isEqualTo("2");
    assertThat(event.at("/messageAttributes/SCHEDULE_ARN").asText()).isEqualTo(s.arn());
    assertThat(f.target.pendingRetries()).isZero();
    assertThat(
            f.registry
                .get("kiln_router_events")
                .tag("name", "default/lost")
                .tag("outcome", "failed")
                .counter()
                .count())
        .isEqualTo(1);
  }

  @Test
  void aTargetThatAppearsDuringTheRetriesIsDelivered() {
    Fixture f = new Fixture(T0).start();
    f.functions.remove("f");
    f.create("late", "at(2026-01-01T00:01:00)", "UTC");
    f.time.advance(Duration.ofSeconds(61));
    assertThat(f.fired).isEmpty();
    assertThat(f.target.pendingRetries()).isEqualTo(1);
    f.functions.add("f");
    f.time.advance(Duration.ofSeconds(10));
    assertThat(f.fired).extracting(Fired::function).containsExactly("f");
  }
}
