package dev.kiln.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.regions.Region;

/**
 * Numbers a measuring function printed in its log, read back through the CloudWatch Logs API
 * (FilterLogEvents, every page): the lines that start with a marker ({@code ESMLAT 812 905}) give
 * the numbers after it. The latency suites' functions take the difference between their clock and a
 * time carried in the event and print it, so the bench reads what the function saw, on the same
 * machine and clock.
 */
final class FunctionLogNumbers {

  private static final ObjectMapper JSON = new ObjectMapper();

  private FunctionLogNumbers() {}

  /**
   * The numbers after {@code marker} in {@code function}'s log, once there are {@code expected} of
   * them (the log is written as the instance speaks); fails after 60 s with fewer.
   */
  static List<Long> read(KilnProcess kiln, String function, String marker, int expected)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    String prefix = marker + " ";
    while (true) {
      List<Long> numbers = new ArrayList<>();
      String token = null;
      do {
        ObjectNode request = JSON.createObjectNode();
        request.put("logGroupName", "/aws/lambda/" + function);
        request.put("startTime", 0);
        if (token != null) {
          request.put("nextToken", token);
        }
        byte[] body = request.toString().getBytes(StandardCharsets.UTF_8);
        HttpRequest signed =
            new dev.kiln.server.SignedRequests(kiln.credentials(), Region.US_EAST_1.id())
                .sign(
                    "POST",
                    kiln.endpoint().resolve("/"),
                    Map.of(
                        "X-Amz-Target",
                        "Logs_20140328.FilterLogEvents",
                        "Content-Type",
                        "application/x-amz-json-1.1"),
                    body,
                    "logs");
        HttpResponse<String> answer =
            HttpCalls.client().send(signed, HttpResponse.BodyHandlers.ofString());
        if (answer.statusCode() != 200) {
          throw new IllegalStateException("FilterLogEvents: " + answer.body());
        }
        JsonNode page = JSON.readTree(answer.body());
        for (JsonNode e : page.path("events")) {
          String message = e.path("message").asText().strip();
          if (message.startsWith(prefix)) {
            for (String n : message.substring(prefix.length()).strip().split(" ")) {
              numbers.add(Long.parseLong(n));
            }
          }
        }
        token = page.hasNonNull("nextToken") ? page.get("nextToken").asText() : null;
      } while (token != null);
      if (numbers.size() >= expected || System.nanoTime() > deadline) {
        if (numbers.size() < expected) {
          throw new IllegalStateException(
              function + " logged " + numbers.size() + " of " + expected + " '" + marker + "'");
        }
        return numbers;
      }
      KilnProcess.sleepMillis(200);
    }
  }
}
