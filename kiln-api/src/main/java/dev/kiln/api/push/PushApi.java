package dev.kiln.api.push;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.api.ServiceRoutes;
import dev.kiln.api.auth.FormEncoding;
import dev.kiln.api.auth.RequestAuthentication;
import dev.kiln.events.alarms.Alarms;
import dev.kiln.events.s3.BucketNotifications;
import dev.kiln.events.s3.ObjectNotifications;
import dev.kiln.events.s3.S3Error;
import dev.kiln.model.LambdaError;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;

/**
 * The push sources at Kiln's endpoint:
 *
 * <ul>
 *   <li>{@code POST /kiln/alarms/{function}}: Alertmanager's webhook ({@link Alarms});
 *   <li>{@code POST /kiln/s3-events}: S3-compatible stores' notifications ({@link
 *       ObjectNotifications});
 *   <li>{@code PUT|GET /{bucket}?notification}: S3's PutBucketNotificationConfiguration and
 *       GetBucketNotificationConfiguration (REST-XML, signed for service {@code s3}), which say
 *       which function gets which bucket's events.
 * </ul>
 *
 * The two receivers are outside the Signature Version 4 gate and check a webhook token instead
 * ({@link WebhookTokens}; none is needed with {@code --insecure-no-auth}). Errors of the receivers
 * are Lambda's JSON errors; those of the S3 operations S3's XML {@code <Error>}.
 */
public final class PushApi implements ServiceRoutes {

  public static final String ALARMS = "/kiln/alarms/";
  public static final String S3_EVENTS = "/kiln/s3-events";

  /** The largest webhook body a receiver reads. */
  static final int MAX_WEBHOOK_BODY = 1024 * 1024;

  /** The largest notification configuration (S3 has no documented limit; this is generous). */
  static final int MAX_CONFIGURATION = 256 * 1024;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Alarms alarms;
  private final ObjectNotifications notifications;
  private final BucketNotifications buckets;
  private final Optional<WebhookTokens> tokens;

  /**
   * @param tokens empty when authentication is off
   */
  public PushApi(
      Alarms alarms,
      ObjectNotifications notifications,
      BucketNotifications buckets,
      Optional<WebhookTokens> tokens) {
    this.alarms = alarms;
    this.notifications = notifications;
    this.buckets = buckets;
    this.tokens = tokens;
  }

  /** Whether a path is one of the receivers, which the gate lets through to check themselves. */
  public static boolean isReceiver(String path) {
    return path.startsWith(ALARMS) || path.equals(S3_EVENTS);
  }

  /** Whether a request is one of the S3 operations: {@code /{bucket}?notification}. */
  public static boolean isS3(String path, String rawQuery) {
    return path.matches("/[^/]+/?")
        && FormEncoding.decode(rawQuery).stream().anyMatch(p -> p.getKey().equals("notification"));
  }

  @Override
  public void routes(HttpRouting.Builder r) {
    r.post(ALARMS + "{function}", this::alarm)
        .post(S3_EVENTS, this::objectEvents)
        .put("/{bucket}", this::putNotification)
        .get("/{bucket}", this::getNotification);
  }

  private void alarm(ServerRequest req, ServerResponse res) throws IOException {
    String function = req.path().pathParameters().get("function");
    authenticate(req, ALARMS + function);
    List<String> ids = alarms.receive(function, body(req, MAX_WEBHOOK_BODY));
    ObjectNode answer = JSON.createObjectNode();
    answer.put("alarms", ids.size());
    ids.forEach(answer.putArray("requestIds")::add);
    json(res, answer);
  }

  private void objectEvents(ServerRequest req, ServerResponse res) throws IOException {
    authenticate(req, S3_EVENTS);
    ObjectNotifications.Outcome outcome = notifications.receive(body(req, MAX_WEBHOOK_BODY));
    ObjectNode answer = JSON.createObjectNode();
    answer.put("records", outcome.records());
    answer.put("invocations", outcome.invocations());
    answer.put("busEvents", outcome.busEvents());
    answer.put("failed", outcome.failed());
    json(res, answer);
  }

  private void putNotification(ServerRequest req, ServerResponse res) throws IOException {
    if (!isS3(req.path().rawPath(), req.query().rawValue())) {
      res.next();
      return;
    }
    String bucket = req.path().pathParameters().get("bucket");
    try {
      buckets.put(bucket, body(req, MAX_CONFIGURATION));
      res.header("x-amz-request-id", requestId()).status(Status.OK_200).send();
    } catch (S3Error e) {
      s3Error(res, e);
    }
  }

  private void getNotification(ServerRequest req, ServerResponse res) {
    if (!isS3(req.path().rawPath(), req.query().rawValue())) {
      res.next();
      return;
    }
    String bucket = req.path().pathParameters().get("bucket");
    try {
      String xml = buckets.get(bucket).toXml();
      res.header(HeaderNames.CONTENT_TYPE, "application/xml")
          .header("x-amz-request-id", requestId())
          .send(xml);
    } catch (S3Error e) {
      s3Error(res, e);
    }
  }

  private void authenticate(ServerRequest req, String receiverPath) {
    if (tokens.isEmpty()) {
      return;
    }
    Optional<String> queryToken =
        FormEncoding.decode(req.query().rawValue()).stream()
            .filter(p -> p.getKey().equals("token"))
            .map(Map.Entry::getValue)
            .findFirst();
    tokens
        .get()
        .check(
            WebhookTokens.presented(req.headers().first(HeaderNames.AUTHORIZATION), queryToken),
            receiverPath);
  }

  private static byte[] body(ServerRequest req, int limit) throws IOException {
    Optional<byte[]> read = RequestAuthentication.body(req);
    byte[] bytes;
    if (read.isPresent()) {
      bytes = read.get();
    } else if (!req.content().hasEntity()) {
      bytes = new byte[0];
    } else {
      try (InputStream in = req.content().inputStream()) {
        bytes = in.readNBytes(limit + 1);
      }
    }
    if (bytes.length > limit) {
      throw LambdaError.requestEntityTooLarge("Request must be smaller than " + limit + " bytes");
    }
    return bytes;
  }

  private static void json(ServerResponse res, ObjectNode answer) {
    res.header(HeaderNames.CONTENT_TYPE, "application/json").send(answer.toString());
  }

  private static String requestId() {
    return UUID.randomUUID().toString().replace("-", "").substring(0, 16).toUpperCase();
  }

  /** A refusal of the authentication gate to an S3 operation, in S3's shape and codes. */
  public static void gateError(io.helidon.webserver.http.RoutingResponse res, LambdaError e) {
    String code =
        switch (e.errorType()) {
          case "AccessDeniedException" -> "AccessDenied";
          case "UnrecognizedClientException" -> "InvalidAccessKeyId";
          case "InvalidSignatureException" -> "SignatureDoesNotMatch";
          case "MissingAuthenticationTokenException" -> "AccessDenied";
          case "ExpiredTokenException" -> "ExpiredToken";
          default -> e.errorType().replaceAll("Exception$", "");
        };
    s3Error(res, new S3Error(e.status(), code, e.getMessage(), Map.of()));
  }

  /** An error in S3's REST-XML shape. */
  static void s3Error(ServerResponse res, S3Error e) {
    String requestId = requestId();
    try {
      StringWriter out = new StringWriter();
      XMLStreamWriter w = XMLOutputFactory.newFactory().createXMLStreamWriter(out);
      w.writeStartDocument("UTF-8", "1.0");
      w.writeStartElement("Error");
      element(w, "Code", e.code());
      element(w, "Message", e.getMessage());
      for (Map.Entry<String, String> x : e.extra().entrySet()) {
        element(w, x.getKey(), x.getValue());
      }
      element(w, "RequestId", requestId);
      w.writeEndElement();
      w.writeEndDocument();
      w.close();
      res.status(Status.create(e.status()))
          .header(HeaderNames.CONTENT_TYPE, "application/xml")
          .header("x-amz-request-id", requestId)
          .send(out.toString());
    } catch (XMLStreamException x) {
      throw new IllegalStateException("cannot write an S3 error", x);
    }
  }

  private static void element(XMLStreamWriter w, String name, String text)
      throws XMLStreamException {
    w.writeStartElement(name);
    w.writeCharacters(text);
    w.writeEndElement();
  }
}
