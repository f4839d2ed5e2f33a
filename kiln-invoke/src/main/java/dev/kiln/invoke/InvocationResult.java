package dev.kiln.invoke;

import java.util.Optional;

/**
 * How a synchronous invocation ended, from the caller's point of view. A platform failure (Kiln
 * could not run the function at all) is thrown as a {@link dev.kiln.model.LambdaError} instead;
 * these two are the outcomes in which the function ran.
 */
public sealed interface InvocationResult {

  String requestId();

  String executedVersion();

  byte[] payload();

  /** The last 4 KB of the invocation's log, when the caller asked for it. */
  Optional<String> logTail();

  record Success(String requestId, String executedVersion, byte[] payload, Optional<String> logTail)
      implements InvocationResult {}

  /**
   * The function failed: threw, timed out, crashed or could not initialise. {@code payload} is the
   * error document; the caller sees {@code X-Amz-Function-Error: Unhandled}.
   */
  record FunctionError(
      String requestId,
      String executedVersion,
      String errorType,
      byte[] payload,
      Optional<String> logTail)
      implements InvocationResult {}
}
