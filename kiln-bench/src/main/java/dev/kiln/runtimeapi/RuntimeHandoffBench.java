package dev.kiln.runtimeapi;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
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
 * The Runtime API hand-off without HTTP: the invoker {@link RuntimeChannel#submit submits} an
 * event, a runtime's poller blocked in {@link RuntimeChannel#take} (what {@code GET /next} does)
 * takes it, marks the hand-off and answers (what {@code POST /response} does: {@link
 * RuntimeChannel#current} by request id, then the answer), and the invoker, waiting on the answer,
 * {@link RuntimeChannel#finish finishes} the submission. The channel is opened on a real {@link
 * RuntimeApiServer} (started once per trial and never called), so it is the one instances get.
 *
 * <p>It lives in the {@code dev.kiln.runtimeapi} package because {@code take} and {@code current}
 * are the server's package-private side of the channel; on the class path a package may span jars.
 *
 * <p>Baseline: the same round trip between the same kinds of thread (the caller a platform thread,
 * the poller a virtual thread, as Helidon serves the Runtime API) through a {@link
 * SynchronousQueue} and a {@link CompletableFuture} for the answer: the floor of any hand-off of an
 * event to a waiting thread and back. The ratio is what the channel's own bookkeeping (its one-slot
 * mailbox, the hand-off and answer futures, the extensions' fan-out) adds to two thread wake-ups.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RuntimeHandoffBench {

  static final byte[] PAYLOAD = "{\"key\":\"value\"}".getBytes(StandardCharsets.UTF_8);
  static final byte[] RESPONSE = "\"ok\"".getBytes(StandardCharsets.UTF_8);
  static final RuntimeEvent EVENT =
      new RuntimeEvent(
          "8f5a7c1e-3b2d-4e6f-9a0b-1c2d3e4f5a6b",
          PAYLOAD,
          3000,
          "arn:aws:lambda:us-east-1:000000000000:function:f",
          "Root=1-00000000-000000000000000000000000;Sampled=0",
          Optional.empty(),
          Optional.empty());

  /** A channel with a poller playing the runtime's two calls. */
  @State(Scope.Benchmark)
  public static class ChannelState {
    RuntimeApiServer server;
    RuntimeChannel channel;
    Thread poller;

    @Setup(Level.Trial)
    public void open() {
      server = RuntimeApiServer.startWithoutPeerChecks();
      channel = server.open("bench-instance", Set::of);
      poller = Thread.ofVirtual().name("runtime-poller").start(this::runtime);
    }

    private void runtime() {
      try {
        while (true) {
          // GET /next
          Optional<RuntimeChannel.Submission> taken = channel.take();
          if (taken.isEmpty()) {
            return; // the channel was closed
          }
          RuntimeEvent event = taken.get().event();
          long deadline = System.currentTimeMillis() + event.timeoutMillis();
          channel.extensions().invoke(event, deadline);
          taken.get().handoff().complete(new RuntimeChannel.Handoff(deadline, System.nanoTime()));
          // POST /invocation/{id}/response
          channel
              .current(event.requestId())
              .orElseThrow()
              .answer()
              .complete(new RuntimeAnswer.Response(RESPONSE));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @TearDown(Level.Trial)
    public void close() throws InterruptedException {
      channel.close();
      poller.join();
      server.close();
    }
  }

  /** The baseline's poller: takes an exchange from a synchronous queue and answers it. */
  @State(Scope.Benchmark)
  public static class QueueState {
    record Exchange(RuntimeEvent event, CompletableFuture<byte[]> answer) {}

    final SynchronousQueue<Exchange> queue = new SynchronousQueue<>();
    Thread poller;

    @Setup(Level.Trial)
    public void start() {
      poller =
          Thread.ofVirtual()
              .name("queue-poller")
              .start(
                  () -> {
                    try {
                      while (true) {
                        queue.take().answer().complete(RESPONSE);
                      }
                    } catch (InterruptedException e) {
                      // the trial is over
                    }
                  });
    }

    @TearDown(Level.Trial)
    public void stop() throws InterruptedException {
      poller.interrupt();
      poller.join();
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
  public byte[] baselineSynchronousQueue(QueueState s) throws Exception {
    QueueState.Exchange exchange = new QueueState.Exchange(EVENT, new CompletableFuture<>());
    s.queue.put(exchange);
    return exchange.answer().get(10, TimeUnit.SECONDS);
  }
}
