package dev.kiln.events.schedule;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.events.RouterMetrics;
import dev.kiln.invoke.AsyncInvocations;
import dev.kiln.model.Account;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.Schedule;
import dev.kiln.time.Scheduler;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A schedule's Lambda target: a due time becomes an asynchronous invocation of the target function
 * through {@link AsyncInvocations#acceptOnce}, under the due time's deduplication key, so the
 * function's own async handling (its retries, event age and destinations) applies from there.
 *
 * <p>Delivery can fail before the queue has the event, when the target function does not exist at
 * fire time. That failure follows the schedule's RetryPolicy as Scheduler's does: retried with
 * exponential backoff (1 s doubling to 5 minutes) while attempts remain ({@code
 * MaximumRetryAttempts}) and the event is younger than {@code MaximumEventAgeInSeconds}; then it
 * goes to the dead-letter function, if any, invoked asynchronously with a dead-letter event (the
 * payload and Scheduler's error attributes). The pending retries are kept in memory: a crash
 * forgets them (the due time itself was fired; only its failed delivery is not tried again).
 *
 * <p>Metrics: {@link RouterMetrics} kind {@code schedule}, name {@code group/name}: received per
 * due time, delivered when the invocation is durable (with the delay from the due time), failed per
 * delivery that gave up. The monitor guards the pending retries.
 */
public final class LambdaTarget {

  private static final Logger LOG = LoggerFactory.getLogger(LambdaTarget.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What Kiln sends when a schedule has no Input. */
  public static final String DEFAULT_INPUT = "{}";

  static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
  static final Duration MAX_BACKOFF = Duration.ofMinutes(5);

  /** A Kiln function's ARN, qualified or not. */
  private static final Pattern FUNCTION_ARN =
      Pattern.compile(
          "arn:aws:lambda:(?<region>[a-z0-9-]+):(?<account>\\d{12}):function:"
              + "(?<name>[a-zA-Z0-9-_]{1,64})(:(?<qualifier>\\$LATEST|[a-zA-Z0-9-_]{1,128}))?");

  /**
   * How a delivery reaches the durable queue: {@link AsyncInvocations#acceptOnce} in Kiln, a queue
   * of the test's in unit tests. Returns whether the key was new.
   */
  @FunctionalInterface
  public interface Enqueue {
    boolean acceptOnce(FunctionRef function, byte[] payload, String deduplicationKey);

    /** Through Kiln's async invocations, so the function's async retries and destinations apply. */
    static Enqueue through(AsyncInvocations async) {
      return (function, payload, key) -> async.acceptOnce(function, payload, Optional.empty(), key);
    }
  }

  /**
   * Whether an execution role allows an action on a resource, as IAM decides it; a role Kiln's IAM
   * does not know allows it ({@code --iam compat}).
   */
  @FunctionalInterface
  public interface RolePermission {
    boolean allows(String roleArn, String action, String resource);
  }

  private final Enqueue async;
  private final Predicate<FunctionRef> functionExists;
  private final RolePermission roles;
  private final Account account;
  private final RouterMetrics metrics;
  private final InstantSource clock;

  private final List<Delivery> retries = new ArrayList<>();

  /** One due time's delivery, and how its attempts stand. */
  private record Delivery(
      Schedule schedule, Instant due, String key, int retriesDone, Instant nextAttempt) {}

  public LambdaTarget(
      Enqueue async,
      Predicate<FunctionRef> functionExists,
      RolePermission roles,
      Account account,
      RouterMetrics metrics,
      Scheduler scheduler,
      InstantSource clock) {
    this.async = async;
    this.functionExists = functionExists;
    this.roles = roles;
    this.account = account;
    this.metrics = metrics;
    this.clock = clock;
    scheduler.every(ScheduleRunner.TICK, this::retryDue);
  }

  /**
   * The function an ARN names, if it is a Kiln function ARN of this Kiln's region and account;
   * empty for anything else (another service's ARN, another account's function).
   */
  public static Optional<FunctionRef> function(String arn, Account account) {
    Matcher m = FUNCTION_ARN.matcher(arn == null ? "" : arn);
    if (!m.matches()
        || !m.group("region").equals(account.region())
        || !m.group("account").equals(account.accountId())) {
      return Optional.empty();
    }
    return Optional.of(new FunctionRef(m.group("name"), Optional.ofNullable(m.group("qualifier"))));
  }

  /** Fires one due time of {@code schedule}. */
  void deliver(Schedule schedule, Instant due, String key) {
    metrics.received("schedule", schedule.key());
    attempt(new Delivery(schedule, due, key, 0, due));
  }

  private void attempt(Delivery d) {
    Schedule s = d.schedule();
    Optional<FunctionRef> ref = function(s.target().arn(), account).filter(functionExists);
    if (ref.isEmpty()) {
      failed(d, "ResourceNotFoundException", "Function not found: " + s.target().arn());
      return;
    }
    // Scheduler invokes as the target's execution role, which must allow it (not a resource
    // policy for scheduler.amazonaws.com: Scheduler assumes the role)
    String functionArn = account.functionArn(ref.get());
    if (!roles.allows(s.target().roleArn(), "lambda:InvokeFunction", functionArn)) {
      failed(
          d,
          "AccessDeniedException",
          s.target().roleArn()
              + " is not authorized to perform lambda:InvokeFunction on "
              + functionArn);
      return;
    }
    byte[] payload = input(d).getBytes(StandardCharsets.UTF_8);
    async.acceptOnce(ref.get(), payload, d.key());
    metrics.delivered("schedule", s.key(), Duration.between(d.due(), clock.instant()));
  }

  /**
   * The Input with Scheduler's context attributes filled in, as AWS fills them in a templated
   * target's input: {@code <aws.scheduler.schedule-arn>}, {@code <aws.scheduler.scheduled-time>}
   * (the due time, ISO 8601 in UTC), {@code <aws.scheduler.execution-id>} (one per due time) and
   * {@code <aws.scheduler.attempt-number>} (1 for the first delivery attempt).
   */
  private static String input(Delivery d) {
    return d.schedule()
        .target()
        .input()
        .orElse(DEFAULT_INPUT)
        .replace("<aws.scheduler.schedule-arn>", d.schedule().arn())
        .replace("<aws.scheduler.scheduled-time>", d.due().toString())
        .replace("<aws.scheduler.execution-id>", executionId(d.key()))
        .replace("<aws.scheduler.attempt-number>", String.valueOf(d.retriesDone() + 1));
  }

  /** A UUID named by the due time's key: the same for every attempt and every node. */
  private static String executionId(String key) {
    return java.util.UUID.nameUUIDFromBytes(key.getBytes(StandardCharsets.UTF_8)).toString();
  }

  private void failed(Delivery d, String errorCode, String errorMessage) {
    Schedule.RetryPolicy policy = d.schedule().target().retryPolicy();
    Instant now = clock.instant();
    Duration backoff = FIRST_BACKOFF.multipliedBy(1L << Math.min(20, d.retriesDone()));
    if (backoff.compareTo(MAX_BACKOFF) > 0) {
      backoff = MAX_BACKOFF;
    }
    Instant next = now.plus(backoff);
    boolean young = !next.isAfter(d.due().plusSeconds(policy.maximumEventAgeInSeconds()));
    if (d.retriesDone() < policy.maximumRetryAttempts() && young) {
      synchronized (this) {
        retries.add(new Delivery(d.schedule(), d.due(), d.key(), d.retriesDone() + 1, next));
      }
      return;
    }
    metrics.failed("schedule", d.schedule().key());
    LOG.warn(
        "schedule {} could not deliver its due time {} after {} retries: {}",
        d.schedule().key(),
        d.due(),
        d.retriesDone(),
        errorMessage);
    d.schedule()
        .target()
        .deadLetterArn()
        .ifPresent(dlq -> deadLetter(d, dlq, errorCode, errorMessage));
  }

  /**
   * Sends a dead-letter event to the dead-letter function: Scheduler puts one on an SQS queue with
   * these attributes; Kiln invokes a function with them in the event.
   */
  private void deadLetter(Delivery d, String dlqArn, String errorCode, String errorMessage) {
    Optional<FunctionRef> ref = function(dlqArn, account).filter(functionExists);
    if (ref.isEmpty()) {
      LOG.warn("schedule {}'s dead-letter function {} does not exist", d.schedule().key(), dlqArn);
      return;
    }
    ObjectNode event = JSON.createObjectNode();
    event.put("body", input(d));
    ObjectNode attributes = event.putObject("messageAttributes");
    attributes.put("ERROR_CODE", errorCode);
    attributes.put("ERROR_MESSAGE", errorMessage);
    attributes.put("EXECUTION_ID", executionId(d.key()));
    attributes.put("RETRY_ATTEMPTS", String.valueOf(d.retriesDone()));
    attributes.put("SCHEDULE_ARN", d.schedule().arn());
    attributes.put("TARGET_ARN", d.schedule().target().arn());
    attributes.put("SCHEDULED_TIME", d.due().toString());
    async.acceptOnce(
        ref.get(), event.toString().getBytes(StandardCharsets.UTF_8), d.key() + "#dlq");
  }

  private void retryDue() {
    Instant now = clock.instant();
    List<Delivery> due = new ArrayList<>();
    synchronized (this) {
      retries.removeIf(
          d -> {
            if (d.nextAttempt().isAfter(now)) {
              return false;
            }
            due.add(d);
            return true;
          });
    }
    for (Delivery d : due) {
      try {
        attempt(d);
      } catch (RuntimeException e) {
        LOG.warn("retrying schedule {}'s due time {} failed", d.schedule().key(), d.due(), e);
      }
    }
  }

  /** How many deliveries wait for a retry (for tests and the dashboard). */
  public synchronized int pendingRetries() {
    return retries.size();
  }
}
