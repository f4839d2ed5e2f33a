package dev.kiln.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The bench's smoke run, end to end, so that the harness never rots: {@code ./kiln bench warm
 * --smoke} starts a real Kiln, creates real Python and Node functions, runs its baselines and
 * writes its three files. The figures of a smoke run mean nothing; what is checked is that every
 * one of them was measured (present and positive) and every ratio computed.
 *
 * <p>A second run takes the control and density suites through the same path with counts smaller
 * still than their own smoke defaults (120 functions stored, so that the listing crosses pages; two
 * idle instances per language), to keep the test suite's time down.
 */
class BenchSmokeIT {

  @TempDir Path results;

  @Test
  void warmSmokeRun_writesJsonMarkdownAndPlot_withEveryFigureAndRatio() throws Exception {
    String[] args = {"warm", "--smoke", "--runtimes", "python,node", "--out", results.toString()};
    String commandLine = "./kiln bench " + String.join(" ", args);

    int exit = new CommandLine(new BenchCommand(commandLine)).execute(args);

    assertThat(exit).isZero();
    JsonNode json = new ObjectMapper().readTree(results.resolve("warm.json").toFile());
    assertThat(json.get("suite").asText()).isEqualTo("warm");
    assertThat(json.get("command").asText()).isEqualTo(commandLine);
    assertThat(json.get("machine").get("cores").asInt()).isPositive();

    List<JsonNode> measurements = new ArrayList<>();
    List<JsonNode> overheads = new ArrayList<>();
    for (JsonNode r : json.get("results")) {
      (r.has("target") ? measurements : overheads).add(r);
    }
    // python and node, at 1 client and 2, three targets each: floor, direct, Kiln
    assertThat(measurements).hasSize(2 * 2 * 3);
    for (JsonNode m : measurements) {
      JsonNode latency = m.get("responseTime");
      assertThat(latency.get("errors").asLong()).as(m.toString()).isZero();
      assertThat(latency.get("calls").asLong()).as(m.toString()).isPositive();
      for (String p : List.of("p50Micros", "p90Micros", "p99Micros", "p999Micros")) {
        assertThat(latency.get(p).asDouble()).as(p + " of " + m).isPositive();
      }
      assertThat(m.get("serviceTime").get("p50Micros").asDouble()).isPositive();
      assertThat(m.get("callsPerSecond").asDouble()).isPositive();
      assertThat(m.get("intervalMicros").asLong()).isPositive();
    }
    assertThat(overheads).hasSize(2 * 2);
    for (JsonNode o : overheads) {
      assertThat(o.get("kilnOverDirect")).hasSize(4);
      for (String field : List.of("kilnOverDirect", "kilnOverFloor")) {
        for (JsonNode ratio : o.get(field)) {
          assertThat(ratio.asDouble()).as(field + " of " + o).isPositive().isFinite();
        }
      }
      assertThat(o.get("kilnMinusDirectMicros")).hasSize(4);
    }

    String markdown = Files.readString(results.resolve("warm.md"));
    assertThat(markdown)
        .contains(commandLine)
        .contains("smoke run")
        .contains("python, 1 client", "python, 2 clients", "node, 1 client", "node, 2 clients")
        .contains("| ratio Kiln / (b) |", "| Kiln overhead over (b), µs |")
        .contains("![latency distribution](warm.png)")
        .doesNotContain("n/a");

    BufferedImage plot = ImageIO.read(results.resolve("warm.png").toFile());
    assertThat(plot).as("warm.png is a readable image").isNotNull();
    assertThat(plot.getWidth()).isEqualTo(1000);
    assertThat(plot.getHeight()).isGreaterThan(600);
  }

  @Test
  void controlDensityAndBurstSmokeRun_measureEveryFigureAgainstItsBaseline() throws Exception {
    String[] args = {
      "density",
      "control",
      "burst",
      "--smoke",
      "--runtimes",
      "python,node",
      "--instances",
      "2",
      "--functions",
      "120",
      "--out",
      results.toString()
    };
    String commandLine = "./kiln bench " + String.join(" ", args);

    int exit = new CommandLine(new BenchCommand(commandLine)).execute(args);

    assertThat(exit).isZero();
    JsonNode density = new ObjectMapper().readTree(results.resolve("density.json").toFile());
    assertThat(density.get("command").asText()).isEqualTo(commandLine);
    assertThat(density.get("results")).hasSize(2);
    for (JsonNode d : density.get("results")) {
      assertThat(d.get("instances").asInt()).isEqualTo(2);
      assertThat(d.get("runtimeProcessesFound").asInt()).as(d.toString()).isEqualTo(2);
      assertThat(d.get("kilnGarbageCollected").asBoolean()).as(d.toString()).isTrue();
      for (String field :
          List.of(
              "runtimeRssPerInstanceBytes",
              "runtimePssPerInstanceBytes",
              "bareRssBytes",
              "barePssBytes",
              "costPerInstanceBytes",
              "runtimeRssOverBareRss",
              "fittingOverBare")) {
        assertThat(d.get(field).asDouble()).as(field + " of " + d).isPositive().isFinite();
      }
      assertThat(d.get("platformOverRuntimeRss").asDouble()).as(d.toString()).isFinite();
      assertThat(d.get("instancesFitting").asLong()).isPositive();
      assertThat(d.get("bareProcessesFitting").asLong()).isPositive();
      if (d.get("cgroupsFound").asInt() > 0) {
        // the Linux sandbox: every instance in a memory cgroup of its own, under bubblewrap
        assertThat(d.get("cgroupsFound").asInt()).isEqualTo(2);
        assertThat(d.get("cgroupPerInstanceBytes").asDouble()).isPositive();
        assertThat(d.get("sandboxProcessesFound").asInt()).isPositive();
      }
    }
    assertThat(Files.readString(results.resolve("density.md")))
        .contains("python (python3.12), 2 idle instances", "node (nodejs20.x), 2 idle instances")
        .contains("| ratio platform / runtime RSS |", "instances that fit in");

    JsonNode control = new ObjectMapper().readTree(results.resolve("control.json").toFile());
    List<JsonNode> creates = new ArrayList<>();
    List<JsonNode> listings = new ArrayList<>();
    List<JsonNode> lookups = new ArrayList<>();
    List<JsonNode> ratios = new ArrayList<>();
    for (JsonNode r : control.get("results")) {
      if (r.has("zipMb")) {
        creates.add(r);
      } else if (r.has("functionsListed")) {
        listings.add(r);
      } else if (r.has("intervalMicros")) {
        lookups.add(r);
      } else {
        ratios.add(r);
      }
    }
    assertThat(creates).extracting(c -> c.get("zipMb").asInt()).containsExactly(1, 10, 50);
    for (JsonNode c : creates) {
      long mib = c.get("zipMb").asLong() * 1024 * 1024;
      assertThat(c.get("zipBytes").asLong()).as(c.toString()).isBetween(mib * 99 / 100, mib);
      assertThat(c.get("unzippedBytes").asLong()).isGreaterThan(mib * 99 / 100);
      for (String field :
          List.of(
              "kilnCreateMillis",
              "unzipMillis",
              "hashStoreUnzipMillis",
              "kilnOverUnzip",
              "kilnOverHashStoreUnzip")) {
        assertThat(c.get(field).asDouble()).as(field + " of " + c).isPositive().isFinite();
      }
    }
    assertThat(listings).hasSize(2);
    for (JsonNode l : listings) {
      assertThat(l.get("functionsListed").asInt()).isGreaterThanOrEqualTo(120);
      assertThat(l.get("pages").asInt()).isGreaterThanOrEqualTo(3);
      assertThat(l.get("passes").asLong()).isPositive();
      assertThat(l.get("errors").asLong()).isZero();
      assertThat(l.get("passTime").get("p50Micros").asDouble()).isPositive();
    }
    assertThat(lookups).hasSize(2);
    for (JsonNode l : lookups) {
      assertThat(l.get("responseTime").get("errors").asLong()).as(l.toString()).isZero();
      assertThat(l.get("responseTime").get("calls").asLong()).isPositive();
    }
    assertThat(ratios).hasSize(1);
    JsonNode r = ratios.get(0);
    assertThat(r.get("storedFunctions").asInt()).isEqualTo(120);
    assertThat(r.get("listingP50OverBaseline").asDouble()).isPositive().isFinite();
    assertThat(r.get("getFunctionOverBaseline")).hasSize(4);
    for (JsonNode ratio : r.get("getFunctionOverBaseline")) {
      assertThat(ratio.asDouble()).isPositive().isFinite();
    }
    assertThat(Files.readString(results.resolve("control.md")))
        .contains(commandLine)
        .contains("| ratio Kiln / unzip |", "ListFunctions, every page", "GetFunction, 120")
        .doesNotContain("n/a");
    assertThat(ImageIO.read(results.resolve("control.png").toFile())).isNotNull();

    JsonNode burst = new ObjectMapper().readTree(results.resolve("burst.json").toFile());
    // two languages, each a first burst and one again that finds the spare parts ready
    assertThat(burst.get("results")).hasSize(4);
    for (JsonNode b : burst.get("results")) {
      assertThat(b.get("firstAnswerMillis").asDouble()).as(b.toString()).isPositive().isFinite();
      assertThat(b.get("phaseMeanMillis").get("runtime_init").asDouble())
          .as(b.toString())
          .isPositive();
      assertThat(b.get("calls").asInt()).isEqualTo(10);
      assertThat(b.get("errors").asLong()).as(b.toString()).isZero();
      assertThat(b.get("instancesStarted").asDouble()).as(b.toString()).isBetween(1.0, 10.0);
      assertThat(b.get("callsServedCold").asDouble()).as(b.toString()).isBetween(1.0, 10.0);
      for (String field : List.of("kilnP99CallMillis", "bareP99StartMillis", "kilnOverBare")) {
        assertThat(b.get(field).asDouble()).as(field + " of " + b).isPositive().isFinite();
      }
      // once the function is deleted, nothing of its instances is left on the host
      JsonNode left = b.get("leftBehind");
      left.fields()
          .forEachRemaining(
              f ->
                  assertThat(f.getValue().asLong()).as(f.getKey() + " left: " + b).isNotPositive());
    }
    assertThat(Files.readString(results.resolve("burst.md")))
        .contains("| left behind |", "| none |", ", again: parts ready |", "| first answer, ms |")
        .doesNotContain("n/a");
  }

  @Test
  void sandboxCpuTimeoutAndLayersSmokeRun_measureEveryFigureAgainstItsBaseline() throws Exception {
    String[] args = {
      "sandbox",
      "cpu",
      "timeout",
      "layers",
      "--smoke",
      "--runtimes",
      "python",
      "--out",
      results.toString()
    };
    String commandLine = "./kiln bench " + String.join(" ", args);

    int exit = new CommandLine(new BenchCommand(commandLine)).execute(args);

    assertThat(exit).isZero();
    ObjectMapper json = new ObjectMapper();
    JsonNode sandbox = json.readTree(results.resolve("sandbox.json").toFile()).get("results");
    assertThat(sandbox).hasSize(3);
    assertThat(sandbox.get(0).get("sandbox").asText()).isEqualTo("process");
    assertThat(sandbox.get(1).get("sandbox").asText()).isEqualTo("linux");
    for (JsonNode r : sandbox) {
      r.fields()
          .forEachRemaining(
              f -> {
                if (f.getValue().isNumber()) {
                  assertThat(f.getValue().asDouble()).as(f.getKey()).isPositive().isFinite();
                }
              });
    }
    assertThat(Files.readString(results.resolve("sandbox.md")))
        .contains("| ratio linux / process |", "Init Duration (REPORT)")
        .doesNotContain("n/a");

    JsonNode cpu = json.readTree(results.resolve("cpu.json").toFile()).get("results").get(0);
    for (String field :
        List.of("at128MbMedianMillis", "at1769MbMedianMillis", "ratio128Over1769")) {
      assertThat(cpu.get(field).asDouble()).as(field).isPositive().isFinite();
    }
    assertThat(cpu.get("lambdaProportion").asDouble()).isCloseTo(13.82, within(0.01));

    JsonNode timeout =
        json.readTree(results.resolve("timeout.json").toFile()).get("results").get(0);
    // killed at its deadline, not before it: the REPORT Duration of a timed-out call is 1 s or more
    assertThat(timeout.get("timedOutMedianMillis").asDouble()).isGreaterThanOrEqualTo(1000);
    assertThat(timeout.get("pastDeadlineWorstMillis").asDouble()).isNotNegative().isFinite();
    assertThat(timeout.get("busyMedianMillis").asDouble()).isGreaterThanOrEqualTo(950);
    assertThat(timeout.get("timedOutOverBusy").asDouble()).isPositive().isFinite();

    JsonNode layers = json.readTree(results.resolve("layers.json").toFile()).get("results");
    assertThat(layers).hasSize(3);
    assertThat(layers.get(0).get("coldOverPlain").asDouble()).isEqualTo(1.0);
    for (JsonNode v : layers) {
      assertThat(v.get("initDurationMedianMillis").asDouble()).as(v.toString()).isPositive();
      assertThat(v.get("initOverPlain").asDouble()).as(v.toString()).isPositive().isFinite();
    }
    assertThat(Files.readString(results.resolve("layers.md")))
        .contains("1 external extension (sh + curl)", "5 layers, 100 modules in /opt")
        .doesNotContain("n/a");
  }
}
