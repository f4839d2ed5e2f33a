package dev.kiln.events.alarms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.events.BusEvent;
import dev.kiln.model.Account;
import dev.kiln.model.LambdaError;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class AlarmEventsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Account ACCOUNT = new Account("eu-west-1", "123456789012");

  static byte[] resource(String name) throws IOException {
    try (InputStream in = AlarmEventsTest.class.getResourceAsStream("/push/" + name)) {
      return in.readAllBytes();
    }
  }

  @Test
  void alertmanagersPayload_isReadWithEveryAlert() throws IOException {
    AlertmanagerNotification n =
        AlertmanagerNotification.parse(resource("alertmanager-firing.json"));
    assertThat(n.receiver()).isEqualTo("kiln");
    assertThat(n.status()).isEqualTo("firing");
    assertThat(n.externalUrl()).isEqualTo("http://alertmanager.example:9093");
    assertThat(n.alerts()).hasSize(2);
    AlertmanagerNotification.Alert firing = n.alerts().get(0);
    assertThat(firing.firing()).isTrue();
    assertThat(firing.alertName()).isEqualTo("DiskFull");
    assertThat(firing.startsAt()).isEqualTo(Instant.parse("2026-12-07T01:02:03.456789Z"));
    assertThat(firing.endsAt()).as("Go's zero time is no end").isEmpty();
    assertThat(n.alerts().get(1).endsAt()).contains(Instant.parse("2026-12-07T00:00:00.500Z"));
  }

  @Test
  void aFiringAlert_isTheEventOfAnAlarmActionInState_ALARM() throws IOException {
    AlertmanagerNotification n =
        AlertmanagerNotification.parse(resource("alertmanager-firing.json"));
    JsonNode e = AlarmEvents.lambdaEvent(n, n.alerts().get(0), ACCOUNT);
    assertThat(e.path("source").asText()).isEqualTo("aws.cloudwatch");
    assertThat(e.path("alarmArn").asText())
        .isEqualTo("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:DiskFull");
    assertThat(e.path("accountId").asText()).isEqualTo("123456789012");
    assertThat(e.path("region").asText()).isEqualTo("eu-west-1");
    assertThat(e.path("time").asText()).isEqualTo("2026-12-07T01:02:03.456+0000");
    JsonNode data = e.path("alarmData");
    assertThat(data.path("alarmName").asText()).isEqualTo("DiskFull");
    assertThat(data.path("state").path("value").asText()).isEqualTo("ALARM");
    assertThat(data.path("state").path("reason").asText()).isEqualTo("Disk almost full");
    assertThat(data.path("state").path("timestamp").asText())
        .isEqualTo("2026-12-07T01:02:03.456+0000");
    assertThat(data.path("previousState").path("value").asText()).isEqualTo("OK");
    JsonNode reasonData = JSON.readTree(data.path("state").path("reasonData").asText());
    assertThat(reasonData.path("fingerprint").asText()).isEqualTo("c9f4d9d6a1b2c3d4");
    JsonNode config = data.path("configuration");
    assertThat(config.path("description").asText()).isEqualTo("/var is 97% full on db-1");
    JsonNode metric = config.path("metrics").get(0).path("metricStat").path("metric");
    assertThat(metric.path("namespace").asText()).isEqualTo("Prometheus");
    assertThat(metric.path("name").asText()).isEqualTo("DiskFull");
    assertThat(metric.path("dimensions").path("instance").asText()).isEqualTo("db-1:9100");
    JsonNode am = data.path("alertmanager");
    assertThat(am.path("labels").path("severity").asText()).isEqualTo("page");
    assertThat(am.path("annotations").path("description").asText())
        .isEqualTo("/var is 97% full on db-1");
    assertThat(am.path("generatorURL").asText()).startsWith("http://prometheus.example:9090/");
    assertThat(am.path("groupKey").asText()).isEqualTo("{}:{alertname=\"DiskFull\"}");
    assertThat(am.has("endsAt")).isFalse();
  }

  @Test
  void aResolvedAlert_is_OK_afterALARM_atItsEnd() throws IOException {
    AlertmanagerNotification n =
        AlertmanagerNotification.parse(resource("alertmanager-firing.json"));
    JsonNode e = AlarmEvents.lambdaEvent(n, n.alerts().get(1), ACCOUNT);
    JsonNode data = e.path("alarmData");
    assertThat(data.path("state").path("value").asText()).isEqualTo("OK");
    assertThat(data.path("state").path("timestamp").asText())
        .isEqualTo("2026-12-07T00:00:00.500+0000");
    assertThat(data.path("previousState").path("value").asText()).isEqualTo("ALARM");
    assertThat(data.path("previousState").path("reason").asText()).isEqualTo("Disk almost full");
    assertThat(data.path("configuration").path("description").asText())
        .as("no description: the summary")
        .isEqualTo("Disk almost full");
  }

  @Test
  void theBusEvent_isACloudWatchAlarmStateChange() throws IOException {
    AlertmanagerNotification n =
        AlertmanagerNotification.parse(resource("alertmanager-firing.json"));
    BusEvent b = AlarmEvents.busEvent(n, n.alerts().get(0), ACCOUNT);
    assertThat(b.source()).isEqualTo("aws.cloudwatch");
    assertThat(b.detailType()).isEqualTo("CloudWatch Alarm State Change");
    assertThat(b.resources())
        .containsExactly("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:DiskFull");
    assertThat(b.time()).contains(Instant.parse("2026-12-07T01:02:03.456789Z"));
    assertThat(b.detail().path("alarmName").asText()).isEqualTo("DiskFull");
    assertThat(b.detail().path("state").path("value").asText()).isEqualTo("ALARM");
    assertThat(b.detail().path("previousState").path("value").asText()).isEqualTo("OK");
    assertThat(b.detail().path("configuration").path("metrics").isArray()).isTrue();
    assertThat(b.detail().path("alertmanager").path("labels").path("instance").asText())
        .isEqualTo("db-1:9100");
  }

  @Test
  void malformedPayloads_areRefused_namingTheField() {
    assertMalformed("not json", "the body is not JSON");
    assertMalformed("[1]", "must be a JSON object");
    assertMalformed(
        "{\"version\":\"3\",\"status\":\"firing\",\"alerts\":[]}", "version must be \"4\"");
    assertMalformed("{\"version\":\"4\",\"status\":\"burning\",\"alerts\":[]}", "status must be");
    assertMalformed(
        "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[]}",
        "alerts must be a non-empty array");
    assertMalformed(
        "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\",\"labels\":{},"
            + "\"startsAt\":\"2026-01-01T00:00:00Z\"}]}",
        "alerts[0].labels must be an object with an alertname");
    assertMalformed(
        "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\","
            + "\"labels\":{\"alertname\":\"A\"},\"startsAt\":\"yesterday\"}]}",
        "alerts[0].startsAt must be an RFC 3339 time");
    assertMalformed(
        "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\","
            + "\"labels\":{\"alertname\":\"A\",\"n\":1},\"startsAt\":\"2026-01-01T00:00:00Z\"}]}",
        "alerts[0].labels.n must be a string");
  }

  private static void assertMalformed(String body, String message) {
    assertThatThrownBy(() -> AlertmanagerNotification.parse(body.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> {
              assertThat(e.status()).isEqualTo(400);
              assertThat(e.errorType()).isEqualTo("InvalidRequestContentException");
              assertThat(e.getMessage())
                  .startsWith("Malformed Alertmanager webhook payload: ")
                  .contains(message);
            });
  }
}
