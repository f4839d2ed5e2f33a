package dev.kiln.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kiln usage}: requests, GB-seconds and cost per function over a period, from a running
 * Kiln's {@code /kiln/usage}.
 */
@Command(
    name = "usage",
    mixinStandardHelpOptions = true,
    description = "Print requests, GB-seconds and cost per function (this month by default).")
final class UsageCommand implements Callable<Integer> {

  @Option(
      names = "--since",
      paramLabel = "ISO-8601",
      description = "Start, an ISO-8601 instant (default: month start, UTC)")
  String since;

  @Option(
      names = "--until",
      paramLabel = "ISO-8601",
      description = "End, an ISO-8601 instant (default: now)")
  String until;

  @Option(names = "--function", paramLabel = "NAME", description = "Only this function")
  String function;

  @Option(
      names = "--price-per-million-requests",
      paramLabel = "USD",
      description = "USD per million requests (default: AWS's x86 price, 0.20)")
  Double perMillionRequests;

  @Option(
      names = "--price-per-gb-second",
      paramLabel = "USD",
      description = "USD per GB-second (default: AWS's x86 price, 0.0000166667)")
  Double perGbSecond;

  @Option(
      names = "--price-per-provisioned-duration-gb-second",
      paramLabel = "USD",
      description =
          "USD per GB-second of duration on provisioned instances (default: AWS's, 0.0000097222)")
  Double perProvisionedDurationGbSecond;

  @Option(
      names = "--price-per-provisioned-gb-second",
      paramLabel = "USD",
      description =
          "USD per GB-second of provisioned concurrency kept (default: AWS's, 0.0000041667)")
  Double perProvisionedGbSecond;

  @Option(
      names = "--price-per-storage-gb-second",
      paramLabel = "USD",
      description = "USD per GB-second of ephemeral storage above 512 MB (default: AWS's, 3.09e-8)")
  Double perStorageGbSecond;

  @Option(
      names = "--endpoint",
      paramLabel = "URL",
      description =
          "Kiln's endpoint (default: the one the server of --data-dir recorded; without"
              + " --data-dir, $AWS_ENDPOINT_URL_LAMBDA, else $AWS_ENDPOINT_URL, else the server of"
              + " ~/.kiln)")
  String endpoint;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description =
          "The data directory of the Kiln to ask: its recorded endpoint, and its admin key signs"
              + " the requests (default: ~/.kiln, whose admin key signs when AWS_ACCESS_KEY_ID is"
              + " not set)")
  java.nio.file.Path dataDir;

  PrintStream out = System.out;

  @Override
  public Integer call() throws Exception {
    ClientEndpoint kiln =
        ClientEndpoint.resolve(ClientEndpoint.Service.LAMBDA, endpoint, dataDir, System.getenv());
    List<String> query = new ArrayList<>();
    add(query, "since", since);
    add(query, "until", until);
    add(query, "function", function);
    add(query, "pricePerMillionRequests", perMillionRequests);
    add(query, "pricePerGbSecond", perGbSecond);
    add(query, "pricePerProvisionedDurationGbSecond", perProvisionedDurationGbSecond);
    add(query, "pricePerProvisionedGbSecond", perProvisionedGbSecond);
    add(query, "pricePerStorageGbSecond", perStorageGbSecond);
    ClientEndpoint.Answer answer =
        kiln.send(
            "GET",
            "/kiln/usage" + (query.isEmpty() ? "" : "?" + String.join("&", query)),
            java.util.Map.of(),
            new byte[0],
            ClientEndpoint.Service.LAMBDA);
    if (answer.status() != 200) {
      throw new ClientEndpoint.Failure(answer.message());
    }
    JsonNode body = answer.body();
    out.println("from " + body.path("from").asText() + " until " + body.path("until").asText());
    out.printf(
        Locale.ROOT,
        "%-40s %12s %16s %16s %14s%n",
        "FUNCTION",
        "REQUESTS",
        "GB-SECONDS",
        "PROVISIONED GB-S",
        "COST (USD)");
    for (JsonNode f : body.path("functions")) {
      row(f.path("function").asText(), f);
    }
    row("TOTAL", body.path("total"));
    return 0;
  }

  private void row(String name, JsonNode n) {
    out.printf(
        Locale.ROOT,
        "%-40s %12d %16.6f %16.6f %14.8f%n",
        name,
        n.path("requests").asLong(),
        n.path("gbSeconds").asDouble(),
        n.path("provisionedGbSeconds").asDouble(),
        n.path("cost").asDouble());
  }

  private static void add(List<String> query, String name, Object value) {
    if (value != null) {
      query.add(name + "=" + URLEncoder.encode(value.toString(), StandardCharsets.UTF_8));
    }
  }
}
