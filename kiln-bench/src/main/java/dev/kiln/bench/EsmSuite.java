package dev.kiln.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.CreateEventSourceMappingRequest;

/**
 * Event source mappings: how fast Kiln delivers records from Kafka, SQS (ElasticMQ) and PostgreSQL
 * (logical replication) to a no-op Python function, and how long a record takes from being produced
 * to reaching the function, each against the source's own consumer reading the same records in the
 * same run ({@link EsmSource}: a plain KafkaConsumer, an SqsClient receive and delete loop,
 * pgjdbc's replication stream).
 *
 * <p>Throughput, at BatchSize 1 and 100: N records (10 N at BatchSize 100) are produced up front
 * into two fresh streams, one per reader. The baseline's consumer is opened first (its slot made; a
 * Kafka consumer joins its group at its first poll) and timed from its first read to the last
 * record read and acknowledged; Kiln from the UpdateEventSourceMapping that enables its (created,
 * started and then disabled) mapping to the moment the records its function was invoked with
 * ({@code kiln_esm_batch_size_sum} in {@code /metrics}) reach N, polled every 20 ms. Both therefore
 * include joining the source (a consumer group, a slot's stream).
 *
 * <p>Latency, at BatchSize 1: records are produced one at a time on a fixed pace into a stream the
 * reader is already following, each carrying the time it was produced (epoch µs). The function (a
 * Python one-liner that prints, per batch, now minus each record's time) reports it in its log,
 * which the bench reads back through the CloudWatch Logs API; the baseline takes the same
 * difference when a record arrives. Same machine, same clock.
 *
 * <p>Kiln runs as a child process of its own, started with {@code --sqs-endpoint} on the suite's
 * ElasticMQ; the brokers run in the bench's JVM (kiln-testing's harnesses) or, for PostgreSQL, as
 * the machine's server binaries, and are gone after the run.
 */
final class EsmSuite implements Suite {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofMinutes(2);

  /** The no-op the throughput is measured with. */
  static final String NOOP = "def handler(event, context):\n    return None\n";

  /** Prints, per batch, how long ago (µs) each record was produced, on one line. */
  static final String STAMP =
      """
      import base64, json, time

      def handler(event, context):
          now = time.time_ns() // 1000
          ages = []
          if "records" in event:
              for records in event["records"].values():
                  for r in records:
                      ages.append(now - json.loads(base64.b64decode(r["value"]))["t"])
          else:
              for r in event["Records"]:
                  if "body" in r:
                      ages.append(now - json.loads(r["body"])["t"])
                  else:
                      ages.append(now - r["dynamodb"]["NewImage"]["t"])
          print("ESMLAT " + " ".join(str(a) for a in ages))
      """;

  record Throughput(
      String source,
      int batchSize,
      int records,
      double baselineSeconds,
      double baselineRecordsPerSecond,
      double kilnSeconds,
      double kilnRecordsPerSecond,
      double kilnOverBaseline) {}

  record EndToEnd(
      String source,
      int records,
      double intervalMillis,
      Latency baseline,
      Latency kiln,
      double p50KilnOverBaseline,
      double p99KilnOverBaseline) {}

  @Override
  public String name() {
    return "esm";
  }

  @Override
  public void run(BenchContext context, SuiteReport report) throws Exception {
    BenchSettings settings = context.settings();
    int n = settings.esmRecords();
    int paced = settings.esmLatencyRecords();
    long intervalMillis = settings.smoke() ? 10 : 20;
    report.note(
        "Throughput: "
            + n
            + " records at BatchSize 1 and "
            + 10 * n
            + " at BatchSize 100, produced up front; Kiln timed from enabling its mapping to its"
            + " kiln_esm_batch_size_sum (records invoked with) reaching the count (no-op python3.12"
            + " function, "
            + BenchSettings.FUNCTION_MEMORY_MB
            + " MB), the baseline from its first read to the last record acknowledged."
            + " Latency: "
            + paced
            + " records, one every "
            + intervalMillis
            + " ms, BatchSize 1, from the producer's clock before the send to the function's (or"
            + " the baseline's) clock on arrival. Kafka mappings keep AWS's 500 ms batching"
            + " window (a full batch goes at once); SQS at BatchSize 100 needs a 1 s window, as"
            + " on AWS; every other window is 0.");
    List<Throughput> throughputs = new ArrayList<>();
    List<EndToEnd> latencies = new ArrayList<>();
    List<Callable<EsmSource>> sources = new ArrayList<>();
    List<String> chosen = settings.esmSources();
    if (chosen.contains("kafka")) {
      sources.add(EsmKafka::new);
    }
    if (chosen.contains("sqs")) {
      sources.add(EsmSqs::new);
    }
    if (chosen.contains("postgres") && EsmPostgres.available()) {
      sources.add(EsmPostgres::new);
    } else if (chosen.contains("postgres")) {
      report.note("PostgreSQL: not measured, no PostgreSQL binaries on this machine.");
    }
    for (Callable<EsmSource> open : sources) {
      try (EsmSource source = open.call()) {
        System.err.println("kiln bench: esm: " + source.name() + " ...");
        report.note("Baseline of " + source.baselineDescription() + ".");
        List<String> extra =
            source instanceof EsmSqs q
                ? List.of("--sqs-endpoint", q.endpoint().toString())
                : List.of();
        try (KilnProcess kiln = KilnProcess.start(settings.sandbox(), extra)) {
          createFunction(kiln, "bench-esm-noop", NOOP);
          createFunction(kiln, "bench-esm-stamp", STAMP);
          for (int batchSize : List.of(1, 100)) {
            Throughput t =
                throughput(kiln, source, batchSize, batchSize == 1 ? n : 10 * n, "tp" + batchSize);
            throughputs.add(t);
            report.result(t);
          }
          EndToEnd e = latency(kiln, source, paced, intervalMillis, "lat", report);
          latencies.add(e);
          report.result(e);
        } catch (Exception | Error failure) {
          // one source that does not finish must not cost the others' figures
          System.err.println("kiln bench: esm: " + source.name() + " failed: " + failure);
          report.note(
              source.name() + ": the run did not finish, figures above it only: " + failure);
        }
      }
    }
    Table tp =
        report.table(
            Table.of(
                "records per second delivered to a no-op function",
                "source",
                "BatchSize",
                "records",
                "baseline consumer, records/s",
                "Kiln, records/s",
                "ratio Kiln / baseline"));
    for (Throughput t : throughputs) {
      tp.row(
          t.source(),
          t.batchSize(),
          t.records(),
          t.baselineRecordsPerSecond(),
          t.kilnRecordsPerSecond(),
          t.kilnOverBaseline());
    }
    Table lat =
        report.table(
            Table.of(
                "end-to-end latency, produce to invoke (baseline: produce to receive), ms",
                "source",
                "baseline p50",
                "baseline p99",
                "Kiln p50",
                "Kiln p99",
                "ratio p50",
                "ratio p99"));
    for (EndToEnd e : latencies) {
      lat.row(
          e.source(),
          e.baseline().p50Micros() / 1000,
          e.baseline().p99Micros() / 1000,
          e.kiln().p50Micros() / 1000,
          e.kiln().p99Micros() / 1000,
          e.p50KilnOverBaseline(),
          e.p99KilnOverBaseline());
    }
  }

  private static Throughput throughput(
      KilnProcess kiln, EsmSource source, int batchSize, int records, String tag) throws Exception {
    source.prepare(tag);
    String uuid = heldAndDisabled(kiln, source, "bench-esm-noop", tag, batchSize);
    double baselineSeconds;
    // opened first, as the mapping was: a replication slot sees only what is committed after it
    try (EsmSource.Consumer consumer = source.openBaseline(tag, batchSize)) {
      source.produce(tag, EsmSource.Side.BASELINE, records);
      source.produce(tag, EsmSource.Side.KILN, records);
      long started = System.nanoTime();
      withTimeout(
          () -> {
            consumer.read(records, sent -> {});
            return null;
          });
      baselineSeconds = (System.nanoTime() - started) / 1e9;
    }

    long started = System.nanoTime();
    kiln.lambda().updateEventSourceMapping(b -> b.uuid(uuid).enabled(true));
    awaitInvoked(kiln, uuid, records, 20);
    double kilnSeconds = (System.nanoTime() - started) / 1e9;
    kiln.lambda().deleteEventSourceMapping(b -> b.uuid(uuid));
    return new Throughput(
        source.name(),
        batchSize,
        records,
        baselineSeconds,
        records / baselineSeconds,
        kilnSeconds,
        records / kilnSeconds,
        baselineSeconds / kilnSeconds);
  }

  private static EndToEnd latency(
      KilnProcess kiln,
      EsmSource source,
      int records,
      long intervalMillis,
      String tag,
      SuiteReport report)
      throws Exception {
    source.prepare(tag);
    String uuid = createMapping(kiln, source, "bench-esm-stamp", tag, 1);
    awaitState(kiln, uuid, "Enabled");
    source.awaitHeld(uuid, Duration.ofSeconds(60));

    Histogram baseline = new Histogram(3);
    try (EsmSource.Consumer consumer = source.openBaseline(tag, 1);
        ExecutorService reader = Executors.newSingleThreadExecutor()) {
      Future<?> reading =
          reader.submit(
              () -> {
                consumer.read(
                    records,
                    sent -> baseline.recordValue(Math.max(0, EsmSource.nowMicros() - sent) * 1000));
                return null;
              });
      // the consumer joins its group (or opens its stream) before the paced records start
      Thread.sleep(2000);
      paced(source, tag, EsmSource.Side.BASELINE, records, intervalMillis);
      reading.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    // a first record warms the function's instance, as the baseline's JVM is warm by now
    source.produceOne(tag, EsmSource.Side.KILN, -1, EsmSource.nowMicros());
    awaitInvoked(kiln, uuid, 1, 20);
    paced(source, tag, EsmSource.Side.KILN, records, intervalMillis);
    awaitInvoked(kiln, uuid, records + 1, 20);
    Histogram kilnAges = new Histogram(3);
    List<Long> ages = FunctionLogNumbers.read(kiln, "bench-esm-stamp", "ESMLAT", records + 1);
    // the warm-up record is the first the function printed
    for (long age : ages.subList(1, ages.size())) {
      kilnAges.recordValue(Math.max(0, age) * 1000);
    }
    kiln.lambda().deleteEventSourceMapping(b -> b.uuid(uuid));
    report.plot(source.name(), "baseline consumer", baseline);
    report.plot(source.name(), "Kiln", kilnAges);
    Latency b = Latency.of(baseline, 0);
    Latency k = Latency.of(kilnAges, 0);
    return new EndToEnd(
        source.name(),
        records,
        intervalMillis,
        b,
        k,
        k.p50Micros() / b.p50Micros(),
        k.p99Micros() / b.p99Micros());
  }

  private static void paced(
      EsmSource source, String tag, EsmSource.Side side, int records, long intervalMillis)
      throws Exception {
    long start = System.nanoTime();
    for (int i = 0; i < records; i++) {
      long due = start + TimeUnit.MILLISECONDS.toNanos(intervalMillis * i);
      long wait = due - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      }
      source.produceOne(tag, side, i, EsmSource.nowMicros());
    }
  }

  /**
   * Creates a mapping, waits until it runs and holds its place in the source, then disables it, so
   * that records produced next wait in the source until the mapping is enabled again.
   */
  private static String heldAndDisabled(
      KilnProcess kiln, EsmSource source, String function, String tag, int batchSize)
      throws Exception {
    String uuid = createMapping(kiln, source, function, tag, batchSize);
    awaitState(kiln, uuid, "Enabled");
    source.awaitHeld(uuid, Duration.ofSeconds(60));
    kiln.lambda().updateEventSourceMapping(b -> b.uuid(uuid).enabled(false));
    awaitState(kiln, uuid, "Disabled");
    // the mapping's meters stay across its pollers: what the next one invokes adds to them
    return uuid;
  }

  private static String createMapping(
      KilnProcess kiln, EsmSource source, String function, String tag, int batchSize) {
    CreateEventSourceMappingRequest.Builder b =
        CreateEventSourceMappingRequest.builder().functionName(function).batchSize(batchSize);
    source.mapping(b, tag, batchSize);
    return kiln.lambda().createEventSourceMapping(b.build()).uuid();
  }

  private static void awaitState(KilnProcess kiln, String uuid, String state) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    String now = null;
    while (System.nanoTime() < deadline) {
      var m = kiln.lambda().getEventSourceMapping(b -> b.uuid(uuid));
      now = m.state();
      if (state.equals(now)) {
        return;
      }
      KilnProcess.sleepMillis(50);
    }
    throw new IllegalStateException("mapping " + uuid + " is " + now + ", not " + state);
  }

  /** Waits until the mapping has invoked its function with {@code records} records. */
  private static void awaitInvoked(KilnProcess kiln, String uuid, int records, long pollMillis) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    double invoked = 0;
    while (System.nanoTime() < deadline) {
      // the records the function was invoked with: the sum of kiln_esm_batch_size, one sample
      // per invoked batch (kiln_esm_records_total{outcome="invoked"} says the same, but is not
      // on /metrics in every build)
      invoked = kiln.metrics().sum("kiln_esm_batch_size_sum", "uuid=\"" + uuid + "\"");
      if (invoked >= records) {
        return;
      }
      KilnProcess.sleepMillis(pollMillis);
    }
    var m = kiln.lambda().getEventSourceMapping(b -> b.uuid(uuid));
    String log = kiln.output();
    throw new IllegalStateException(
        "mapping "
            + uuid
            + " invoked "
            + invoked
            + " of "
            + records
            + " records in "
            + WAIT
            + "; it is "
            + m.state()
            + " ("
            + m.stateTransitionReason()
            + "), last result "
            + m.lastProcessingResult()
            + "; its metrics: "
            + kiln.metrics().samples().stream()
                .filter(x -> x.name().startsWith("kiln_esm"))
                .map(Object::toString)
                .toList()
            + "; Kiln's output ends:\n"
            + log.substring(Math.max(0, log.length() - 4000)));
  }

  private static void withTimeout(Callable<Void> task) throws Exception {
    ExecutorService one = Executors.newSingleThreadExecutor();
    try {
      one.submit(task).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("the baseline consumer did not finish in " + WAIT, e);
    } finally {
      // a consumer blocked in a read is freed when the caller closes it
      one.shutdownNow();
    }
  }

  private static void createFunction(KilnProcess kiln, String name, String source) {
    LambdaClient lambda = kiln.lambda();
    byte[] zip = Language.zip(Map.of("app.py", source.getBytes(StandardCharsets.UTF_8)));
    lambda.createFunction(
        b ->
            b.functionName(name)
                .runtime(Language.PYTHON.runtime)
                .handler(Language.PYTHON.handler)
                .role("arn:aws:iam::000000000000:role/kiln-bench")
                .memorySize(BenchSettings.FUNCTION_MEMORY_MB)
                .timeout(60)
                .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
    lambda.waiter().waitUntilFunctionActiveV2(b -> b.functionName(name));
  }
}
