package dev.kiln.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code kiln logs NAME [--follow]}: a function's log, read through the CloudWatch Logs API of a
 * running Kiln (FilterLogEvents on {@code /aws/lambda/NAME}), one line per event as {@code <time>
 * <stream> <message>}, like {@code aws logs tail}.
 */
@Command(
    name = "logs",
    mixinStandardHelpOptions = true,
    description = "Print a function's log (and with --follow, what comes next).")
final class LogsCommand implements Callable<Integer> {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Parameters(index = "0", paramLabel = "NAME", description = "The function's name")
  String function;

  @Option(names = "--follow", description = "Keep printing new lines until interrupted")
  boolean follow;

  @Option(
      names = "--since",
      description = "Only lines of the last SECONDS (default: ${DEFAULT-VALUE}, one day)")
  long sinceSeconds = 86_400;

  @Option(
      names = "--endpoint",
      description =
          "Kiln's endpoint (default: $AWS_ENDPOINT_URL_LOGS, else $AWS_ENDPOINT_URL, else the local"
              + " server on its default port)")
  String endpoint;

  @Option(
      names = "--data-dir",
      description =
          "The local server's data directory, whose admin key signs the requests when"
              + " AWS_ACCESS_KEY_ID is not set (default: ${DEFAULT-VALUE})")
  Path dataDir = KilnCli.DEFAULT_DATA_DIR;

  PrintStream out = System.out;

  @Override
  public Integer call() throws Exception {
    String base = ClientEndpoint.resolve(endpoint, "AWS_ENDPOINT_URL_LOGS");
    SignedRequests signer = SignedRequests.forCaller(dataDir);
    String group = "/aws/lambda/" + function;
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    long startTime = System.currentTimeMillis() - sinceSeconds * 1000;
    String lastId = null;
    while (true) {
      ObjectNode request = JSON.createObjectNode();
      request.put("logGroupName", group);
      request.put("startTime", startTime);
      if (lastId != null) {
        request.put("nextToken", "e/" + lastId);
      }
      HttpResponse<String> response;
      try {
        response =
            http.send(
                signer.sign(
                    "POST",
                    URI.create(base + "/"),
                    java.util.Map.of(
                        "X-Amz-Target",
                        "Logs_20140328.FilterLogEvents",
                        "Content-Type",
                        "application/x-amz-json-1.1"),
                    request.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    "logs"),
                HttpResponse.BodyHandlers.ofString());
      } catch (java.net.ConnectException e) {
        System.err.println(ClientEndpoint.unreachable("logs", base));
        return 1;
      }
      JsonNode body = JSON.readTree(response.body());
      if (response.statusCode() != 200) {
        String type = body.path("__type").asText();
        if (type.equals("ResourceNotFoundException") && follow) {
          // no log yet: wait for the first invocation
          if (!pause()) {
            return 0;
          }
          continue;
        }
        System.err.println("kiln logs: " + body.path("message").asText(response.body()));
        return 1;
      }
      for (JsonNode e : body.path("events")) {
        out.println(
            Instant.ofEpochMilli(e.path("timestamp").asLong())
                + " "
                + e.path("logStreamName").asText()
                + " "
                + e.path("message").asText());
        lastId = e.path("eventId").asText();
      }
      out.flush();
      if (body.has("nextToken")) {
        lastId = body.get("nextToken").asText().substring(2);
        continue;
      }
      if (!follow) {
        return 0;
      }
      if (!pause()) {
        return 0;
      }
    }
  }

  /** Waits a second before the next poll; false when interrupted (the follower is stopped). */
  private static boolean pause() {
    try {
      Thread.sleep(1000);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
