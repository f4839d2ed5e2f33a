package dev.kiln.model;

import java.time.Instant;
import java.util.Optional;

/**
 * How asynchronous invocations of a function (or of one of its versions or aliases) are retried and
 * where their outcomes go, as AWS's {@code FunctionEventInvokeConfig}.
 *
 * @param maxRetryAttempts retries after a failed invocation, 0 to 2
 * @param maxEventAgeSeconds how long an event may wait to be processed, 60 to 21600
 * @param onSuccess the ARN of the function that gets the record of a success
 * @param onFailure the ARN of the function that gets the record of a final failure
 */
public record EventInvokeConfig(
    String functionName,
    String qualifier,
    int maxRetryAttempts,
    int maxEventAgeSeconds,
    Optional<String> onSuccess,
    Optional<String> onFailure,
    Instant lastModified) {

  public static final int DEFAULT_RETRIES = 2;
  public static final int DEFAULT_MAX_AGE_SECONDS = 21_600;

  /** What applies when the function has no configuration of its own. */
  public static EventInvokeConfig defaults(String functionName, String qualifier) {
    return new EventInvokeConfig(
        functionName,
        qualifier,
        DEFAULT_RETRIES,
        DEFAULT_MAX_AGE_SECONDS,
        Optional.empty(),
        Optional.empty(),
        Instant.EPOCH);
  }

  /** Checks the numbers as the service model does. */
  public EventInvokeConfig {
    if (maxRetryAttempts < 0 || maxRetryAttempts > 2) {
      throw LambdaError.validation(
          "maximumRetryAttempts",
          maxRetryAttempts,
          "Member must have value less than or equal to 2");
    }
    if (maxEventAgeSeconds < 60 || maxEventAgeSeconds > 21_600) {
      throw LambdaError.validation(
          "maximumEventAgeInSeconds",
          maxEventAgeSeconds,
          maxEventAgeSeconds < 60
              ? "Member must have value greater than or equal to 60"
              : "Member must have value less than or equal to 21600");
    }
  }
}
