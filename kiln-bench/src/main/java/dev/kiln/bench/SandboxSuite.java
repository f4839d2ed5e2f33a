package dev.kiln.bench;

import java.util.List;

/**
 * What the Linux sandbox costs: the same no-op Python function, cold and warm, in a Kiln with
 * {@code --sandbox process} (a plain child process: the baseline) and in one with {@code --sandbox
 * linux} (bubblewrap, cgroups, a network namespace and a {@code /tmp} disk per instance), both
 * started by this suite, one after the other, so that they never share the machine.
 *
 * <p>Cold starts are forced by a configuration update before each call; the figures are the
 * client's time of the call and the REPORT line's Init Duration. The warm figure checks that the
 * sandbox costs nothing once its instance is running. Needs root and bubblewrap, as the Linux
 * sandbox does.
 */
final class SandboxSuite implements Suite {

  record Driver(
      String sandbox,
      double coldClientMedianMillis,
      double initDurationMedianMillis,
      double warmClientMedianMillis) {}

  record Ratios(
      double coldLinuxOverProcess, double initLinuxOverProcess, double warmLinuxOverProcess) {}

  @Override
  public String name() {
    return "sandbox";
  }

  @Override
  public void run(BenchContext context, SuiteReport report) throws Exception {
    int n = context.settings().coldStarts();
    int warmCalls = 10 * n;
    report.note(
        n
            + " cold starts (a configuration update before each) and "
            + warmCalls
            + " warm calls of a no-op python3.12 function at "
            + BenchSettings.FUNCTION_MEMORY_MB
            + " MB, in a Kiln of each driver started for this suite; medians.");
    Driver process = measure("process", n, warmCalls, context);
    Driver linux = measure("linux", n, warmCalls, context);
    report.result(process);
    report.result(linux);
    Ratios ratios =
        new Ratios(
            linux.coldClientMedianMillis() / process.coldClientMedianMillis(),
            linux.initDurationMedianMillis() / process.initDurationMedianMillis(),
            linux.warmClientMedianMillis() / process.warmClientMedianMillis());
    report.result(ratios);
    report
        .table(
            Table.of(
                "the Linux sandbox against the process driver, median ms",
                "",
                "process driver",
                "Linux sandbox",
                "ratio linux / process"))
        .row(
            "cold invoke, client side",
            process.coldClientMedianMillis(),
            linux.coldClientMedianMillis(),
            ratios.coldLinuxOverProcess())
        .row(
            "Init Duration (REPORT)",
            process.initDurationMedianMillis(),
            linux.initDurationMedianMillis(),
            ratios.initLinuxOverProcess())
        .row(
            "warm invoke, client side",
            process.warmClientMedianMillis(),
            linux.warmClientMedianMillis(),
            ratios.warmLinuxOverProcess());
  }

  private static Driver measure(String sandbox, int n, int warmCalls, BenchContext context)
      throws Exception {
    try (KilnProcess kiln = KilnProcess.start(sandbox, List.of())) {
      String function = "bench-sandbox";
      ProbeFunction.create(kiln, function, BenchSettings.FUNCTION_MEMORY_MB, 60, List.of());
      double[] cold = new double[n];
      double[] init = new double[n];
      for (int i = 0; i < n; i++) {
        TailedInvoke call = TailedInvoke.cold(context.http(), kiln, function, "{}", i + 1);
        cold[i] = call.clientMillis();
        init[i] = call.init();
      }
      for (int i = 0; i < warmCalls; i++) {
        TailedInvoke.ok(context.http(), kiln, function, "{}");
      }
      double[] warm = new double[warmCalls];
      for (int i = 0; i < warmCalls; i++) {
        warm[i] = TailedInvoke.ok(context.http(), kiln, function, "{}").clientMillis();
      }
      return new Driver(
          sandbox, ColdSuite.median(cold), ColdSuite.median(init), ColdSuite.median(warm));
    }
  }
}
