package dev.kiln.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.model.LambdaError;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.DirectHandlers;
import io.helidon.webserver.http.ServerResponse;
import java.nio.charset.StandardCharsets;

/**
 * Writes errors the way the Lambda service does in its REST-JSON protocol: the error shape's name
 * in {@code x-amzn-ErrorType}, the status code from the model, and a JSON body with {@code Type}
 * and {@code message} (plus members such as {@code Reason}). The SDKs, the CLI and boto3 all read
 * this shape to raise their typed exceptions.
 */
public final class AwsErrors {

  private static final ObjectMapper JSON = new ObjectMapper();

  private AwsErrors() {}

  /**
   * Errors the HTTP layer answers before any route runs (a request line or headers too long, a
   * malformed request, a body over the server's limit, a client that stalled mid-request), in the
   * same shape, so that no client ever sees a bare status or an HTML page: 413 is {@code
   * RequestTooLargeException}, 408 {@code RequestTimeoutException}, anything else {@code
   * ValidationException}, with the HTTP layer's reason as the message.
   */
  public static DirectHandlers transportErrors() {
    DirectHandler handler =
        (request, event, status, headers, message) -> {
          int code = status.code();
          String type =
              code == 413
                  ? "RequestTooLargeException"
                  : code == 408
                      ? "RequestTimeoutException"
                      : code >= 500 ? "ServiceException" : "ValidationException";
          String text =
              switch (code) {
                case 413 -> "Request must be smaller than the server's limit: " + message;
                case 414 -> "The request line is too long: " + message;
                case 431 -> "The request headers are too large: " + message;
                case 408 ->
                    "The client did not send the request in time"
                        + (message == null || message.isBlank() ? "" : ": " + message);
                case 400 ->
                    message == null || message.isBlank() || message.equals("Bad Request")
                        ? "Bad Request: the request is not valid HTTP, or its request line or"
                            + " headers exceed the server's limits"
                        : message;
                default -> message == null || message.isBlank() ? status.reasonPhrase() : message;
              };
          ObjectNode body = JSON.createObjectNode();
          body.put("Type", code >= 500 ? "Service" : "User");
          body.put("message", text);
          return DirectHandler.TransportResponse.builder()
              .status(status)
              .headers(headers)
              .header(HeaderNames.create("x-amzn-ErrorType"), type)
              .header(HeaderNames.CONTENT_TYPE, "application/json")
              .keepAlive(event.keepAlive())
              .entity(body.toString().getBytes(StandardCharsets.UTF_8))
              .build();
        };
    DirectHandlers.Builder b = DirectHandlers.builder();
    for (DirectHandler.EventType event : DirectHandler.EventType.values()) {
      b.addHandler(event, handler);
    }
    return b.build();
  }

  /**
   * An error of the authentication gate, before any operation: in both protocols' shapes at once,
   * since the gate serves the Lambda REST API and CloudWatch Logs' JSON 1.1 ({@code __type}).
   */
  public static void sendFromGate(ServerResponse res, LambdaError error) {
    ObjectNode body = JSON.createObjectNode();
    body.put("__type", error.errorType());
    body.put("Type", error.status() >= 500 ? "Service" : "User");
    body.put("message", error.getMessage());
    res.status(error.status())
        .header("x-amzn-ErrorType", error.errorType())
        .header("x-amzn-RequestId", java.util.UUID.randomUUID().toString())
        .header(HeaderNames.CONTENT_TYPE, "application/json")
        .send(body.toString().getBytes(StandardCharsets.UTF_8));
  }

  static void send(ServerResponse res, String requestId, LambdaError error) {
    ObjectNode body = JSON.createObjectNode();
    body.put("Type", error.status() >= 500 ? "Service" : "User");
    body.put("message", error.getMessage());
    // the retry hint is a header member (Retry-After), not part of the body
    error.extraMembers().entrySet().stream()
        .filter(e -> !e.getKey().equals(LambdaError.RETRY_AFTER_SECONDS))
        .forEach(e -> body.put(e.getKey(), e.getValue()));
    res.status(error.status())
        .header("x-amzn-ErrorType", error.errorType())
        .header("x-amzn-RequestId", requestId)
        .header(HeaderNames.CONTENT_TYPE, "application/json");
    error.extraMember(LambdaError.RETRY_AFTER_SECONDS).ifPresent(s -> res.header("Retry-After", s));
    res.send(body.toString().getBytes(StandardCharsets.UTF_8));
  }
}
