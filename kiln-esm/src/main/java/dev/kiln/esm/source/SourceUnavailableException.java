package dev.kiln.esm.source;

/**
 * A source that cannot be read now: unreachable, refusing the credentials, missing the topic, queue
 * or publication. The message is what the mapping's StateTransitionReason and LastProcessingResult
 * say, e.g. "PROBLEM: Connection error. Please check your event source connection configuration."
 * as AWS words it.
 */
public class SourceUnavailableException extends Exception {

  public SourceUnavailableException(String message) {
    super(message);
  }

  public SourceUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
