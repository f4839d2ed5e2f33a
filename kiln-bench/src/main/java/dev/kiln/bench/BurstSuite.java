package dev.kiln.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Burst scale-out: N simultaneous calls to a function with no instance yet. Measured: the time from
 * releasing the calls to the last answer; how many instances Kiln started meanwhile ({@code
 * kiln_sandbox_start_seconds_count} across the burst) and so new instances per second, and how many
 * calls were served cold ({@code kiln_cold_starts_total}: an instance's first event, the rest ran
 * on instances given back); the median and 99th percentile call, and the errors. The baseline, in
 * the same run, is the machine's own ability to start that many interpreters at once: N bare starts
 * ({@code python3 -c pass} and the like) launched together, timed to the last exit, with their own
 * median and 99th percentile. The ratio says how much of a burst is the platform and how much is
 * simply starting N processes on this many cores.
 *
 * <p>After each burst the function is deleted and what its instances held on the host is counted
 * against a count taken before the burst ({@link Leftovers}): Kiln's child processes, instance
 * directories, {@code /tmp} disks and their mounts, network namespaces, host network links and
 * cgroups. Anything left once Kiln reports no instance is a leak, and is reported as one. Each
 * language bursts twice, to two new functions: the second burst finds the spare parts the first
 * one's starts left Kiln keeping ({@code Spare}), as a user's next burst within minutes does.
 */
final class BurstSuite implements Suite {

  /** How long Kiln has to stop a burst's instances, and trim its spares, after the delete. */
  static final java.time.Duration CLEAN_UP = java.time.Duration.ofSeconds(120);

  record Burst(
      String language,
      int calls,
      double kilnAllServedMillis,
      double kilnMedianCallMillis,
      double kilnP99CallMillis,
      double kilnSlowestCallMillis,
      double instancesStarted,
      double callsServedCold,
      double instancesPerSecond,
      long errors,
      String firstError,
      double bareParallelStartsMillis,
      double bareMedianStartMillis,
      double bareP99StartMillis,
      double kilnOverBare,
      Leftovers leftBehind,
      boolean partsReady,
      double firstAnswerMillis,
      Map<String, Double> phaseMeanMillis) {}

  /**
   * What a burst's instances hold on the host, as counted there: Kiln's descendant processes other
   * than its zygotes, entries in its instance and {@code /tmp} disk directories, mounts under its
   * data directory, network namespaces, host network links, and cgroup directories below a {@code
   * kiln} one.
   */
  record Leftovers(
      long processes,
      long instanceDirs,
      long tmpDisks,
      long mounts,
      long networkNamespaces,
      long networkLinks,
      long cgroups) {

    /**
     * The count on the host, less the spare parts Kiln reports ({@code kiln_sandbox_spares}): a
     * namespace (with its host link) or a disk (with its mount) made ready for the next start is
     * the platform's, kept by design, not an instance's leftover.
     */
    static Leftovers count(KilnProcess kiln) throws java.io.IOException, InterruptedException {
      PrometheusText metrics = kiln.metrics();
      long spareNetworks = (long) metrics.sum("kiln_sandbox_spares", "part=\"network\"");
      long spareDisks = (long) metrics.sum("kiln_sandbox_spares", "part=\"tmp_disk\"");
      return onHost(kiln)
          .minus(new Leftovers(0, 0, spareDisks, spareDisks, spareNetworks, spareNetworks, 0));
    }

    private static Leftovers onHost(KilnProcess kiln) {
      java.nio.file.Path data = kiln.dataDir();
      return new Leftovers(
          ProcMemory.descendants(kiln.pid()).stream()
              .filter(pid -> !ProcMemory.cmdline(pid).contains("zygote"))
              .count(),
          entries(data.resolve("instances")),
          entries(data.resolve("sandbox").resolve("tmp-disks")),
          linesContaining(java.nio.file.Path.of("/proc/self/mountinfo"), " " + data),
          entries(java.nio.file.Path.of("/run/netns")),
          entries(java.nio.file.Path.of("/sys/class/net")),
          kilnCgroups());
    }

    Leftovers minus(Leftovers o) {
      return new Leftovers(
          processes - o.processes,
          instanceDirs - o.instanceDirs,
          tmpDisks - o.tmpDisks,
          mounts - o.mounts,
          networkNamespaces - o.networkNamespaces,
          networkLinks - o.networkLinks,
          cgroups - o.cgroups);
    }

    boolean none() {
      return processes <= 0
          && instanceDirs <= 0
          && tmpDisks <= 0
          && mounts <= 0
          && networkNamespaces <= 0
          && networkLinks <= 0
          && cgroups <= 0;
    }

    /** "none", or what is left, by kind. */
    String describe() {
      if (none()) {
        return "none";
      }
      List<String> parts = new ArrayList<>();
      add(parts, processes, "processes");
      add(parts, instanceDirs, "instance dirs");
      add(parts, tmpDisks, "/tmp disks");
      add(parts, mounts, "mounts");
      add(parts, networkNamespaces, "netns");
      add(parts, networkLinks, "links");
      add(parts, cgroups, "cgroups");
      return String.join(", ", parts);
    }

    private static void add(List<String> parts, long n, String what) {
      if (n > 0) {
        parts.add(n + " " + what);
      }
    }

    private static long entries(java.nio.file.Path dir) {
      if (!java.nio.file.Files.isDirectory(dir)) {
        return 0;
      }
      try (var files = java.nio.file.Files.list(dir)) {
        return files.count();
      } catch (java.io.IOException e) {
        return 0;
      }
    }

    private static long linesContaining(java.nio.file.Path file, String text) {
      try {
        return java.nio.file.Files.readAllLines(file).stream()
            .filter(l -> l.contains(text))
            .count();
      } catch (java.io.IOException e) {
        return 0;
      }
    }

    /** Directories below any directory named {@code kiln} in the cgroup file system. */
    private static long kilnCgroups() {
      java.nio.file.Path root = java.nio.file.Path.of("/sys/fs/cgroup");
      if (!java.nio.file.Files.isDirectory(root)) {
        return 0;
      }
      try (var dirs = java.nio.file.Files.walk(root, 8)) {
        return dirs.filter(java.nio.file.Files::isDirectory)
            .filter(d -> d.toString().contains("/kiln/"))
            .count();
      } catch (java.io.IOException | java.io.UncheckedIOException e) {
        return 0;
      }
    }
  }

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
            + " bare interpreter starts launched at once. Instances started: sandbox starts during"
            + " the burst; served cold: calls that were an instance's first. Left behind: what"
            + " the function's instances still hold on the host once it is deleted and Kiln"
            + " reports no instance, against a count taken before the burst (the spare parts"
            + " Kiln reports in kiln_sandbox_spares are the platform's, not leftovers). Each"
            + " language's second row ('again') is a burst to another new function right after"
            + " the first: it finds ready as many network namespaces and /tmp disks as the first"
            + " one took. First answer: from releasing the calls to the first one answered.");
    Table t =
        report.table(
            Table.of(
                n + " simultaneous calls to a cold function",
                "language",
                "bare: " + n + " starts at once, ms",
                "bare p50 / p99 ms",
                "Kiln: all served, ms",
                "ratio Kiln / bare",
                "instances started",
                "served cold",
                "instances/s",
                "call p50 / p99 ms",
                "errors",
                "left behind"));
    Table phases =
        report.table(
            Table.of(
                "each start of the burst, phase by phase (kiln_cold_start_phase_seconds), mean ms",
                concat(List.of("language", "first answer, ms"), ColdSuite.PHASES)
                    .toArray(String[]::new)));
    for (Language language : settings.languages()) {
      double[] bareEach = new double[n];
      double bare = parallelStarts(language.bareStart(), n, bareEach);
      // the first burst finds one spare namespace and disk; the second, right after to another
      // function, finds as many as the first took (Spare remembers its busiest ten seconds)
      for (boolean again : new boolean[] {false, true}) {
        String function = "bench-burst-" + language.id + (again ? "-again" : "");
        if (again) {
          sparesSettle(context);
        }
        Burst b = burst(context, language, function, n, bare, bareEach, again);
        report.result(b);
        String label = language.id + (again ? ", again: parts ready" : "");
        t.row(
            label,
            bare,
            String.format(
                java.util.Locale.ROOT,
                "%.0f / %.0f",
                b.bareMedianStartMillis(),
                b.bareP99StartMillis()),
            b.kilnAllServedMillis(),
            b.kilnOverBare(),
            (long) b.instancesStarted(),
            (long) b.callsServedCold(),
            b.instancesPerSecond(),
            String.format(
                java.util.Locale.ROOT,
                "%.0f / %.0f",
                b.kilnMedianCallMillis(),
                b.kilnP99CallMillis()),
            b.errors(),
            b.leftBehind().describe());
        List<Object> cells = new ArrayList<>(List.of(label, b.firstAnswerMillis()));
        for (String phase : ColdSuite.PHASES) {
          cells.add(b.phaseMeanMillis().getOrDefault(phase, Double.NaN));
        }
        phases.row(cells.toArray());
      }
    }
  }

  /**
   * Waits until Kiln's spare parts stop changing for two seconds (at most a minute): the parts the
   * last burst's starts took are made again once its takes stop, as they are before a user's next
   * burst a few seconds later.
   */
  private static void sparesSettle(BenchContext context) throws InterruptedException {
    long deadline = System.nanoTime() + java.time.Duration.ofMinutes(1).toNanos();
    double last = -1;
    long stableSince = System.nanoTime();
    while (System.nanoTime() < deadline) {
      double now = context.kiln().metrics().sum("kiln_sandbox_spares");
      if (now != last) {
        last = now;
        stableSince = System.nanoTime();
      } else if (System.nanoTime() - stableSince > java.time.Duration.ofSeconds(2).toNanos()) {
        return;
      }
      Thread.sleep(250);
    }
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  /** One burst of {@code n} calls to a new no-op {@code function}, deleted after. */
  private static Burst burst(
      BenchContext context,
      Language language,
      String function,
      int n,
      double bare,
      double[] bareEach,
      boolean partsReady)
      throws Exception {
    context.createNoop(function, language, Map.of());
    String label = "function=\"" + function + "\"";
    PrometheusText before = context.kiln().metrics();
    Leftovers hostBefore = Leftovers.count(context.kiln());
    LoadGenerator.Call call =
        HttpCalls.invoke(
            context.http(),
            context.kiln().invokeUri(function),
            "RequestResponse",
            context.kiln().credentials());
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Double>> calls = new ArrayList<>();
    java.util.concurrent.atomic.AtomicLong firstAnswer =
        new java.util.concurrent.atomic.AtomicLong();
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
                  long e = System.nanoTime();
                  firstAnswer.compareAndSet(0, e);
                  return (e - s) / 1e6;
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
    PrometheusText after = context.kiln().metrics();
    double started =
        after.sum("kiln_sandbox_start_seconds_count")
            - before.sum("kiln_sandbox_start_seconds_count");
    double cold =
        after.sum("kiln_cold_starts_total", label) - before.sum("kiln_cold_starts_total", label);
    Map<String, Double> phaseMeans = ColdSuite.phaseMeanMillis(before, after);
    double[] ok = java.util.Arrays.stream(each).filter(d -> !Double.isNaN(d)).toArray();
    double slowest = java.util.Arrays.stream(ok).max().orElse(Double.NaN);
    Leftovers left = leftBehind(context, function, hostBefore);
    return new Burst(
        language.id,
        n,
        all,
        ColdSuite.median(ok),
        percentile(ok, 0.99),
        slowest,
        started,
        cold,
        started / (all / 1000),
        errors,
        firstError,
        bare,
        ColdSuite.median(bareEach),
        percentile(bareEach, 0.99),
        all / bare,
        left,
        partsReady,
        firstAnswer.get() == 0 ? Double.NaN : (firstAnswer.get() - t0) / 1e6,
        phaseMeans);
  }

  /**
   * Deletes the function, waits for Kiln to report no instance and for the host's count to come
   * back to {@code before} (spares are trimmed a second after the last take), up to {@link
   * #CLEAN_UP}; returns what is still there beyond {@code before}.
   */
  private static Leftovers leftBehind(BenchContext context, String function, Leftovers before)
      throws Exception {
    context.lambda().deleteFunction(b -> b.functionName(function));
    long deadline = System.nanoTime() + CLEAN_UP.toNanos();
    Leftovers left;
    while (true) {
      boolean noInstance = context.kiln().metrics().sum("kiln_instances") == 0;
      left = Leftovers.count(context.kiln()).minus(before);
      if ((noInstance && left.none()) || System.nanoTime() > deadline) {
        return left;
      }
      Thread.sleep(500);
    }
  }

  /** The {@code q} quantile of {@code values} (nearest rank); NaN when there are none. */
  static double percentile(double[] values, double q) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] sorted = values.clone();
    java.util.Arrays.sort(sorted);
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  /**
   * Starts n copies of a command at once and returns the milliseconds until the last exits; {@code
   * each} gets each one's time from its launch to its exit.
   */
  private static double parallelStarts(List<String> command, int n, double[] each)
      throws Exception {
    long t0 = System.nanoTime();
    List<Process> processes = new ArrayList<>();
    List<java.util.concurrent.CompletableFuture<Long>> exits = new ArrayList<>();
    long[] launched = new long[n];
    for (int i = 0; i < n; i++) {
      launched[i] = System.nanoTime();
      Process p =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      processes.add(p);
      exits.add(p.onExit().thenApply(x -> System.nanoTime()));
    }
    for (int i = 0; i < n; i++) {
      if (processes.get(i).waitFor() != 0) {
        throw new IllegalStateException(String.join(" ", command) + " failed");
      }
      each[i] = (exits.get(i).get() - launched[i]) / 1e6;
    }
    return (System.nanoTime() - t0) / 1e6;
  }
}
