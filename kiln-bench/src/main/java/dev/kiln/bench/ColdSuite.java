package dev.kiln.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Cold start, on demand: the first call of a function's new configuration, split into its parts,
 * against the bare start of the language's interpreter ({@code python3 -c pass}, {@code node -e 0},
 * {@code java -version}) measured in the same run.
 *
 * <p>Each cold start is forced by a configuration update (a new environment variable), after which
 * Kiln starts a fresh instance for the next call, as Lambda does. The parts come from Kiln itself:
 * sandbox creation from the change in {@code kiln_sandbox_start_seconds} on {@code GET /metrics}
 * across the call; the REPORT line's {@code Init Duration} (from the start of the sandbox to the
 * runtime's first {@code GET /next}, so it includes the sandbox) less that, as runtime start and
 * init; the REPORT line's {@code Duration}, the first invoke; and the rest of the client-side time
 * (the API, the hand-offs and the HTTP hop). The REPORT line is read from {@code X-Amz-Log-Result}
 * (Invoke with {@code X-Amz-Log-Type: Tail}). Medians over the cold starts, each ratio to the
 * median bare start.
 *
 * <p>A second table per language splits the cold start phase by phase from {@code
 * kiln_cold_start_phase_seconds{phase}} (its change across each call, like the sandbox's): Kiln's
 * preparation, the network namespace, the cgroup, the /tmp disk, bubblewrap's spawn, the runtime's
 * init up to its first {@code GET /next}, and the first event; the rest of the client's time is
 * Kiln's API and hand-offs.
 */
final class ColdSuite implements Suite {

  /**
   * The phases of {@code kiln_cold_start_phase_seconds}, in the order they run; {@code network},
   * {@code cgroup} and {@code tmp_disk} appear only where the sandbox has them.
   */
  static final List<String> PHASES =
      List.of("prepare", "network", "cgroup", "tmp_disk", "spawn", "runtime_init", "first_event");

  /**
   * @param phaseMillis each of {@link #PHASES} in this cold start (NaN where it did not happen)
   */
  record ColdStart(
      double clientMillis,
      double sandboxMillis,
      double initMillis,
      double durationMillis,
      Map<String, Double> phaseMillis) {}

  record Summary(
      String language,
      String bareStartCommand,
      double bareStartMedianMillis,
      double sandboxMedianMillis,
      double runtimeStartAndInitMedianMillis,
      double initDurationMedianMillis,
      double firstInvokeMedianMillis,
      double coldInvokeClientMedianMillis,
      double warmInvokeClientMedianMillis,
      double coldOverBareStart,
      double initOverBareStart,
      Map<String, Double> phaseMedianMillis,
      List<ColdStart> coldStarts) {}

  @Override
  public String name() {
    return "cold";
  }

  @Override
  public void run(BenchContext context, SuiteReport report) throws Exception {
    BenchSettings settings = context.settings();
    int n = settings.coldStarts();
    report.note(
        n
            + " cold starts per language (a configuration update before each"
            + (settings.coldPause().isZero()
                ? ""
                : ", then a pause of " + settings.coldPause().toMillis() + " ms")
            + "), medians; the"
            + " bare start is run "
            + n
            + " times in the same run. Functions at "
            + BenchSettings.FUNCTION_MEMORY_MB
            + " MB, sandbox "
            + settings.sandbox()
            + ".");
    for (Language language : settings.languages()) {
      double[] bare = new double[n];
      for (int i = 0; i < n; i++) {
        bare[i] = bareStart(language.bareStart());
      }
      String function = "bench-cold-" + language.id;
      context.createNoop(function, language, Map.of());
      List<ColdStart> starts = new ArrayList<>();
      for (int i = 1; i <= n; i++) {
        TailedInvoke.retire(context.lambda(), function, i);
        Thread.sleep(settings.coldPause());
        starts.add(coldStart(context, function));
      }
      double[] warm = new double[n];
      for (int i = 0; i < n; i++) {
        warm[i] = TailedInvoke.ok(context.http(), context.kiln(), function, "{}").clientMillis();
      }
      double bareMedian = median(bare);
      double sandbox = median(starts.stream().mapToDouble(ColdStart::sandboxMillis).toArray());
      double init = median(starts.stream().mapToDouble(ColdStart::initMillis).toArray());
      double runtimeInit =
          median(starts.stream().mapToDouble(s -> s.initMillis() - s.sandboxMillis()).toArray());
      double first = median(starts.stream().mapToDouble(ColdStart::durationMillis).toArray());
      double client = median(starts.stream().mapToDouble(ColdStart::clientMillis).toArray());
      double rest =
          median(
              starts.stream()
                  .mapToDouble(s -> s.clientMillis() - s.initMillis() - s.durationMillis())
                  .toArray());
      Map<String, Double> phases = new java.util.LinkedHashMap<>();
      for (String phase : PHASES) {
        double[] values =
            starts.stream()
                .mapToDouble(st -> st.phaseMillis().getOrDefault(phase, Double.NaN))
                .filter(v -> !Double.isNaN(v))
                .toArray();
        if (values.length > 0) {
          phases.put(phase, median(values));
        }
      }
      double phased = phases.values().stream().mapToDouble(Double::doubleValue).sum();
      Summary summary =
          new Summary(
              language.id,
              String.join(" ", language.bareStart()),
              bareMedian,
              sandbox,
              runtimeInit,
              init,
              first,
              client,
              median(warm),
              client / bareMedian,
              init / bareMedian,
              phases,
              starts);
      report.result(summary);
      String bareName = language.bareStartName();
      Table t =
          report.table(
              Table.of(
                  language.id + " (" + language.runtime + "), median ms",
                  "",
                  "ms",
                  "ratio to bare start"));
      t.row("bare start: `" + bareName + "`", bareMedian, 1.0);
      t.row("sandbox creation (kiln_sandbox_start_seconds)", sandbox, sandbox / bareMedian);
      t.row(
          "runtime start and init (Init Duration less sandbox)",
          runtimeInit,
          runtimeInit / bareMedian);
      t.row("Init Duration (REPORT)", init, init / bareMedian);
      t.row("first invoke (REPORT Duration)", first, first / bareMedian);
      t.row("rest: API, hand-offs, HTTP (client less Init and Duration)", rest, rest / bareMedian);
      t.row("Kiln cold invoke, client side", client, client / bareMedian);
      t.row("Kiln warm invoke, client side", median(warm), median(warm) / bareMedian);
      Table p =
          report.table(
              Table.of(
                  language.id
                      + " cold start phase by phase (kiln_cold_start_phase_seconds), median ms",
                  "phase",
                  "ms",
                  "ratio to bare start"));
      p.row("bare start: `" + bareName + "`", bareMedian, 1.0);
      phases.forEach((phase, ms) -> p.row(phase, ms, ms / bareMedian));
      p.row(
          "Kiln's API and hand-offs (client less the phases)",
          client - phased,
          (client - phased) / bareMedian);
      p.row("Kiln cold invoke, client side", client, client / bareMedian);
    }
  }

  /**
   * The mean milliseconds of each of {@link #PHASES} over the cold starts between two scrapes of
   * {@code kiln_cold_start_phase_seconds}; a phase no start went through is absent.
   */
  static Map<String, Double> phaseMeanMillis(PrometheusText before, PrometheusText after) {
    Map<String, Double> phases = new java.util.LinkedHashMap<>();
    for (String phase : PHASES) {
      String label = "phase=\"" + phase + "\"";
      double count =
          after.sum("kiln_cold_start_phase_seconds_count", label)
              - before.sum("kiln_cold_start_phase_seconds_count", label);
      if (count > 0) {
        double seconds =
            after.sum("kiln_cold_start_phase_seconds_sum", label)
                - before.sum("kiln_cold_start_phase_seconds_sum", label);
        phases.put(phase, 1000 * seconds / count);
      }
    }
    return phases;
  }

  /** One invocation of {@code function}, retired just before: a cold start, and its parts. */
  private static ColdStart coldStart(BenchContext context, String function) throws Exception {
    PrometheusText before = context.kiln().metrics();
    TailedInvoke call = TailedInvoke.ok(context.http(), context.kiln(), function, "{}");
    PrometheusText after = context.kiln().metrics();
    double sandboxSeconds =
        after.sum("kiln_sandbox_start_seconds_sum") - before.sum("kiln_sandbox_start_seconds_sum");
    double sandboxCount =
        after.sum("kiln_sandbox_start_seconds_count")
            - before.sum("kiln_sandbox_start_seconds_count");
    Map<String, Double> phases = phaseMeanMillis(before, after);
    return new ColdStart(
        call.clientMillis(),
        sandboxCount == 0 ? Double.NaN : 1000 * sandboxSeconds / sandboxCount,
        call.init(),
        call.durationMillis(),
        phases);
  }

  private static double bareStart(List<String> command) throws Exception {
    long t0 = System.nanoTime();
    Process p =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    if (p.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed");
    }
    return (System.nanoTime() - t0) / 1e6;
  }

  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int mid = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }
}
