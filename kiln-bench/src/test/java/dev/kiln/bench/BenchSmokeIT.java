package dev.kiln.bench;

import static org.assertj.core.api.Assertions.assertThat;

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
}
