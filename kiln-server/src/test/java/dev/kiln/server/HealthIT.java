package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;

/** {@code GET /health} and {@code /ping}, as a load balancer or systemd asks them: unsigned. */
class HealthIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  static HttpResponse<String> get(KilnFixture kiln, String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create(kiln.server.endpoint() + path)).build(),
            HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void health_withoutSignature_saysTheServerAndItsStoresAnswer() throws Exception {
    try (KilnFixture kiln = new KilnFixture()) {
      for (String path : new String[] {"/health", "/ping"}) {
        HttpResponse<String> r = get(kiln, path);
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse(""))
            .startsWith("application/json");
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.path("status").asText()).isEqualTo("ok");
        assertThat(body.path("version").asText()).isNotBlank().isNotEqualTo("unknown");
        assertThat(body.path("stores").properties())
            .extracting(java.util.Map.Entry::getKey)
            .containsExactly("metadata", "events", "logs", "usage", "iam");
        body.path("stores").forEach(s -> assertThat(s.asText()).isEqualTo("ok"));
        // nothing a stranger should learn: no key, no data directory
        assertThat(r.body())
            .doesNotContain(kiln.credentials().accessKeyId())
            .doesNotContain(kiln.credentials().secretAccessKey())
            .doesNotContain(kiln.dataDir.toString());
      }
      // the AWS API beside it still wants a signature
      assertThat(get(kiln, "/2015-03-31/functions/").statusCode()).isEqualTo(403);
    }
  }

  @Test
  void health_whileShuttingDown_answers503_asRunningInvocationsFinish() throws Exception {
    KilnFixture kiln = new KilnFixture();
    try {
      // runs past the fixture's 5 s shutdown grace, which is the window /health is asked in
      kiln.python("slow", "import time\ndef handler(e, c):\n    time.sleep(20)\n    return 1\n");
      kiln.lambda.updateFunctionConfiguration(b -> b.functionName("slow").timeout(30));
      Thread running =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      kiln.lambda.invoke(
                          b -> b.functionName("slow").payload(SdkBytes.fromUtf8String("{}")));
                    } catch (RuntimeException stoppedAtTheEndOfTheGrace) {
                      // expected: the server stops it
                    }
                  });
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  MetricsIT.value(
                          MetricsIT.scrape(kiln), "kiln_concurrent_executions{function=\"slow\"}")
                      == 1.0);
      Thread stopping = Thread.ofVirtual().start(kiln.server::close);
      // the invocation holds the shutdown in its grace period; /health says so meanwhile
      Awaitility.await()
          .atMost(Duration.ofSeconds(4))
          .pollInterval(Duration.ofMillis(50))
          .untilAsserted(
              () -> {
                HttpResponse<String> r = get(kiln, "/health");
                assertThat(r.statusCode()).isEqualTo(503);
                assertThat(JSON.readTree(r.body()).path("status").asText()).isEqualTo("stopping");
              });
      running.join();
      stopping.join();
    } finally {
      kiln.close();
    }
  }
}
