package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * What kill -9 does to EventBridge: rules, targets and the events PutEvents accepted survive it.
 * The server runs as its own process, is killed with SIGKILL right after PutEvents answered, and
 * the restarted server delivers the event and keeps routing by the stored rule.
 */
class EventBridgeDurabilityIT {

  static final String RECORDER =
      "import json\n"
          + "def handler(event, context):\n"
          + "    print('GOT ' + json.dumps(event))\n"
          + "    return {}\n";

  static EventBridgeClient events(ServerProcess server) {
    return EventBridgeClient.builder()
        .endpointOverride(server.endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(
            StaticCredentialsProvider.create(KilnFixture.credentials(server.dataDir)))
        .build();
  }

  static CloudWatchLogsClient logs(ServerProcess server) {
    return CloudWatchLogsClient.builder()
        .endpointOverride(server.endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(
            StaticCredentialsProvider.create(KilnFixture.credentials(server.dataDir)))
        .build();
  }

  static List<String> got(ServerProcess server) {
    try (CloudWatchLogsClient logs = logs(server)) {
      return Deliveries.read(logs, "eb-durable", "GOT").stream()
          .map((JsonNode e) -> e.get("detail").get("n").asText())
          .toList();
    }
  }

  @Test
  void anAcceptedEventAndTheRulesSurviveKillMinus9() throws Exception {
    Path data = Files.createTempDirectory("kiln-eb-durable-");
    int port = ServerProcess.freePort();
    String accepted;
    try (ServerProcess first = ServerProcess.start(data, port);
        LambdaClient lambda = KilnFixture.client(first);
        EventBridgeClient events = events(first)) {
      lambda.createFunction(
          b ->
              b.functionName("eb-durable")
                  .runtime(Runtime.PYTHON3_12)
                  .handler("app.handler")
                  .role(KilnFixture.ROLE)
                  .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of("app.py", RECORDER)))));
      String arn =
          events
              .putRule(b -> b.name("durable").eventPattern("{\"source\": [\"com.durable\"]}"))
              .ruleArn();
      lambda.addPermission(
          b ->
              b.functionName("eb-durable")
                  .statementId("durable")
                  .action("lambda:InvokeFunction")
                  .principal("events.amazonaws.com")
                  .sourceArn(arn));
      events.putTargets(
          b ->
              b.rule("durable")
                  .targets(
                      t ->
                          t.id("1")
                              .arn("arn:aws:lambda:us-east-1:000000000000:function:eb-durable")));
      accepted =
          events
              .putEvents(
                  b ->
                      b.entries(
                          e ->
                              e.source("com.durable")
                                  .detailType("T")
                                  .detail("{\"n\": \"before-kill\"}")))
              .entries()
              .get(0)
              .eventId();
      first.process.destroyForcibly(); // SIGKILL, right after the 200
      assertThat(first.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(accepted).isNotBlank();

    try (ServerProcess second = ServerProcess.start(data, port);
        EventBridgeClient events = events(second)) {
      assertThat(events.describeRule(b -> b.name("durable")).eventPattern())
          .isEqualTo("{\"source\": [\"com.durable\"]}");
      assertThat(events.listTargetsByRule(b -> b.rule("durable")).targets()).hasSize(1);
      events.putEvents(
          b ->
              b.entries(
                  e ->
                      e.source("com.durable")
                          .detailType("T")
                          .detail("{\"n\": \"after-restart\"}")));
      Awaitility.await()
          .atMost(Duration.ofSeconds(90))
          .until(() -> got(second).containsAll(List.of("before-kill", "after-restart")));
    }
  }
}
