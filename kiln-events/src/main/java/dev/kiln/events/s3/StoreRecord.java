package dev.kiln.events.s3;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.model.LambdaError;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One object-storage event as an S3-compatible store pushed it, read into what S3's own record
 * says. Two documented formats are read:
 *
 * <ul>
 *   <li>MinIO's webhook target: {@code {"EventName": "s3:ObjectCreated:Put", "Key": "bucket/key",
 *       "Records": [...]}}, records of {@code eventSource} {@code minio:s3}, {@code eventName} with
 *       the {@code s3:} prefix, and the object key URL-encoded (MinIO's {@code url.QueryEscape});
 *   <li>Ceph RGW's HTTP push endpoint: {@code {"Records": [...]}}, records of {@code eventSource}
 *       {@code ceph:s3}, {@code eventName} {@code ObjectCreated:Put} (older releases wrote {@code
 *       s3:ObjectCreated:Put}), the key as it is, and {@code size} a number or a string.
 * </ul>
 *
 * Records of {@code eventSource} {@code aws:s3} (S3's own, URL-encoded keys) are read too. {@link
 * #parse} refuses the whole payload, naming the field, if any record lacks what S3's record must
 * have.
 *
 * @param eventName S3's record form, without {@code s3:} ({@code ObjectCreated:Put})
 * @param key the object's key, decoded
 */
public record StoreRecord(
    String source,
    String eventName,
    Instant eventTime,
    String bucket,
    String key,
    Optional<Long> size,
    Optional<String> eTag,
    Optional<String> versionId,
    Optional<String> sequencer,
    Optional<String> principalId,
    Optional<String> sourceIp,
    Optional<String> requestId,
    Optional<String> hostId) {

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The records of one push.
   *
   * @throws LambdaError 400 InvalidRequestContentException naming what is wrong
   */
  public static List<StoreRecord> parse(byte[] body) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw bad("the body is not JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    if (root == null || !root.isObject()) {
      throw bad("the body must be a JSON object with Records");
    }
    JsonNode records = root.path("Records");
    if (!records.isArray() || records.isEmpty()) {
      throw bad("Records must be a non-empty array");
    }
    List<StoreRecord> out = new ArrayList<>();
    for (int i = 0; i < records.size(); i++) {
      out.add(record(records.get(i), "Records[" + i + "]."));
    }
    return List.copyOf(out);
  }

  private static StoreRecord record(JsonNode r, String at) {
    if (!r.isObject()) {
      throw bad(at.substring(0, at.length() - 1) + " must be an object");
    }
    String source = required(r, "eventSource", at);
    boolean encodedKeys =
        switch (source) {
          case "minio:s3", "aws:s3" -> true;
          case "ceph:s3" -> false;
          default ->
              throw bad(
                  at + "eventSource must be minio:s3, ceph:s3 or aws:s3, got \"" + source + "\"");
        };
    String eventName = required(r, "eventName", at);
    if (eventName.startsWith("s3:")) {
      eventName = eventName.substring(3);
    }
    if (!eventName.matches("[A-Za-z]+(:[A-Za-z]+)*")) {
      throw bad(at + "eventName must be an S3 event type such as ObjectCreated:Put");
    }
    String timeText = required(r, "eventTime", at);
    Instant eventTime;
    try {
      eventTime = OffsetDateTime.parse(timeText).toInstant();
    } catch (DateTimeParseException e) {
      throw bad(at + "eventTime must be an ISO-8601 time, got \"" + timeText + "\"");
    }
    JsonNode s3 = r.path("s3");
    String bucket = required(s3.path("bucket"), "name", at + "s3.bucket.");
    JsonNode object = s3.path("object");
    String rawKey = required(object, "key", at + "s3.object.");
    String key;
    try {
      key = encodedKeys ? URLDecoder.decode(rawKey, StandardCharsets.UTF_8) : rawKey;
    } catch (IllegalArgumentException e) {
      throw bad(at + "s3.object.key is not URL-encoded as " + source + " encodes keys");
    }
    Optional<Long> size = Optional.empty();
    JsonNode sizeNode = object.path("size");
    if (sizeNode.isIntegralNumber()) {
      size = Optional.of(sizeNode.asLong());
    } else if (sizeNode.isTextual() && sizeNode.asText().matches("[0-9]{1,19}")) {
      size = Optional.of(Long.parseLong(sizeNode.asText()));
    } else if (!sizeNode.isMissingNode() && !sizeNode.isNull()) {
      throw bad(at + "s3.object.size must be a number of bytes, got " + sizeNode);
    }
    return new StoreRecord(
        source,
        eventName,
        eventTime,
        bucket,
        key,
        size,
        optional(object, "eTag"),
        optional(object, "versionId"),
        optional(object, "sequencer"),
        optional(r.path("userIdentity"), "principalId"),
        optional(r.path("requestParameters"), "sourceIPAddress"),
        optional(r.path("responseElements"), "x-amz-request-id"),
        optional(r.path("responseElements"), "x-amz-id-2"));
  }

  private static String required(JsonNode node, String field, String at) {
    JsonNode v = node.path(field);
    if (!v.isTextual() || v.asText().isEmpty()) {
      throw bad(at + field + " must be a non-empty string");
    }
    return v.asText();
  }

  private static Optional<String> optional(JsonNode node, String field) {
    JsonNode v = node.path(field);
    return v.isTextual() && !v.asText().isEmpty() ? Optional.of(v.asText()) : Optional.empty();
  }

  private static LambdaError bad(String what) {
    return LambdaError.invalidRequestContent("Malformed object-storage notification: " + what);
  }
}
