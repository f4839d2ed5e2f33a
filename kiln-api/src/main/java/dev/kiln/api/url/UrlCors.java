package dev.kiln.api.url;

import dev.kiln.model.FunctionUrlConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A function URL's CORS, as Lambda applies a URL's {@code Cors} configuration: a preflight ({@code
 * OPTIONS} with {@code Origin} and {@code Access-Control-Request-Method}) is answered by Lambda
 * itself, without invoking the function, and other requests from an allowed origin get the
 * configured response headers added. An origin not allowed gets no CORS headers, so the browser
 * refuses the answer.
 */
public final class UrlCors {

  private UrlCors() {}

  /** The allowed origin to echo for {@code origin}: {@code *} when all are allowed. */
  static Optional<String> allowedOrigin(FunctionUrlConfig.Cors cors, String origin) {
    for (String o : cors.allowOrigins()) {
      if (o.equals("*")) {
        return Optional.of(cors.allowCredentials().orElse(false) ? origin : "*");
      }
      if (o.equalsIgnoreCase(origin)) {
        return Optional.of(origin);
      }
    }
    return Optional.empty();
  }

  /** Whether a request is a CORS preflight. */
  public static boolean isPreflight(
      String method, Optional<String> origin, Optional<String> requestMethod) {
    return method.equals("OPTIONS") && origin.isPresent() && requestMethod.isPresent();
  }

  /** The headers of the answer to a preflight from {@code origin}. */
  public static List<Map.Entry<String, String>> preflight(
      FunctionUrlConfig.Cors cors,
      String origin,
      String requestMethod,
      Optional<String> requestHeaders) {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    Optional<String> allowed = allowedOrigin(cors, origin);
    boolean methodAllowed =
        cors.allowMethods().stream()
            .anyMatch(m -> m.equals("*") || m.equalsIgnoreCase(requestMethod));
    if (allowed.isEmpty() || !methodAllowed) {
      return out;
    }
    out.add(Map.entry("Access-Control-Allow-Origin", allowed.get()));
    out.add(
        Map.entry(
            "Access-Control-Allow-Methods",
            cors.allowMethods().contains("*")
                ? requestMethod.toUpperCase(Locale.ROOT)
                : String.join(",", cors.allowMethods())));
    if (!cors.allowHeaders().isEmpty()) {
      out.add(
          Map.entry(
              "Access-Control-Allow-Headers",
              cors.allowHeaders().contains("*") && requestHeaders.isPresent()
                  ? requestHeaders.get()
                  : String.join(",", cors.allowHeaders())));
    }
    cors.maxAge().ifPresent(a -> out.add(Map.entry("Access-Control-Max-Age", Integer.toString(a))));
    if (cors.allowCredentials().orElse(false)) {
      out.add(Map.entry("Access-Control-Allow-Credentials", "true"));
    }
    if (!allowed.get().equals("*")) {
      out.add(Map.entry("Vary", "Origin"));
    }
    return out;
  }

  /** The headers added to an answer to a request from {@code origin}. */
  public static List<Map.Entry<String, String>> response(
      FunctionUrlConfig.Cors cors, String origin) {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    Optional<String> allowed = allowedOrigin(cors, origin);
    if (allowed.isEmpty()) {
      return out;
    }
    out.add(Map.entry("Access-Control-Allow-Origin", allowed.get()));
    if (!cors.exposeHeaders().isEmpty()) {
      out.add(Map.entry("Access-Control-Expose-Headers", String.join(",", cors.exposeHeaders())));
    }
    if (cors.allowCredentials().orElse(false)) {
      out.add(Map.entry("Access-Control-Allow-Credentials", "true"));
    }
    if (!allowed.get().equals("*")) {
      out.add(Map.entry("Vary", "Origin"));
    }
    return out;
  }
}
