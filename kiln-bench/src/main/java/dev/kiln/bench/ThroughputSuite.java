package dev.kiln.bench;

import java.util.Map;

/**
 * Warm throughput: how many calls per second Kiln serves a no-op function at a given concurrency,
 * against baseline (b), the same handler behind a minimal HTTP loop of its language, at the same
 * concurrency in the same run.
 *
 * <p>A closed loop of that many clients (each calls again when answered) for the measurement
 * duration, after a closed-loop warm-up that also starts Kiln's instances: at concurrency c Kiln
 * runs c instances of the function, while the direct loop serves c connections in its one process
 * (threads in Python and Java, the event loop in Node). That difference is the platform's model
 * (one event per instance at a time, as on Lambda), and the ratio shows what it costs on this
 * machine. The service times of the closed loop are given as they are; they are not a fair latency
 * distribution (see the warm suite for that).
 */
final class ThroughputSuite implements Suite {

  record Measurement(
      String language,
      int concurrency,
      double directCallsPerSecond,
      double kilnCallsPerSecond,
      double kilnOverDirect,
      Latency directServiceTime,
      Latency kilnServiceTime,
      long errors,
      String firstError) {}

  @Override
  public String name() {
    return "throughput";
  }

  @Override
  public void run(BenchContext context, SuiteReport report) throws Exception {
    BenchSettings settings = context.settings();
    report.note(
        "Closed loop of c clients (raw HTTP), warm-up "
            + settings.warmup().toMillis()
            + " ms then "
            + settings.duration().toMillis()
            + " ms per target; functions at "
            + BenchSettings.FUNCTION_MEMORY_MB
            + " MB, sandbox "
            + settings.sandbox()
            + ".");
    for (Language language : settings.languages()) {
      String function = "bench-throughput-" + language.id;
      context.createNoop(function, language, Map.of());
      Table t =
          report.table(
              Table.of(
                  language.id + ": calls per second",
                  "concurrency",
                  "(b) direct calls/s",
                  "Kiln calls/s",
                  "ratio Kiln / (b)",
                  "Kiln p50 µs",
                  "Kiln p99 µs",
                  "errors"));
      try (BaselineProcess direct = BaselineProcess.direct(language)) {
        LoadGenerator.Call directCall = HttpCalls.post(context.http(), direct.uri());
        LoadGenerator.Call kilnCall =
            HttpCalls.invoke(
                context.http(),
                context.kiln().invokeUri(function),
                "RequestResponse",
                context.kiln().credentials());
        for (int c : settings.concurrency()) {
          LoadGenerator.closedLoop(directCall, c, settings.warmup());
          LoadGenerator.Recording d = LoadGenerator.closedLoop(directCall, c, settings.duration());
          LoadGenerator.closedLoop(kilnCall, c, settings.warmup());
          LoadGenerator.Recording k = LoadGenerator.closedLoop(kilnCall, c, settings.duration());
          Measurement m =
              new Measurement(
                  language.id,
                  c,
                  d.callsPerSecond(),
                  k.callsPerSecond(),
                  k.callsPerSecond() / d.callsPerSecond(),
                  Latency.of(d.serviceTime(), d.errors()),
                  Latency.of(k.serviceTime(), k.errors()),
                  d.errors() + k.errors(),
                  d.firstError() != null ? d.firstError() : k.firstError());
          report.result(m);
          t.row(
              c,
              m.directCallsPerSecond(),
              m.kilnCallsPerSecond(),
              m.kilnOverDirect(),
              m.kilnServiceTime().p50Micros(),
              m.kilnServiceTime().p99Micros(),
              m.errors());
        }
      }
    }
  }
}
