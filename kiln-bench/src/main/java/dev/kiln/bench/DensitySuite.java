package dev.kiln.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Density: how many idle instances one node holds, and how much of an instance's memory is the
 * platform's rather than the runtime's.
 *
 * <p>Per language, N functions (N = 50 by default) are created at 128 MB, Lambda's smallest size
 * and the one a dense node would run, and each is invoked once: N instances, each then left idle
 * (Kiln keeps them for an hour here, and freezes an idle instance's cgroup after a second, as
 * Lambda freezes its). N distinct functions rather than concurrency on one, so that the count of
 * instances is exactly N, whatever the scale-out policy. Then, read from {@code /proc} and the
 * cgroup file system ({@link ProcMemory}) with no cost to the processes measured:
 *
 * <ul>
 *   <li>the <b>Kiln server's RSS growth</b> from before the first invoke to after the last, divided
 *       by N: what Kiln holds per instance (its objects, threads, buffers). A full GC ({@code jcmd
 *       GC.run}) precedes both readings so that garbage is not counted as growth;
 *   <li>the <b>sandbox processes</b> among the server's new descendants (bubblewrap, or a Python
 *       zygote and its forked instances' inits, and whatever else is not the runtime): the
 *       platform's processes;
 *   <li>the <b>runtime processes</b> (the interpreter that runs Kiln's bootstrap and the handler),
 *       found among the server's new descendants by command name: under the Linux sandbox they run
 *       in pid namespaces of their own but are visible in the host's {@code /proc};
 *   <li>each instance's <b>memory cgroup</b> charge, where instances have one (Kiln makes them
 *       under {@code kiln/}), which counts every page of the instance once, page cache included.
 * </ul>
 *
 * <p>The baseline, measured in the same run after the instances are gone, is N bare runtime
 * processes started at once and left waiting ({@code python3 -c 'import time; time.sleep(3600)'},
 * {@code node -e 'setTimeout(() => {}, 3600000)'}, and a JVM with the flags Kiln gives a 128 MB
 * function's JVM that loads one class and sleeps): the interpreter Kiln runs, as small as it gets.
 * N of them, so that shared pages divide among as many processes as the instances' do.
 *
 * <p>Reported per instance: platform bytes (server growth plus sandbox processes' RSS), runtime
 * RSS, their ratio, and each against the bare runtime's RSS; then how many instances fit in a
 * budget (the host's {@code MemAvailable} when the suite starts), from the proportional set sizes
 * (PSS: shared pages divided among their sharers, so N times it is what N instances take) plus the
 * server's growth, against how many bare runtime processes fit. RSS and PSS on a shared machine
 * move with what else runs, which is another reason for measuring the baseline in the same run.
 */
final class DensitySuite implements Suite {

  /** Lambda's smallest memory size: the density a node full of small functions would reach. */
  static final int FUNCTION_MEMORY_MB = 128;

  /** Kiln freezes an instance after a second idle; this lets every instance reach that state. */
  private static final long SETTLE_MILLIS = 2_000;

  private static final int INVOKING_CLIENTS = 2;
  private static final double MB = 1024.0 * 1024.0;

  record Density(
      String language,
      String runtime,
      int functionMemoryMb,
      int instances,
      int runtimeProcessesFound,
      int sandboxProcessesFound,
      int cgroupsFound,
      double kilnRssGrowthPerInstanceBytes,
      double kilnThreadsPerInstance,
      double sandboxRssPerInstanceBytes,
      double sandboxPssPerInstanceBytes,
      double runtimeRssPerInstanceBytes,
      double runtimePssPerInstanceBytes,
      double cgroupPerInstanceBytes,
      String bareCommand,
      double bareRssBytes,
      double barePssBytes,
      double platformPerInstanceBytes,
      double platformOverRuntimeRss,
      double platformPssPerInstanceBytes,
      double platformPssOverRuntimeRss,
      double idleCounted,
      double frozenCounted,
      double runtimeRssOverBareRss,
      double platformOverBareRss,
      long budgetBytes,
      double costPerInstanceBytes,
      long instancesFitting,
      long bareProcessesFitting,
      double fittingOverBare,
      boolean kilnGarbageCollected) {}

  @Override
  public String name() {
    return "density";
  }

  @Override
  public void run(BenchContext context, SuiteReport report) throws Exception {
    BenchSettings settings = context.settings();
    int n = settings.idleInstances();
    long budget = ProcMemory.memAvailableBytes();
    report.note(
        n
            + " idle instances per language (N functions at "
            + FUNCTION_MEMORY_MB
            + " MB, each invoked once, then idle "
            + SETTLE_MILLIS
            + " ms), sandbox "
            + settings.sandbox()
            + "; baseline: "
            + n
            + " bare runtime processes at once, after the instances are gone. RSS from"
            + " /proc/<pid>/status, PSS from /proc/<pid>/smaps_rollup, cgroup charge from"
            + " memory.usage_in_bytes or memory.current. Budget: MemAvailable at the start, "
            + Math.round(budget / MB)
            + " MB. 'Platform' is the Kiln server's RSS growth plus the sandbox processes' RSS;"
            + " 'cost' (for the fit) is the server's growth plus the sandbox's and the runtime's"
            + " PSS.");
    Table fit =
        Table.of(
            "instances that fit in " + Math.round(budget / MB) + " MB (MemAvailable)",
            "language",
            "cost per instance, MB",
            "Kiln idle instances",
            "bare runtime PSS, MB",
            "bare runtime processes",
            "ratio Kiln / bare");
    for (Language language : settings.languages()) {
      Density d = measure(context, language, n, budget);
      report.result(d);
      Table t =
          report.table(
              Table.of(
                  language.id
                      + " ("
                      + language.runtime
                      + "), "
                      + n
                      + " idle instances at "
                      + FUNCTION_MEMORY_MB
                      + " MB, per instance",
                  "",
                  "MB",
                  "ratio to bare runtime RSS"));
      double bare = d.bareRssBytes();
      t.row("bare runtime: `" + d.bareCommand() + "`, RSS", bare / MB, 1.0);
      t.row("bare runtime, PSS", d.barePssBytes() / MB, d.barePssBytes() / bare);
      t.row(
          "Kiln instance's runtime process, RSS",
          d.runtimeRssPerInstanceBytes() / MB,
          d.runtimeRssOverBareRss());
      t.row(
          "Kiln instance's runtime process, PSS",
          d.runtimePssPerInstanceBytes() / MB,
          d.runtimePssPerInstanceBytes() / bare);
      t.row(
          "sandbox processes (" + d.sandboxProcessesFound() + " in all), RSS",
          d.sandboxRssPerInstanceBytes() / MB,
          d.sandboxRssPerInstanceBytes() / bare);
      t.row(
          "Kiln server's RSS growth" + (d.kilnGarbageCollected() ? " (after full GCs)" : ""),
          d.kilnRssGrowthPerInstanceBytes() / MB,
          d.kilnRssGrowthPerInstanceBytes() / bare);
      t.row(
          "platform: server growth + sandbox processes' RSS",
          d.platformPerInstanceBytes() / MB,
          d.platformOverBareRss());
      t.row(
          "instance's memory cgroup charge (" + d.cgroupsFound() + " cgroups)",
          d.cgroupPerInstanceBytes() / MB,
          d.cgroupPerInstanceBytes() / bare);
      t.row("ratio platform / runtime RSS", d.platformOverRuntimeRss(), "");
      t.row(
          "platform by PSS: server growth + sandbox processes' PSS",
          d.platformPssPerInstanceBytes() / MB,
          d.platformPssPerInstanceBytes() / bare);
      t.row("ratio platform by PSS / runtime RSS", d.platformPssOverRuntimeRss(), "");
      t.row(
          "idle instances in /metrics (kiln_instances{state=\"idle\"}), of them frozen"
              + " (kiln_instances_frozen)",
          Math.round(d.idleCounted()) + ", " + Math.round(d.frozenCounted()),
          "");
      fit.row(
          language.id,
          d.costPerInstanceBytes() / MB,
          d.instancesFitting(),
          d.barePssBytes() / MB,
          d.bareProcessesFitting(),
          d.fittingOverBare());
    }
    report.table(fit);
  }

  private Density measure(BenchContext context, Language language, int n, long budget)
      throws Exception {
    List<String> functions = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String name = "bench-density-" + language.id + "-" + i;
      context.createFunction(name, language, language.zip(), Map.of(), FUNCTION_MEMORY_MB);
      functions.add(name);
    }
    long kiln = context.kiln().pid();
    String jcmd =
        Path.of(ProcessHandle.current().info().command().orElse("java"))
            .resolveSibling("jcmd")
            .toString();

    boolean collected = fullGc(jcmd, kiln);
    long rssBefore = ProcMemory.rssBytes(kiln);
    long threadsBefore = ProcMemory.threads(kiln);
    Set<Long> before = new HashSet<>(ProcMemory.descendants(kiln));

    invokeEach(context, functions);
    Thread.sleep(SETTLE_MILLIS);

    PrometheusText metrics = context.kiln().metrics();
    double idleCounted = metrics.sum("kiln_instances", "state=\"idle\"");
    double frozenCounted = metrics.sum("kiln_instances_frozen");
    collected &= fullGc(jcmd, kiln);
    long rssAfter = ProcMemory.rssBytes(kiln);
    long threadsAfter = ProcMemory.threads(kiln);
    List<Long> runtimes = new ArrayList<>();
    List<Long> sandboxes = new ArrayList<>();
    // The runtime is the interpreter process with no interpreter below it: a zygote (Python's,
    // forked instances' parent) and each forked instance's init are interpreters too, but they
    // are the platform's, counted with bubblewrap's processes as the sandbox's. So are a zygote's
    // spares (instances forked ahead of need, in no instance's cgroup yet).
    List<Long> fresh = new ArrayList<>();
    for (long pid : ProcMemory.descendants(kiln)) {
      if (!before.contains(pid)) {
        fresh.add(pid);
      }
    }
    Set<Long> interpreterParents = new HashSet<>();
    for (long pid : fresh) {
      if (ProcMemory.comm(pid).startsWith(language.command())) {
        interpreterParents.add(ProcMemory.parent(pid));
      }
    }
    for (long pid : fresh) {
      String comm = ProcMemory.comm(pid);
      if (comm.startsWith(language.command())
          && !interpreterParents.contains(pid)
          && !zygoteSpare(pid)) {
        runtimes.add(pid);
      } else if (!comm.isEmpty() && !comm.equals("jcmd")) {
        sandboxes.add(pid);
      }
    }
    long runtimeRss = 0;
    long runtimePss = 0;
    Set<Path> cgroups = new LinkedHashSet<>();
    for (long pid : runtimes) {
      runtimeRss += ProcMemory.rssBytes(pid);
      runtimePss += ProcMemory.pssBytes(pid);
      ProcMemory.memoryCgroup(pid)
          .filter(dir -> dir.toString().contains("/kiln/"))
          .ifPresent(cgroups::add);
    }
    long sandboxRss = 0;
    long sandboxPss = 0;
    for (long pid : sandboxes) {
      sandboxRss += ProcMemory.rssBytes(pid);
      sandboxPss += ProcMemory.pssBytes(pid);
    }
    long cgroupBytes = 0;
    for (Path dir : cgroups) {
      cgroupBytes += ProcMemory.cgroupUsageBytes(dir);
    }

    for (String name : functions) {
      context.lambda().deleteFunction(b -> b.functionName(name));
    }
    awaitExit(runtimes, 30_000);

    List<String> bareCommand = bareIdle(language);
    long[] bare = bareMemory(bareCommand, n);

    double growth = (double) (rssAfter - rssBefore) / n;
    double runtimeRssEach = (double) runtimeRss / Math.max(1, runtimes.size());
    double runtimePssEach = (double) runtimePss / Math.max(1, runtimes.size());
    double sandboxRssEach = (double) sandboxRss / n;
    double platform = growth + sandboxRssEach;
    double platformPss = growth + (double) sandboxPss / n;
    double cost = platformPss + runtimePssEach;
    long fitting = cost > 0 ? (long) (budget / cost) : 0;
    double bareRss = (double) bare[0] / n;
    double barePss = (double) bare[1] / n;
    long bareFitting = barePss > 0 ? (long) (budget / barePss) : 0;
    return new Density(
        language.id,
        language.runtime,
        FUNCTION_MEMORY_MB,
        n,
        runtimes.size(),
        sandboxes.size(),
        cgroups.size(),
        growth,
        (double) (threadsAfter - threadsBefore) / n,
        sandboxRssEach,
        (double) sandboxPss / n,
        runtimeRssEach,
        runtimePssEach,
        cgroups.isEmpty() ? Double.NaN : (double) cgroupBytes / cgroups.size(),
        bareName(language),
        bareRss,
        barePss,
        platform,
        platform / runtimeRssEach,
        platformPss,
        platformPss / runtimeRssEach,
        idleCounted,
        frozenCounted,
        runtimeRssEach / bareRss,
        platform / bareRss,
        budget,
        cost,
        fitting,
        bareFitting,
        bareFitting == 0 ? Double.NaN : (double) fitting / bareFitting,
        collected);
  }

  /** One Invoke of each function, a few at a time: N cold starts, N instances left idle. */
  private static void invokeEach(BenchContext context, List<String> functions) throws Exception {
    Semaphore slots = new Semaphore(INVOKING_CLIENTS);
    List<Future<?>> calls = new ArrayList<>();
    try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
      for (String name : functions) {
        LoadGenerator.Call call =
            HttpCalls.invoke(
                context.http(),
                context.kiln().invokeUri(name),
                "RequestResponse",
                context.kiln().credentials());
        calls.add(
            executor.submit(
                () -> {
                  slots.acquire();
                  try {
                    call.call();
                  } finally {
                    slots.release();
                  }
                  return null;
                }));
      }
    }
    for (Future<?> f : calls) {
      f.get();
    }
  }

  /** {@code jcmd <pid> GC.run}; false when it could not be run (then growth includes garbage). */
  private static boolean fullGc(String jcmd, long pid) {
    try {
      Process p =
          new ProcessBuilder(jcmd, Long.toString(pid), "GC.run")
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      boolean ok = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
      Thread.sleep(200);
      return ok;
    } catch (Exception e) {
      return false;
    }
  }

  private static void awaitExit(List<Long> pids, long timeoutMillis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    for (long pid : pids) {
      while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
          && System.currentTimeMillis() < deadline) {
        Thread.sleep(50);
      }
    }
  }

  /** The bare runtime, started so that it stays: the interpreter Kiln runs, doing nothing. */
  static List<String> bareIdle(Language language) {
    return switch (language) {
      case PYTHON -> List.of(language.interpreter(), "-c", "import time; time.sleep(3600)");
      case NODE -> List.of(language.interpreter(), "-e", "setTimeout(() => {}, 3600000)");
      case JAVA ->
          List.of(
              language.interpreter(),
              "-XX:+TieredCompilation",
              "-XX:TieredStopAtLevel=1",
              "-XX:+UseSerialGC",
              "-Xshare:auto",
              "-Xmx" + Math.max(32, FUNCTION_MEMORY_MB * 85 / 100) + "m",
              "-cp",
              System.getProperty("java.class.path"),
              IdleJvm.class.getName());
    };
  }

  private static String bareName(Language language) {
    return switch (language) {
      case PYTHON -> "python3 -c 'import time; time.sleep(3600)'";
      case NODE -> "node -e 'setTimeout(() => {}, 3600000)'";
      case JAVA -> "java (Kiln's flags for 128 MB) IdleJvm";
    };
  }

  /** Starts n copies at once, lets them settle, and sums their RSS and PSS: {rss, pss}. */
  private static long[] bareMemory(List<String> command, int n) throws Exception {
    List<Process> processes = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        processes.add(
            new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start());
      }
      Thread.sleep(SETTLE_MILLIS);
      long rss = 0;
      long pss = 0;
      for (Process p : processes) {
        if (!p.isAlive()) {
          throw new IllegalStateException(String.join(" ", command) + " exited: " + p.exitValue());
        }
        rss += ProcMemory.rssBytes(p.pid());
        pss += ProcMemory.pssBytes(p.pid());
      }
      return new long[] {rss, pss};
    } finally {
      for (Process p : processes) {
        p.destroyForcibly();
      }
      for (Process p : processes) {
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * Whether {@code pid} is part of a Python zygote's spare (zygote.py, "Spares"): a process of the
   * zygote's program outside every instance's memory cgroup.
   */
  private static boolean zygoteSpare(long pid) {
    return ProcMemory.cmdline(pid).contains("zygote.py")
        && ProcMemory.memoryCgroup(pid).filter(d -> d.toString().contains("/kiln/")).isEmpty();
  }
}
