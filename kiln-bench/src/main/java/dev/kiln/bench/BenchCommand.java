package dev.kiln.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./kiln bench [suite...] [options]}: starts a Kiln of its own on a scratch data directory,
 * runs the suites named (default {@code warm}; {@code all} for every one) one after another against
 * it, and writes each suite's report into the results directory as it finishes. Every figure is
 * measured next to a baseline in the same run, because on a shared machine absolute times drift
 * while ratios hold.
 *
 * <p>{@code ./kiln bench jmh [JMH options]} runs the JMH microbenchmarks of the hot path inside the
 * JVM instead ({@link JmhRun}); it starts no Kiln.
 */
@Command(
    name = "kiln bench",
    mixinStandardHelpOptions = true,
    description =
        "Measure Kiln against baselines run on the same machine in the same run; write"
            + " bench-results/<suite>.json, .md and (latency suites) .png.")
public final class BenchCommand implements Callable<Integer> {

  private static final Map<String, Suite> SUITES = new LinkedHashMap<>();

  static {
    for (Suite s :
        List.of(
            new WarmSuite(),
            new WarmSuite(true),
            new ThroughputSuite(),
            new ColdSuite(),
            new BurstSuite(),
            new AsyncSuite(),
            new DensitySuite(),
            new ControlSuite(),
            new SandboxSuite(),
            new CpuShareSuite(),
            new TimeoutSuite(),
            new LayersSuite(),
            new EsmSuite(),
            new EventsSuite())) {
      SUITES.put(s.name(), s);
    }
  }

  @Parameters(
      paramLabel = "SUITE",
      description =
          "warm, throughput, cold, burst, async, density, control, sandbox, cpu, timeout,"
              + " layers, esm, events, or all (default: warm); jmh"
              + " [--out DIR] [JMH options] runs the JMH microbenchmarks instead (./kiln bench jmh"
              + " -h)")
  List<String> suites = new ArrayList<>();

  @Option(names = "--smoke", description = "Tiny counts and sub-second phases: checks the harness")
  boolean smoke;

  @Option(names = "--warmup", description = "Seconds of warm-up per target (default 10; smoke 0.5)")
  Double warmupSeconds;

  @Option(
      names = "--duration",
      description = "Seconds of measurement per target (default 30; smoke 1)")
  Double durationSeconds;

  @Option(names = "--clients", description = "N in 'warm': 1 client and N (default 8; smoke 2)")
  Integer clients;

  @Option(
      names = "--concurrency",
      split = ",",
      description = "Concurrency levels of 'throughput' (default 1,2,8,64; smoke 1,2)")
  List<Integer> concurrency;

  @Option(
      names = "--runtimes",
      split = ",",
      description = "Languages to measure: python, node, java (default all three)")
  List<String> runtimes = List.of("python", "node", "java");

  @Option(
      names = "--cold-starts",
      description = "Cold starts per language in 'cold' (default 20; smoke 2)")
  Integer coldStarts;

  @Option(
      names = "--cold-pause",
      description =
          "Seconds 'cold' waits before each cold start (default 0: back to back; a pause lets"
              + " Kiln make ready what it makes between starts, as spaced-out cold starts find it)")
  Double coldPauseSeconds;

  @Option(names = "--burst", description = "Simultaneous calls in 'burst' (default 200; smoke 10)")
  Integer burstCalls;

  @Option(
      names = "--async-clients",
      description = "Clients sending Event invocations in 'async' (default 8; smoke 2)")
  Integer asyncClients;

  @Option(
      names = "--zip-sizes",
      split = ",",
      description = "MB of the zips 'control' creates functions with (default 1,10,50; smoke too)")
  List<Integer> zipSizesMb;

  @Option(
      names = "--creates",
      description = "CreateFunction calls per zip size in 'control' (default 5; smoke 1)")
  Integer createsPerSize;

  @Option(
      names = "--functions",
      description =
          "Functions stored for ListFunctions and GetFunction in 'control' (default 10000;"
              + " smoke 200)")
  Integer storedFunctions;

  @Option(
      names = "--instances",
      description = "Idle instances per language in 'density' (default 50; smoke 2)")
  Integer idleInstances;

  @Option(
      names = "--esm-records",
      description =
          "Records per source in 'esm' at BatchSize 1; 10 times as many at BatchSize 100 (default"
              + " 1000; smoke 20)")
  Integer esmRecords;

  @Option(
      names = "--esm-latency-records",
      description =
          "Records per source in 'esm' produced one every 20 ms for the latency (default 200;"
              + " smoke 5)")
  Integer esmLatencyRecords;

  @Option(
      names = "--esm-sources",
      split = ",",
      description = "Sources 'esm' measures: kafka, sqs, postgres (default all three)")
  List<String> esmSources = List.of("kafka", "sqs", "postgres");

  @Option(
      names = "--sandbox",
      description = "Kiln's --sandbox: auto, linux or process (default: ${DEFAULT-VALUE})")
  String sandbox = "auto";

  @Option(
      names = "--zygote",
      description =
          "Kiln's --zygote: fork Python instances from a pre-initialised interpreter (on) or start"
              + " each with bubblewrap (off); empty: the server's default")
  String zygote = "";

  @Option(names = "--out", description = "Results directory (default: ${DEFAULT-VALUE})")
  Path out = Path.of("bench-results");

  private final String commandLine;

  BenchCommand(String commandLine) {
    this.commandLine = commandLine;
  }

  public static void main(String[] args) {
    System.setProperty("java.awt.headless", "true");
    String commandLine = ("./kiln bench " + String.join(" ", args)).strip();
    if (args.length > 0 && args[0].equals("jmh")) {
      // JMH parses its own options, so they do not go through picocli
      try {
        System.exit(
            JmhRun.run(
                commandLine, List.of(args).subList(1, args.length), Path.of("bench-results")));
      } catch (Exception e) {
        e.printStackTrace();
        System.exit(1);
      }
    }
    System.exit(new CommandLine(new BenchCommand(commandLine)).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    List<Suite> chosen = new ArrayList<>();
    for (String name : suites.isEmpty() ? List.of("warm") : suites) {
      if (name.equals("all")) {
        chosen.addAll(SUITES.values());
      } else if (SUITES.containsKey(name)) {
        chosen.add(SUITES.get(name));
      } else {
        System.err.println(
            "kiln bench: no suite '"
                + name
                + "'; suites: "
                + String.join(", ", SUITES.keySet())
                + ", all");
        return 2;
      }
    }
    BenchSettings settings = settings();
    Files.createDirectories(settings.resultsDir());
    try (KilnProcess kiln =
        KilnProcess.start(
            settings.sandbox(), zygote.isBlank() ? List.of() : List.of("--zygote", zygote))) {
      BenchContext context = new BenchContext(settings, kiln, HttpCalls.client());
      for (Suite suite : chosen) {
        System.err.println("kiln bench: running " + suite.name() + " ...");
        SuiteReport report = new SuiteReport(suite.name(), commandLine, settings.smoke());
        suite.run(context, report);
        for (Path p : report.write(settings.resultsDir())) {
          System.err.println("kiln bench: wrote " + p);
        }
        System.out.println(report.markdown(null));
      }
    }
    return 0;
  }

  BenchSettings settings() {
    List<Language> languages = runtimes.stream().map(Language::byId).toList();
    return new BenchSettings(
        commandLine,
        smoke,
        seconds(warmupSeconds, smoke ? 0.5 : 10),
        seconds(durationSeconds, smoke ? 1 : 30),
        List.of(1, clients != null ? clients : smoke ? 2 : 8),
        concurrency != null ? concurrency : smoke ? List.of(1, 2) : List.of(1, 2, 8, 64),
        languages,
        coldStarts != null ? coldStarts : smoke ? 2 : 20,
        seconds(coldPauseSeconds, 0),
        burstCalls != null ? burstCalls : smoke ? 10 : 200,
        asyncClients != null ? asyncClients : smoke ? 2 : 8,
        zipSizesMb != null ? zipSizesMb : List.of(1, 10, 50),
        createsPerSize != null ? createsPerSize : smoke ? 1 : 5,
        storedFunctions != null ? storedFunctions : smoke ? 200 : 10_000,
        idleInstances != null ? idleInstances : smoke ? 2 : 50,
        esmRecords != null ? esmRecords : smoke ? 20 : 1000,
        esmLatencyRecords != null ? esmLatencyRecords : smoke ? 5 : 200,
        esmSources,
        sandbox,
        out.toAbsolutePath());
  }

  private static Duration seconds(Double given, double otherwise) {
    return Duration.ofMillis(Math.round(1000 * (given != null ? given : otherwise)));
  }
}
