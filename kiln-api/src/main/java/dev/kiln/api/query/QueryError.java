package dev.kiln.api.query;

/**
 * An error of an AWS Query protocol service (IAM, STS), as the service names it: the code the SDKs
 * map to their exception classes ({@code NoSuchEntity} is {@code NoSuchEntityException}), the HTTP
 * status the model gives it, and the message. Written as {@code <ErrorResponse>} by {@link
 * QueryResponse#error}.
 */
public final class QueryError extends RuntimeException {

  private final String code;
  private final int status;

  public QueryError(String code, int status, String message) {
    super(message, null, false, false);
    this.code = code;
    this.status = status;
  }

  public String code() {
    return code;
  }

  public int status() {
    return status;
  }

  /** A parameter that breaks the model's constraints: AWS's "1 validation error detected". */
  public static QueryError validation(String value, String member, String constraint) {
    return new QueryError(
        "ValidationError",
        400,
        "1 validation error detected: Value "
            + (value == null ? "null" : "'" + value + "'")
            + " at '"
            + member
            + "' failed to satisfy constraint: "
            + constraint);
  }

  /** A required parameter that the request does not carry, in the Query services' words. */
  public static QueryError missing(String parameter) {
    return validation(null, lowerFirst(parameter), "Member must not be null");
  }

  public static String lowerFirst(String s) {
    return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
  }
}
