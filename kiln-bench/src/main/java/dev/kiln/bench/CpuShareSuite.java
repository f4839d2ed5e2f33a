package dev.kiln.bench;

import java.util.List;

/**
 * CPU in proportion to memory, as Lambda allots it: the same CPU-bound loop in a function at 128 MB
 * and at 1769 MB (Lambda's one full vCPU), the 1769 MB run being the baseline. Lambda's proportion
 * is 1769 / 128 = 13.8; the Linux sandbox gives a 128 MB instance a CFS quota of 7.2 ms per 100 ms
 * period. With {@code --sandbox process} nothing is limited and the ratio is about 1.
 *
 * <p>The figure is the REPORT line's Duration of warm calls (the cold start is made and left out
 * first), medians.
 */
final class CpuShareSuite implements Suite {

  /** Lambda's ratio of the two memory sizes' CPU shares. */
  static final double LAMBDA_PROPORTION = 1769.0 / 128;

  record Share(
      long loopIterations,
      int runs,
      double at128MbMedianMillis,
      double at1769MbMedianMillis,
      double ratio128Over1769,
      double lambdaProportion) {}

  @Override
  public String name() {
    return "cpu";
  }

  @Override
  public void run(BenchContext context, SuiteReport report) throws Exception {
    boolean smoke = context.settings().smoke();
    long iterations = smoke ? 300_000 : 2_000_000;
    int runs = smoke ? 2 : 5;
    String event = "{\"spin\": " + iterations + "}";
    double[] medians = new double[2];
    int[] sizes = {128, BenchSettings.FUNCTION_MEMORY_MB};
    for (int s = 0; s < sizes.length; s++) {
      String function = "bench-cpu-" + sizes[s];
      ProbeFunction.create(context.kiln(), function, sizes[s], 120, List.of());
      TailedInvoke.ok(context.http(), context.kiln(), function, event);
      double[] durations = new double[runs];
      for (int i = 0; i < runs; i++) {
        durations[i] =
            TailedInvoke.ok(context.http(), context.kiln(), function, event).durationMillis();
      }
      medians[s] = ColdSuite.median(durations);
    }
    Share share =
        new Share(
            iterations, runs, medians[0], medians[1], medians[0] / medians[1], LAMBDA_PROPORTION);
    report.result(share);
    report.note(
        "A Python loop of "
            + iterations
            + " additions, "
            + runs
            + " warm calls per memory size after one cold one, sandbox "
            + context.settings().sandbox()
            + "; medians of the REPORT Duration.");
    report
        .table(
            Table.of(
                "CPU-bound loop, REPORT Duration, median ms",
                "",
                "128 MB",
                "1769 MB (baseline)",
                "ratio 128 / 1769",
                "Lambda's ratio"))
        .row(
            "loop",
            share.at128MbMedianMillis(),
            share.at1769MbMedianMillis(),
            share.ratio128Over1769(),
            LAMBDA_PROPORTION);
  }
}
