package dev.kiln.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * What one suite measured, written three ways into the results directory: {@code <suite>.json}
 * (every figure, for tools and for comparing runs), {@code <suite>.md} (the tables, headed by the
 * command line that reproduces them and the machine they ran on) and, for latency suites, {@code
 * <suite>.png} (the latency distributions, drawn by {@link LatencyPlot}).
 *
 * <p>Suites add tables of formatted cells for people and result records for the JSON; the two are
 * built from the same numbers in the same place, so they cannot disagree.
 */
final class SuiteReport {

  private final String suite;
  private final String commandLine;
  private final boolean smoke;
  private final Instant started = Instant.now();
  private final List<String> notes = new ArrayList<>();
  private final List<Table> tables = new ArrayList<>();
  private final List<Object> results = new ArrayList<>();
  private final Map<String, Map<String, Histogram>> plotted = new LinkedHashMap<>();

  SuiteReport(String suite, String commandLine, boolean smoke) {
    this.suite = suite;
    this.commandLine = commandLine;
    this.smoke = smoke;
  }

  String suite() {
    return suite;
  }

  void note(String text) {
    notes.add(text);
  }

  Table table(Table table) {
    tables.add(table);
    return table;
  }

  void result(Object record) {
    results.add(record);
  }

  /**
   * A latency distribution (nanoseconds) for the suite's plot: one panel per group, one line per
   * series in it.
   */
  void plot(String group, String series, Histogram nanos) {
    plotted.computeIfAbsent(group, g -> new LinkedHashMap<>()).put(series, nanos);
  }

  static Map<String, Object> machine() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    m.put("arch", System.getProperty("os.arch"));
    m.put("jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    m.put(
        "memoryMb",
        ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize()
            / (1024 * 1024));
    return m;
  }

  /** Writes the JSON, the Markdown and (when there is a distribution to draw) the PNG. */
  List<Path> write(Path dir) {
    try {
      Files.createDirectories(dir);
      List<Path> written = new ArrayList<>();
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("suite", suite);
      json.put("command", commandLine);
      json.put("smoke", smoke);
      json.put("startedAt", started.toString());
      json.put("finishedAt", Instant.now().toString());
      json.put("machine", machine());
      json.put("notes", notes);
      json.put("results", results);
      json.put("tables", tables);
      Path jsonFile = dir.resolve(suite + ".json");
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .writeValue(jsonFile.toFile(), json);
      written.add(jsonFile);

      Path png = dir.resolve(suite + ".png");
      if (!plotted.isEmpty()) {
        LatencyPlot.write(png, "Kiln bench: " + suite + " latency distribution", plotted);
        written.add(png);
      }

      Path md = dir.resolve(suite + ".md");
      Files.writeString(md, markdown(plotted.isEmpty() ? null : png.getFileName().toString()));
      written.add(md);
      return written;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  String markdown(String plotFile) {
    StringBuilder out = new StringBuilder();
    out.append("## ").append(suite).append(smoke ? " (smoke run: not a measurement)" : "");
    out.append("\n\n```bash\n").append(commandLine).append("\n```\n\n");
    Map<String, Object> m = machine();
    out.append("Run ")
        .append(started)
        .append(" on ")
        .append(m.get("cores"))
        .append(" cores, ")
        .append(m.get("memoryMb"))
        .append(" MB, ")
        .append(m.get("os"))
        .append(", ")
        .append(m.get("jdk"))
        .append(".\n\n");
    for (String n : notes) {
      out.append(n).append("\n\n");
    }
    for (Table t : tables) {
      out.append(t.markdown());
    }
    if (plotFile != null) {
      out.append("![latency distribution](").append(plotFile).append(")\n");
    }
    return out.toString();
  }
}
