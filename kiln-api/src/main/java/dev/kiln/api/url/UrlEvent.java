package dev.kiln.api.url;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The event a function URL sends its function: API Gateway's payload format version 2.0, as the
 * Lambda developer guide documents it for function URLs. Header names are lowercased and repeated
 * headers joined with commas; the {@code cookie} header becomes the {@code cookies} list; query
 * parameters are decoded and repeated ones joined with commas beside the raw query string; a body
 * that is not text (by its content type) is base64 with {@code isBase64Encoded}. Members a request
 * has nothing for ({@code cookies}, {@code queryStringParameters}, {@code body}) are left out, as
 * Lambda leaves them out.
 */
public final class UrlEvent {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH)
          .withZone(ZoneOffset.UTC);

  /** The HTTP request, as the server received it. */
  public record Request(
      String method,
      String path,
      String rawQuery,
      List<Map.Entry<String, String>> headers,
      byte[] body,
      String protocol,
      String sourceIp,
      String domainName,
      Instant time) {}

  /** Who signed an AWS_IAM URL's request, for {@code requestContext.authorizer.iam}. */
  public record Iam(
      String accessKey, String accountId, String callerId, String userArn, String userId) {}

  private UrlEvent() {}

  /** The event for {@code request} to the URL {@code urlId} of {@code accountId}'s function. */
  public static byte[] of(
      Request request, String urlId, String accountId, String requestId, Optional<Iam> iam) {
    ObjectNode event = JSON.createObjectNode();
    event.put("version", "2.0");
    event.put("routeKey", "$default");
    event.put("rawPath", request.path());
    event.put("rawQueryString", request.rawQuery());
    Map<String, String> headers = new LinkedHashMap<>();
    List<String> cookies = new ArrayList<>();
    for (Map.Entry<String, String> h : request.headers()) {
      String name = h.getKey().toLowerCase(Locale.ROOT);
      if (name.equals("cookie")) {
        for (String c : h.getValue().split(";")) {
          if (!c.isBlank()) {
            cookies.add(c.strip());
          }
        }
        continue;
      }
      headers.merge(name, h.getValue(), (a, b) -> a + "," + b);
    }
    headers.putIfAbsent("x-forwarded-for", request.sourceIp());
    headers.putIfAbsent(
        "x-forwarded-proto", request.protocol().startsWith("HTTPS") ? "https" : "http");
    if (!cookies.isEmpty()) {
      ArrayNode c = event.putArray("cookies");
      cookies.forEach(c::add);
    }
    ObjectNode h = event.putObject("headers");
    headers.forEach(h::put);
    Map<String, String> query = queryParameters(request.rawQuery());
    if (!query.isEmpty()) {
      ObjectNode q = event.putObject("queryStringParameters");
      query.forEach(q::put);
    }
    ObjectNode context = event.putObject("requestContext");
    context.put("accountId", accountId);
    context.put("apiId", urlId);
    iam.ifPresent(
        i -> {
          ObjectNode who = context.putObject("authorizer").putObject("iam");
          who.put("accessKey", i.accessKey());
          who.put("accountId", i.accountId());
          who.put("callerId", i.callerId());
          who.putNull("cognitoIdentity");
          who.putNull("principalOrgId");
          who.put("userArn", i.userArn());
          who.put("userId", i.userId());
        });
    context.put("domainName", request.domainName());
    context.put("domainPrefix", urlId);
    ObjectNode http = context.putObject("http");
    http.put("method", request.method());
    http.put("path", request.path());
    http.put("protocol", request.protocol());
    http.put("sourceIp", request.sourceIp());
    http.put("userAgent", headers.getOrDefault("user-agent", ""));
    context.put("requestId", requestId);
    context.put("routeKey", "$default");
    context.put("stage", "$default");
    context.put("time", TIME.format(request.time()));
    context.put("timeEpoch", request.time().toEpochMilli());
    if (request.body().length > 0) {
      Optional<String> text =
          isText(headers.getOrDefault("content-type", ""))
              ? utf8(request.body())
              : Optional.empty();
      if (text.isPresent()) {
        event.put("body", text.get());
        event.put("isBase64Encoded", false);
      } else {
        event.put("body", java.util.Base64.getEncoder().encodeToString(request.body()));
        event.put("isBase64Encoded", true);
      }
    } else {
      event.put("isBase64Encoded", false);
    }
    try {
      return JSON.writeValueAsBytes(event);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Decoded query parameters, repeated ones joined with commas, in the order first sent. */
  static Map<String, String> queryParameters(String raw) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, String> p :
        dev.kiln.api.auth.FormEncoding.decode(raw == null ? "" : raw)) {
      out.merge(p.getKey(), p.getValue(), (x, y) -> x + "," + y);
    }
    return out;
  }

  /** Whether a body of this content type goes to the function as text rather than base64. */
  static boolean isText(String contentType) {
    String t = contentType.toLowerCase(Locale.ROOT);
    return t.startsWith("text/")
        || t.contains("json")
        || t.contains("xml")
        || t.contains("javascript")
        || t.startsWith("application/x-www-form-urlencoded")
        || t.startsWith("application/yaml")
        || t.startsWith("application/graphql");
  }

  private static Optional<String> utf8(byte[] body) {
    try {
      return Optional.of(
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(body))
              .toString());
    } catch (CharacterCodingException binary) {
      return Optional.empty();
    }
  }
}
