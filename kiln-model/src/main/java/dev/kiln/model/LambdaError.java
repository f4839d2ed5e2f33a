package dev.kiln.model;

import java.util.Map;
import java.util.Optional;

/**
 * An error a caller can see, shaped as the Lambda service shapes it: the error shape's name (sent
 * as {@code x-amzn-ErrorType}), the HTTP status, a message that names what was wrong, and for a few
 * shapes an extra member such as {@code Reason}.
 *
 * <p>Everything that can go wrong because of a request is thrown as one of these, from any layer;
 * the API layer is the only place that turns it into bytes. Anything else that escapes is a bug and
 * becomes a 500 {@code ServiceException} without internals.
 *
 * <p>The two refusals the platform itself acts on are subclasses, so that code decides by type and
 * never by status or type name: {@link Throttled} (no room now; an asynchronous event waits and
 * tries again) and {@link NotFound} (the function or qualifier is gone; its events are dropped).
 */
public class LambdaError extends RuntimeException {

  private final String errorType;
  private final int status;
  private final Map<String, String> extraMembers;

  public LambdaError(String errorType, int status, String message) {
    this(errorType, status, message, Map.of());
  }

  public LambdaError(String errorType, int status, String message, Map<String, String> extra) {
    super(message, null, false, false);
    this.errorType = errorType;
    this.status = status;
    this.extraMembers = Map.copyOf(extra);
  }

  public String errorType() {
    return errorType;
  }

  public int status() {
    return status;
  }

  /** Members besides {@code message} and {@code Type}, such as {@code Reason}. */
  public Map<String, String> extraMembers() {
    return extraMembers;
  }

  public Optional<String> extraMember(String name) {
    return Optional.ofNullable(extraMembers.get(name));
  }

  public static LambdaError invalidParameter(String message) {
    return new LambdaError("InvalidParameterValueException", 400, message);
  }

  /**
   * A value that breaks the service model's own constraints (length, range, pattern, enum), worded
   * as AWS's request validation words it.
   */
  public static LambdaError validation(String field, Object value, String constraint) {
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

  public static LambdaError serialization(String message) {
    return new LambdaError("SerializationException", 400, message);
  }

  public static NotFound notFound(String message) {
    return new NotFound(message);
  }

  public static NotFound functionNotFound(String functionArn) {
    return notFound("Function not found: " + functionArn);
  }

  /** AddPermission (of a function or a layer version) with a statement id already used. */
  public static LambdaError statementExists(String statementId) {
    return conflict(
        "The statement id ("
            + statementId
            + ") provided already exists. Please provide a new statement id, or remove the"
            + " existing statement.");
  }

  /** RemovePermission (of a function or a layer version) of a statement id not in the policy. */
  public static LambdaError statementNotFound(String statementId) {
    return notFound("Statement " + statementId + " is not found in resource policy.");
  }

  public static LambdaError conflict(String message) {
    return new LambdaError("ResourceConflictException", 409, message);
  }

  /** ResourceInUseException: the resource is busy with another operation. */
  public static LambdaError inUse(String message) {
    return new LambdaError("ResourceInUseException", 400, message);
  }

  public static LambdaError preconditionFailed(String message) {
    return new LambdaError("PreconditionFailedException", 412, message);
  }

  public static LambdaError requestTooLarge(String message) {
    return new LambdaError("RequestTooLargeException", 413, message);
  }

  public static LambdaError requestEntityTooLarge(String message) {
    return new LambdaError("RequestEntityTooLargeException", 413, message);
  }

  public static LambdaError invalidRequestContent(String message) {
    return new LambdaError("InvalidRequestContentException", 400, message);
  }

  public static LambdaError service(String message) {
    return new LambdaError("ServiceException", 500, message);
  }

  public static LambdaError unavailable(String message) {
    return new LambdaError("ServiceException", 503, message);
  }

  public static Throttled tooManyRequests(String message, String reason) {
    return new Throttled(message, reason, Map.of("Reason", reason));
  }

  /**
   * The extra member that carries how long a throttled caller should wait; the protocol sends it as
   * the {@code Retry-After} header, not in the body.
   */
  public static final String RETRY_AFTER_SECONDS = "RetryAfterSeconds";

  /** A throttle that tells the caller when to try again. */
  public static Throttled tooManyRequests(String message, String reason, String retryAfterSeconds) {
    return new Throttled(
        message, reason, Map.of("Reason", reason, RETRY_AFTER_SECONDS, retryAfterSeconds));
  }

  /**
   * A {@code TooManyRequestsException}: a limit left no room for the invocation now.
   *
   * <p>{@link #reason()} is AWS's {@code Reason} member, such as {@code
   * ConcurrentInvocationLimitExceeded}, and the {@code reason} label of Kiln's throttle metric.
   */
  public static final class Throttled extends LambdaError {
    private final String reason;

    private Throttled(String message, String reason, Map<String, String> extra) {
      super("TooManyRequestsException", 429, message, extra);
      this.reason = reason;
    }

    public String reason() {
      return reason;
    }
  }

  /** A {@code ResourceNotFoundException}: what the request names does not exist. */
  public static final class NotFound extends LambdaError {
    private NotFound(String message) {
      super("ResourceNotFoundException", 404, message);
    }
  }
}
