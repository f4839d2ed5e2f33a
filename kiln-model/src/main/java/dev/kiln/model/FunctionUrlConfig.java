package dev.kiln.model;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A function URL, as AWS's {@code FunctionUrlConfig}: the URL id it is served under (stable for the
 * config's life), the function and alias it invokes, how callers are authorised ({@code AuthType}),
 * its CORS settings and its invoke mode.
 *
 * @param urlId 32 lowercase letters and digits, the host name's first label
 * @param qualifier the alias the URL invokes; empty for the function itself ({@code $LATEST})
 * @param authType {@code NONE} or {@code AWS_IAM}
 * @param invokeMode {@code BUFFERED} or {@code RESPONSE_STREAM}
 */
public record FunctionUrlConfig(
    String urlId,
    String functionName,
    Optional<String> qualifier,
    String authType,
    Optional<Cors> cors,
    String invokeMode,
    Instant creationTime,
    Instant lastModifiedTime) {

  public static final String AUTH_NONE = "NONE";
  public static final String AUTH_IAM = "AWS_IAM";
  public static final String BUFFERED = "BUFFERED";
  public static final String RESPONSE_STREAM = "RESPONSE_STREAM";

  /** The length of a URL id, as AWS's. */
  public static final int URL_ID_LENGTH = 32;

  private static final Set<String> AUTH_TYPES = Set.of(AUTH_NONE, AUTH_IAM);
  private static final Set<String> INVOKE_MODES = Set.of(BUFFERED, RESPONSE_STREAM);
  private static final Pattern URL_ID = Pattern.compile("[a-z0-9]{" + URL_ID_LENGTH + "}");
  private static final String URL_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
  private static final SecureRandom RANDOM = new SecureRandom();

  public FunctionUrlConfig {
    if (!URL_ID.matcher(urlId).matches()) {
      throw new IllegalArgumentException("not a URL id: " + urlId);
    }
    checkAuthType(authType);
    checkInvokeMode(invokeMode);
  }

  /** A fresh URL id: 32 random lowercase letters and digits, as AWS's look. */
  public static String newUrlId() {
    StringBuilder id = new StringBuilder(URL_ID_LENGTH);
    for (int i = 0; i < URL_ID_LENGTH; i++) {
      id.append(URL_ID_ALPHABET.charAt(RANDOM.nextInt(URL_ID_ALPHABET.length())));
    }
    return id.toString();
  }

  /** Whether {@code text} has the form of a URL id (a host name's first label). */
  public static boolean isUrlId(String text) {
    return URL_ID.matcher(text).matches();
  }

  /** Refuses an {@code AuthType} outside the model's enum, as AWS's request validation words it. */
  public static String checkAuthType(String authType) {
    if (!AUTH_TYPES.contains(authType)) {
      throw LambdaError.validation(
          "authType", authType, "Member must satisfy enum value set: [AWS_IAM, NONE]");
    }
    return authType;
  }

  /** Refuses an {@code InvokeMode} outside the model's enum. */
  public static String checkInvokeMode(String invokeMode) {
    if (!INVOKE_MODES.contains(invokeMode)) {
      throw LambdaError.validation(
          "invokeMode",
          invokeMode,
          "Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]");
    }
    return invokeMode;
  }

  public FunctionUrlConfig withSettings(
      String authType, Optional<Cors> cors, String invokeMode, Instant lastModifiedTime) {
    return new FunctionUrlConfig(
        urlId, functionName, qualifier, authType, cors, invokeMode, creationTime, lastModifiedTime);
  }

  /**
   * A function URL's cross-origin resource sharing settings, checked against the service model's
   * {@code Cors} shape: at most 100 headers of up to 1024 characters each, at most 6 methods of up
   * to 6 characters, at most 100 origins of 1 to 253 characters, and a {@code MaxAge} of 0 to 86400
   * seconds.
   */
  public record Cors(
      Optional<Boolean> allowCredentials,
      List<String> allowHeaders,
      List<String> allowMethods,
      List<String> allowOrigins,
      List<String> exposeHeaders,
      Optional<Integer> maxAge) {

    public Cors {
      allowHeaders = checkList("cors.allowHeaders", allowHeaders, 100, 0, 1024);
      allowMethods = checkList("cors.allowMethods", allowMethods, 6, 0, 6);
      allowOrigins = checkList("cors.allowOrigins", allowOrigins, 100, 1, 253);
      exposeHeaders = checkList("cors.exposeHeaders", exposeHeaders, 100, 0, 1024);
      maxAge.ifPresent(
          age -> {
            if (age < 0) {
              throw LambdaError.validation(
                  "cors.maxAge", age, "Member must have value greater than or equal to 0");
            }
            if (age > 86_400) {
              throw LambdaError.validation(
                  "cors.maxAge", age, "Member must have value less than or equal to 86400");
            }
          });
    }

    /** Nothing set. */
    public static Cors empty() {
      return new Cors(
          Optional.empty(), List.of(), List.of(), List.of(), List.of(), Optional.empty());
    }

    private static List<String> checkList(
        String field, List<String> values, int maxItems, int minLength, int maxLength) {
      List<String> copy = List.copyOf(values);
      if (copy.size() > maxItems) {
        throw LambdaError.validation(
            field,
            "[" + String.join(", ", copy) + "]",
            "Member must have length less than or equal to " + maxItems);
      }
      for (String value : copy) {
        if (value.length() > maxLength) {
          throw LambdaError.validation(
              field,
              "[" + String.join(", ", copy) + "]",
              "Member must satisfy constraint: [Member must have length less than or equal to "
                  + maxLength
                  + "]");
        }
        if (value.length() < minLength) {
          throw LambdaError.validation(
              field,
              "[" + String.join(", ", copy) + "]",
              "Member must satisfy constraint: [Member must have length greater than or equal to "
                  + minLength
                  + "]");
        }
      }
      return copy;
    }
  }
}
