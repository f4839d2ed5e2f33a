package dev.kiln.events.alarms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.events.push.PushFixture;
import dev.kiln.model.LambdaError;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AlarmsTest {

  @TempDir Path code;
  PushFixture kiln;
  Alarms alarms;

  @BeforeEach
  void setUp() {
    kiln = new PushFixture(code);
    kiln.function("repair");
    alarms =
        new Alarms(
            kiln.catalog,
            kiln.async,
            Optional.of(kiln.bus),
            kiln.metrics,
            PushFixture.ACCOUNT,
            kiln.time);
  }

  @Test
  void everyAlert_isQueuedForTheFunction_andPutOnTheDefaultBus() throws Exception {
    kiln.allow("repair", AlarmEvents.PRINCIPAL, Optional.of("arn:aws:cloudwatch:*:*:alarm:Disk*"));
    List<String> ids =
        alarms.receive("repair", AlarmEventsTest.resource("alertmanager-firing.json"));
    assertThat(ids).hasSize(2);
    List<JsonNode> queued = kiln.queued("repair");
    assertThat(queued)
        .extracting(e -> e.at("/alarmData/state/value").asText())
        .containsExactly("ALARM", "OK");
    assertThat(kiln.bus.buses).containsExactly("default", "default");
    assertThat(kiln.bus.events)
        .extracting(e -> e.detailType())
        .containsOnly("CloudWatch Alarm State Change");
    assertThat(kiln.count("alarm", "repair", "delivered")).isEqualTo(2);
  }

  @Test
  void withoutThePermission_nothingIsQueuedOrPublished() throws Exception {
    kiln.allow("repair", AlarmEvents.PRINCIPAL, Optional.of("arn:aws:cloudwatch:*:*:alarm:Cpu*"));
    assertThatThrownBy(
            () -> alarms.receive("repair", AlarmEventsTest.resource("alertmanager-firing.json")))
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> {
              assertThat(e.status()).isEqualTo(403);
              assertThat(e.getMessage())
                  .contains("CloudWatch alarms are not authorized to invoke")
                  .contains("arn:aws:cloudwatch:us-east-1:000000000000:alarm:DiskFull");
            });
    assertThat(kiln.queued("repair")).isEmpty();
    assertThat(kiln.bus.events).isEmpty();
    assertThat(kiln.count("alarm", "repair", "failed")).isEqualTo(1);
  }

  @Test
  void anAlertWhoseEventWouldBeOver256KB_isRefused_andNothingIsQueued() throws Exception {
    kiln.allow("repair", AlarmEvents.PRINCIPAL, Optional.empty());
    String big = "x".repeat(200 * 1024);
    String body =
        new String(
                AlarmEventsTest.resource("alertmanager-firing.json"),
                java.nio.charset.StandardCharsets.UTF_8)
            .replace("\"summary\": \"Disk almost full\"}", "\"summary\": \"" + big + "\"}");
    assertThatThrownBy(
            () -> alarms.receive("repair", body.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> {
              assertThat(e.status()).isEqualTo(400);
              assertThat(e.getMessage()).contains("over the 262144 bytes");
            });
    assertThat(kiln.queued("repair")).isEmpty();
    assertThat(kiln.bus.events).isEmpty();
  }

  @Test
  void anUnknownFunction_is404_andAMalformedPayload400_nothingQueued() throws Exception {
    assertThatThrownBy(
            () -> alarms.receive("nosuch", AlarmEventsTest.resource("alertmanager-firing.json")))
        .isInstanceOfSatisfying(LambdaError.class, e -> assertThat(e.status()).isEqualTo(404));
    kiln.allow("repair", AlarmEvents.PRINCIPAL, Optional.empty());
    assertThatThrownBy(() -> alarms.receive("repair", "{\"version\":\"4\"}".getBytes()))
        .isInstanceOfSatisfying(LambdaError.class, e -> assertThat(e.status()).isEqualTo(400));
    assertThat(kiln.queued("repair")).isEmpty();
    assertThat(kiln.queued("nosuch")).isEmpty();
  }
}
