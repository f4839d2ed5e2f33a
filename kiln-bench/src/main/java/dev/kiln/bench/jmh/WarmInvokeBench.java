package dev.kiln.bench.jmh;

import dev.kiln.invoke.Catalog;
import dev.kiln.invoke.InvocationResult;
import dev.kiln.invoke.Invocations;
import dev.kiln.invoke.InvokeRequest;
import dev.kiln.invoke.Invoker;
import dev.kiln.model.Account;
import dev.kiln.model.ConfigPatch;
import dev.kiln.model.FunctionRef;
import dev.kiln.runtimeapi.RuntimeAnswer;
import dev.kiln.runtimeapi.RuntimeApiServer;
import dev.kiln.runtimeapi.RuntimeChannel;
import dev.kiln.runtimeapi.RuntimeEvent;
import dev.kiln.runtimes.RuntimeTable;
import dev.kiln.sandbox.SandboxSpec;
import dev.kiln.store.LocalCodeStore;
import dev.kiln.testing.FakeSandboxDriver;
import dev.kiln.testing.InMemoryMetadataStore;
import dev.kiln.testing.ManualTime;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A warm invocation, whole, through the public {@link Invocations} port a running Kiln serves the
 * Invoke API with: the function's name resolved from the catalog's memory, admission by the
 * concurrency budget, a lease on the pool's one warm instance, the event handed to its runtime over
 * the Runtime API, the answer, and the instance given back once its runtime asks for the next
 * event. It replaces the pool-lease figure AdmissionBench lost when the pool became internal to
 * kiln-invoke: the lease is measured inside the invocation it serves.
 *
 * <p>The instance is a {@link FakeSandboxDriver} runtime: a thread of this JVM that speaks the
 * Runtime API over HTTP/1.1 with the JDK's client, as a real runtime does over loopback, and
 * answers every event with the same small JSON. The invoker is the builder's, as a test makes it
 * (system clocks, in-memory metrics, no log or usage store, no traces, no keys) except for its
 * scheduler, which is never run: no reaper freezes or stops the instance between iterations. The
 * catalog is the server's {@link Catalog#of} over kiln-testing's in-memory metadata store and a
 * code store in a temporary directory. The trial fails if more than one instance was started, so
 * every measured invocation was warm.
 *
 * <p>Baseline: the same Runtime API hand-off without the invoker. A runtime of the same fake
 * driver, started on a channel of a second Runtime API server of the same kind, is handed the same
 * event through the channel's public API ({@link RuntimeChannel#submit}, the answer, {@link
 * RuntimeChannel#finish}), as {@link RuntimeHandoffBench#runtimeChannel} does. So both sides pay
 * the same HTTP round trip to the same runtime code, and the difference is what a warm invocation
 * adds to the hand-off it cannot avoid: resolving, admitting, leasing and giving back, the deadline
 * and trace header, the log cut with its END and REPORT lines, and the meters.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class WarmInvokeBench {

  static final byte[] PAYLOAD = "{\"key\":\"value\"}".getBytes(StandardCharsets.UTF_8);
  static final byte[] RESPONSE = "\"ok\"".getBytes(StandardCharsets.UTF_8);
  static final String FUNCTION = "bench";

  /** What every fake runtime here answers. */
  static FakeSandboxDriver driver() {
    return new FakeSandboxDriver(e -> new FakeSandboxDriver.Reply.Answer(RESPONSE));
  }

  /** A Kiln invoker and catalog with one function, invoked once (cold) before measuring. */
  @State(Scope.Benchmark)
  public static class InvokerState {
    Path dir;
    RuntimeApiServer runtimeApi;
    FakeSandboxDriver driver;
    Invoker invoker;
    Invocations invocations;
    InvokeRequest request;

    @Setup(Level.Trial)
    public void start() throws IOException {
      dir = Files.createTempDirectory("kiln-warm-bench-");
      runtimeApi = RuntimeApiServer.start();
      driver = driver();
      invoker =
          Invoker.builder(driver, runtimeApi, Files.createDirectories(dir.resolve("instances")))
              .scheduler(new ManualTime())
              .build();
      Catalog catalog =
          Catalog.of(
              new InMemoryMetadataStore(),
              new LocalCodeStore(dir.resolve("code")),
              RuntimeTable.install(dir.resolve("runtimes"), Map.of()),
              invoker,
              Account.DEFAULT,
              InstantSource.system());
      catalog
          .functions()
          .create(
              FUNCTION,
              zip("def handler(e, c):\n    return 'ok'\n"),
              ConfigPatch.of("python3.12", "app.handler", "arn:aws:iam::000000000000:role/r"),
              Map.of(),
              false);
      invocations = Invocations.of(catalog.functions(), invoker);
      request = InvokeRequest.sync(FunctionRef.of(FUNCTION), PAYLOAD);
      check(invocations.run(request)); // the cold start, not measured
    }

    @TearDown(Level.Trial)
    public void stop() {
      int started = driver.started().size();
      invoker.close();
      runtimeApi.close();
      if (started != 1) {
        throw new IllegalStateException(
            started + " instances were started: not every invocation measured was warm");
      }
    }
  }

  /** The baseline's runtime: the same fake runtime on a channel of its own server. */
  @State(Scope.Benchmark)
  public static class ChannelState {
    Path dir;
    RuntimeApiServer server;
    RuntimeChannel channel;
    FakeSandboxDriver.FakeSandbox runtime;
    RuntimeEvent event;

    @Setup(Level.Trial)
    public void open() throws IOException {
      dir = Files.createTempDirectory("kiln-warm-bench-baseline-");
      server = RuntimeApiServer.start();
      // the fake runtime lives in this JVM: the channel's peer check finds this process
      channel =
          server.open("baseline-instance", () -> java.util.Set.of(ProcessHandle.current().pid()));
      runtime =
          (FakeSandboxDriver.FakeSandbox)
              driver()
                  .start(
                      new SandboxSpec(
                          "baseline-instance",
                          List.of("bootstrap"),
                          Map.of("AWS_LAMBDA_RUNTIME_API", channel.runtimeApiAddress()),
                          dir,
                          dir,
                          Files.createDirectories(dir.resolve("instance")),
                          128,
                          512,
                          Optional.empty(),
                          Optional.empty(),
                          false,
                          Optional.empty()));
      event =
          new RuntimeEvent(
              "8f5a7c1e-3b2d-4e6f-9a0b-1c2d3e4f5a6b",
              PAYLOAD,
              3000,
              "arn:aws:lambda:us-east-1:000000000000:function:" + FUNCTION,
              "Root=1-00000000-000000000000000000000000;Sampled=0",
              Optional.empty(),
              Optional.empty());
    }

    @TearDown(Level.Trial)
    public void close() {
      channel.close(); // the runtime's next is answered 410, and it exits
      runtime.onExit().join();
      server.close();
    }
  }

  @Benchmark
  public InvocationResult warmInvoke(InvokerState s) {
    return check(s.invocations.run(s.request));
  }

  @Benchmark
  public RuntimeAnswer baselineRuntimeHandoff(ChannelState s) throws Exception {
    RuntimeChannel.Submission submission = s.channel.submit(s.event);
    RuntimeAnswer answer = submission.answer().get(10, TimeUnit.SECONDS);
    s.channel.finish(submission);
    return answer;
  }

  /** A benchmark of failures would measure the wrong thing: anything but the answer stops it. */
  static InvocationResult check(InvocationResult result) {
    if (!(result instanceof InvocationResult.Success)
        || !java.util.Arrays.equals(result.payload(), RESPONSE)) {
      throw new IllegalStateException("the invocation did not answer \"ok\": " + result);
    }
    return result;
  }

  /** A deployment package holding {@code app.py} (never run: the fake driver is the runtime). */
  static byte[] zip(String appPy) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(new ZipEntry("app.py"));
      zip.write(appPy.getBytes(StandardCharsets.UTF_8));
      zip.closeEntry();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }
}
