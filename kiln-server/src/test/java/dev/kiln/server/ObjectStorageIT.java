package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.api.push.WebhookTokens;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Object-storage notifications end to end: the bucket's notification configuration put with the AWS
 * CLI ({@code aws s3api put-bucket-notification-configuration}), then records in MinIO's webhook
 * format and Ceph RGW's HTTP push format (built exactly to their documented shapes: no
 * S3-compatible server that pushes notifications installs on this machine) posted to {@code
 * /kiln/s3-events} with the webhook token, reaching a thumbnail-style Python function as S3's own
 * event, filtered by event type and key prefix and suffix; and every refusal, with its message and
 * nothing queued or stored.
 */
class ObjectStorageIT {

  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  /** Gets the S3 record and prints what it would make of it: a thumbnail of bucket/key. */
  static final String THUMBNAILER =
      "import json, urllib.parse\n"
          + "def handler(event, context):\n"
          + "    r = event['Records'][0]\n"
          + "    key = urllib.parse.unquote_plus(r['s3']['object']['key'])\n"
          + "    out = {'bucket': r['s3']['bucket']['name'], 'key': key,"
          + " 'rawKey': r['s3']['object']['key'], 'size': r['s3']['object'].get('size'),"
          + " 'eventName': r['eventName'], 'eventSource': r['eventSource'],"
          + " 'configurationId': r['s3']['configurationId'],"
          + " 'thumbnail': 'thumbs/' + key.rsplit('.', 1)[0] + '.128x128.png'}\n"
          + "    print('THUMB ' + json.dumps(out), flush=True)\n"
          + "    return out\n";

  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();
  @TempDir static Path work;
  static String token;

  @BeforeAll
  static void start() throws Exception {
    kiln.python("thumbnailer", THUMBNAILER);
    kiln.python("unpermitted", THUMBNAILER);
    kiln.lambda()
        .addPermission(
            b ->
                b.functionName("thumbnailer")
                    .statementId("s3")
                    .action("lambda:InvokeFunction")
                    .principal("s3.amazonaws.com")
                    .sourceArn("arn:aws:s3:::photos")
                    .sourceAccount("000000000000"));
    var admin = dev.kiln.api.auth.AccessKeys.open(kiln.dataDir()).admin().orElseThrow();
    token = WebhookTokens.token(admin, "/kiln/s3-events");
    Path config = work.resolve("notification.json");
    Files.writeString(
        config,
        """
        {
          "LambdaFunctionConfigurations": [
            {
              "Id": "thumbnails",
              "LambdaFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:thumbnailer",
              "Events": ["s3:ObjectCreated:*"],
              "Filter": {"Key": {"FilterRules": [
                {"Name": "prefix", "Value": "uploads/"},
                {"Name": "suffix", "Value": ".jpg"}
              ]}}
            }
          ]
        }
        """);
    Tools.Result put =
        Tools.aws(
            kiln.fixture(),
            work,
            "s3api",
            "put-bucket-notification-configuration",
            "--bucket",
            "photos",
            "--notification-configuration",
            "file://" + config);
    assertThat(put.exit()).as(put.output()).isZero();
  }

  @Test
  void theConfiguration_isReadBackWithTheAwsCli() throws Exception {
    Tools.Result get =
        Tools.aws(
            kiln.fixture(),
            work,
            "s3api",
            "get-bucket-notification-configuration",
            "--bucket",
            "photos");
    assertThat(get.exit()).as(get.output()).isZero();
    JsonNode config = JSON.readTree(get.output());
    JsonNode f = config.path("LambdaFunctionConfigurations").get(0);
    assertThat(f.path("Id").asText()).isEqualTo("thumbnails");
    assertThat(f.path("LambdaFunctionArn").asText())
        .isEqualTo("arn:aws:lambda:us-east-1:000000000000:function:thumbnailer");
    assertThat(f.path("Events").get(0).asText()).isEqualTo("s3:ObjectCreated:*");
    assertThat(f.at("/Filter/Key/FilterRules").toString()).contains("uploads/").contains(".jpg");
  }

  @Test
  void minioRecords_reachTheFunction_asS3sEvent_filteredByTypePrefixAndSuffix() throws Exception {
    long before = total("thumbnailer");
    String body =
        minio(
            List.of(
                minioRecord(
                    "photos", "uploads/summer trip/beach 1.jpg", "s3:ObjectCreated:Put", 5120),
                minioRecord("photos", "uploads/beach.png", "s3:ObjectCreated:Put", 10),
                minioRecord("photos", "elsewhere/beach.jpg", "s3:ObjectCreated:Put", 10),
                minioRecord("photos", "uploads/gone.jpg", "s3:ObjectRemoved:Delete", 0),
                minioRecord("videos", "uploads/clip.jpg", "s3:ObjectCreated:Put", 10)));
    HttpResponse<String> r = post("/kiln/s3-events", body, Optional.of("Bearer " + token));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode answer = JSON.readTree(r.body());
    assertThat(answer.path("records").asInt()).isEqualTo(5);
    assertThat(answer.path("invocations").asInt())
        .as("only the .jpg under uploads/ that was created, in the configured bucket")
        .isEqualTo(1);
    JsonNode thumb = thumbFor("uploads/summer trip/beach 1.jpg");
    assertThat(thumb.path("rawKey").asText()).isEqualTo("uploads/summer+trip/beach+1.jpg");
    assertThat(thumb.path("bucket").asText()).isEqualTo("photos");
    assertThat(thumb.path("size").asLong()).isEqualTo(5120);
    assertThat(thumb.path("eventName").asText()).isEqualTo("ObjectCreated:Put");
    assertThat(thumb.path("eventSource").asText()).isEqualTo("aws:s3");
    assertThat(thumb.path("configurationId").asText()).isEqualTo("thumbnails");
    assertThat(thumb.path("thumbnail").asText())
        .isEqualTo("thumbs/uploads/summer trip/beach 1.128x128.png");
    assertThat(total("thumbnailer")).isEqualTo(before + 1);
    String metrics =
        HTTP.send(
                HttpRequest.newBuilder(URI.create(kiln.server().endpoint() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(metrics)
        .contains("kiln_router_events_total{kind=\"s3\",name=\"photos\",outcome=\"received\"}")
        .contains("kiln_router_events_total{kind=\"s3\",name=\"photos\",outcome=\"delivered\"}")
        .contains("kiln_router_events_total{kind=\"s3\",name=\"videos\",outcome=\"received\"}");
  }

  @Test
  void cephRecords_reachTheFunction_withTheTokenInTheUrl() throws Exception {
    String body =
        "{\"Records\":["
            + cephRecord(
                "photos", "uploads/café menu.jpg", "ObjectCreated:CompleteMultipartUpload", "2048")
            + "]}";
    HttpResponse<String> r =
        post(
            "/kiln/s3-events?token=" + URLEncoder.encode(token, StandardCharsets.UTF_8),
            body,
            Optional.empty());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(JSON.readTree(r.body()).path("invocations").asInt()).isEqualTo(1);
    JsonNode thumb = thumbFor("uploads/café menu.jpg");
    assertThat(thumb.path("rawKey").asText()).isEqualTo("uploads/caf%C3%A9+menu.jpg");
    assertThat(thumb.path("size").asLong()).isEqualTo(2048);
    assertThat(thumb.path("eventName").asText()).isEqualTo("ObjectCreated:CompleteMultipartUpload");
  }

  @Test
  void noToken_orAWrongOne_isRefused_andNothingIsInvoked() throws Exception {
    long before = total("thumbnailer");
    String body = minio(List.of(minioRecord("photos", "uploads/x.jpg", "s3:ObjectCreated:Put", 1)));
    HttpResponse<String> none = post("/kiln/s3-events", body, Optional.empty());
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.body())
        .contains("This webhook needs a token")
        .contains("kiln webhook-token /kiln/s3-events");
    var admin = dev.kiln.api.auth.AccessKeys.open(kiln.dataDir()).admin().orElseThrow();
    String alarmsToken = WebhookTokens.token(admin, "/kiln/alarms/thumbnailer");
    HttpResponse<String> wrong =
        post("/kiln/s3-events", body, Optional.of("Bearer " + alarmsToken));
    assertThat(wrong.statusCode()).isEqualTo(403);
    assertThat(wrong.body()).contains("The webhook token is not valid for /kiln/s3-events");
    HttpResponse<String> forged =
        post("/kiln/s3-events", body, Optional.of("Bearer AKIANOTAKEY.abc"));
    assertThat(forged.statusCode()).isEqualTo(403);
    assertThat(forged.body()).contains("AKIANOTAKEY, which is not a Kiln key");
    assertThat(total("thumbnailer")).isEqualTo(before);
  }

  @Test
  void aMalformedPayload_is400_andNothingIsInvoked() throws Exception {
    long before = total("thumbnailer");
    String good = minioRecord("photos", "uploads/ok.jpg", "s3:ObjectCreated:Put", 1);
    String bad =
        minioRecord("photos", "uploads/bad.jpg", "s3:ObjectCreated:Put", 1)
            .replace("\"size\":1", "\"size\":\"large\"");
    HttpResponse<String> r =
        post("/kiln/s3-events", minio(List.of(good, bad)), Optional.of("Bearer " + token));
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body())
        .contains(
            "Malformed object-storage notification: Records[1].s3.object.size must be a number");
    HttpResponse<String> notJson =
        post("/kiln/s3-events", "{\"Records\": 7", Optional.of("Bearer " + token));
    assertThat(notJson.statusCode()).isEqualTo(400);
    assertThat(notJson.body()).contains("the body is not JSON");
    assertThat(total("thumbnailer")).as("the good record was not queued either").isEqualTo(before);
  }

  @Test
  void aConfigurationWhoseFunctionLacksTheS3Permission_isRefused_andNothingIsStored()
      throws Exception {
    Path config = work.resolve("unpermitted.json");
    Files.writeString(
        config,
        "{\"LambdaFunctionConfigurations\":[{\"LambdaFunctionArn\":"
            + "\"arn:aws:lambda:us-east-1:000000000000:function:unpermitted\","
            + "\"Events\":[\"s3:ObjectCreated:*\"]}]}");
    Tools.Result put =
        Tools.aws(
            kiln.fixture(),
            work,
            "s3api",
            "put-bucket-notification-configuration",
            "--bucket",
            "documents",
            "--notification-configuration",
            "file://" + config);
    assertThat(put.exit()).isNotZero();
    assertThat(put.output())
        .contains("InvalidArgument")
        .contains("Unable to validate the following destination configurations");
    Files.writeString(
        config,
        "{\"LambdaFunctionConfigurations\":[{\"LambdaFunctionArn\":"
            + "\"arn:aws:lambda:us-east-1:000000000000:function:nosuchfunction\","
            + "\"Events\":[\"s3:ObjectCreated:*\"]}]}");
    Tools.Result unknown =
        Tools.aws(
            kiln.fixture(),
            work,
            "s3api",
            "put-bucket-notification-configuration",
            "--bucket",
            "documents",
            "--notification-configuration",
            "file://" + config);
    assertThat(unknown.exit()).isNotZero();
    assertThat(unknown.output())
        .contains("Unable to validate the following destination configurations");
    Tools.Result get =
        Tools.aws(
            kiln.fixture(),
            work,
            "s3api",
            "get-bucket-notification-configuration",
            "--bucket",
            "documents");
    assertThat(get.exit()).as(get.output()).isZero();
    assertThat(get.output()).doesNotContain("LambdaFunctionConfigurations");
    // the photos bucket's configuration is untouched, and the thumbnailer's permission is for
    // photos only: another bucket may not name it
    Files.writeString(
        config,
        "{\"LambdaFunctionConfigurations\":[{\"LambdaFunctionArn\":"
            + "\"arn:aws:lambda:us-east-1:000000000000:function:thumbnailer\","
            + "\"Events\":[\"s3:ObjectCreated:*\"]}]}");
    Tools.Result otherBucket =
        Tools.aws(
            kiln.fixture(),
            work,
            "s3api",
            "put-bucket-notification-configuration",
            "--bucket",
            "documents",
            "--notification-configuration",
            "file://" + config);
    assertThat(otherBucket.output())
        .contains("Unable to validate the following destination configurations");
  }

  @Test
  void aMalformedConfiguration_getsS3sError() throws Exception {
    Path config = work.resolve("bad-event.json");
    Files.writeString(
        config,
        "{\"LambdaFunctionConfigurations\":[{\"LambdaFunctionArn\":"
            + "\"arn:aws:lambda:us-east-1:000000000000:function:thumbnailer\","
            + "\"Events\":[\"s3:ObjectCreated:Everything\"]}]}");
    Tools.Result put =
        Tools.aws(
            kiln.fixture(),
            work,
            "s3api",
            "put-bucket-notification-configuration",
            "--bucket",
            "photos",
            "--notification-configuration",
            "file://" + config);
    assertThat(put.exit()).isNotZero();
    assertThat(put.output()).contains("The event is not supported for notifications");
  }

  @Test
  void aKeyWhosePoliciesDoNotGrantTheS3Operations_getsS3sAccessDenied() throws Exception {
    var invoke =
        dev.kiln.api.auth.AccessKeys.open(kiln.dataDir())
            .add(dev.kiln.api.auth.AccessKeys.Role.INVOKE, "only invokes");
    SignedRequests signer =
        new SignedRequests(
            software.amazon.awssdk.identity.spi.AwsCredentialsIdentity.create(
                invoke.accessKeyId(), invoke.secretAccessKey()),
            "us-east-1");
    HttpResponse<String> r =
        Awaitility.await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    HTTP.send(
                        signer.sign(
                            "GET",
                            URI.create(kiln.server().endpoint() + "/photos?notification"),
                            Map.of(),
                            new byte[0],
                            "s3"),
                        HttpResponse.BodyHandlers.ofString()),
                // until the server has read the new key
                resp -> !resp.body().contains("InvalidAccessKeyId"));
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body())
        .contains("<Code>AccessDenied</Code>")
        .contains("s3:GetBucketNotification")
        .contains("arn:aws:s3:::photos");
  }

  // ---- helpers ------------------------------------------------------------------------------

  static HttpResponse<String> post(String pathAndQuery, String body, Optional<String> authorization)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(kiln.server().endpoint() + pathAndQuery))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    authorization.ifPresent(a -> b.header("Authorization", a));
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** How many events the function's async queue ever took: queued, in flight, done or failed. */
  /**
   * A bucket whose configuration turns on EventBridge puts S3's "Object Created" and "Object
   * Deleted" events on the default bus, where a rule routes them, as S3's EventBridge integration
   * does.
   */
  @Test
  void withEventBridgeConfiguration_objectEventsGoOnTheDefaultBus_andARuleRoutesThem()
      throws Exception {
    kiln.python(
        "indexer",
        "import json\n"
            + "def handler(event, context):\n"
            + "    print('S3BUS ' + json.dumps(event), flush=True)\n");
    Path config = work.resolve("eventbridge.json");
    Files.writeString(config, "{\"EventBridgeConfiguration\": {}}");
    Tools.Result put =
        Tools.aws(
            kiln.fixture(),
            work,
            "s3api",
            "put-bucket-notification-configuration",
            "--bucket",
            "archive",
            "--notification-configuration",
            "file://" + config);
    assertThat(put.exit()).as(put.output()).isZero();
    try (var events =
        software.amazon.awssdk.services.eventbridge.EventBridgeClient.builder()
            .endpointOverride(kiln.fixture().server.endpoint())
            .region(software.amazon.awssdk.regions.Region.US_EAST_1)
            .credentialsProvider(
                software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                    kiln.fixture().credentials()))
            .build()) {
      String ruleArn =
          events
              .putRule(
                  b ->
                      b.name("archive-objects")
                          .eventPattern(
                              "{\"source\": [\"aws.s3\"], \"detail-type\": [\"Object Created\","
                                  + " \"Object Deleted\"], \"detail\": {\"bucket\": {\"name\":"
                                  + " [\"archive\"]}}}"))
              .ruleArn();
      kiln.lambda()
          .addPermission(
              b ->
                  b.functionName("indexer")
                      .statementId("rule")
                      .action("lambda:InvokeFunction")
                      .principal("events.amazonaws.com")
                      .sourceArn(ruleArn));
      String functionArn =
          kiln.lambda().getFunction(b -> b.functionName("indexer")).configuration().functionArn();
      events.putTargets(b -> b.rule("archive-objects").targets(t -> t.id("f").arn(functionArn)));
    }
    String body =
        minio(
            List.of(
                minioRecord("archive", "2026/report 1.pdf", "s3:ObjectCreated:Put", 2048),
                minioRecord("archive", "2026/old.pdf", "s3:ObjectRemoved:Delete", 0)));
    HttpResponse<String> r = post("/kiln/s3-events", body, Optional.of("Bearer " + token));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode created = busEvent("Object Created", "2026/report 1.pdf");
    assertThat(created.path("source").asText()).isEqualTo("aws.s3");
    assertThat(created.at("/detail/bucket/name").asText()).isEqualTo("archive");
    assertThat(created.at("/detail/object/size").asLong()).isEqualTo(2048);
    assertThat(created.path("resources").get(0).asText()).isEqualTo("arn:aws:s3:::archive");
    JsonNode deleted = busEvent("Object Deleted", "2026/old.pdf");
    assertThat(deleted.at("/detail/bucket/name").asText()).isEqualTo("archive");
  }

  /** The bus event of {@code detailType} for {@code key} the indexer printed, once it has. */
  static JsonNode busEvent(String detailType, String key) {
    return Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              Path instances = kiln.dataDir().resolve("instances");
              if (!Files.isDirectory(instances)) {
                return Optional.<JsonNode>empty();
              }
              try (Stream<Path> dirs = Files.list(instances)) {
                for (Path dir : dirs.toList()) {
                  Path log = dir.resolve("output.log");
                  if (!Files.exists(log)) {
                    continue;
                  }
                  for (String line : Files.readAllLines(log)) {
                    if (line.startsWith("S3BUS ")) {
                      JsonNode e = JSON.readTree(line.substring(6));
                      if (e.path("detail-type").asText().equals(detailType)
                          && e.at("/detail/object/key").asText().equals(key)) {
                        return Optional.of(e);
                      }
                    }
                  }
                }
              }
              return Optional.<JsonNode>empty();
            },
            Optional::isPresent)
        .orElseThrow();
  }

  static long total(String function) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            kiln.signed("GET", "/kiln/functions/" + function + "/async-events"),
            HttpResponse.BodyHandlers.ofString());
    JsonNode c = JSON.readTree(r.body());
    return c.path("Queued").asLong()
        + c.path("InFlight").asLong()
        + c.path("Succeeded").asLong()
        + c.path("Failed").asLong();
  }

  static JsonNode thumbFor(String key) {
    return Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> findThumb(key), Optional::isPresent)
        .orElseThrow();
  }

  static Optional<JsonNode> findThumb(String key) throws Exception {
    Path instances = kiln.dataDir().resolve("instances");
    if (!Files.isDirectory(instances)) {
      return Optional.empty();
    }
    try (Stream<Path> dirs = Files.list(instances)) {
      for (Path dir : dirs.toList()) {
        Path log = dir.resolve("output.log");
        if (!Files.exists(log)) {
          continue;
        }
        for (String line : Files.readAllLines(log)) {
          if (line.startsWith("THUMB ")) {
            JsonNode t = JSON.readTree(line.substring(6));
            if (t.path("key").asText().equals(key)) {
              return Optional.of(t);
            }
          }
        }
      }
    }
    return Optional.empty();
  }

  /** MinIO's webhook body: the first record's event name and bucket/key, and the records. */
  static String minio(List<String> records) throws Exception {
    JsonNode first = JSON.readTree(records.get(0));
    return "{\"EventName\":"
        + JSON.writeValueAsString(first.path("eventName").asText())
        + ",\"Key\":"
        + JSON.writeValueAsString(
            first.at("/s3/bucket/name").asText()
                + "/"
                + java.net.URLDecoder.decode(
                    first.at("/s3/object/key").asText(), StandardCharsets.UTF_8))
        + ",\"Records\":["
        + String.join(",", records)
        + "]}";
  }

  /** A record as MinIO's webhook target writes it (its key QueryEscape'd). */
  static String minioRecord(String bucket, String key, String event, long size) throws Exception {
    return "{\"eventVersion\":\"2.0\",\"eventSource\":\"minio:s3\",\"awsRegion\":\"\","
        + "\"eventTime\":\"2026-12-07T01:02:03.123Z\",\"eventName\":\""
        + event
        + "\",\"userIdentity\":{\"principalId\":\"minioadmin\"},"
        + "\"requestParameters\":{\"principalId\":\"minioadmin\",\"region\":\"\","
        + "\"sourceIPAddress\":\"127.0.0.1\"},"
        + "\"responseElements\":{\"x-amz-id-2\":\"dd9025bab4ad464b\",\"x-amz-request-id\":"
        + "\"17B5A52F39C6A9E4\",\"x-minio-deployment-id\":\"9c2f1a3e\","
        + "\"x-minio-origin-endpoint\":\"http://127.0.0.1:9000\"},"
        + "\"s3\":{\"s3SchemaVersion\":\"1.0\",\"configurationId\":\"Config\","
        + "\"bucket\":{\"name\":\""
        + bucket
        + "\",\"ownerIdentity\":{\"principalId\":\"minioadmin\"},\"arn\":\"arn:aws:s3:::"
        + bucket
        + "\"},\"object\":{\"key\":"
        + JSON.writeValueAsString(URLEncoder.encode(key, StandardCharsets.UTF_8))
        + ",\"size\":"
        + size
        + ",\"eTag\":\"5d41402abc4b2a76b9719d911017c592\",\"contentType\":\"image/jpeg\","
        + "\"userMetadata\":{\"content-type\":\"image/jpeg\"},\"sequencer\":\"17B5A52F3A1C7F20\"}},"
        + "\"source\":{\"host\":\"127.0.0.1\",\"port\":\"\",\"userAgent\":\"MinIO (linux; amd64)\"}}";
  }

  /** A record as Ceph RGW's HTTP push endpoint writes it (its key as it is, size a string). */
  static String cephRecord(String bucket, String key, String event, String size) throws Exception {
    Map<String, Object> object = new java.util.LinkedHashMap<>();
    object.put("key", key);
    object.put("size", size);
    object.put("eTag", "37b51d194a7513e45b56f6524f2d51f2");
    object.put("versionId", "");
    object.put("sequencer", "F7E6D75DC742D108");
    object.put("metadata", new ArrayList<>());
    object.put("tags", new ArrayList<>());
    Map<String, Object> record = new java.util.LinkedHashMap<>();
    record.put("eventVersion", "2.2");
    record.put("eventSource", "ceph:s3");
    record.put("awsRegion", "us-east-1");
    record.put("eventTime", "2026-12-07T01:02:03.124724Z");
    record.put("eventName", event);
    record.put("userIdentity", Map.of("principalId", "tester"));
    record.put("requestParameters", Map.of("sourceIPAddress", ""));
    record.put(
        "responseElements",
        Map.of(
            "x-amz-request-id", "503a4c37-85eb-47cd-8681-2817e80b4281.5330.903595",
            "x-amz-id-2", "14d2-zone1-zonegroup1"));
    record.put(
        "s3",
        Map.of(
            "s3SchemaVersion",
            "1.0",
            "configurationId",
            "mynotif1",
            "bucket",
            Map.of(
                "name",
                bucket,
                "ownerIdentity",
                Map.of("principalId", "tester"),
                "arn",
                "arn:aws:s3:us-east-1::" + bucket,
                "id",
                "503a4c37-85eb-47cd-8681-2817e80b4281.5332.38"),
            "object",
            object));
    record.put("eventId", "");
    record.put("opaqueData", "");
    return JSON.writeValueAsString(record);
  }
}
