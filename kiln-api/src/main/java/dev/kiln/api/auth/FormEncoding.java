package dev.kiln.api.auth;

import dev.kiln.model.LambdaError;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code application/x-www-form-urlencoded}, as query strings and the AWS Query protocol's bodies
 * carry it: {@code name=value} pairs joined by {@code &}, percent-encoded. One decoder for both, so
 * that what the signature covers and what an operation reads are the same parameters.
 */
public final class FormEncoding {

  private FormEncoding() {}

  /** The pairs of {@code raw}, decoded, in the order sent (a name may come more than once). */
  public static List<Map.Entry<String, String>> decode(String raw) {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    for (String pair : raw.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      out.add(new AbstractMap.SimpleEntry<>(decodeOne(name), decodeOne(value)));
    }
    return out;
  }

  private static String decodeOne(String s) {
    try {
      // a literal '+' arrives encoded (%2B) from every SDK; an unencoded one is a space
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw LambdaError.invalidParameter("The query string is not well formed: '" + s + "'");
    }
  }
}
