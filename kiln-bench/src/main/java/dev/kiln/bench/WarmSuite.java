package dev.kiln.bench;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Warm invoke latency: what Kiln adds to a call of a function that is already running.
 *
 * <p>For each language, a no-op function on Kiln is compared with two baselines measured in the
 * same run, with the same client, on the same schedule: (a) the floor, one loopback HTTP round trip
 * to a server that answers at once (no platform can cost less than the hop the client makes), and
 * (b) the same handler served directly by a minimal HTTP loop of its own language (the function
 * without any platform). Kiln's overhead is its latency less (b)'s, at each percentile, and its
 * ratio to (b); the ratio to (a) is given too.
 *
 * <p>Each group (one language, one client count) is measured as: a closed-loop warm-up of every
 * target (which also starts Kiln's instances for that many clients and lets both JVMs compile the
 * path), a closed loop a quarter as long to calibrate the rate, then a fixed-rate measurement of
 * every target on one schedule: an interval per client of twice the slowest target's mean warm-up
 * latency (see {@link LoadGenerator} for why latency is counted from when a call was due). The
 * calls are raw HTTP Invokes ({@link HttpCalls}), not the AWS SDK.
 */
final class WarmSuite implements Suite {

  /**
   * Whether this is the {@code url} suite: the same groups with a fourth target, the function
   * called through a function URL (auth type NONE, by Kiln's path form), and its ratios to (b) and
   * to Kiln's Invoke.
   */
  private final boolean url;

  WarmSuite() {
    this(false);
  }

  WarmSuite(boolean url) {
    this.url = url;
  }

  /** Below this interval a client would measure the machine's timer and scheduler, not a target. */
  private static final long MINIMUM_INTERVAL_NANOS = 100_000;

  /** The targets' short names in the plot, whose legend says what they are. */
  private static final String[] SERIES = {"(a) floor", "(b) direct", "Kiln", "Kiln URL"};

  /** One target measured in one group. */
  record Measurement(
      String language,
      int clients,
      String target,
      long intervalMicros,
      double callsPerSecond,
      Latency responseTime,
      Latency serviceTime,
      String firstError) {}

  /** Kiln against baseline (b) and (a) for one group, at p50, p90, p99 and p99.9. */
  record Overhead(
      String language,
      int clients,
      double[] kilnMinusDirectMicros,
      double[] kilnOverDirect,
      double[] kilnOverFloor,
      double[] urlOverDirect,
      double[] urlOverInvoke) {}

  @Override
  public String name() {
    return url ? "url" : "warm";
  }

  @Override
  public void run(BenchContext context, SuiteReport report) throws Exception {
    BenchSettings settings = context.settings();
    report.note(
        "Latency is response time: counted from when each call was due on a fixed schedule"
            + " (coordinated-omission safe), all targets of a table on the same schedule. Calls"
            + " are raw HTTP (java.net.http), not the AWS SDK. Functions at "
            + BenchSettings.FUNCTION_MEMORY_MB
            + " MB, sandbox "
            + settings.sandbox()
            + ". Warm-up "
            + settings.warmup().toMillis()
            + " ms, measurement "
            + settings.duration().toMillis()
            + " ms per target.");
    try (BaselineProcess floor = BaselineProcess.floor()) {
      for (Language language : settings.languages()) {
        String function = (url ? "bench-url-" : "bench-warm-") + language.id;
        context.createNoop(function, language, Map.of());
        URI functionUrl = url ? context.publicUrl(function) : null;
        try (BaselineProcess direct = BaselineProcess.direct(language)) {
          for (int clients : settings.clients()) {
            measureGroup(
                context,
                report,
                language,
                clients,
                floor.uri(),
                direct.uri(),
                function,
                functionUrl);
          }
        }
      }
    }
  }

  private void measureGroup(
      BenchContext context,
      SuiteReport report,
      Language language,
      int clients,
      URI floor,
      URI direct,
      String function,
      URI functionUrl) {
    BenchSettings settings = context.settings();
    List<String> names =
        new ArrayList<>(
            List.of(
                "(a) floor: loopback HTTP round trip",
                "(b) direct: " + language.id + " handler behind a minimal HTTP loop",
                "Kiln warm invoke, " + language.runtime));
    List<LoadGenerator.Call> calls =
        new ArrayList<>(
            List.of(
                HttpCalls.post(context.http(), floor),
                HttpCalls.post(context.http(), direct),
                HttpCalls.invoke(
                    context.http(),
                    context.kiln().invokeUri(function),
                    "RequestResponse",
                    context.kiln().credentials())));
    if (url) {
      names.add("Kiln function URL, " + language.runtime);
      calls.add(HttpCalls.post(context.http(), functionUrl));
    }

    // the warm-up's own mean would count Kiln's cold starts and the JIT's first calls: the rate
    // is calibrated from a short closed loop after it
    Duration calibration = settings.warmup().dividedBy(4);
    double slowestMean = 0;
    for (LoadGenerator.Call call : calls) {
      LoadGenerator.Recording warmup = LoadGenerator.closedLoop(call, clients, settings.warmup());
      LoadGenerator.Recording calibrated = LoadGenerator.closedLoop(call, clients, calibration);
      if (warmup.calls() + calibrated.calls() == 0 || calibrated.errors() > 0) {
        throw new IllegalStateException(
            "warm-up failed: "
                + (warmup.firstError() != null ? warmup.firstError() : calibrated.firstError()));
      }
      slowestMean = Math.max(slowestMean, calibrated.meanServiceNanos());
    }
    long interval = Math.max(MINIMUM_INTERVAL_NANOS, (long) (2 * slowestMean));

    List<Measurement> measured = new ArrayList<>();
    for (int i = 0; i < calls.size(); i++) {
      LoadGenerator.Recording r =
          LoadGenerator.fixedRate(calls.get(i), clients, interval, settings.duration());
      Measurement m =
          new Measurement(
              language.id,
              clients,
              names.get(i),
              interval / 1000,
              r.callsPerSecond(),
              Latency.of(r.responseTime(), r.errors()),
              Latency.of(r.serviceTime(), r.errors()),
              r.firstError());
      measured.add(m);
      report.result(m);
      report.plot(
          language.id + ", " + clients + (clients == 1 ? " client" : " clients"),
          SERIES[i],
          r.responseTime());
    }

    Latency a = measured.get(0).responseTime();
    Latency b = measured.get(1).responseTime();
    Latency kiln = measured.get(2).responseTime();
    double[] minus = new double[4];
    double[] overDirect = new double[4];
    double[] overFloor = new double[4];
    double[] urlOverDirect = new double[4];
    double[] urlOverInvoke = new double[4];
    for (int q = 0; q < 4; q++) {
      minus[q] = kiln.percentiles()[q] - b.percentiles()[q];
      overDirect[q] = kiln.percentiles()[q] / b.percentiles()[q];
      overFloor[q] = kiln.percentiles()[q] / a.percentiles()[q];
      if (url) {
        double u = measured.get(3).responseTime().percentiles()[q];
        urlOverDirect[q] = u / b.percentiles()[q];
        urlOverInvoke[q] = u / kiln.percentiles()[q];
      }
    }
    report.result(
        new Overhead(
            language.id, clients, minus, overDirect, overFloor, urlOverDirect, urlOverInvoke));

    Table t =
        report.table(
            Table.of(
                language.id
                    + ", "
                    + clients
                    + (clients == 1 ? " client" : " clients")
                    + ", one call per "
                    + interval / 1000
                    + " µs per client",
                "",
                "p50 µs",
                "p90 µs",
                "p99 µs",
                "p99.9 µs",
                "calls",
                "errors"));
    for (Measurement m : measured) {
      Latency l = m.responseTime();
      t.row(
          m.target(),
          l.p50Micros(),
          l.p90Micros(),
          l.p99Micros(),
          l.p999Micros(),
          l.calls(),
          l.errors());
    }
    t.row("Kiln overhead over (b), µs", minus[0], minus[1], minus[2], minus[3], "", "");
    t.row("ratio Kiln / (b)", overDirect[0], overDirect[1], overDirect[2], overDirect[3], "", "");
    t.row("ratio Kiln / (a)", overFloor[0], overFloor[1], overFloor[2], overFloor[3], "", "");
    if (url) {
      t.row(
          "ratio URL / (b)",
          urlOverDirect[0],
          urlOverDirect[1],
          urlOverDirect[2],
          urlOverDirect[3],
          "",
          "");
      t.row(
          "ratio URL / Invoke",
          urlOverInvoke[0],
          urlOverInvoke[1],
          urlOverInvoke[2],
          urlOverInvoke[3],
          "",
          "");
    }
  }
}
