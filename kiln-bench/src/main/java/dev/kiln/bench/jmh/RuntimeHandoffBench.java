package dev.kiln.bench.jmh;

import dev.kiln.runtimeapi.RuntimeAnswer;
import dev.kiln.runtimeapi.RuntimeApiServer;
import dev.kiln.runtimeapi.RuntimeChannel;
import dev.kiln.runtimeapi.RuntimeEvent;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
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
 * The Runtime API hand-off as a runtime sees it: the invoker {@link RuntimeChannel#submit submits}
 * an event on a real {@link RuntimeApiServer}'s channel, a runtime blocked in {@code GET
 * /2018-06-01/runtime/invocation/next} receives it, answers with {@code POST
 * .../invocation/{id}/response} and asks for the next one, and the invoker, waiting on the answer,
 * {@link RuntimeChannel#finish finishes} the submission. The runtime is a thread of this JVM
 * speaking HTTP/1.1 to the server's loopback address for the instance ({@link
 * RuntimeChannel#runtimeApiAddress}) with the JDK's HTTP client, so no process is started; the
 * server runs without its peer check (which reads {@code /proc} once per connection, not per
 * event).
 *
 * <p>Measured through the public API on both sides: the invoker's ({@code submit}, {@code finish})
 * and the runtime's (HTTP). The channel's other side ({@code take}, {@code current}) is how the
 * server's HTTP handlers serve those two calls, internal to kiln-runtime-api, so the benchmark goes
 * one level up and pays the HTTP that every real hand-off pays.
 *
 * <p>Baseline: the same two HTTP calls from the same client to a minimal long-poll server on the
 * same web server (Helidon, virtual threads): {@code GET /next} blocks on a {@link
 * SynchronousQueue} until an event is put there and {@code POST /response} completes the event's
 * {@link CompletableFuture}. That is the floor of handing an event to a waiting runtime over HTTP
 * and back; the ratio is what Kiln's Runtime API adds to it (finding the instance's channel by the
 * address called, the channel's one-slot mailbox, the hand-off and answer futures, the headers, the
 * extensions' fan-out).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RuntimeHandoffBench {

  static final byte[] PAYLOAD = "{\"key\":\"value\"}".getBytes(StandardCharsets.UTF_8);
  static final byte[] RESPONSE = "\"ok\"".getBytes(StandardCharsets.UTF_8);
  static final String REQUEST_ID = "8f5a7c1e-3b2d-4e6f-9a0b-1c2d3e4f5a6b";
  static final RuntimeEvent EVENT =
      new RuntimeEvent(
          REQUEST_ID,
          PAYLOAD,
          3000,
          "arn:aws:lambda:us-east-1:000000000000:function:f",
          "Root=1-00000000-000000000000000000000000;Sampled=0",
          Optional.empty(),
          Optional.empty());

  /**
   * A runtime's loop over HTTP against {@code base}: next, then the answer to what next gave, until
   * next is refused (the instance or the server is going away).
   */
  static Thread runtime(String name, URI base) {
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    HttpRequest next = HttpRequest.newBuilder(base.resolve("invocation/next")).GET().build();
    return Thread.ofPlatform()
        .daemon()
        .name(name)
        .start(
            () -> {
              try {
                while (true) {
                  HttpResponse<byte[]> event =
                      client.send(next, HttpResponse.BodyHandlers.ofByteArray());
                  if (event.statusCode() != 200) {
                    return;
                  }
                  String id = event.headers().firstValue("Lambda-Runtime-Aws-Request-Id").get();
                  client.send(
                      HttpRequest.newBuilder(base.resolve("invocation/" + id + "/response"))
                          .POST(HttpRequest.BodyPublishers.ofByteArray(RESPONSE))
                          .build(),
                      HttpResponse.BodyHandlers.discarding());
                }
              } catch (IOException e) {
                // the server stopped
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } finally {
                client.close();
              }
            });
  }

  /** An instance's channel on a real Runtime API server, with a runtime polling it. */
  @State(Scope.Benchmark)
  public static class ChannelState {
    RuntimeApiServer server;
    RuntimeChannel channel;
    Thread runtime;

    @Setup(Level.Trial)
    public void open() {
      server = RuntimeApiServer.startWithoutPeerChecks();
      channel = server.open("bench-instance", Set::of);
      runtime =
          runtime(
              "runtime",
              URI.create("http://" + channel.runtimeApiAddress() + "/2018-06-01/runtime/"));
    }

    @TearDown(Level.Trial)
    public void close() throws InterruptedException {
      channel.close(); // the runtime's next is answered 410
      runtime.join();
      server.close();
    }
  }

  /** The baseline's server: next takes an event from a synchronous queue, response answers it. */
  @State(Scope.Benchmark)
  public static class LongPollState {
    record Exchange(byte[] payload, CompletableFuture<byte[]> answer) {}

    /** Put last: next answers it with 410, as the Runtime API a closed instance's next. */
    static final Exchange CLOSE = new Exchange(new byte[0], new CompletableFuture<>());

    final SynchronousQueue<Exchange> queue = new SynchronousQueue<>();
    final AtomicReference<Exchange> current = new AtomicReference<>();
    WebServer server;
    Thread runtime;

    @Setup(Level.Trial)
    public void start() {
      server =
          WebServer.builder()
              .host("127.0.0.1")
              .port(0)
              .shutdownHook(false)
              .routing(
                  r ->
                      r.get(
                              "/invocation/next",
                              (req, res) -> {
                                Exchange e = queue.take();
                                if (e == CLOSE) {
                                  res.status(Status.GONE_410).send();
                                  return;
                                }
                                current.set(e);
                                res.header("Lambda-Runtime-Aws-Request-Id", REQUEST_ID)
                                    .header(HeaderNames.CONTENT_TYPE, "application/json")
                                    .send(e.payload());
                              })
                          .post(
                              "/invocation/{id}/response",
                              (req, res) -> {
                                byte[] body = req.content().as(byte[].class);
                                current.getAndSet(null).answer().complete(body);
                                res.status(Status.ACCEPTED_202).send();
                              }))
              .build()
              .start();
      runtime = runtime("baseline-runtime", URI.create("http://127.0.0.1:" + server.port() + "/"));
    }

    @TearDown(Level.Trial)
    public void stop() throws InterruptedException {
      queue.put(CLOSE); // the runtime's next is answered 410
      runtime.join();
      server.stop();
    }
  }

  @Benchmark
  public RuntimeAnswer runtimeChannel(ChannelState s) throws Exception {
    RuntimeChannel.Submission submission = s.channel.submit(EVENT);
    RuntimeAnswer answer = submission.answer().get(10, TimeUnit.SECONDS);
    s.channel.finish(submission);
    return answer;
  }

  @Benchmark
  public byte[] baselineLongPollServer(LongPollState s) throws Exception {
    LongPollState.Exchange exchange =
        new LongPollState.Exchange(PAYLOAD, new CompletableFuture<>());
    s.queue.put(exchange);
    return exchange.answer().get(10, TimeUnit.SECONDS);
  }
}
