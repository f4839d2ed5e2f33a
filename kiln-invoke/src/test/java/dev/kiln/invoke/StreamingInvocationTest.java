package dev.kiln.invoke;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.model.Account;
import dev.kiln.model.CodeDigest;
import dev.kiln.model.ConfigPatch;
import dev.kiln.model.FunctionConfig;
import dev.kiln.model.FunctionRef;
import dev.kiln.runtimeapi.ResponseStream;
import dev.kiln.runtimeapi.RuntimeApiServer;
import dev.kiln.runtimes.RuntimeTable;
import dev.kiln.sandbox.ProcessSandboxDriver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The invoker's streaming hand-off with a real instance: a custom runtime (a Python bootstrap
 * speaking HTTP/1.1 chunks by hand) that writes one chunk, waits for a file the test creates, and
 * writes the next. The caller of {@link Invoker#invokeStreaming} has the first chunk while the
 * function still waits; the caller of {@link Invoker#invoke} gets the whole body, as before.
 */
class StreamingInvocationTest {

  static final String BOOTSTRAP =
      """
      #!/usr/bin/env python3
      import base64, http.client, json, os, time
      host, port = os.environ['AWS_LAMBDA_RUNTIME_API'].rsplit(':', 1)
      base = '/2018-06-01/runtime'
      while True:
          c = http.client.HTTPConnection(host, int(port))
          c.request('GET', base + '/invocation/next')
          r = c.getresponse()
          event = json.loads(r.read())
          rid = r.getheader('Lambda-Runtime-Aws-Request-Id')
          c.putrequest('POST', base + '/invocation/' + rid + '/response')
          c.putheader('Lambda-Runtime-Function-Response-Mode', 'streaming')
          c.putheader('Transfer-Encoding', 'chunked')
          c.putheader('Content-Type', 'text/plain')
          c.endheaders()
          def chunk(b):
              c.send(b'%x\\r\\n' % len(b) + b + b'\\r\\n')
          chunk(b'first;')
          while not os.path.exists(event['signal']):
              time.sleep(0.05)
          chunk(b'second')
          if event.get('fail'):
              doc = base64.b64encode(b'{"errorType":"Custom.Failed","errorMessage":"late"}')
              c.send(b'0\\r\\nLambda-Runtime-Function-Error-Type: Custom.Failed\\r\\n'
                     + b'Lambda-Runtime-Function-Error-Body: ' + doc + b'\\r\\n\\r\\n')
          else:
              c.send(b'0\\r\\n\\r\\n')
          c.getresponse().read()
          c.close()
      """;

  RuntimeApiServer runtimeApi;
  Invoker invoker;
  FunctionVersion version;
  Path root;

  @BeforeEach
  void start() throws Exception {
    root = dev.kiln.testing.TempDirs.create("kiln-streaming-");
    Path task = Files.createDirectories(root.resolve("task"));
    Path bootstrap = task.resolve("bootstrap");
    Files.writeString(bootstrap, BOOTSTRAP);
    Files.setPosixFilePermissions(bootstrap, PosixFilePermissions.fromString("rwxr-xr-x"));
    RuntimeTable runtimes = RuntimeTable.install(root.resolve("runtimes"), Map.of());
    runtimeApi = RuntimeApiServer.start();
    invoker =
        Invoker.builder(
                new ProcessSandboxDriver(),
                runtimeApi,
                Files.createDirectories(root.resolve("instances")))
            .scheduler(new dev.kiln.testing.ManualTime())
            .keepAlive(Duration.ofMinutes(5))
            .budget(new ConcurrencyBudget(1000, Map.of()))
            .build();
    FunctionConfig config =
        FunctionConfig.create(
            "streamer",
            new CodeDigest("00".repeat(32), 1, 1),
            ConfigPatch.of("provided.al2023", "x", "arn:aws:iam::000000000000:role/r"),
            Instant.now());
    version =
        new FunctionVersion(
            config,
            Account.DEFAULT.functionArn("streamer"),
            task,
            runtimes.launch("provided.al2023"),
            Optional.empty(),
            true);
  }

  @AfterEach
  void stop() {
    invoker.close();
    runtimeApi.close();
  }

  InvokeRequest request(Path signal, boolean fail) {
    String event = "{\"signal\": \"" + signal + "\", \"fail\": " + fail + "}";
    return InvokeRequest.sync(FunctionRef.of("streamer"), event.getBytes(StandardCharsets.UTF_8))
        .withTailLog(true);
  }

  @Test
  void theCallerHasTheFirstChunk_whileTheFunctionStillWaits() throws Exception {
    Path signal = root.resolve("go");
    InvocationStream s = invoker.invokeStreaming(version, request(signal, false));
    ResponseStream body = s.body();
    assertThat(body.contentType()).isEqualTo("text/plain");
    assertThat(new String(body.next(Duration.ofSeconds(30)).orElseThrow())).isEqualTo("first;");
    // the function cannot have written more: it waits for the file, which does not exist yet
    assertThat(body.end()).isNotDone();
    assertThat(s.logTail()).isNotDone();
    Files.createFile(signal);
    assertThat(new String(body.next(Duration.ofSeconds(30)).orElseThrow())).isEqualTo("second");
    assertThat(body.next(Duration.ofSeconds(30))).isEmpty();
    assertThat(body.end().join().failed()).isFalse();
    assertThat(s.logTail().get(30, TimeUnit.SECONDS)).isPresent();
    assertThat(s.executedVersion()).isEqualTo("$LATEST");
  }

  @Test
  void anErrorInTheTrailers_endsTheStreamWithItsType() throws Exception {
    Path signal = Files.createFile(root.resolve("go-now"));
    InvocationStream s = invoker.invokeStreaming(version, request(signal, true));
    StringBuilder got = new StringBuilder();
    for (Optional<byte[]> c = s.body().next(Duration.ofSeconds(30));
        c.isPresent();
        c = s.body().next(Duration.ofSeconds(30))) {
      got.append(new String(c.get(), StandardCharsets.UTF_8));
    }
    assertThat(got).hasToString("first;second");
    ResponseStream.End end = s.body().end().join();
    assertThat(end.errorType()).hasValue("Custom.Failed");
    assertThat(new String(end.errorBody(), StandardCharsets.UTF_8)).contains("late");
  }

  @Test
  void aBufferedCaller_getsTheStreamedBodyWhole() throws Exception {
    Path signal = Files.createFile(root.resolve("go-buffered"));
    InvocationResult r = invoker.invoke(version, request(signal, false));
    assertThat(r).isInstanceOf(InvocationResult.Success.class);
    assertThat(new String(r.payload(), StandardCharsets.UTF_8)).isEqualTo("first;second");
    InvocationResult failed = invoker.invoke(version, request(signal, true));
    assertThat(failed).isInstanceOf(InvocationResult.FunctionError.class);
    assertThat(((InvocationResult.FunctionError) failed).errorType()).isEqualTo("Custom.Failed");
  }
}
