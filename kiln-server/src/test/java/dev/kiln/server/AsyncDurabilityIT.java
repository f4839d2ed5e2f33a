package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * The at-least-once contract under crashes: 10,000 events accepted in three batches, Kiln killed
 * with -9 after each of the first two (while the dispatcher is delivering what came before) and
 * once more mid-delivery after the last; every event that got its 202 reaches the destination at
 * least once, and the duplicates are counted and reported.
 *
 * <p>It runs on the plain process driver, so that the destination function can append what it
 * receives to a file of the test's: the subject here is the queue, not the sandbox.
 */
class AsyncDurabilityIT {

  static final int EVENTS = 10_000;

  static final String WORKER = "def handler(e, c):\n    return e\n";

  static final String RECORDER =
      "import os\n"
          + "def handler(e, c):\n"
          + "    with open(os.environ['OUT'], 'a') as f:\n"
          + "        f.write('%d %s\\n' % (e['requestPayload']['i'], e['requestContext']['requestId']))\n"
          + "    return 'ok'\n";

  @Test
  void everyAcceptedEvent_isDeliveredAtLeastOnce_acrossKillMinus9() throws Exception {
    Path data = dev.kiln.testing.TempDirs.create("kiln-durable-");
    Path out = Files.createTempFile("kiln-outcomes-", ".txt");
    int port = ServerProcess.freePort();
    String[] flags = {"--sandbox", "process"};
    ServerProcess server = ServerProcess.start(data, port, flags);
    try (LambdaClient setup = KilnFixture.client(server)) {
      create(setup, "worker", WORKER, Map.of());
      String recorder = create(setup, "recorder", RECORDER, Map.of("OUT", out.toString()));
      setup.putFunctionEventInvokeConfig(
          b ->
              b.functionName("worker")
                  .destinationConfig(d -> d.onSuccess(s -> s.destination(recorder))));
    }

    Set<Integer> accepted = ConcurrentHashMap.newKeySet();
    AtomicInteger resubmitted = new AtomicInteger();
    int crashes = 0;
    List<Integer> pending = new ArrayList<>();
    for (int i = 0; i < EVENTS; i++) {
      pending.add(i);
    }
    // accept in three rounds, with a kill -9 after each of the first two
    int[] roundEnds = {EVENTS / 4, EVENTS * 3 / 5, EVENTS};
    int from = 0;
    for (int round = 0; round < roundEnds.length; round++) {
      List<Integer> batch = new ArrayList<>(pending.subList(from, roundEnds[round]));
      from = roundEnds[round];
      while (!batch.isEmpty()) {
        List<Integer> failed = submit(server, batch, accepted);
        if (!failed.isEmpty()) {
          resubmitted.addAndGet(failed.size());
        }
        batch = failed;
      }
      if (round < 2) {
        server = crash(server, data, port, flags);
        crashes++;
      }
    }
    // once part of them is delivered, once more mid-delivery
    Awaitility.await()
        .atMost(Duration.ofMinutes(5))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> lines(out).size() > EVENTS / 3);
    server = crash(server, data, port, flags);
    crashes++;

    try {
      Awaitility.await()
          .atMost(Duration.ofMinutes(10))
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> delivered(out).keySet().containsAll(accepted));
    } finally {
      server.close();
    }
    Map<Integer, Integer> delivered = delivered(out);
    int duplicates = lines(out).size() - delivered.size();
    System.out.printf(
        "async durability: %d events accepted, all delivered; %d duplicate deliveries across %d"
            + " kill -9, %d events were in flight at the crashes, %d submissions repeated after a"
            + " cut connection%n",
        accepted.size(), duplicates, crashes, REQUEUED.get(), resubmitted.get());
    assertThat(accepted).hasSize(EVENTS);
    assertThat(delivered.keySet()).containsAll(accepted);
    // a duplicate can only be an event that was in flight at a crash (run again after it), or
    // one whose 202 a crash cut off and the client sent again
    assertThat(duplicates).isLessThanOrEqualTo(REQUEUED.get() + resubmitted.get());
  }

  static String create(LambdaClient lambda, String name, String code, Map<String, String> env) {
    return lambda
        .createFunction(
            b ->
                b.functionName(name)
                    .runtime(Runtime.PYTHON3_12)
                    .handler("app.handler")
                    .role(KilnFixture.ROLE)
                    .environment(e -> e.variables(env))
                    .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of("app.py", code)))))
        .functionArn();
  }

  /** Sends events from 8 threads; returns those that got no 202 (the server went away). */
  static List<Integer> submit(ServerProcess server, List<Integer> batch, Set<Integer> accepted)
      throws Exception {
    List<Integer> failed = java.util.Collections.synchronizedList(new ArrayList<>());
    ExecutorService threads = Executors.newFixedThreadPool(8);
    try (LambdaClient lambda = KilnFixture.client(server)) {
      List<Future<?>> sent = new ArrayList<>();
      for (int i : batch) {
        sent.add(
            threads.submit(
                () -> {
                  try {
                    int status =
                        lambda
                            .invoke(
                                b ->
                                    b.functionName("worker")
                                        .invocationType(InvocationType.EVENT)
                                        .payload(SdkBytes.fromUtf8String("{\"i\": " + i + "}")))
                            .statusCode();
                    if (status == 202) {
                      accepted.add(i);
                    } else {
                      failed.add(i);
                    }
                  } catch (RuntimeException e) {
                    failed.add(i);
                  }
                }));
      }
      for (Future<?> f : sent) {
        f.get();
      }
    } finally {
      threads.shutdown();
      threads.awaitTermination(1, TimeUnit.MINUTES);
    }
    return failed;
  }

  /** Events the restarted servers said were in flight at a crash and will run again. */
  static final AtomicInteger REQUEUED = new AtomicInteger();

  static ServerProcess crash(ServerProcess server, Path data, int port, String[] flags)
      throws Exception {
    server.process.destroyForcibly(); // SIGKILL: no shutdown hook, nothing flushed
    assertThat(server.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    ServerProcess restarted = ServerProcess.start(data, port, flags);
    var m =
        java.util.regex.Pattern.compile("(\\d+) asynchronous event\\(s\\) in flight")
            .matcher(restarted.output());
    if (m.find()) {
      REQUEUED.addAndGet(Integer.parseInt(m.group(1)));
    }
    return restarted;
  }

  static List<String> lines(Path out) throws Exception {
    return Files.readAllLines(out).stream().filter(l -> l.endsWith("\n") || !l.isBlank()).toList();
  }

  /** Event number to how many times the destination received it. */
  static Map<Integer, Integer> delivered(Path out) throws Exception {
    Map<Integer, Integer> counts = new HashMap<>();
    for (String line : lines(out)) {
      String[] parts = line.split(" ");
      if (parts.length == 2 && !parts[1].isEmpty()) {
        counts.merge(Integer.parseInt(parts[0]), 1, Integer::sum);
      }
    }
    return counts;
  }
}
