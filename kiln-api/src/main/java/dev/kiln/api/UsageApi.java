package dev.kiln.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.model.LambdaError;
import dev.kiln.store.UsageStore;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;

/**
 * {@code GET /kiln/usage}: what each function used over a period and what it would cost at the
 * given prices, by default AWS's public x86 prices (us-east-1):
 *
 * <ul>
 *   <li>requests, $0.20 per million ({@code pricePerMillionRequests});
 *   <li>duration, $0.0000166667 per GB-second on demand ({@code pricePerGbSecond}), and
 *       $0.0000097222 per GB-second for the part that ran on provisioned instances ({@code
 *       pricePerProvisionedDurationGbSecond});
 *   <li>provisioned concurrency kept, $0.0000041667 per GB-second ({@code
 *       pricePerProvisionedGbSecond});
 *   <li>ephemeral storage above 512 MB, $0.0000000309 per GB-second of duration ({@code
 *       pricePerStorageGbSecond}).
 * </ul>
 *
 * Query: {@code since}, {@code until} (ISO-8601 instants; by default the current calendar month,
 * UTC), {@code function}, and the prices. Use is kept per hour, so the period is widened to whole
 * hours. A node runs every function on its own architecture, whatever the function's {@code
 * Architectures} (see dev.kiln.runtimes.Architectures), so an arm64 node is priced by passing AWS's
 * arm64 prices.
 */
final class UsageApi {

  /** Prices in USD, each per GB-second except requests (per million). */
  record Prices(
      double perMillionRequests,
      double perGbSecond,
      double perProvisionedDurationGbSecond,
      double perProvisionedGbSecond,
      double perStorageGbSecond) {}

  static final Prices AWS_X86 = new Prices(0.20, 0.0000166667, 0.0000097222, 0.0000041667, 3.09e-8);
  private static final long HOUR = 3_600_000L;

  private final UsageStore usage;

  UsageApi(UsageStore usage) {
    this.usage = usage;
  }

  void routes(HttpRouting.Builder r) {
    r.get("/kiln/usage", this::report);
  }

  private void report(ServerRequest req, ServerResponse res) {
    ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
    long since =
        instant(req, "since")
            .orElse(now.withDayOfMonth(1).toLocalDate().atStartOfDay(ZoneOffset.UTC).toInstant())
            .toEpochMilli();
    long until = instant(req, "until").orElse(now.toInstant()).toEpochMilli();
    if (until <= since) {
      throw LambdaError.invalidParameter("until must be after since");
    }
    long from = since - Math.floorMod(since, HOUR);
    long to = until + (Math.floorMod(until, HOUR) == 0 ? 0 : HOUR - Math.floorMod(until, HOUR));
    Prices prices =
        new Prices(
            price(req, "pricePerMillionRequests", AWS_X86.perMillionRequests()),
            price(req, "pricePerGbSecond", AWS_X86.perGbSecond()),
            price(
                req,
                "pricePerProvisionedDurationGbSecond",
                AWS_X86.perProvisionedDurationGbSecond()),
            price(req, "pricePerProvisionedGbSecond", AWS_X86.perProvisionedGbSecond()),
            price(req, "pricePerStorageGbSecond", AWS_X86.perStorageGbSecond()));
    List<UsageStore.Usage> rows = usage.usage(from, to, LambdaApi.query(req, "function"));

    ObjectNode out = FunctionJson.JSON.createObjectNode();
    out.put("from", Instant.ofEpochMilli(from).toString());
    out.put("until", Instant.ofEpochMilli(to).toString());
    ObjectNode p = out.putObject("prices");
    p.put("perMillionRequests", prices.perMillionRequests());
    p.put("perGbSecond", prices.perGbSecond());
    p.put("perProvisionedDurationGbSecond", prices.perProvisionedDurationGbSecond());
    p.put("perProvisionedGbSecond", prices.perProvisionedGbSecond());
    p.put("perStorageGbSecond", prices.perStorageGbSecond());
    ArrayNode functions = out.putArray("functions");
    UsageStore.Usage total = new UsageStore.Usage("", 0, 0, 0, 0, 0);
    for (UsageStore.Usage u : rows) {
      line(functions.addObject().put("function", u.function()), u, prices);
      total =
          new UsageStore.Usage(
              "",
              total.requests() + u.requests(),
              total.mbMs() + u.mbMs(),
              total.provisionedDurationMbMs() + u.provisionedDurationMbMs(),
              total.provisionedMbMs() + u.provisionedMbMs(),
              total.storageMbMs() + u.storageMbMs());
    }
    line(out.putObject("total"), total, prices);
    LambdaApi.sendJson(res, req, 200, out);
  }

  private static void line(ObjectNode n, UsageStore.Usage u, Prices prices) {
    double requestCost = u.requests() / 1_000_000.0 * prices.perMillionRequests();
    double onDemand = u.gbSeconds() - u.provisionedDurationGbSeconds();
    double durationCost =
        onDemand * prices.perGbSecond()
            + u.provisionedDurationGbSeconds() * prices.perProvisionedDurationGbSecond();
    double provisionedCost = u.provisionedGbSeconds() * prices.perProvisionedGbSecond();
    double storageCost = u.storageGbSeconds() * prices.perStorageGbSecond();
    n.put("requests", u.requests());
    n.put("gbSeconds", u.gbSeconds());
    n.put("provisionedDurationGbSeconds", u.provisionedDurationGbSeconds());
    n.put("provisionedGbSeconds", u.provisionedGbSeconds());
    n.put("storageGbSeconds", u.storageGbSeconds());
    n.put("requestCost", requestCost);
    n.put("durationCost", durationCost);
    n.put("provisionedCost", provisionedCost);
    n.put("storageCost", storageCost);
    n.put("cost", requestCost + durationCost + provisionedCost + storageCost);
  }

  private static Optional<Instant> instant(ServerRequest req, String name) {
    return LambdaApi.query(req, name)
        .map(
            v -> {
              try {
                return Instant.parse(v);
              } catch (DateTimeParseException e) {
                throw LambdaError.invalidParameter(
                    name
                        + " must be an ISO-8601 instant such as 2026-11-01T00:00:00Z, got '"
                        + v
                        + "'");
              }
            });
  }

  private static double price(ServerRequest req, String name, double fallback) {
    return LambdaApi.query(req, name)
        .map(
            v -> {
              try {
                double p = Double.parseDouble(v);
                if (p >= 0 && Double.isFinite(p)) {
                  return p;
                }
              } catch (NumberFormatException e) {
                // below
              }
              throw LambdaError.invalidParameter(
                  name + " must be a non-negative number, got '" + v + "'");
            })
        .orElse(fallback);
  }
}
