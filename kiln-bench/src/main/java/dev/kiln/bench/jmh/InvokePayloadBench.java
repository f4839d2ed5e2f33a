package dev.kiln.bench.jmh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.api.InvokePayload;
import java.io.IOException;
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

/**
 * The Invoke API's check of a RequestResponse or Event payload, {@link InvokePayload#check}: every
 * invocation's body is streamed through Jackson's tokenizer to prove it is one JSON value, without
 * building it in memory, before the event goes on. For a small event and one of about 100 KB.
 *
 * <p>Through kiln-api's public {@link InvokePayload}, the class that owns what a payload must be
 * (the Invoke API and InvokeAsync call it, and so would any other way in that takes a caller's
 * event). Baseline: Jackson parsing the same bytes into a tree ({@code ObjectMapper.readTree}), the
 * obvious way to validate JSON: the ratio is what streaming instead of building saves.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class InvokePayloadBench {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Param({Payloads.SMALL, Payloads.LARGE})
  public String size;

  byte[] payload;

  @Setup
  public void payload() {
    payload = Payloads.event(size);
  }

  @Benchmark
  public byte[] checkJson() {
    return InvokePayload.check(payload);
  }

  @Benchmark
  public JsonNode baselineJacksonTree() throws IOException {
    return JSON.readTree(payload);
  }
}
