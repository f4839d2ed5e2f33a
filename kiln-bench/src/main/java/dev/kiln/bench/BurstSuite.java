package dev.kiln.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Burst scale-out: N simultaneous calls to a function with no instance yet. Measured: the time from
 * releasing the calls to the last answer, how many instances Kiln started for them ({@code
 * kiln_cold_starts_total} across the burst) and so instances started per second; the slowest and
 * median call. The baseline, in the same run, is the machine's own ability to start that many
 * interpreters at once: N bare starts ({@code python3 -c pass} and the like) launched together,
 * timed to the last exit. The ratio says how much of a burst is the platform and how much is simply
 * starting N processes on this many cores.
 */
final class BurstSuite implements Suite {

  record Burst(
      String language,
      int calls,
      double kilnAllServedMillis,
      double kilnMedianCallMillis,
      double kilnSlowestCallMillis,
      double instancesStarted,
      double instancesPerSecond,
      long errors,
      String firstError,
      double bareParallelStartsMillis,
      double kilnOverBare) {}

  @Override
  public String name() {
    return "burst";
  }

  @Override
  public void run(BenchContext context, SuiteReport report) throws Exception {
    BenchSettings settings = context.settings();
    int n = settings.burstCalls();
    report.note(
        n
            + " simultaneous raw HTTP Invokes of a no-op function created just before (no"
            + " instance yet); functions at "
            + BenchSettings.FUNCTION_MEMORY_MB
            + " MB, sandbox "
            + settings.sandbox()
            + ". Baseline: "
            + n
            + " bare interpreter starts launched at once.");
    Table t =
        report.table(
            Table.of(
                n + " simultaneous calls to a cold function",
                "language",
                "bare: " + n + " starts at once, ms",
                "Kiln: all served, ms",
                "ratio Kiln / bare",
                "instances started",
                "instances/s",
                "median call ms",
                "slowest call ms",
                "errors"));
    for (Language language : settings.languages()) {
      double bare = parallelStarts(language.bareStart(), n);
      String function = "bench-burst-" + language.id;
      context.createNoop(function, language, Map.of());
      String label = "function=\"" + function + "\"";
      PrometheusText before = context.kiln().metrics();
      LoadGenerator.Call call =
          HttpCalls.invoke(
              context.http(),
              context.kiln().invokeUri(function),
              "RequestResponse",
              context.kiln().credentials());
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Double>> calls = new ArrayList<>();
      long t0;
      long errors = 0;
      String firstError = null;
      double[] each = new double[n];
      try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
        for (int i = 0; i < n; i++) {
          calls.add(
              executor.submit(
                  () -> {
                    go.await();
                    long s = System.nanoTime();
                    call.call();
                    return (System.nanoTime() - s) / 1e6;
                  }));
        }
        Thread.sleep(100); // let every client reach the latch
        t0 = System.nanoTime();
        go.countDown();
      }
      double all = (System.nanoTime() - t0) / 1e6;
      for (int i = 0; i < n; i++) {
        try {
          each[i] = calls.get(i).get();
        } catch (java.util.concurrent.ExecutionException e) {
          errors++;
          each[i] = Double.NaN;
          if (firstError == null) {
            firstError = e.getCause().toString();
          }
        }
      }
      double started =
          context.kiln().metrics().sum("kiln_cold_starts_total", label)
              - before.sum("kiln_cold_starts_total", label);
      double[] ok = java.util.Arrays.stream(each).filter(d -> !Double.isNaN(d)).toArray();
      double slowest = java.util.Arrays.stream(ok).max().orElse(Double.NaN);
      Burst b =
          new Burst(
              language.id,
              n,
              all,
              ColdSuite.median(ok),
              slowest,
              started,
              started / (all / 1000),
              errors,
              firstError,
              bare,
              all / bare);
      report.result(b);
      t.row(
          language.id,
          bare,
          all,
          all / bare,
          (long) started,
          b.instancesPerSecond(),
          b.kilnMedianCallMillis(),
          slowest,
          errors);
    }
  }

  /** Starts n copies of a command at once and returns the milliseconds until the last exits. */
  private static double parallelStarts(List<String> command, int n) throws Exception {
    long t0 = System.nanoTime();
    List<Process> processes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      processes.add(
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start());
    }
    for (Process p : processes) {
      if (p.waitFor() != 0) {
        throw new IllegalStateException(String.join(" ", command) + " failed");
      }
    }
    return (System.nanoTime() - t0) / 1e6;
  }
}
