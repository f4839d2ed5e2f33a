package dev.kiln.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.nio.file.Path;
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
      paramLabel = "SECONDS",
      description = "Only lines of the last SECONDS (default: ${DEFAULT-VALUE}, one day)")
  long sinceSeconds = 86_400;

  @Option(
      names = "--endpoint",
      paramLabel = "URL",
      description =
          "Kiln's endpoint (default: the one the server of --data-dir recorded; without"
              + " --data-dir, $AWS_ENDPOINT_URL_CLOUDWATCH_LOGS, else $AWS_ENDPOINT_URL, else the"
              + " server of ~/.kiln)")
  String endpoint;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description =
          "The data directory of the Kiln to read from: its recorded endpoint, and its admin key"
              + " signs the requests (default: ~/.kiln, whose admin key signs when"
              + " AWS_ACCESS_KEY_ID is not set)")
  Path dataDir;

  PrintStream out = System.out;

  @Override
  public Integer call() throws Exception {
    ClientEndpoint kiln =
        ClientEndpoint.resolve(
            ClientEndpoint.Service.CLOUDWATCH_LOGS, endpoint, dataDir, System.getenv());
    String group = "/aws/lambda/" + function;
    long startTime = System.currentTimeMillis() - sinceSeconds * 1000;
    String lastId = null;
    while (true) {
      ObjectNode request = JSON.createObjectNode();
      request.put("logGroupName", group);
      request.put("startTime", startTime);
      if (lastId != null) {
        request.put("nextToken", "e/" + lastId);
      }
      ClientEndpoint.Answer answer =
          kiln.send(
              "POST",
              "/",
              java.util.Map.of(
                  "X-Amz-Target",
                  "Logs_20140328.FilterLogEvents",
                  "Content-Type",
                  "application/x-amz-json-1.1"),
              request.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8),
              ClientEndpoint.Service.CLOUDWATCH_LOGS);
      JsonNode body = answer.body();
      if (answer.status() != 200) {
        if (answer.errorType().equals("ResourceNotFoundException") && follow) {
          // no log yet: wait for the first invocation
          if (!pause()) {
            return 0;
          }
          continue;
        }
        throw new ClientEndpoint.Failure(answer.message());
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
