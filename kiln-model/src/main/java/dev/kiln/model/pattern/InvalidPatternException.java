package dev.kiln.model.pattern;

/**
 * An event pattern that cannot be used, with the reason as the matching engine words it (AWS's
 * EventBridge passes the same words on after "Event pattern is not valid. Reason: "). Each service
 * turns it into its own error: EventBridge's {@code InvalidEventPatternException}, Lambda's {@code
 * InvalidParameterValueException}.
 */
public final class InvalidPatternException extends RuntimeException {

  public InvalidPatternException(String reason) {
    super(reason, null, false, false);
  }

  /** What is wrong with the pattern. */
  public String reason() {
    return getMessage();
  }
}
