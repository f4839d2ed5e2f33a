package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.testing.brokers.ElasticMq;
import dev.kiln.testing.brokers.KafkaBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.EventSourceMappingConfiguration;
import software.amazon.awssdk.services.lambda.model.EventSourcePosition;
import software.amazon.awssdk.services.lambda.model.Runtime;
import software.amazon.awssdk.services.lambda.model.SourceAccessType;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * Event source mappings across kill -9: Kiln as its own process reads a Kafka topic, an SQS queue
 * and a PostgreSQL publication into a function that notes every record it gets in a file and takes
 * a little while per batch; Kiln is killed with SIGKILL while records are still coming, and started
 * again on the same data. Every record must have been delivered at least once, the only ones
 * delivered twice those that were in flight at the kill (at most a batch per lane), and the mapping
 * must still be there and Enabled.
 */
class EsmCrashIT {

  static final KafkaBroker KAFKA = new KafkaBroker();
  static final String BOOTSTRAP = KAFKA.start();
  static final ElasticMq SQS_BROKER = ElasticMq.start();
  static final PostgresForEsm PG = PostgresForEsm.start();

  @AfterAll
  static void stopBrokers() {
    KAFKA.close();
    SQS_BROKER.close();
    PG.server().close();
  }

  static final int BATCH = 10;

  /** Appends one line per record ({@code OUT}), then sleeps, so a kill lands mid-stream. */
  static final String NOTER =
      "import os, time\n"
          + "def handler(event, context):\n"
          + "    lines = []\n"
          + "    if 'records' in event:\n"
          + "        for recs in event['records'].values():\n"
          + "            for r in recs:\n"
          + "                lines.append('%d %d' % (r['partition'], r['offset']))\n"
          + "    else:\n"
          + "        for r in event['Records']:\n"
          + "            lines.append('0 ' + (str(r['dynamodb']['NewImage']['id']) if 'dynamodb' in r\n"
          + "                else r['body']))\n"
          + "    with open(os.environ['OUT'], 'a') as f:\n"
          + "        f.write(''.join(l + '\\n' for l in lines))\n"
          + "    time.sleep(0.15)\n";

  @Test
  void kafka_killMinus9MidStream_losesNoRecord_andRepeatsOnlyWhatWasInFlight() throws Exception {
    KAFKA.createTopic("crash", 2);
    int records = 300;
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BOOTSTRAP);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < records; i++) {
        producer.send(new ProducerRecord<>("crash", i % 2, "k" + i, "{\"n\":" + i + "}"));
      }
      producer.flush();
    }
    crashMidStream(
        records,
        new String[0],
        lambda ->
            lambda
                .createEventSourceMapping(
                    b ->
                        b.functionName("noter")
                            .topics("crash")
                            .batchSize(BATCH)
                            .startingPosition(EventSourcePosition.TRIM_HORIZON)
                            .selfManagedEventSource(
                                s ->
                                    s.endpointsWithStrings(
                                        Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of(BOOTSTRAP)))))
                .uuid(),
        // one batch in flight per partition
        BATCH);
  }

  @Test
  void sqs_killMinus9MidStream_losesNoMessage_andRepeatsOnlyWhatWasInFlight() throws Exception {
    SQS_BROKER.createQueue("crash", Map.of("VisibilityTimeout", "5"));
    int messages = 200;
    try (SqsClient sqs =
        SqsClient.builder()
            .endpointOverride(SQS_BROKER.endpoint())
            .region(Region.US_EAST_1)
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x")))
            .build()) {
      for (int from = 0; from < messages; from += 10) {
        List<SendMessageBatchRequestEntry> entries = new ArrayList<>();
        for (int i = from; i < from + 10; i++) {
          entries.add(
              SendMessageBatchRequestEntry.builder().id("m" + i).messageBody("" + i).build());
        }
        sqs.sendMessageBatch(b -> b.queueUrl(SQS_BROKER.queueUrl("crash")).entries(entries));
      }
    }
    int concurrency = 2;
    crashMidStream(
        messages,
        new String[] {"--sqs-endpoint", SQS_BROKER.endpoint().toString()},
        lambda ->
            lambda
                .createEventSourceMapping(
                    b ->
                        b.functionName("noter")
                            .eventSourceArn(SQS_BROKER.queueArn("crash"))
                            .batchSize(BATCH)
                            .scalingConfig(s -> s.maximumConcurrency(concurrency)))
                .uuid(),
        // at most MaximumConcurrency batches received and not yet deleted
        concurrency * BATCH);
  }

  @Test
  void postgres_killMinus9MidStream_losesNoChange_andRepeatsOnlyWhatWasInFlight() throws Exception {
    PG.execute(
        "CREATE TABLE crash (id int PRIMARY KEY)", "CREATE PUBLICATION crash_pub FOR TABLE crash");
    int rows = 200;
    crashMidStream(
        rows,
        new String[0],
        lambda -> {
          String uuid =
              lambda
                  .createEventSourceMapping(
                      b ->
                          b.functionName("noter")
                              .topics("crash_pub")
                              .batchSize(BATCH)
                              .startingPosition(EventSourcePosition.LATEST)
                              .selfManagedEventSource(
                                  s ->
                                      s.endpointsWithStrings(
                                          Map.of("POSTGRESQL_URL", List.of(PG.url()))))
                              .sourceAccessConfigurations(
                                  c -> c.type(SourceAccessType.BASIC_AUTH).uri(PG.secretUri())))
                  .uuid();
          // a slot sees what is committed once it exists: change the rows after that
          Awaitility.await()
              .atMost(Duration.ofSeconds(30))
              .until(() -> PG.slotExists(PostgresForEsm.slotOf(uuid)));
          // one transaction per row (autocommit), so no transaction spans two batches
          try (var c = PG.server().connect(PostgresForEsm.DB);
              var insert = c.prepareStatement("INSERT INTO crash VALUES (?)")) {
            for (int i = 0; i < rows; i++) {
              insert.setInt(1, i);
              insert.executeUpdate();
            }
          } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
          }
          return uuid;
        },
        // the slot is one lane, read a batch at a time; one row per transaction
        BATCH);
  }

  /**
   * Starts Kiln, makes the noting function and (with {@code createMapping}) its mapping, kills Kiln
   * with SIGKILL once part of the {@code expected} records ("lane position" lines) arrived, starts
   * it again on the same data, and checks what the function noted across both.
   */
  static void crashMidStream(
      int expected,
      String[] extraFlags,
      Function<LambdaClient, String> createMapping,
      int maxDuplicatesPerLane)
      throws Exception {
    Path data = dev.kiln.testing.TempDirs.create("kiln-esm-crash-");
    Path out = Files.createTempFile("kiln-esm-noted-", ".txt");
    out.toFile().setWritable(true, false);
    List<String> flags = new ArrayList<>(List.of("--sandbox", "process"));
    flags.addAll(List.of(extraFlags));
    String[] args = flags.toArray(String[]::new);
    int port = ServerProcess.freePort();
    long t0 = System.nanoTime();
    String uuid;
    List<String> beforeKill;
    try (ServerProcess first = ServerProcess.start(data, port, args);
        LambdaClient lambda = KilnFixture.client(first)) {
      lambda.createFunction(
          b ->
              b.functionName("noter")
                  .runtime(Runtime.PYTHON3_12)
                  .handler("app.handler")
                  .role(KilnFixture.ROLE)
                  .timeout(30)
                  .environment(e -> e.variables(Map.of("OUT", out.toString())))
                  .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of("app.py", NOTER)))));
      uuid = createMapping.apply(lambda);
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(20))
          .until(() -> noted(out).size() >= expected / 5);
      first.process.destroyForcibly(); // SIGKILL: no shutdown hook, no last commit
      assertThat(first.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      beforeKill = noted(out);
    }
    assertThat(beforeKill.size()).as("the kill landed mid-stream").isLessThan(expected);
    try (ServerProcess second = ServerProcess.start(data, port, args);
        LambdaClient lambda = KilnFixture.client(second)) {
      Awaitility.await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(250))
          .until(() -> distinct(noted(out)).size() >= expected);
      List<EventSourceMappingConfiguration> mappings =
          lambda.listEventSourceMappings(b -> b.functionName("noter")).eventSourceMappings();
      assertThat(mappings).extracting(EventSourceMappingConfiguration::uuid).containsExactly(uuid);
      assertThat(mappings.get(0).state()).isEqualTo("Enabled");
    }

    List<String> noted = noted(out);
    Map<String, Long> times =
        noted.stream().collect(Collectors.groupingBy(l -> l, TreeMap::new, Collectors.counting()));
    assertThat(times).as("every record delivered").hasSize(expected);
    Map<String, Long> duplicatesPerLane = new TreeMap<>();
    times.forEach(
        (line, n) -> {
          if (n > 1) {
            assertThat(beforeKill)
                .as("%s delivered again: it was delivered before the kill", line)
                .contains(line);
            duplicatesPerLane.merge(line.split(" ")[0], n - 1, Long::sum);
          }
        });
    System.out.printf(
        "esm crash: %d of %d records noted before kill -9, %d deliveries in all, duplicates per"
            + " lane %s, %d s with two starts of Kiln%n",
        beforeKill.size(),
        expected,
        noted.size(),
        duplicatesPerLane,
        (System.nanoTime() - t0) / 1_000_000_000);
    assertThat(duplicatesPerLane.values())
        .as("only what was in flight is delivered again")
        .allMatch(d -> d <= maxDuplicatesPerLane);
    assertThat(times.values()).as("nothing delivered more than twice").allMatch(n -> n <= 2);
  }

  static java.util.Set<String> distinct(List<String> lines) {
    return new java.util.HashSet<>(lines);
  }

  /** The complete lines the function noted (a line cut by a kill is left out). */
  static List<String> noted(Path out) throws java.io.IOException {
    String text = Files.readString(out);
    int end = text.lastIndexOf('\n');
    if (end < 0) {
      return List.of();
    }
    return text.substring(0, end + 1).lines().filter(l -> l.matches("\\d+ \\d+")).toList();
  }
}
