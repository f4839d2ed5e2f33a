package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient;
import software.amazon.awssdk.services.cloudwatchlogs.model.FilteredLogEvent;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Function logs survive a crash (issue 17, item 19): lines a function printed that are on disk in
 * its instance's output file but not yet in the log store when Kiln is killed with -9 reach the
 * CloudWatch Logs API after the restart, in the instance's log stream, and none twice.
 *
 * <p>The function prints lines while it runs (the invocation's log, ingested before the kill), then
 * more from a thread after it has answered: those stay in the output file, since nothing reads it
 * until the instance's next invocation, so the kill lands at a point known to hold both.
 */
class CrashLogsIT {

  static final int LINES = 200;

  static final String APP =
      "import threading, time\n"
          + "def later(n):\n"
          + "    time.sleep(0.3)\n"
          + "    for i in range(n):\n"
          + "        print('after answering %d' % i, flush=True)\n"
          + "def handler(e, c):\n"
          + "    for i in range(e['n']):\n"
          + "        print('while running %d' % i, flush=True)\n"
          + "    threading.Thread(target=later, args=(e['n'],)).start()\n"
          + "    return 'ok'\n";

  static CloudWatchLogsClient logs(ServerProcess server) {
    return CloudWatchLogsClient.builder()
        .endpointOverride(server.endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(
            StaticCredentialsProvider.create(KilnFixture.credentials(server.dataDir)))
        .build();
  }

  static List<FilteredLogEvent> events(CloudWatchLogsClient logs) {
    return logs
        .filterLogEventsPaginator(b -> b.logGroupName("/aws/lambda/chatty"))
        .events()
        .stream()
        .toList();
  }

  /** The output file of the function's one instance, once it holds the last line. */
  static boolean printedToDisk(Path data, String line) throws Exception {
    try (var dirs = Files.list(data.resolve("instances"))) {
      for (Path dir : dirs.toList()) {
        Path output = dir.resolve("output.log");
        if (Files.exists(output) && Files.readString(output).contains(line + "\n")) {
          return true;
        }
      }
    }
    return false;
  }

  @Test
  void linesOnDiskButNotIngested_reachTheLogsAfterKillMinus9_onceEach() throws Exception {
    Path data = dev.kiln.testing.TempDirs.create("kiln-crash-logs-");
    int port = ServerProcess.freePort();
    String stream;
    ServerProcess first = ServerProcess.start(data, port);
    try (LambdaClient lambda = KilnFixture.client(first);
        CloudWatchLogsClient logs = logs(first)) {
      lambda.createFunction(
          b ->
              b.functionName("chatty")
                  .runtime(Runtime.PYTHON3_12)
                  .handler("app.handler")
                  .role(KilnFixture.ROLE)
                  .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of("app.py", APP)))));
      var r =
          lambda.invoke(
              b ->
                  b.functionName("chatty")
                      .payload(SdkBytes.fromUtf8String("{\"n\": " + LINES + "}")));
      assertThat(r.functionError()).isNull();
      // the invocation's own log is in the store, with how far the output file was read
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> events(logs).stream().anyMatch(e -> e.message().startsWith("REPORT")));
      stream = events(logs).get(0).logStreamName();
      // the rest is on disk only
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> printedToDisk(data, "after answering " + (LINES - 1)));
      assertThat(events(logs)).noneMatch(e -> e.message().startsWith("after answering"));
    } finally {
      first.process.destroyForcibly(); // SIGKILL: nothing is written on the way out
      first.process.waitFor(30, TimeUnit.SECONDS);
    }

    try (ServerProcess second = ServerProcess.start(data, port);
        CloudWatchLogsClient logs = logs(second)) {
      List<FilteredLogEvent> all = events(logs);
      Map<String, Long> printed =
          all.stream()
              .filter(
                  e ->
                      e.message().startsWith("while running")
                          || e.message().startsWith("after answering"))
              .collect(
                  Collectors.groupingBy(
                      e -> e.message().strip(), TreeMap::new, Collectors.counting()));
      List<String> missing = new java.util.ArrayList<>();
      for (int i = 0; i < LINES; i++) {
        for (String line : List.of("while running " + i, "after answering " + i)) {
          if (!printed.containsKey(line)) {
            missing.add(line);
          }
        }
      }
      assertThat(missing).as("lines the function printed that the logs do not have").isEmpty();
      assertThat(printed).as("no line twice").allSatisfy((line, n) -> assertThat(n).isEqualTo(1));
      assertThat(all)
          .as("in the instance's own stream")
          .allSatisfy(e -> assertThat(e.logStreamName()).isEqualTo(stream));
      // and in the order printed, as GetLogEvents reads the stream
      List<String> inStream =
          logs
              .getLogEvents(
                  b ->
                      b.logGroupName("/aws/lambda/chatty")
                          .logStreamName(stream)
                          .startFromHead(true))
              .events()
              .stream()
              .map(e -> e.message().strip())
              .filter(m -> m.startsWith("after answering"))
              .toList();
      assertThat(inStream)
          .hasSize(LINES)
          .startsWith("after answering 0")
          .endsWith("after answering " + (LINES - 1));
    }
  }
}
