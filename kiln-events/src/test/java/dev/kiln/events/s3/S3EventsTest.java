package dev.kiln.events.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.events.BusEvent;
import dev.kiln.model.Account;
import dev.kiln.model.LambdaError;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class S3EventsTest {

  private static final Account ACCOUNT = new Account("eu-west-1", "123456789012");

  static byte[] resource(String name) throws IOException {
    try (InputStream in = S3EventsTest.class.getResourceAsStream("/push/" + name)) {
      return in.readAllBytes();
    }
  }

  @Test
  void minioWebhookRecords_areRead_withTheKeyDecoded() throws IOException {
    List<StoreRecord> records = StoreRecord.parse(resource("minio-put.json"));
    assertThat(records).hasSize(1);
    StoreRecord r = records.get(0);
    assertThat(r.source()).isEqualTo("minio:s3");
    assertThat(r.eventName()).isEqualTo("ObjectCreated:Put");
    assertThat(r.bucket()).isEqualTo("photos");
    assertThat(r.key()).isEqualTo("uploads/my cat.jpg");
    assertThat(r.size()).contains(48213L);
    assertThat(r.eTag()).contains("5d41402abc4b2a76b9719d911017c592");
    assertThat(r.sequencer()).contains("17B5A52F3A1C7F20");
    assertThat(r.requestId()).contains("17B5A52F39C6A9E4");
    assertThat(r.sourceIp()).contains("10.0.0.7");
  }

  @Test
  void cephRecords_areRead_withTheKeyAsItIs_andTheSizeAString() throws IOException {
    List<StoreRecord> records = StoreRecord.parse(resource("ceph-put.json"));
    assertThat(records).hasSize(2);
    assertThat(records.get(0).key()).isEqualTo("raw/report 2019.pdf");
    assertThat(records.get(0).size()).contains(1024L);
    assertThat(records.get(0).versionId()).as("an empty version id is none").isEmpty();
    assertThat(records.get(0).eventTime()).isEqualTo(Instant.parse("2019-11-22T13:47:35.124724Z"));
    assertThat(records.get(1).eventName()).isEqualTo("ObjectRemoved:Delete");
  }

  @Test
  void theLambdaEvent_isS3sOwnRecord_withTheKeyEncodedAsS3EncodesIt() throws IOException {
    StoreRecord r = StoreRecord.parse(resource("minio-put.json")).get(0);
    JsonNode event = S3Events.lambdaEvent(r, "thumbnails", ACCOUNT);
    assertThat(event.path("Records")).hasSize(1);
    JsonNode rec = event.path("Records").get(0);
    assertThat(rec.path("eventVersion").asText()).isEqualTo("2.1");
    assertThat(rec.path("eventSource").asText()).isEqualTo("aws:s3");
    assertThat(rec.path("awsRegion").asText()).isEqualTo("eu-west-1");
    assertThat(rec.path("eventTime").asText()).isEqualTo("2026-12-07T01:02:03.123Z");
    assertThat(rec.path("eventName").asText()).isEqualTo("ObjectCreated:Put");
    assertThat(rec.path("userIdentity").path("principalId").asText()).isEqualTo("minioadmin");
    assertThat(rec.path("requestParameters").path("sourceIPAddress").asText())
        .isEqualTo("10.0.0.7");
    assertThat(rec.path("responseElements").path("x-amz-request-id").asText())
        .isEqualTo("17B5A52F39C6A9E4");
    JsonNode s3 = rec.path("s3");
    assertThat(s3.path("s3SchemaVersion").asText()).isEqualTo("1.0");
    assertThat(s3.path("configurationId").asText()).isEqualTo("thumbnails");
    assertThat(s3.path("bucket").path("name").asText()).isEqualTo("photos");
    assertThat(s3.path("bucket").path("arn").asText()).isEqualTo("arn:aws:s3:::photos");
    assertThat(s3.path("bucket").path("ownerIdentity").path("principalId").asText())
        .isEqualTo("minioadmin");
    assertThat(s3.path("object").path("key").asText()).isEqualTo("uploads/my+cat.jpg");
    assertThat(s3.path("object").path("size").isIntegralNumber()).isTrue();
    assertThat(s3.path("object").path("size").asLong()).isEqualTo(48213);
    assertThat(s3.path("object").path("eTag").asText())
        .isEqualTo("5d41402abc4b2a76b9719d911017c592");
    assertThat(s3.path("object").path("sequencer").asText()).isEqualTo("17B5A52F3A1C7F20");
  }

  @Test
  void aDeletion_carriesNoSizeOrETag() throws IOException {
    StoreRecord r = StoreRecord.parse(resource("ceph-put.json")).get(1);
    JsonNode object =
        S3Events.lambdaEvent(r, "c", ACCOUNT).path("Records").get(0).path("s3").path("object");
    assertThat(object.path("key").asText()).isEqualTo("raw/old.pdf");
    assertThat(object.has("size")).isFalse();
    assertThat(object.has("eTag")).isFalse();
    assertThat(object.path("sequencer").asText()).isEqualTo("F7E6D75DC742D109");
  }

  @Test
  void keys_areEncodedAsS3Does() {
    assertThat(S3Events.encodeKey("a b/c d.jpg")).isEqualTo("a+b/c+d.jpg");
    assertThat(S3Events.encodeKey("x=1&y=(2)")).isEqualTo("x%3D1%26y%3D%282%29");
    assertThat(S3Events.encodeKey("é+.txt")).isEqualTo("%C3%A9%2B.txt");
    assertThat(S3Events.encodeKey("a-b_c.d*e")).isEqualTo("a-b_c.d*e");
  }

  @Test
  void theBusEvents_areS3sObjectCreatedAndObjectDeleted() throws IOException {
    StoreRecord put = StoreRecord.parse(resource("minio-put.json")).get(0);
    BusEvent created = S3Events.busEvent(put, ACCOUNT).orElseThrow();
    assertThat(created.source()).isEqualTo("aws.s3");
    assertThat(created.detailType()).isEqualTo("Object Created");
    assertThat(created.resources()).containsExactly("arn:aws:s3:::photos");
    JsonNode d = created.detail();
    assertThat(d.path("version").asText()).isEqualTo("0");
    assertThat(d.path("bucket").path("name").asText()).isEqualTo("photos");
    assertThat(d.path("object").path("key").asText()).isEqualTo("uploads/my cat.jpg");
    assertThat(d.path("object").path("size").asLong()).isEqualTo(48213);
    assertThat(d.path("object").path("etag").asText())
        .isEqualTo("5d41402abc4b2a76b9719d911017c592");
    assertThat(d.path("object").path("sequencer").asText()).isEqualTo("17B5A52F3A1C7F20");
    assertThat(d.path("request-id").asText()).isEqualTo("17B5A52F39C6A9E4");
    assertThat(d.path("requester").asText()).isEqualTo("123456789012");
    assertThat(d.path("reason").asText()).isEqualTo("PutObject");

    StoreRecord delete = StoreRecord.parse(resource("ceph-put.json")).get(1);
    BusEvent deleted = S3Events.busEvent(delete, ACCOUNT).orElseThrow();
    assertThat(deleted.detailType()).isEqualTo("Object Deleted");
    assertThat(deleted.detail().path("reason").asText()).isEqualTo("DeleteObject");
    assertThat(deleted.detail().path("deletion-type").asText()).isEqualTo("Permanently Deleted");
    assertThat(deleted.detail().path("object").has("size")).isFalse();
  }

  @Test
  void malformedRecords_areRefused_namingTheField() {
    assertMalformed("{", "the body is not JSON");
    assertMalformed("{\"Records\":[]}", "Records must be a non-empty array");
    assertMalformed(
        "{\"Records\":[{\"eventSource\":\"gcs\"}]}",
        "Records[0].eventSource must be minio:s3, ceph:s3 or aws:s3");
    String base =
        "{\"eventSource\":\"ceph:s3\",\"eventName\":\"ObjectCreated:Put\","
            + "\"eventTime\":\"2019-11-22T13:47:35Z\",\"s3\":{\"bucket\":{\"name\":\"b\"},"
            + "\"object\":{\"key\":\"k\",\"size\":SIZE}}}";
    assertMalformed(
        "{\"Records\":[" + base.replace("SIZE", "\"big\"") + "]}",
        "Records[0].s3.object.size must be a number");
    assertMalformed(
        "{\"Records\":["
            + base.replace("SIZE", "1")
            + ","
            + base.replace("\"k\"", "\"\"").replace("SIZE", "1")
            + "]}",
        "Records[1].s3.object.key must be a non-empty string");
    assertMalformed(
        "{\"Records\":["
            + base.replace("SIZE", "1").replace("2019-11-22T13:47:35Z", "today")
            + "]}",
        "Records[0].eventTime must be an ISO-8601 time");
  }

  private static void assertMalformed(String body, String message) {
    assertThatThrownBy(() -> StoreRecord.parse(body.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> {
              assertThat(e.status()).isEqualTo(400);
              assertThat(e.getMessage())
                  .startsWith("Malformed object-storage notification: ")
                  .contains(message);
            });
  }
}
