package dev.kiln.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.model.LambdaError;
import dev.kiln.store.SqliteUsageStore;
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
 * {@code GET /kiln/usage}: requests and GB-seconds per function over a period, and what they would
 * cost at the given prices (by default AWS's public x86 prices: $0.20 per million requests,
 * $0.0000166667 per GB-second). Query: {@code since}, {@code until} (ISO-8601 instants; by default
 * the current calendar month, UTC), {@code function}, {@code pricePerMillionRequests}, {@code
 * pricePerGbSecond}. Use is kept per hour, so the period is widened to whole hours.
 */
final class UsageApi {

  static final double DEFAULT_PRICE_PER_MILLION_REQUESTS = 0.20;
  static final double DEFAULT_PRICE_PER_GB_SECOND = 0.0000166667;
  private static final long HOUR = 3_600_000L;

  private final SqliteUsageStore usage;

  UsageApi(SqliteUsageStore usage) {
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
    double perMillion = price(req, "pricePerMillionRequests", DEFAULT_PRICE_PER_MILLION_REQUESTS);
    double perGbSecond = price(req, "pricePerGbSecond", DEFAULT_PRICE_PER_GB_SECOND);
    List<SqliteUsageStore.Usage> rows = usage.usage(from, to, LambdaApi.query(req, "function"));

    ObjectNode out = FunctionJson.JSON.createObjectNode();
    out.put("from", Instant.ofEpochMilli(from).toString());
    out.put("until", Instant.ofEpochMilli(to).toString());
    ObjectNode prices = out.putObject("prices");
    prices.put("perMillionRequests", perMillion);
    prices.put("perGbSecond", perGbSecond);
    ArrayNode functions = out.putArray("functions");
    long requests = 0;
    double gbSeconds = 0;
    for (SqliteUsageStore.Usage u : rows) {
      line(
          functions.addObject().put("function", u.function()),
          u.requests(),
          u.gbSeconds(),
          perMillion,
          perGbSecond);
      requests += u.requests();
      gbSeconds += u.gbSeconds();
    }
    line(out.putObject("total"), requests, gbSeconds, perMillion, perGbSecond);
    LambdaApi.sendJson(res, req, 200, out);
  }

  private static void line(
      ObjectNode n, long requests, double gbSeconds, double perMillion, double perGbSecond) {
    double requestCost = requests / 1_000_000.0 * perMillion;
    double durationCost = gbSeconds * perGbSecond;
    n.put("requests", requests);
    n.put("gbSeconds", gbSeconds);
    n.put("requestCost", requestCost);
    n.put("durationCost", durationCost);
    n.put("cost", requestCost + durationCost);
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
