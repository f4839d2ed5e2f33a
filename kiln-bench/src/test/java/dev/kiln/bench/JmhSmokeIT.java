package dev.kiln.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./kiln bench jmh}'s smoke run, so that the JMH suite never rots: one benchmark class and
 * its baseline, run in this JVM ({@code -f 0}) for one 100 ms warm-up and one 100 ms measurement
 * with {@code -prof gc}. It proves that the benchmarks were generated into the class path
 * (META-INF/BenchmarkList), that the JSON and the Markdown are written, that each score is positive
 * and carries an allocation figure, and that the ratio to the baseline is computed. The figures
 * mean nothing.
 */
class JmhSmokeIT {

  @TempDir Path results;

  @Test
  void oneBenchmarkAndItsBaseline_writeJsonAndMarkdown_withScoresRatioAndAllocation()
      throws Exception {
    List<String> args =
        List.of(
            "InvokePayloadBench",
            "-p",
            "size=small",
            "-f",
            "0",
            "-wi",
            "1",
            "-w",
            "100ms",
            "-i",
            "1",
            "-r",
            "100ms",
            "-prof",
            "gc");
    String commandLine = "./kiln bench jmh " + String.join(" ", args);

    int exit = JmhRun.run(commandLine, args, results);

    assertThat(exit).isZero();
    JsonNode json = new ObjectMapper().readTree(results.resolve("jmh.json").toFile());
    assertThat(json).hasSize(2);
    for (JsonNode r : json) {
      assertThat(r.get("benchmark").asText())
          .isIn(
              "dev.kiln.bench.jmh.InvokePayloadBench.checkJson",
              "dev.kiln.bench.jmh.InvokePayloadBench.baselineJacksonTree");
      assertThat(r.get("params").get("size").asText()).isEqualTo("small");
      assertThat(r.get("primaryMetric").get("score").asDouble()).as(r.toString()).isPositive();
      // parsing JSON allocates: a zero would mean the profiler did not measure
      assertThat(r.get("secondaryMetrics").get("gc.alloc.rate.norm").get("score").asDouble())
          .as(r.toString())
          .isPositive();
    }

    String markdown = Files.readString(results.resolve("jmh.md"));
    assertThat(markdown)
        .contains(commandLine)
        .contains("### InvokePayloadBench")
        .contains("| ratio | allocated, B/op |")
        .containsPattern(
            "\\| baselineJacksonTree \\| size=small \\| [0-9.]+ \\| n/a \\| ns/op \\|"
                + " baseline \\| [0-9.]+ \\|")
        .containsPattern(
            "\\| checkJson \\| size=small \\| [0-9.]+ \\| n/a \\| ns/op \\|"
                + " [0-9.]+ \\| [0-9.]+ \\|");
  }
}
