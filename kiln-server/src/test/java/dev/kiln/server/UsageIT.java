package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;

/** Metering: the usage report adds up exactly what the REPORT lines billed. */
class UsageIT {

  static final ObjectMapper JSON = new ObjectMapper();

  static JsonNode usage(KilnFixture kiln, String query) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(kiln.signed("GET", "/kiln/usage" + query), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  @Test
  void usage_isTheSumOfBilledDurationTimesMemory_pricedAsAsked() throws Exception {
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.python(
          "billed", "import time\ndef handler(e, c):\n    time.sleep(0.05)\n    return 1\n");
      kiln.lambda.updateFunctionConfiguration(b -> b.functionName("billed").memorySize(512));
      long billedMs = 0;
      for (int i = 0; i < 4; i++) {
        InvokeResponse r =
            kiln.lambda.invoke(
                b ->
                    b.functionName("billed")
                        .logType(LogType.TAIL)
                        .payload(SdkBytes.fromUtf8String("{}")));
        Matcher m =
            Pattern.compile("Billed Duration: (\\d+) ms")
                .matcher(
                    new String(Base64.getDecoder().decode(r.logResult()), StandardCharsets.UTF_8));
        assertThat(m.find()).isTrue();
        billedMs += Long.parseLong(m.group(1));
      }
      double expectedGbSeconds = billedMs / 1000.0 * 512 / 1024.0;

      JsonNode report = null;
      for (int i = 0; i < 60; i++) {
        report = usage(kiln, "?function=billed&pricePerMillionRequests=1000000&pricePerGbSecond=2");
        if (report.path("total").path("requests").asLong() == 4) {
          break;
        }
        Thread.sleep(200); // use is written every two seconds
      }
      JsonNode fn = report.path("functions").get(0);
      assertThat(fn.path("function").asText()).isEqualTo("billed");
      assertThat(fn.path("requests").asLong()).isEqualTo(4);
      assertThat(fn.path("gbSeconds").asDouble()).isCloseTo(expectedGbSeconds, within(1e-9));
      assertThat(fn.path("requestCost").asDouble()).isCloseTo(4.0, within(1e-9));
      assertThat(fn.path("durationCost").asDouble()).isCloseTo(2 * expectedGbSeconds, within(1e-9));
      assertThat(report.path("total").path("cost").asDouble())
          .isCloseTo(4.0 + 2 * expectedGbSeconds, within(1e-9));

      ByteArrayOutputStream printed = new ByteArrayOutputStream();
      UsageCommand command = new UsageCommand();
      command.out = new PrintStream(printed, true);
      int code =
          new picocli.CommandLine(command)
              .execute(
                  "--function",
                  "billed",
                  "--endpoint",
                  kiln.server.endpoint().toString(),
                  "--data-dir",
                  kiln.dataDir.toString());
      assertThat(code).isZero();
      assertThat(printed.toString()).containsPattern("billed\\s+4\\s+");

      HttpResponse<String> bad =
          HttpClient.newHttpClient()
              .send(
                  kiln.signed("GET", "/kiln/usage?since=yesterday"),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(bad.statusCode()).isEqualTo(400);
      assertThat(bad.headers().firstValue("x-amzn-ErrorType").orElse(""))
          .startsWith("InvalidParameterValueException");
      assertThat(bad.body()).contains("since must be an ISO-8601 instant");
      for (String[] query :
          new String[][] {
            {"?pricePerGbSecond=-1", "pricePerGbSecond must be a non-negative number, got '-1'"},
            {"?since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z", "until must be after since"}
          }) {
        HttpResponse<String> refused =
            HttpClient.newHttpClient()
                .send(
                    kiln.signed("GET", "/kiln/usage" + query[0]),
                    HttpResponse.BodyHandlers.ofString());
        assertThat(refused.statusCode()).isEqualTo(400);
        assertThat(refused.body()).contains(query[1]);
      }
    }
  }

  /** Billed Duration from an invocation's log tail. */
  static long billed(InvokeResponse r) {
    Matcher m =
        Pattern.compile("Billed Duration: (\\d+) ms")
            .matcher(new String(Base64.getDecoder().decode(r.logResult()), StandardCharsets.UTF_8));
    assertThat(m.find()).isTrue();
    return Long.parseLong(m.group(1));
  }

  @Test
  void provisionedConcurrency_andEphemeralStorage_areMeteredAndPriced() throws Exception {
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.python("kept", "def handler(e, c):\n    return 1\n");
      kiln.lambda.updateFunctionConfiguration(
          b -> b.functionName("kept").memorySize(256).ephemeralStorage(e -> e.size(1536)));
      kiln.lambda.publishVersion(b -> b.functionName("kept"));
      long before = System.currentTimeMillis();
      kiln.lambda.putProvisionedConcurrencyConfig(
          b -> b.functionName("kept").qualifier("1").provisionedConcurrentExecutions(2));
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(60))
          .until(
              () ->
                  kiln.lambda
                          .getProvisionedConcurrencyConfig(
                              b -> b.functionName("kept").qualifier("1"))
                          .allocatedProvisionedConcurrentExecutions()
                      == 2);
      long onProvisioned =
          billed(
              kiln.lambda.invoke(
                  b ->
                      b.functionName("kept")
                          .qualifier("1")
                          .logType(LogType.TAIL)
                          .payload(SdkBytes.fromUtf8String("{}"))));
      long onDemand =
          billed(
              kiln.lambda.invoke(
                  b ->
                      b.functionName("kept")
                          .logType(LogType.TAIL)
                          .payload(SdkBytes.fromUtf8String("{}"))));
      double gb = 256 / 1024.0;
      // provisioned time is added at each flush (every two seconds): wait for three seconds of it
      JsonNode fn = null;
      long elapsed = 0;
      for (int i = 0; i < 100; i++) {
        fn = usage(kiln, "?function=kept").path("functions").path(0);
        elapsed = System.currentTimeMillis() - before;
        if (fn.path("requests").asLong() == 2
            && fn.path("provisionedGbSeconds").asDouble() >= 2 * gb * 3.0) {
          break;
        }
        Thread.sleep(200);
      }
      assertThat(fn.path("requests").asLong()).isEqualTo(2);
      assertThat(fn.path("gbSeconds").asDouble())
          .isCloseTo((onProvisioned + onDemand) / 1000.0 * gb, within(1e-9));
      assertThat(fn.path("provisionedDurationGbSeconds").asDouble())
          .as("only the invocation of version 1 ran on a provisioned instance")
          .isCloseTo(onProvisioned / 1000.0 * gb, within(1e-9));
      assertThat(fn.path("storageGbSeconds").asDouble())
          .as("1536 MB of storage is 1024 MB above the free 512")
          .isCloseTo((onProvisioned + onDemand) / 1000.0 * 1.0, within(1e-9));
      // two instances of 256 MB kept for at least three seconds, and never for longer than the
      // time since provisioning was asked for
      assertThat(fn.path("provisionedGbSeconds").asDouble())
          .isBetween(2 * gb * 3.0, 2 * gb * elapsed / 1000.0);
      double expectedCost =
          2 / 1e6 * 0.20
              + onDemand / 1000.0 * gb * 0.0000166667
              + onProvisioned / 1000.0 * gb * 0.0000097222
              + fn.path("provisionedGbSeconds").asDouble() * 0.0000041667
              + fn.path("storageGbSeconds").asDouble() * 3.09e-8;
      assertThat(fn.path("cost").asDouble()).isCloseTo(expectedCost, within(1e-12));
    }
  }

  private static org.assertj.core.data.Offset<Double> within(double d) {
    return org.assertj.core.data.Offset.offset(d);
  }
}
