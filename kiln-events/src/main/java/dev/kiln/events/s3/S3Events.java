package dev.kiln.events.s3;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.events.BusEvent;
import dev.kiln.model.Account;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * What a store's record becomes: the event S3 sends a function ({@code Records} with one record,
 * {@code eventVersion} 2.1, {@code eventSource} {@code aws:s3}), and the event S3 puts on
 * EventBridge's default bus ({@code Object Created}, {@code Object Deleted}).
 *
 * <p>In S3's record the key is URL-encoded as S3 encodes it: as an HTML form encodes a value
 * (spaces as {@code +}, everything but letters, digits and {@code -_.*} as {@code %XX} of its UTF-8
 * bytes), except that {@code /} stays; on EventBridge it is as it is. The region is Kiln's; the
 * bucket's ARN {@code arn:aws:s3:::<bucket>}; the owner, requester, request id and sequencer are
 * the store's where it gave them (a sequencer it did not give is the event time's nanoseconds in
 * hex, which orders one key's events as S3's does).
 */
public final class S3Events {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final DateTimeFormatter S3_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  /** The service principal S3 invokes functions as. */
  public static final String PRINCIPAL = "s3.amazonaws.com";

  private S3Events() {}

  public static String bucketArn(String bucket) {
    return "arn:aws:s3:::" + bucket;
  }

  /** A key as S3 writes it in its records. */
  public static String encodeKey(String key) {
    return URLEncoder.encode(key, StandardCharsets.UTF_8).replace("%2F", "/");
  }

  /**
   * The event S3 invokes a function with for {@code record}, matched by {@code configurationId}.
   */
  public static ObjectNode lambdaEvent(
      StoreRecord record, String configurationId, Account account) {
    ObjectNode event = JSON.createObjectNode();
    ObjectNode r = event.putArray("Records").addObject();
    r.put("eventVersion", "2.1");
    r.put("eventSource", "aws:s3");
    r.put("awsRegion", account.region());
    r.put("eventTime", S3_TIME.format(record.eventTime()));
    r.put("eventName", record.eventName());
    r.putObject("userIdentity").put("principalId", principal(record));
    r.putObject("requestParameters").put("sourceIPAddress", record.sourceIp().orElse(""));
    ObjectNode response = r.putObject("responseElements");
    response.put("x-amz-request-id", requestId(record));
    response.put("x-amz-id-2", record.hostId().orElse(""));
    ObjectNode s3 = r.putObject("s3");
    s3.put("s3SchemaVersion", "1.0");
    s3.put("configurationId", configurationId);
    ObjectNode bucket = s3.putObject("bucket");
    bucket.put("name", record.bucket());
    bucket.putObject("ownerIdentity").put("principalId", principal(record));
    bucket.put("arn", bucketArn(record.bucket()));
    ObjectNode object = s3.putObject("object");
    object.put("key", encodeKey(record.key()));
    if (!record.eventName().startsWith("ObjectRemoved:")) {
      // S3's records of deletions carry no size or ETag
      record.size().ifPresent(size -> object.put("size", size));
      record.eTag().ifPresent(tag -> object.put("eTag", tag));
    }
    record.versionId().ifPresent(v -> object.put("versionId", v));
    object.put("sequencer", sequencer(record));
    return event;
  }

  /**
   * The EventBridge event S3 puts on the default bus for {@code record}: {@code Object Created} and
   * {@code Object Deleted}; empty for the event types this Kiln does not put there.
   */
  public static Optional<BusEvent> busEvent(StoreRecord record, Account account) {
    boolean created = record.eventName().startsWith("ObjectCreated:");
    boolean deleted = record.eventName().startsWith("ObjectRemoved:");
    if (!created && !deleted) {
      return Optional.empty();
    }
    ObjectNode detail = JSON.createObjectNode();
    detail.put("version", "0");
    detail.putObject("bucket").put("name", record.bucket());
    ObjectNode object = detail.putObject("object");
    object.put("key", record.key());
    if (created) {
      record.size().ifPresent(size -> object.put("size", size));
      record.eTag().ifPresent(tag -> object.put("etag", tag));
    }
    record.versionId().ifPresent(v -> object.put("version-id", v));
    object.put("sequencer", sequencer(record));
    detail.put("request-id", requestId(record));
    detail.put("requester", account.accountId());
    detail.put("source-ip-address", record.sourceIp().orElse(""));
    String action = record.eventName().substring(record.eventName().indexOf(':') + 1);
    if (created) {
      detail.put(
          "reason",
          switch (action) {
            case "Post" -> "POST Object";
            case "Copy" -> "CopyObject";
            case "CompleteMultipartUpload" -> "CompleteMultipartUpload";
            default -> "PutObject";
          });
    } else {
      detail.put("reason", "DeleteObject");
      detail.put(
          "deletion-type",
          action.equals("DeleteMarkerCreated") ? "Delete Marker Created" : "Permanently Deleted");
    }
    return Optional.of(
        new BusEvent(
            "aws.s3",
            created ? "Object Created" : "Object Deleted",
            detail,
            List.of(bucketArn(record.bucket())),
            Optional.of(record.eventTime())));
  }

  private static String principal(StoreRecord record) {
    return record.principalId().orElse("AWS:kiln");
  }

  private static String requestId(StoreRecord record) {
    return record.requestId().orElse("");
  }

  private static String sequencer(StoreRecord record) {
    return record
        .sequencer()
        .orElseGet(
            () -> {
              long nanos =
                  record.eventTime().getEpochSecond() * 1_000_000_000L
                      + record.eventTime().getNano();
              return HexFormat.of().withUpperCase().toHexDigits(nanos);
            });
  }
}
