package dev.kiln.bench;

import java.util.List;

/**
 * How precisely a timeout is kept: a function with a 1 s timeout that never returns is answered
 * {@code Sandbox.Timedout}, and the REPORT line's Duration says how far past its deadline the
 * instance was stopped. The baseline, in the same run and the same function, is a call that busies
 * itself for 950 ms and returns: what a full second of work costs without a kill. Each timed-out
 * call kills its instance, so the next one is a cold start; the durations exclude init.
 */
final class TimeoutSuite implements Suite {

  static final int BUSY_MS = 950;

  record Deadline(
      int runs,
      double busyMedianMillis,
      double timedOutMedianMillis,
      double timedOutWorstMillis,
      double pastDeadlineMedianMillis,
      double pastDeadlineWorstMillis,
      double timedOutOverBusy) {}

  @Override
  public String name() {
    return "timeout";
  }

  @Override
  public void run(BenchContext context, SuiteReport report) throws Exception {
    int n = Math.max(2, context.settings().coldStarts() / 2);
    String function = "bench-timeout";
    ProbeFunction.create(context.kiln(), function, BenchSettings.FUNCTION_MEMORY_MB, 1, List.of());
    double[] busy = new double[n];
    double[] timedOut = new double[n];
    for (int i = 0; i < n; i++) {
      TailedInvoke.ok(context.http(), context.kiln(), function, "{}");
      busy[i] =
          TailedInvoke.ok(context.http(), context.kiln(), function, "{\"busyMs\": " + BUSY_MS + "}")
              .durationMillis();
      TailedInvoke call =
          TailedInvoke.of(context.http(), context.kiln(), function, "{\"forever\": true}");
      if (!call.body().contains("Sandbox.Timedout")) {
        throw new IllegalStateException("expected Sandbox.Timedout, got " + call.body());
      }
      timedOut[i] = call.durationMillis();
    }
    double worst = java.util.Arrays.stream(timedOut).max().orElse(Double.NaN);
    Deadline d =
        new Deadline(
            n,
            ColdSuite.median(busy),
            ColdSuite.median(timedOut),
            worst,
            ColdSuite.median(timedOut) - 1000,
            worst - 1000,
            ColdSuite.median(timedOut) / ColdSuite.median(busy));
    report.result(d);
    report.note(
        n
            + " calls that run forever against a 1 s timeout, each after a "
            + BUSY_MS
            + " ms busy call of the same warm function; sandbox "
            + context.settings().sandbox()
            + ".");
    report
        .table(
            Table.of(
                "a 1 s timeout, REPORT Duration, ms",
                "",
                "median",
                "worst of " + n,
                "past the deadline, median",
                "past the deadline, worst"))
        .row("busy " + BUSY_MS + " ms and return (baseline)", d.busyMedianMillis(), "", "", "")
        .row(
            "run forever: Sandbox.Timedout",
            d.timedOutMedianMillis(),
            d.timedOutWorstMillis(),
            d.pastDeadlineMedianMillis(),
            d.pastDeadlineWorstMillis());
    report
        .table(Table.of("ratio", "", "value"))
        .row("timed-out Duration / busy " + BUSY_MS + " ms Duration", d.timedOutOverBusy());
  }
}
