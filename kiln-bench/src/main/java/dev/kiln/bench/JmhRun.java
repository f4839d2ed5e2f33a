package dev.kiln.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * {@code ./kiln bench jmh [--out DIR] [JMH options]}: the microbenchmarks of Kiln's hot path inside
 * the JVM (the classes named {@code *Bench}, generated into this jar by JMH's annotation
 * processor).
 *
 * <p>The options are JMH's own ({@code -prof gc}, {@code -f 1 -wi 2 -i 3}, a regular expression of
 * benchmarks to run, ...), parsed by JMH: listing and help go to {@link org.openjdk.jmh.Main} as
 * they are; a run is JMH's, with the result always written as JSON to {@code DIR/jmh.json}, and
 * then rendered into {@code DIR/jmh.md}: each benchmark's score next to the ratio to its class's
 * baseline (the method named {@code baseline...}) with the same parameters, measured in the same
 * run, and with {@code -prof gc} the bytes allocated per operation.
 */
final class JmhRun {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ALLOC = "gc.alloc.rate.norm";

  private JmhRun() {}

  /** Runs JMH with {@code args}; returns the exit status. */
  static int run(String commandLine, List<String> args, Path defaultOut)
      throws IOException, RunnerException {
    Path out = defaultOut;
    List<String> jmhArgs = new ArrayList<>();
    for (int i = 0; i < args.size(); i++) {
      if (args.get(i).equals("--out") && i + 1 < args.size()) {
        out = Path.of(args.get(++i));
      } else {
        jmhArgs.add(args.get(i));
      }
    }
    CommandLineOptions options;
    try {
      options = new CommandLineOptions(jmhArgs.toArray(String[]::new));
    } catch (CommandLineOptionException e) {
      System.err.println("kiln bench jmh: " + e.getMessage());
      return 2;
    }
    if (options.shouldHelp()
        || options.shouldList()
        || options.shouldListWithParams()
        || options.shouldListProfilers()
        || options.shouldListResultFormats()) {
      org.openjdk.jmh.Main.main(jmhArgs.toArray(String[]::new));
      return 0;
    }
    Files.createDirectories(out);
    Path json = out.toAbsolutePath().resolve("jmh.json");
    Options run =
        new OptionsBuilder()
            .parent(options)
            .resultFormat(ResultFormatType.JSON)
            .result(json.toString())
            .build();
    Instant started = Instant.now();
    if (new Runner(run).run().isEmpty()) {
      System.err.println("kiln bench jmh: no benchmark ran");
      return 1;
    }
    Path md = out.toAbsolutePath().resolve("jmh.md");
    Files.writeString(md, markdown(commandLine, started, JSON.readTree(json.toFile())));
    System.err.println("kiln bench: wrote " + json);
    System.err.println("kiln bench: wrote " + md);
    System.out.println(Files.readString(md));
    return 0;
  }

  /** The Markdown report of JMH's JSON results: one table per benchmark class. */
  static String markdown(String commandLine, Instant started, JsonNode results) {
    boolean alloc = false;
    Map<String, List<JsonNode>> byClass = new LinkedHashMap<>();
    for (JsonNode r : results) {
      byClass.computeIfAbsent(className(r), c -> new ArrayList<>()).add(r);
      alloc |= allocation(r) != null;
    }
    StringBuilder md = new StringBuilder("## jmh\n\n```bash\n" + commandLine + "\n```\n\n");
    Map<String, Object> m = SuiteReport.machine();
    JsonNode first = results.path(0);
    md.append("Run ")
        .append(started)
        .append(" on ")
        .append(m.get("cores"))
        .append(" cores, ")
        .append(m.get("memoryMb"))
        .append(" MB, ")
        .append(m.get("os"))
        .append(", ")
        .append(first.path("vmName").asText())
        .append(' ')
        .append(first.path("jdkVersion").asText())
        .append(", JMH ")
        .append(first.path("jmhVersion").asText())
        .append("; ")
        .append(first.path("forks").asInt())
        .append(" fork(s), ")
        .append(first.path("warmupIterations").asInt())
        .append(" × ")
        .append(first.path("warmupTime").asText())
        .append(" warm-up, ")
        .append(first.path("measurementIterations").asInt())
        .append(" × ")
        .append(first.path("measurementTime").asText())
        .append(" measured.\n\n")
        .append(
            "The ratio is each benchmark's score over its class's baseline with the same"
                + " parameters, measured in the same run; ± is JMH's 99.9% confidence interval,"
                + " and the ratio's interval (in brackets) runs from the lowest score over the"
                + " highest baseline to the highest over the lowest. Where a ± is as large as its"
                + " score, the run did not resolve the ratio: measure again with more iterations"
                + " (-i) or forks (-f).");
    if (alloc) {
      md.append(" Allocated is `" + ALLOC + "` of `-prof gc`, in bytes per operation.");
    }
    md.append("\n\n");
    for (Map.Entry<String, List<JsonNode>> e : byClass.entrySet()) {
      List<String> columns =
          new ArrayList<>(List.of("benchmark", "parameters", "score", "±", "unit", "ratio"));
      if (alloc) {
        columns.add("allocated, B/op");
      }
      Table t = Table.of(e.getKey(), columns.toArray(String[]::new));
      // by parameters, each set's baseline first
      List<JsonNode> rows = new ArrayList<>(e.getValue());
      rows.sort(
          java.util.Comparator.comparing((JsonNode r) -> params(r))
              .thenComparing(r -> !methodName(r).startsWith("baseline")));
      for (JsonNode r : rows) {
        JsonNode baseline = baselineOf(r, e.getValue());
        JsonNode score = r.path("primaryMetric");
        List<Object> row = new ArrayList<>();
        row.add(methodName(r));
        row.add(params(r));
        row.add(score.path("score").asDouble());
        row.add(score.path("scoreError").asDouble());
        row.add(score.path("scoreUnit").asText());
        if (baseline == r) {
          row.add("baseline");
        } else if (baseline == null) {
          row.add("n/a");
        } else {
          JsonNode base = baseline.path("primaryMetric");
          row.add(
              ratio(
                  score.path("score").asDouble(),
                  score.path("scoreError").asDouble(Double.NaN),
                  base.path("score").asDouble(),
                  base.path("scoreError").asDouble(Double.NaN)));
        }
        if (alloc) {
          JsonNode a = allocation(r);
          row.add(a == null ? "n/a" : a.path("score").asDouble());
        }
        t.row(row.toArray());
      }
      md.append(t.markdown());
    }
    return md.toString();
  }

  /**
   * A score's ratio to its baseline's, with the interval their ± allow: from the lowest score over
   * the highest baseline to the highest over the lowest. Where a ± reaches zero (it is as large as
   * its score) the run did not resolve the ratio, and the cell says so rather than print a figure
   * that reads as a result; without a ± (a single iteration) the plain ratio.
   */
  static Object ratio(double score, double error, double base, double baseError) {
    double ratio = score / base;
    if (Double.isNaN(error) || Double.isNaN(baseError)) {
      return ratio;
    }
    if (error >= score || baseError >= base) {
      return Table.cell(ratio) + ", not resolved (a ± exceeds its score)";
    }
    return Table.cell(ratio)
        + " ("
        + Table.cell((score - error) / (base + baseError))
        + "–"
        + Table.cell((score + error) / (base - baseError))
        + ")";
  }

  /** The baseline a result is read against: its class's {@code baseline...} method, same params. */
  private static JsonNode baselineOf(JsonNode r, List<JsonNode> sameClass) {
    for (JsonNode b : sameClass) {
      if (methodName(b).startsWith("baseline")
          && b.path("mode").equals(r.path("mode"))
          && b.path("params").equals(r.path("params"))) {
        return b;
      }
    }
    return null;
  }

  /** {@code gc.alloc.rate.norm} (named with a leading {@code ·} before JMH 1.36), or null. */
  private static JsonNode allocation(JsonNode r) {
    for (Iterator<Map.Entry<String, JsonNode>> it = r.path("secondaryMetrics").fields();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> metric = it.next();
      if (metric.getKey().replace("·", "").equals(ALLOC)) {
        return metric.getValue();
      }
    }
    return null;
  }

  private static String className(JsonNode r) {
    String b = r.path("benchmark").asText();
    String cls = b.substring(0, b.lastIndexOf('.'));
    return cls.substring(cls.lastIndexOf('.') + 1);
  }

  private static String methodName(JsonNode r) {
    String b = r.path("benchmark").asText();
    return b.substring(b.lastIndexOf('.') + 1);
  }

  private static String params(JsonNode r) {
    List<String> p = new ArrayList<>();
    r.path("params")
        .fields()
        .forEachRemaining(f -> p.add(f.getKey() + "=" + f.getValue().asText()));
    return String.join(", ", p);
  }
}
