package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient;
import software.amazon.awssdk.services.cloudwatchlogs.model.CloudWatchLogsException;
import software.amazon.awssdk.services.cloudwatchlogs.model.FilteredLogEvent;
import software.amazon.awssdk.services.cloudwatchlogs.model.LogStream;
import software.amazon.awssdk.services.cloudwatchlogs.model.OutputLogEvent;
import software.amazon.awssdk.services.cloudwatchlogs.model.ResourceNotFoundException;

/**
 * Function logs through the CloudWatch Logs API: the groups, streams and events that invocations
 * leave, read with the SDK's CloudWatchLogsClient and the AWS CLI.
 */
class LogsIT {

  static final ObjectMapper JSON = new ObjectMapper();
  static KilnFixture kiln;
  static CloudWatchLogsClient logs;

  @BeforeAll
  static void start() {
    kiln = new KilnFixture();
    logs =
        CloudWatchLogsClient.builder()
            .endpointOverride(kiln.server.endpoint())
            .region(Region.US_EAST_1)
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create("kiln", "kiln")))
            .build();
  }

  @AfterAll
  static void stop() {
    logs.close();
    kiln.close();
  }

  /** Events are written in the background: wait until {@code count} lines match. */
  static List<FilteredLogEvent> filter(String group, String pattern, int count) throws Exception {
    List<FilteredLogEvent> events = List.of();
    for (int i = 0; i < 100; i++) {
      events =
          logs
              .filterLogEventsPaginator(b -> b.logGroupName(group).filterPattern(pattern))
              .events()
              .stream()
              .toList();
      if (events.size() >= count) {
        return events;
      }
      Thread.sleep(100);
    }
    return events;
  }

  @Test
  void invocations_leaveLambdasLogLines_inTheFunctionsGroup() throws Exception {
    kiln.python(
        "logged",
        "import time\n"
            + "def handler(event, context):\n"
            + "    print('hello-logs ' + event.get('who', ''))\n"
            + "    if event.get('fail'):\n"
            + "        raise ValueError('bad-input')\n"
            + "    time.sleep(event.get('sleep', 0))\n"
            + "    return 'ok'\n");
    kiln.lambda.updateFunctionConfiguration(b -> b.functionName("logged").timeout(1));
    for (String payload :
        List.of("{\"who\": \"a\"}", "{\"who\": \"b\"}", "{\"fail\": true}", "{\"sleep\": 3}")) {
      kiln.lambda.invoke(b -> b.functionName("logged").payload(SdkBytes.fromUtf8String(payload)));
    }
    String group = "/aws/lambda/logged";

    List<FilteredLogEvent> reports = filter(group, "REPORT RequestId", 4);
    assertThat(reports).as("one REPORT per invocation").hasSize(4);
    assertThat(reports.get(0).message())
        .containsPattern(
            "REPORT RequestId: \\S+\\tDuration: [0-9.]+ ms\\tBilled Duration: [0-9]+ ms\\tMemory"
                + " Size: 128 MB\\tMax Memory Used: [0-9]+ MB\\tInit Duration: [0-9.]+ ms");
    assertThat(filter(group, "hello-logs", 4)).hasSize(4);
    assertThat(filter(group, "\"hello-logs a\"", 1)).hasSize(1);
    assertThat(filter(group, "hello-logs -a", 3))
        .extracting(FilteredLogEvent::message)
        .noneMatch(m -> m.contains("hello-logs a"));
    assertThat(filter(group, "?bad-input ?\"Task timed out\"", 2))
        .extracting(FilteredLogEvent::message)
        .anyMatch(m -> m.contains("ValueError") || m.contains("bad-input"))
        .anyMatch(m -> m.contains("Task timed out after 1.00 seconds"));

    assertThat(logs.describeLogGroups(b -> b.logGroupNamePrefix("/aws/lambda/log")).logGroups())
        .anyMatch(g -> g.logGroupName().equals(group) && g.storedBytes() > 0);
    List<LogStream> streams = logs.describeLogStreams(b -> b.logGroupName(group)).logStreams();
    assertThat(streams).isNotEmpty();
    assertThat(streams.get(0).logStreamName())
        .matches("\\d{4}/\\d{2}/\\d{2}/\\[\\$LATEST\\][0-9a-f]{32}");
    String stream = streams.get(0).logStreamName();
    List<OutputLogEvent> events =
        logs.getLogEvents(b -> b.logGroupName(group).logStreamName(stream).startFromHead(true))
            .events();
    assertThat(events.get(0).message()).startsWith("INIT_START");
    assertThat(events.get(1).message()).startsWith("START RequestId: ");
    assertThat(events).anyMatch(e -> e.message().startsWith("END RequestId: "));

    // the AWS CLI reads the same
    Path dir = Files.createTempDirectory("kiln-cli-logs-");
    List<String> command = new ArrayList<>();
    command.add(Tools.awsCli().toString());
    command.addAll(
        List.of(
            "--endpoint-url",
            kiln.server.endpoint().toString(),
            "--output",
            "json",
            "logs",
            "filter-log-events",
            "--log-group-name",
            group,
            "--filter-pattern",
            "hello-logs"));
    Tools.Result r = Tools.run(command, dir, Tools.awsEnv(dir.resolve("home")));
    assertThat(r.exit()).as(r.output()).isZero();
    JsonNode out = JSON.readTree(r.output());
    assertThat(out.get("events")).hasSize(4);
  }

  @Test
  void kilnLogs_printsTheLog_andFollowsIt() throws Exception {
    kiln.python("followed", "def handler(e, c):\n    print('line-' + e['n'])\n");
    kiln.lambda.invoke(
        b -> b.functionName("followed").payload(SdkBytes.fromUtf8String("{\"n\": \"one\"}")));
    filter("/aws/lambda/followed", "line-one", 1);

    java.io.ByteArrayOutputStream once = new java.io.ByteArrayOutputStream();
    LogsCommand command = new LogsCommand();
    command.out = new java.io.PrintStream(once, true);
    int code =
        new picocli.CommandLine(command)
            .execute("followed", "--endpoint", kiln.server.endpoint().toString());
    assertThat(code).isZero();
    assertThat(once.toString())
        .contains("line-one")
        .containsPattern("\\S+Z \\d{4}/\\d{2}/\\d{2}/\\[\\$LATEST\\]\\S+ START RequestId: ");

    java.io.ByteArrayOutputStream followed = new java.io.ByteArrayOutputStream();
    LogsCommand follower = new LogsCommand();
    follower.out = new java.io.PrintStream(followed, true);
    Thread thread =
        Thread.ofVirtual()
            .start(
                () ->
                    new picocli.CommandLine(follower)
                        .execute(
                            "followed",
                            "--follow",
                            "--endpoint",
                            kiln.server.endpoint().toString()));
    kiln.lambda.invoke(
        b -> b.functionName("followed").payload(SdkBytes.fromUtf8String("{\"n\": \"two\"}")));
    for (int i = 0; i < 100 && !followed.toString().contains("line-two"); i++) {
      Thread.sleep(100);
    }
    thread.interrupt();
    assertThat(followed.toString()).as("--follow prints what comes next").contains("line-two");

    java.io.ByteArrayOutputStream errors = new java.io.ByteArrayOutputStream();
    java.io.PrintStream stderr = System.err;
    System.setErr(new java.io.PrintStream(errors, true));
    try {
      assertThat(
              new picocli.CommandLine(new LogsCommand())
                  .execute("never-invoked", "--endpoint", kiln.server.endpoint().toString()))
          .isEqualTo(1);
    } finally {
      System.setErr(stderr);
    }
    assertThat(errors.toString()).contains("The specified log group does not exist.");
  }

  /** A raw CloudWatch Logs call: its status, {@code __type} and message. */
  static String[] raw(String operation, String body) throws Exception {
    java.net.http.HttpResponse<String> r =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(kiln.server.endpoint() + "/"))
                    .header("X-Amz-Target", operation)
                    .header("Content-Type", "application/x-amz-json-1.1")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    JsonNode doc = JSON.readTree(r.body());
    return new String[] {
      Integer.toString(r.statusCode()), doc.path("__type").asText(), doc.path("message").asText()
    };
  }

  @Test
  void eachBadParameter_isNamedInAJson11Error() throws Exception {
    kiln.python("named", "def handler(e, c):\n    print('x')\n");
    kiln.lambda.invoke(b -> b.functionName("named").payload(SdkBytes.fromUtf8String("{}")));
    filter("/aws/lambda/named", "x", 1);
    String group = "{\"logGroupName\": \"/aws/lambda/named\"";
    assertThat(raw("Logs_20140328.DescribeLogStreams", group + ", \"orderBy\": \"Size\"}"))
        .containsExactly(
            "400",
            "InvalidParameterException",
            "orderBy must be LogStreamName or LastEventTime, got Size");
    assertThat(
            raw(
                "Logs_20140328.DescribeLogStreams",
                group + ", \"orderBy\": \"LastEventTime\", \"logStreamNamePrefix\": \"2026\"}"))
        .containsExactly(
            "400",
            "InvalidParameterException",
            "Cannot order by LastEventTime with a logStreamNamePrefix.");
    assertThat(
            raw(
                "Logs_20140328.FilterLogEvents",
                group + ", \"logStreamNames\": [\"a\"], \"logStreamNamePrefix\": \"b\"}"))
        .containsExactly(
            "400",
            "InvalidParameterException",
            "logStreamNames and logStreamNamePrefix are mutually exclusive");
    assertThat(raw("Logs_20140328.FilterLogEvents", group + ", \"limit\": 0}")[2])
        .contains("at 'limit' failed to satisfy constraint");
    assertThat(raw("Logs_20140328.GetLogEvents", group + "}"))
        .containsExactly(
            "400", "InvalidParameterException", "logStreamName is a required parameter");
    assertThat(raw("Logs_20140328.GetLogEvents", group + ", \"logStreamName\": \"nope\"}"))
        .containsExactly(
            "400", "ResourceNotFoundException", "The specified log stream does not exist.");
    assertThat(raw("Logs_20140328.PutRetentionPolicy", "{}")[1])
        .isEqualTo("UnknownOperationException");
    assertThat(raw("Logs_20140328.DescribeLogGroups", "not json"))
        .containsExactly("400", "SerializationException", "The request body is not valid JSON");
  }

  @Test
  void badRequests_getCloudWatchLogsErrors() {
    ResourceNotFoundException missing =
        catchThrowableOfType(
            ResourceNotFoundException.class,
            () -> logs.describeLogStreams(b -> b.logGroupName("/aws/lambda/nothing-here")));
    assertThat(missing.awsErrorDetails().errorMessage())
        .isEqualTo("The specified log group does not exist.");
    CloudWatchLogsException token =
        catchThrowableOfType(
            CloudWatchLogsException.class,
            () -> logs.describeLogGroups(b -> b.nextToken("not-a-token")));
    assertThat(token.statusCode()).isEqualTo(400);
    assertThat(token.awsErrorDetails().errorCode()).isEqualTo("InvalidParameterException");
    assertThat(token.awsErrorDetails().errorMessage())
        .isEqualTo("The specified nextToken is invalid.");
    kiln.python("quiet", "def handler(e, c):\n    print('x')\n");
    kiln.lambda.invoke(b -> b.functionName("quiet").payload(SdkBytes.fromUtf8String("{}")));
    CloudWatchLogsException json =
        catchThrowableOfType(
            CloudWatchLogsException.class,
            () -> {
              for (int i = 0; i < 50; i++) {
                try {
                  logs.filterLogEvents(
                      b -> b.logGroupName("/aws/lambda/quiet").filterPattern("{ $.level = 1 }"));
                } catch (ResourceNotFoundException notYet) {
                  Thread.sleep(100);
                  continue;
                }
              }
            });
    assertThat(json.statusCode()).isEqualTo(400);
    assertThat(json.awsErrorDetails().errorCode()).isEqualTo("InvalidParameterException");
    assertThat(json.awsErrorDetails().errorMessage()).contains("not JSON or field patterns");
  }
}
