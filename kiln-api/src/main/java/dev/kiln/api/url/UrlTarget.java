package dev.kiln.api.url;

import java.util.List;
import java.util.Optional;

/**
 * What a function URL leads to, as the URL server needs it: the function (and alias) it invokes,
 * how callers are authorised ({@code NONE} or {@code AWS_IAM}), its CORS rules and its invoke mode
 * ({@code BUFFERED} or {@code RESPONSE_STREAM}).
 */
public record UrlTarget(
    String urlId,
    String functionName,
    Optional<String> qualifier,
    String functionArn,
    String authType,
    Optional<Cors> cors,
    String invokeMode) {

  /** A URL's CORS configuration, as CreateFunctionUrlConfig's {@code Cors} gives it. */
  public record Cors(
      Optional<Boolean> allowCredentials,
      List<String> allowHeaders,
      List<String> allowMethods,
      List<String> allowOrigins,
      List<String> exposeHeaders,
      Optional<Integer> maxAge) {}

  /** Finds the URL an id names; empty for an id no URL has. */
  @FunctionalInterface
  public interface Lookup {
    Optional<UrlTarget> byUrlId(String urlId);
  }
}
