package dev.kiln.model;

import java.time.Instant;
import java.util.Optional;

/**
 * One EventBridge Scheduler schedule, every member GetSchedule answers with, as the API checked it:
 * the expression is valid in its time zone, the end after the start, the target a Kiln function.
 * Stores keep it as one document; the firing engine's state (when it is next due) is kept beside
 * it, not in it, so that firing never rewrites the user's schedule.
 *
 * @param timezone the IANA name its wall-clock times are in; {@code UTC} when none was given
 * @param state {@code ENABLED} or {@code DISABLED}
 * @param actionAfterCompletion {@code NONE} or {@code DELETE}
 * @param clientToken the ClientToken of the request that created or last updated it, which makes a
 *     repeated request idempotent
 */
public record Schedule(
    String groupName,
    String name,
    String arn,
    String scheduleExpression,
    String timezone,
    Optional<Instant> startDate,
    Optional<Instant> endDate,
    Optional<String> description,
    String state,
    Optional<String> kmsKeyArn,
    Target target,
    FlexibleTimeWindow flexibleTimeWindow,
    String actionAfterCompletion,
    Instant creationDate,
    Instant lastModificationDate,
    Optional<String> clientToken) {

  public static final String ENABLED = "ENABLED";
  public static final String DISABLED = "DISABLED";
  public static final String DEFAULT_GROUP = "default";

  /**
   * A Lambda function target.
   *
   * @param arn the function's ARN, qualified or not
   * @param input the payload; empty for Scheduler's default
   * @param deadLetterArn where an event goes that could not be delivered: in Kiln a function's ARN
   */
  public record Target(
      String arn,
      String roleArn,
      Optional<String> input,
      RetryPolicy retryPolicy,
      Optional<String> deadLetterArn) {}

  /** Scheduler's RetryPolicy; AWS's defaults are 86400 seconds and 185 attempts. */
  public record RetryPolicy(int maximumEventAgeInSeconds, int maximumRetryAttempts) {
    public static final RetryPolicy DEFAULT = new RetryPolicy(86_400, 185);
  }

  /** {@code OFF}, or {@code FLEXIBLE} with a window of 1 to 1440 minutes. */
  public record FlexibleTimeWindow(String mode, Optional<Integer> maximumWindowInMinutes) {
    public static final FlexibleTimeWindow OFF = new FlexibleTimeWindow("OFF", Optional.empty());
  }

  /** The key a schedule is stored and fired by: {@code group/name}. */
  public String key() {
    return groupName + "/" + name;
  }

  public boolean enabled() {
    return state.equals(ENABLED);
  }
}
