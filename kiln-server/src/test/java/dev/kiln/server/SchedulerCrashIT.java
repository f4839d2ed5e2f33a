package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.Runtime;
import software.amazon.awssdk.services.scheduler.SchedulerClient;
import software.amazon.awssdk.services.scheduler.model.FlexibleTimeWindowMode;

/**
 * Schedules across kill -9. Kiln runs as its own process; a function notes every invocation (the
 * schedule, the due time it says, its request id) in a file.
 *
 * <ol>
 *   <li>Around firing: 150 {@code at()} schedules are due in the same second; Kiln is killed with
 *       SIGKILL as soon as the first of them has reached the function, while the engine is still
 *       enqueueing the others, and started again. Every schedule's due time must reach the
 *       function, and under one request id only: the due time was enqueued once (the async queue
 *       may run an invocation the kill interrupted again, under the same request id).
 *   <li>Missed while down: a {@code rate(1 minute)} schedule made before the kill misses two due
 *       times while Kiln stays down for over two minutes; at the restart it fires once, for the
 *       latest of them, never once per missed time.
 * </ol>
 */
class SchedulerCrashIT {

  static final int SCHEDULES = 150;

  static final String NOTER =
      "import os\n"
          + "def handler(event, context):\n"
          + "    with open(os.environ['OUT'], 'a') as f:\n"
          + "        f.write('%s %s %s\\n' % (event['name'], event['due'], context.aws_request_id))\n";

  @Test
  void aDueTimeFiresOnceAcrossAKillAroundFiring_andTimesMissedWhileDownFireOnce() throws Exception {
    Path data = Files.createTempDirectory("kiln-sched-crash-");
    Path out = Files.createTempFile("kiln-sched-noted-", ".txt");
    out.toFile().setWritable(true, false);
    String[] args = {"--sandbox", "process"};
    int port = ServerProcess.freePort();
    Instant at;
    Instant rateCreated;
    List<String> beforeKill;
    Instant killed;
    try (ServerProcess first = ServerProcess.start(data, port, args);
        LambdaClient lambda = KilnFixture.client(first);
        SchedulerClient scheduler = client(first)) {
      lambda.createFunction(
          b ->
              b.functionName("noter")
                  .runtime(Runtime.PYTHON3_12)
                  .handler("app.handler")
                  .role(KilnFixture.ROLE)
                  .environment(e -> e.variables(Map.of("OUT", out.toString())))
                  .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of("app.py", NOTER)))));
      scheduler.createSchedule(
          b ->
              b.name("every-minute")
                  .scheduleExpression("rate(1 minute)")
                  .flexibleTimeWindow(w -> w.mode(FlexibleTimeWindowMode.OFF))
                  .target(t -> target(t, "every-minute")));
      rateCreated = scheduler.getSchedule(b -> b.name("every-minute")).creationDate();
      at = Instant.now().plusSeconds(20).truncatedTo(ChronoUnit.SECONDS);
      String expression = "at(" + at.toString().replace("Z", "") + ")";
      for (int i = 0; i < SCHEDULES; i++) {
        String name = "once-" + i;
        scheduler.createSchedule(
            b ->
                b.name(name)
                    .scheduleExpression(expression)
                    .flexibleTimeWindow(w -> w.mode(FlexibleTimeWindowMode.OFF))
                    .target(t -> target(t, name)));
      }
      Awaitility.await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(10))
          .until(() -> noted(out).stream().anyMatch(l -> l.startsWith("once-")));
      first.process.destroyForcibly(); // SIGKILL: no shutdown hook, no last commit
      assertThat(first.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      killed = Instant.now();
      beforeKill = noted(out);
    }
    assertThat(beforeKill.stream().filter(l -> l.startsWith("once-")).count())
        .as("the kill landed while the due time was being fired")
        .isLessThan(SCHEDULES);
    // stay down past two of the rate's due times
    Instant missedUntil = rateCreated.plusSeconds(121);
    Awaitility.await()
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> Instant.now().isAfter(missedUntil));
    Instant restarted;
    try (ServerProcess second = ServerProcess.start(data, port, args)) {
      restarted = Instant.now();
      Awaitility.await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(250))
          .until(
              () ->
                  noted(out).stream()
                              .filter(l -> l.startsWith("once-"))
                              .map(l -> l.split(" ")[0])
                              .distinct()
                              .count()
                          == SCHEDULES
                      && noted(out).stream()
                          .anyMatch(
                              l ->
                                  l.startsWith("every-minute ")
                                      && Instant.parse(l.split(" ")[1]).isAfter(killed)));
      // a few seconds more, in which a second firing of anything would show
      Thread.sleep(3000);
    }
    List<String> noted = noted(out);
    Map<String, Set<String>> requestIds =
        noted.stream()
            .filter(l -> l.startsWith("once-"))
            .collect(
                Collectors.groupingBy(
                    l -> l.split(" ")[0],
                    TreeMap::new,
                    Collectors.mapping(l -> l.split(" ")[2], Collectors.toSet())));
    assertThat(requestIds).as("every at() schedule fired").hasSize(SCHEDULES);
    assertThat(requestIds.values())
        .as("each due time enqueued once: one request id per schedule")
        .allMatch(ids -> ids.size() == 1);
    assertThat(noted.stream().filter(l -> l.startsWith("once-")).map(l -> l.split(" ")[1]))
        .containsOnly(at.toString());

    List<Instant> rateDue =
        noted.stream()
            .filter(l -> l.startsWith("every-minute "))
            .map(l -> Instant.parse(l.split(" ")[1]))
            .distinct()
            .toList();
    List<Instant> missed =
        rateDue.stream().filter(t -> t.isAfter(killed) && t.isBefore(restarted)).toList();
    assertThat(missed)
        .as("the due times missed while down fire once, as the latest of them")
        .containsExactly(rateCreated.plusSeconds(120));
    System.out.printf(
        "scheduler crash: %d of %d at() schedules noted before kill -9; rate due times noted %s%n",
        beforeKill.stream().filter(l -> l.startsWith("once-")).count(), SCHEDULES, rateDue);
  }

  private static software.amazon.awssdk.services.scheduler.model.Target.Builder target(
      software.amazon.awssdk.services.scheduler.model.Target.Builder t, String name) {
    return t.arn("arn:aws:lambda:us-east-1:000000000000:function:noter")
        .roleArn(SchedulerIT.ROLE)
        .input("{\"name\":\"" + name + "\",\"due\":\"<aws.scheduler.scheduled-time>\"}");
  }

  static SchedulerClient client(ServerProcess server) {
    return SchedulerClient.builder()
        .endpointOverride(server.endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(
            StaticCredentialsProvider.create(KilnFixture.credentials(server.dataDir)))
        .build();
  }

  /** The complete lines the function noted (a line cut by a kill is left out). */
  static List<String> noted(Path out) throws java.io.IOException {
    String text = Files.readString(out);
    int end = text.lastIndexOf('\n');
    return end < 0 ? List.of() : text.substring(0, end + 1).lines().toList();
  }
}
