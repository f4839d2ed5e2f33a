package dev.kiln.bench.jmh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.invoke.PlatformLog;
import dev.kiln.model.FunctionConfig.LoggingSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What every invocation's log costs the platform once the runtime has answered: {@link
 * PlatformLog#end} wraps the function's output in the END and REPORT lines (Text format), or, in
 * the JSON log format, filters the output line by line by its {@code "level"} (each line that is a
 * JSON object is parsed) and renders {@code platform.runtimeDone} and {@code platform.report} as
 * JSON; {@link PlatformLog#start} is measured with it, as each invocation writes both. The output
 * is lines of structured JSON logging, two of them ({@code small}) or about 100 KB.
 *
 * <p>Through kiln-invoke's public {@link PlatformLog}, the one definition of the platform's lines
 * in a function's log (an instance writes them around every invocation). Baseline: Jackson parsing
 * the same output bytes into trees, one per line (a {@link MappingIterator} over them), which is
 * the floor for the JSON format's level filter; the Text format does no parsing, so its ratio shows
 * what the envelope costs next to reading the output once.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class LogEnvelopeBench {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String REQUEST_ID = "8f5a7c1e-3b2d-4e6f-9a0b-1c2d3e4f5a6b";
  private static final PlatformLog.Report REPORT =
      new PlatformLog.Report(
          REQUEST_ID, 1.37, 2, 128, 41, Optional.empty(), "success", Optional.empty());

  @Param({Payloads.SMALL, Payloads.LARGE})
  public String size;

  String output;
  byte[] outputBytes;
  PlatformLog text;
  PlatformLog json;

  @Setup
  public void logs() {
    output = Payloads.logOutput(size);
    outputBytes = output.getBytes(StandardCharsets.UTF_8);
    text = platformLog("Text");
    json = platformLog("JSON");
  }

  private static PlatformLog platformLog(String format) {
    return new PlatformLog(
        new LoggingSettings(format, Optional.empty(), Optional.empty(), "/aws/lambda/f"),
        "f",
        "$LATEST",
        "python3.12",
        "kiln:/usr/bin/python3");
  }

  @Benchmark
  public void platformLogText(Blackhole bh) {
    long now = System.currentTimeMillis();
    bh.consume(text.start(now, REQUEST_ID));
    bh.consume(text.end(now, output, Optional.empty(), REPORT));
  }

  @Benchmark
  public void platformLogJson(Blackhole bh) {
    long now = System.currentTimeMillis();
    bh.consume(json.start(now, REQUEST_ID));
    bh.consume(json.end(now, output, Optional.empty(), REPORT));
  }

  @Benchmark
  public void baselineJacksonTree(Blackhole bh) throws IOException {
    try (MappingIterator<JsonNode> lines = JSON.readerFor(JsonNode.class).readValues(outputBytes)) {
      while (lines.hasNext()) {
        bh.consume(lines.next());
      }
    }
  }
}
