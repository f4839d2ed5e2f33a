package dev.kiln.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * One Invoke with {@code X-Amz-Log-Type: Tail}, timed on the client, with what Kiln's REPORT line
 * says of it: the {@code Duration}, and the {@code Init Duration} when it was a cold start. The
 * suites that measure cold starts, CPU shares and deadlines all read their figures this way, from
 * Kiln itself, as a user reads them from the log.
 *
 * @param clientMillis the Invoke's time on the client, request to full answer
 * @param status the HTTP status
 * @param functionError the {@code X-Amz-Function-Error} header, when there was one
 * @param body the response payload
 * @param durationMillis the REPORT line's {@code Duration}
 * @param initMillis the REPORT line's {@code Init Duration}, present on a cold start only
 */
record TailedInvoke(
    double clientMillis,
    int status,
    Optional<String> functionError,
    String body,
    double durationMillis,
    Optional<Double> initMillis) {

  private static final Pattern INIT_DURATION = Pattern.compile("Init Duration: ([0-9.]+) ms");
  private static final Pattern DURATION = Pattern.compile("(?:^|\\t)Duration: ([0-9.]+) ms");

  /** Invokes {@code function} of {@code kiln} with {@code event}; any answer is returned. */
  static TailedInvoke of(HttpClient http, KilnProcess kiln, String function, String event)
      throws Exception {
    URI uri = kiln.invokeUri(function);
    HttpRequest request =
        HttpCalls.signed(
            "POST",
            uri,
            event.getBytes(StandardCharsets.UTF_8),
            Map.of("X-Amz-Log-Type", "Tail"),
            kiln.credentials());
    long t0 = System.nanoTime();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    double client = (System.nanoTime() - t0) / 1e6;
    String log =
        new String(
            Base64.getDecoder()
                .decode(response.headers().firstValue("X-Amz-Log-Result").orElse("")),
            StandardCharsets.UTF_8);
    String report = log.lines().filter(l -> l.startsWith("REPORT")).findFirst().orElse("");
    Matcher duration = DURATION.matcher(report);
    Matcher init = INIT_DURATION.matcher(report);
    return new TailedInvoke(
        client,
        response.statusCode(),
        response.headers().firstValue("X-Amz-Function-Error"),
        response.body(),
        duration.find() ? Double.parseDouble(duration.group(1)) : Double.NaN,
        init.find() ? Optional.of(Double.parseDouble(init.group(1))) : Optional.empty());
  }

  /** The same, failing unless the function answered without an error. */
  static TailedInvoke ok(HttpClient http, KilnProcess kiln, String function, String event)
      throws Exception {
    TailedInvoke r = of(http, kiln, function, event);
    if (r.status != 200 || r.functionError.isPresent()) {
      throw new IllegalStateException(
          "invoke of " + function + " failed: " + r.status + " " + r.body);
    }
    return r;
  }

  /** A cold start: the configuration is changed (round {@code round}), then one Invoke runs. */
  static TailedInvoke cold(
      HttpClient http, KilnProcess kiln, String function, String event, int round)
      throws Exception {
    retire(kiln.lambda(), function, round);
    TailedInvoke r = ok(http, kiln, function, event);
    r.init();
    return r;
  }

  /**
   * Changes an environment variable, so that Kiln retires the warm instances and the next Invoke
   * starts a fresh one, as Lambda does after a configuration update.
   */
  static void retire(LambdaClient lambda, String function, int round) {
    lambda.updateFunctionConfiguration(
        b ->
            b.functionName(function)
                .environment(e -> e.variables(Map.of("KILN_BENCH_ROUND", "" + round))));
    lambda.waiter().waitUntilFunctionUpdatedV2(b -> b.functionName(function));
  }

  /** The Init Duration, or an error if this was not a cold start. */
  double init() {
    return initMillis.orElseThrow(
        () -> new IllegalStateException("not a cold start: no Init Duration in the REPORT line"));
  }
}
