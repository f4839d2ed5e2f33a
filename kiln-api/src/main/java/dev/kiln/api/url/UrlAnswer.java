package dev.kiln.api.url;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a function URL answers for its function's result, as Lambda maps a payload format 2.0
 * response: a JSON object with {@code statusCode} gives the status, {@code headers}, {@code
 * cookies} (each a {@code Set-Cookie}) and {@code body} ({@code isBase64Encoded} for bytes); any
 * other JSON (an object without {@code statusCode}, an array, a number) is the body of a 200 {@code
 * application/json} answer; a JSON string is that string's text as the body. The failures answer as
 * function URLs do: a function error 502, a throttle 429, a request too large 413, an unknown URL
 * 404, a refusal 403, each with a {@code {"Message": ...}} body.
 */
public final class UrlAnswer {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** One HTTP answer: status, headers in order (a name may repeat), body. */
  public record Http(int status, List<Map.Entry<String, String>> headers, byte[] body) {}

  private UrlAnswer() {}

  /** The answer for a function's successful result {@code payload}. */
  public static Http ofResult(byte[] payload) {
    JsonNode result;
    try {
      result = JSON.readTree(payload);
    } catch (IOException notJson) {
      result = null;
    }
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    if (result == null || result.isMissingNode()) {
      headers.add(Map.entry("Content-Type", "application/json"));
      return new Http(200, headers, payload);
    }
    if (result.isTextual()) {
      headers.add(Map.entry("Content-Type", "application/json"));
      return new Http(200, headers, result.asText().getBytes(StandardCharsets.UTF_8));
    }
    if (!result.isObject() || !result.has("statusCode")) {
      headers.add(Map.entry("Content-Type", "application/json"));
      return new Http(200, headers, payload);
    }
    int status = result.path("statusCode").asInt(-1);
    if (status < 100 || status > 599) {
      return failure(502, "Internal Server Error");
    }
    Map<String, String> named = new LinkedHashMap<>();
    result
        .path("headers")
        .properties()
        .forEach(
            e ->
                named.put(
                    e.getKey(),
                    e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString()));
    if (named.keySet().stream().noneMatch(k -> k.equalsIgnoreCase("content-type"))) {
      named.put("Content-Type", "application/json");
    }
    named.forEach((k, v) -> headers.add(Map.entry(k, v)));
    for (JsonNode cookie : result.path("cookies")) {
      headers.add(Map.entry("Set-Cookie", cookie.asText()));
    }
    JsonNode body = result.path("body");
    byte[] bytes;
    if (body.isMissingNode() || body.isNull()) {
      bytes = new byte[0];
    } else if (result.path("isBase64Encoded").asBoolean(false)) {
      try {
        bytes = java.util.Base64.getDecoder().decode(body.asText());
      } catch (IllegalArgumentException notBase64) {
        return failure(502, "Internal Server Error");
      }
    } else {
      bytes = (body.isTextual() ? body.asText() : body.toString()).getBytes(StandardCharsets.UTF_8);
    }
    return new Http(status, headers, bytes);
  }

  /** A failure's answer: {@code status} with {@code {"Message": message}}. */
  public static Http failure(int status, String message) {
    byte[] body;
    try {
      body = JSON.writeValueAsBytes(Map.of("Message", message));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    return new Http(status, List.of(Map.entry("Content-Type", "application/json")), body);
  }
}
