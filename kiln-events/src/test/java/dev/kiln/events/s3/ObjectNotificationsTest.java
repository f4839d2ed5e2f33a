package dev.kiln.events.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.events.push.PushFixture;
import dev.kiln.testing.InMemoryBucketNotificationStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ObjectNotificationsTest {

  static final String ARN = "arn:aws:lambda:us-east-1:000000000000:function:thumbs";
  static final String CONFIG =
      "<NotificationConfiguration><CloudFunctionConfiguration><Id>raw-files</Id><CloudFunction>"
          + ARN
          + "</CloudFunction><Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule>"
          + "<Name>prefix</Name><Value>raw/</Value></FilterRule></S3Key></Filter>"
          + "</CloudFunctionConfiguration><EventBridgeConfiguration/></NotificationConfiguration>";

  @TempDir Path code;
  PushFixture kiln;
  InMemoryBucketNotificationStore store;
  BucketNotifications buckets;
  ObjectNotifications notifications;

  @BeforeEach
  void setUp() {
    kiln = new PushFixture(code);
    kiln.function("thumbs");
    store = new InMemoryBucketNotificationStore();
    buckets = new BucketNotifications(store, kiln.catalog, PushFixture.ACCOUNT);
    notifications =
        new ObjectNotifications(
            buckets,
            kiln.async,
            Optional.of(kiln.bus),
            kiln.metrics,
            PushFixture.ACCOUNT,
            kiln.time);
  }

  @Test
  void aConfigurationWhoseFunctionMayNotBeInvokedByS3_isRefused_andNotStored() {
    assertThatThrownBy(() -> buckets.put("mybucket1", CONFIG.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOfSatisfying(
            S3Error.class,
            e -> {
              assertThat(e.code()).isEqualTo("InvalidArgument");
              assertThat(e.getMessage())
                  .isEqualTo("Unable to validate the following destination configurations");
              assertThat(e.extra()).containsEntry("ArgumentName1", ARN);
            });
    kiln.allow("thumbs", "s3.amazonaws.com", Optional.of("arn:aws:s3:::otherbucket"));
    assertThatThrownBy(() -> buckets.put("mybucket1", CONFIG.getBytes(StandardCharsets.UTF_8)))
        .as("a permission for another bucket's ARN")
        .isInstanceOf(S3Error.class);
    assertThat(store.configuration("mybucket1")).isEmpty();
  }

  @Test
  void matchingRecords_areQueuedOneEach_andEveryCreatedOrDeletedObjectGoesToTheDefaultBus()
      throws Exception {
    kiln.allow("thumbs", "s3.amazonaws.com", Optional.of("arn:aws:s3:::mybucket1"));
    buckets.put("mybucket1", CONFIG.getBytes(StandardCharsets.UTF_8));
    assertThat(buckets.get("mybucket1").functions()).hasSize(1);

    ObjectNotifications.Outcome outcome =
        notifications.receive(S3EventsTest.resource("ceph-put.json"));

    assertThat(outcome.records()).isEqualTo(2);
    assertThat(outcome.invocations()).as("the deletion is no ObjectCreated").isEqualTo(1);
    assertThat(outcome.busEvents()).isEqualTo(2);
    List<JsonNode> queued = kiln.queued("thumbs");
    assertThat(queued).hasSize(1);
    JsonNode record = queued.get(0).path("Records").get(0);
    assertThat(record.at("/s3/object/key").asText()).isEqualTo("raw/report+2019.pdf");
    assertThat(record.at("/s3/configurationId").asText()).isEqualTo("raw-files");
    assertThat(record.path("eventSource").asText()).isEqualTo("aws:s3");
    assertThat(kiln.bus.buses).containsOnly("default");
    assertThat(kiln.bus.events.get(0).detailType()).isEqualTo("Object Created");
    assertThat(kiln.bus.events.get(1).detailType()).isEqualTo("Object Deleted");
    assertThat(kiln.count("s3", "mybucket1", "received")).isEqualTo(2);
    assertThat(kiln.count("s3", "mybucket1", "delivered")).isEqualTo(1);
  }

  @Test
  void withoutEventBridgeConfiguration_nothingGoesToTheBus() throws Exception {
    kiln.allow("thumbs", "s3.amazonaws.com", Optional.empty());
    buckets.put(
        "mybucket1",
        CONFIG.replace("<EventBridgeConfiguration/>", "").getBytes(StandardCharsets.UTF_8));
    notifications.receive(S3EventsTest.resource("ceph-put.json"));
    assertThat(kiln.bus.events).isEmpty();
  }

  @Test
  void aPermissionRemovedAfterTheConfiguration_failsTheDelivery() throws Exception {
    kiln.allow("thumbs", "s3.amazonaws.com", Optional.of("arn:aws:s3:::mybucket1"));
    buckets.put("mybucket1", CONFIG.getBytes(StandardCharsets.UTF_8));
    kiln.revoke("thumbs");
    ObjectNotifications.Outcome outcome =
        notifications.receive(S3EventsTest.resource("ceph-put.json"));
    assertThat(outcome.invocations()).isZero();
    assertThat(outcome.failed()).isEqualTo(1);
    assertThat(kiln.queued("thumbs")).isEmpty();
    assertThat(kiln.count("s3", "mybucket1", "failed")).isEqualTo(1);
  }

  @Test
  void aBucketWithoutConfiguration_getsItsRecordsReceived_andSentNowhere() throws Exception {
    ObjectNotifications.Outcome outcome =
        notifications.receive(S3EventsTest.resource("minio-put.json"));
    assertThat(outcome.records()).isEqualTo(1);
    assertThat(outcome.invocations()).isZero();
    assertThat(kiln.bus.events).isEmpty();
    assertThat(kiln.count("s3", "photos", "received")).isEqualTo(1);
  }

  @Test
  void aMalformedPush_queuesNothing() throws Exception {
    kiln.allow("thumbs", "s3.amazonaws.com", Optional.empty());
    buckets.put("mybucket1", CONFIG.getBytes(StandardCharsets.UTF_8));
    String body =
        new String(S3EventsTest.resource("ceph-put.json"), StandardCharsets.UTF_8)
            .replace("\"raw/old.pdf\"", "\"\"");
    assertThatThrownBy(() -> notifications.receive(body.getBytes(StandardCharsets.UTF_8)))
        .hasMessageContaining("Records[1].s3.object.key");
    assertThat(kiln.queued("thumbs")).isEmpty();
    assertThat(kiln.bus.events).isEmpty();
  }

  @Test
  void anInvalidBucketName_isS3sInvalidBucketName() {
    assertThatThrownBy(() -> buckets.get("Not_A_Bucket"))
        .isInstanceOfSatisfying(
            S3Error.class, e -> assertThat(e.code()).isEqualTo("InvalidBucketName"));
  }
}
