package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.TooManyRequestsException;

/** {@code /metrics}, scraped after a known sequence of invocations. */
class MetricsIT {

  static double value(String scrape, String series) {
    Matcher m =
        Pattern.compile("^" + Pattern.quote(series) + " ([0-9.eE+-]+)$", Pattern.MULTILINE)
            .matcher(scrape);
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  @Test
  void invocationsErrorsThrottlesAndColdStarts_areCountedPerFunction() throws Exception {
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.python(
          "metered",
          "def handler(event, context):\n"
              + "    if event.get('fail'):\n"
              + "        raise ValueError('no')\n"
              + "    return 1\n");
      for (String payload : new String[] {"{}", "{}", "{\"fail\": true}"}) {
        kiln.lambda.invoke(
            b -> b.functionName("metered").payload(SdkBytes.fromUtf8String(payload)));
      }
      kiln.lambda.putFunctionConcurrency(
          b -> b.functionName("metered").reservedConcurrentExecutions(0));
      try {
        kiln.lambda.invoke(b -> b.functionName("metered").payload(SdkBytes.fromUtf8String("{}")));
      } catch (TooManyRequestsException expected) {
        // counted as a throttle
      }

      HttpResponse<String> r =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(kiln.server.endpoint() + "/metrics")).build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
      String scrape = r.body();
      String fn = "function=\"metered\",version=\"$LATEST\"";
      assertThat(value(scrape, "kiln_invocations_total{" + fn + "}")).isEqualTo(3.0);
      assertThat(value(scrape, "kiln_errors_total{error_type=\"Function\"," + fn + "}"))
          .isEqualTo(1.0);
      assertThat(value(scrape, "kiln_cold_starts_total{" + fn + "}")).isEqualTo(1.0);
      assertThat(value(scrape, "kiln_duration_seconds_count{" + fn + "}")).isEqualTo(3.0);
      assertThat(value(scrape, "kiln_init_duration_seconds_count{" + fn + "}")).isEqualTo(1.0);
      assertThat(
              value(
                  scrape,
                  "kiln_throttles_total{function=\"metered\",reason=\"ReservedFunctionConcurrentInvocationLimitExceeded\"}"))
          .isEqualTo(1.0);
      assertThat(value(scrape, "kiln_concurrent_executions{function=\"metered\"}")).isEqualTo(0.0);
      assertThat(value(scrape, "kiln_instances")).isEqualTo(1.0);
      assertThat(value(scrape, "kiln_instance_memory_reserved_bytes"))
          .isEqualTo(128.0 * 1024 * 1024);

      // every series the Grafana dashboard in the repository queries is one Kiln exports
      java.nio.file.Path dashboard =
          ReadmeIT.projectRoot().resolve("docs/grafana/kiln-dashboard.json");
      com.fasterxml.jackson.databind.JsonNode json =
          new com.fasterxml.jackson.databind.ObjectMapper().readTree(dashboard.toFile());
      java.util.Set<String> queried = new java.util.TreeSet<>();
      json.path("panels")
          .forEach(
              p ->
                  p.path("targets")
                      .forEach(
                          t -> {
                            Matcher m =
                                Pattern.compile("kiln_[a-z_]+").matcher(t.path("expr").asText());
                            while (m.find()) {
                              queried.add(m.group());
                            }
                          }));
      assertThat(queried).hasSizeGreaterThan(5);
      for (String series : queried) {
        assertThat(scrape).as("the dashboard queries " + series).contains(series);
      }
    }
  }
}
