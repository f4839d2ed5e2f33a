package dev.kiln.events.bus;

import dev.kiln.model.LambdaError;

/**
 * EventBridge's errors, worded as EventBridge words them, in one place. They are {@link
 * LambdaError}s (type, status, message) because that is what Kiln's API layers turn into bytes; the
 * JSON 1.1 API sends the type as {@code __type}.
 */
final class EventsErrors {

  private EventsErrors() {}

  static LambdaError validation(String message) {
    return new LambdaError("ValidationException", 400, message);
  }

  /** A value breaking the service model's constraints, as AWS's request validation words it. */
  static LambdaError constraint(String field, Object value, String constraint) {
    return new LambdaError(
        "ValidationException",
        400,
        "1 validation error detected: Value '"
            + value
            + "' at '"
            + field
            + "' failed to satisfy constraint: "
            + constraint);
  }

  static LambdaError busNotFound(String bus) {
    return new LambdaError(
        "ResourceNotFoundException", 400, "Event bus " + bus + " does not exist.");
  }

  static LambdaError ruleNotFound(String rule, String bus) {
    return new LambdaError(
        "ResourceNotFoundException",
        400,
        "Rule " + rule + " does not exist on EventBus " + bus + ".");
  }

  static LambdaError busExists(String bus) {
    return new LambdaError(
        "ResourceAlreadyExistsException", 400, "Event bus " + bus + " already exists.");
  }

  static LambdaError invalidPattern(String reason) {
    return new LambdaError(
        "InvalidEventPatternException", 400, "Event pattern is not valid. Reason: " + reason);
  }

  static LambdaError limitExceeded() {
    return new LambdaError(
        "LimitExceededException",
        400,
        "The requested resource exceeds the maximum number allowed.");
  }

  static LambdaError resourceNotFound(String message) {
    return new LambdaError("ResourceNotFoundException", 400, message);
  }
}
