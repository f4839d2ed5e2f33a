package dev.kiln.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.model.LambdaError;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;
import java.nio.charset.StandardCharsets;

/**
 * Writes errors the way the Lambda service does in its REST-JSON protocol: the error shape's name
 * in {@code x-amzn-ErrorType}, the status code from the model, and a JSON body with {@code Type}
 * and {@code message} (plus members such as {@code Reason}). The SDKs, the CLI and boto3 all read
 * this shape to raise their typed exceptions.
 */
final class AwsErrors {

  private static final ObjectMapper JSON = new ObjectMapper();

  private AwsErrors() {}

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
