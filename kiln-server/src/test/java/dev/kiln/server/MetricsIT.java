package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.TooManyRequestsException;

/** {@code /metrics}, scraped after a known sequence of invocations. */
class MetricsIT {

  static double value(String scrape, String series) {
    Matcher m =
        Pattern.compile("^" + Pattern.quote(series) + " ([0-9.eE+-]+)$", Pattern.MULTILINE)
            .matcher(scrape);
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  static String scrape(KilnFixture kiln) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create(kiln.server.endpoint() + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
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
      String fn = "function=\"metered\",version=\"$LATEST\"";
      // an answered invocation is written up when its runtime asks for the next event, a moment
      // after the caller has the answer, as Lambda's metrics trail its responses
      String scrape =
          Awaitility.await()
              .atMost(Duration.ofSeconds(10))
              .until(
                  () -> scrape(kiln),
                  s -> value(s, "kiln_duration_seconds_count{" + fn + "}") == 3.0);
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
      assertThat(value(scrape, "kiln_instances{state=\"idle\"}")).isEqualTo(1.0);
      assertThat(value(scrape, "kiln_instances{state=\"busy\"}")).isEqualTo(0.0);
      assertThat(value(scrape, "kiln_sandbox_start_seconds_count")).isEqualTo(1.0);
      // the one cold start, phase by phase: Kiln's preparation and the runtime's init once each
      // (with the instance), the first event once (not the two warm ones after it)
      for (String phase : java.util.List.of("prepare", "runtime_init", "first_event")) {
        assertThat(value(scrape, "kiln_cold_start_phase_seconds_count{phase=\"" + phase + "\"}"))
            .as(phase)
            .isEqualTo(1.0);
      }
      assertThat(value(scrape, "kiln_instance_memory_reserved_bytes"))
          .isEqualTo(128.0 * 1024 * 1024);
    }
  }

  /** The number of buckets of each histogram series, by its name and labels other than le. */
  static java.util.Map<String, Integer> bucketCounts(String scrape) {
    java.util.Map<String, Integer> counts = new java.util.TreeMap<>();
    Matcher m =
        Pattern.compile("^([a-z_]+)_bucket\\{(.*)\\} \\S+$", Pattern.MULTILINE).matcher(scrape);
    while (m.find()) {
      String labels = m.group(2).replaceAll(",?le=\"[^\"]*\"", "");
      counts.merge(m.group(1) + "{" + labels + "}", 1, Integer::sum);
    }
    return counts;
  }

  @Test
  void aNewFunction_hasItsCountersAtZero_beforeAnyInvoke_untilItIsDeleted() throws Exception {
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.python("quiet", "def handler(event, context):\n    return 1\n");
      kiln.lambda.publishVersion(b -> b.functionName("quiet"));
      String scrape = scrape(kiln);
      for (String version : new String[] {"$LATEST", "1"}) {
        String fn = "function=\"quiet\",version=\"" + version + "\"";
        assertThat(value(scrape, "kiln_invocations_total{" + fn + "}")).as(version).isEqualTo(0.0);
        assertThat(value(scrape, "kiln_errors_total{error_type=\"Function\"," + fn + "}"))
            .as(version)
            .isEqualTo(0.0);
        assertThat(value(scrape, "kiln_cold_starts_total{" + fn + "}")).as(version).isEqualTo(0.0);
        assertThat(value(scrape, "kiln_duration_seconds_count{" + fn + "}"))
            .as(version)
            .isEqualTo(0.0);
      }
      for (String reason :
          new String[] {
            "ReservedFunctionConcurrentInvocationLimitExceeded",
            "ConcurrentInvocationLimitExceeded",
            "FunctionInvocationRateLimitExceeded"
          }) {
        assertThat(
                value(scrape, "kiln_throttles_total{function=\"quiet\",reason=\"" + reason + "\"}"))
            .as(reason)
            .isEqualTo(0.0);
      }
      assertThat(value(scrape, "kiln_concurrent_executions{function=\"quiet\"}")).isEqualTo(0.0);

      kiln.lambda.deleteFunction(b -> b.functionName("quiet"));
      assertThat(scrape(kiln)).doesNotContain("function=\"quiet\"");
    }
  }

  @Test
  void aRestartedServer_showsItsFunctionsAtZero() throws Exception {
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.python("kept", "def handler(event, context):\n    return 1\n");
      ServerSettings settings = kiln.server.settings();
      kiln.server.close();
      // the same data directory (the fixture's, deleted when it closes), on a fresh port
      try (KilnServer again = KilnServer.start(settings)) {
        String scrape =
            HttpClient.newHttpClient()
                .send(
                    HttpRequest.newBuilder(URI.create(again.endpoint() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString())
                .body();
        assertThat(value(scrape, "kiln_invocations_total{function=\"kept\",version=\"$LATEST\"}"))
            .isEqualTo(0.0);
      }
    }
  }

  @Test
  void histograms_haveAFewBucketsSpanningLambdasDurations() throws Exception {
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.python("timed", "def handler(event, context):\n    return 1\n");
      kiln.lambda.invoke(b -> b.functionName("timed").payload(SdkBytes.fromUtf8String("{}")));
      String fn = "function=\"timed\",version=\"$LATEST\"";
      // written up when the runtime asks for its next event, a moment after the answer
      String scrape =
          Awaitility.await()
              .atMost(Duration.ofSeconds(10))
              .until(
                  () -> scrape(kiln),
                  s -> value(s, "kiln_duration_seconds_count{" + fn + "}") == 1.0);
      java.util.Map<String, Integer> buckets = bucketCounts(scrape);
      assertThat(buckets)
          .containsKeys(
              "kiln_duration_seconds{" + fn + "}",
              "kiln_init_duration_seconds{" + fn + "}",
              "kiln_sandbox_start_seconds{}");
      // Micrometer's percentile histogram has 69 and more per series
      assertThat(buckets.values()).allSatisfy(n -> assertThat(n).isBetween(10, 25));
      // from 1 ms to Lambda's 900 s timeout
      assertThat(value(scrape, "kiln_duration_seconds_bucket{" + fn + ",le=\"0.001\"}"))
          .isGreaterThanOrEqualTo(0.0);
      assertThat(value(scrape, "kiln_duration_seconds_bucket{" + fn + ",le=\"900.0\"}"))
          .isEqualTo(1.0);
      assertThat(value(scrape, "kiln_init_duration_seconds_bucket{" + fn + ",le=\"+Inf\"}"))
          .isEqualTo(1.0);
    }
  }

  @Test
  void jvmAndProcessMetrics_andBuildInfo_arePublished() throws Exception {
    try (KilnFixture kiln = new KilnFixture()) {
      String scrape = scrape(kiln);
      for (String series :
          new String[] {
            "jvm_memory_used_bytes{area=\"heap\"",
            "jvm_memory_max_bytes",
            "jvm_gc_memory_allocated_bytes_total",
            "jvm_threads_live_threads",
            "jvm_classes_loaded_classes",
            "process_cpu_usage",
            "system_cpu_count",
            "process_uptime_seconds",
            "process_start_time_seconds",
            "process_files_open_files",
            "process_files_max_files"
          }) {
        assertThat(scrape).as(series).contains("\n" + series);
      }
      Matcher build =
          Pattern.compile("^kiln_build_info\\{(.*)\\} 1(?:\\.0)?$", Pattern.MULTILINE)
              .matcher(scrape);
      assertThat(build.find()).as("kiln_build_info").isTrue();
      assertThat(build.group(1))
          .contains("version=\"" + BuildInfo.current().version() + "\"")
          .contains("java_version=\"" + Runtime.version() + "\"");
      assertThat(BuildInfo.current().version()).isNotEqualTo("unknown");
    }
  }

  @Test
  void provisionedConcurrency_asyncQueue_andDeletedFunctions() throws Exception {
    try (KilnFixture kiln = new KilnFixture()) {
      // provisioned concurrency: one instance of version 1, busy for a while
      kiln.python(
          "pc", "import time\ndef handler(e, c):\n    time.sleep(e.get('s', 0))\n    return 1\n");
      kiln.lambda.publishVersion(b -> b.functionName("pc"));
      kiln.lambda.putProvisionedConcurrencyConfig(
          b -> b.functionName("pc").qualifier("1").provisionedConcurrentExecutions(1));
      String pc = "function=\"pc\",version=\"1\"";
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> value(scrape(kiln), "kiln_provisioned_concurrency_ready{" + pc + "}") == 1.0);
      String idle = scrape(kiln);
      assertThat(value(idle, "kiln_provisioned_concurrency_allocated{" + pc + "}")).isEqualTo(1.0);
      assertThat(value(idle, "kiln_provisioned_concurrency_utilization{" + pc + "}"))
          .isEqualTo(0.0);
      Thread busy =
          Thread.ofVirtual()
              .start(
                  () ->
                      kiln.lambda.invoke(
                          b ->
                              b.functionName("pc")
                                  .qualifier("1")
                                  .payload(SdkBytes.fromUtf8String("{\"s\": 2}"))));
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> value(scrape(kiln), "kiln_provisioned_concurrent_executions{" + pc + "}") == 1);
      assertThat(value(scrape(kiln), "kiln_provisioned_concurrency_utilization{" + pc + "}"))
          .as("the one provisioned instance is busy")
          .isEqualTo(1.0);
      busy.join();
      assertThat(value(scrape(kiln), "kiln_provisioned_invocations_total{" + pc + "}"))
          .isEqualTo(1.0);

      // an asynchronous event that fails, is not retried and goes to a dead-letter function
      kiln.python("sink", "def handler(e, c):\n    return 1\n");
      kiln.python("doomed", "def handler(e, c):\n    raise RuntimeError('never')\n");
      String sinkArn =
          kiln.lambda.getFunction(b -> b.functionName("sink")).configuration().functionArn();
      kiln.lambda.updateFunctionConfiguration(
          b -> b.functionName("doomed").deadLetterConfig(d -> d.targetArn(sinkArn)));
      kiln.lambda.putFunctionEventInvokeConfig(
          b -> b.functionName("doomed").maximumRetryAttempts(0));
      kiln.lambda.invoke(
          b ->
              b.functionName("doomed")
                  .invocationType(InvocationType.EVENT)
                  .payload(SdkBytes.fromUtf8String("{}")));
      String doomed = "function=\"doomed\"";
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  value(
                          scrape(kiln),
                          "kiln_async_events_dead_lettered_total{"
                              + doomed
                              + ",target=\"dead-letter-queue\"}")
                      == 1.0);
      String after = scrape(kiln);
      assertThat(value(after, "kiln_async_events_received_total{" + doomed + "}")).isEqualTo(1.0);
      assertThat(value(after, "kiln_async_event_age_seconds_count{" + doomed + "}")).isEqualTo(1.0);
      assertThat(
              value(
                  after,
                  "kiln_async_events_dropped_total{" + doomed + ",reason=\"RetriesExhausted\"}"))
          .isEqualTo(1.0);

      // an event that cannot run (no concurrency) waits in the queue
      kiln.python("held", "def handler(e, c):\n    return 1\n");
      kiln.lambda.putFunctionConcurrency(
          b -> b.functionName("held").reservedConcurrentExecutions(0));
      kiln.lambda.invoke(
          b ->
              b.functionName("held")
                  .invocationType(InvocationType.EVENT)
                  .payload(SdkBytes.fromUtf8String("{}")));
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  value(scrape(kiln), "kiln_async_queue_depth{function=\"held\",state=\"waiting\"}")
                      == 1.0);

      String scrape = scrape(kiln);
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
                                Pattern.compile("\\b(?:kiln|jvm|process)_[a-z_]+")
                                    .matcher(t.path("expr").asText());
                            while (m.find()) {
                              queried.add(m.group());
                            }
                          }));
      assertThat(queried).hasSizeGreaterThan(5);
      for (String series : queried) {
        if (series.startsWith("kiln_esm_") || series.startsWith("kiln_router_")) {
          // exported only while a mapping runs, or once a schedule, rule or push endpoint has
          // had an event: EsmSqsIT and the router's ITs check these against running ones
          continue;
        }
        assertThat(scrape).as("the dashboard queries " + series).contains(series);
      }

      // a deleted function's series go with it
      kiln.lambda.deleteFunction(b -> b.functionName("doomed"));
      kiln.lambda.deleteFunction(b -> b.functionName("held"));
      String gone = scrape(kiln);
      assertThat(gone).doesNotContain("function=\"doomed\"").doesNotContain("function=\"held\"");
      assertThat(gone).contains("function=\"sink\"");
    }
  }
}
