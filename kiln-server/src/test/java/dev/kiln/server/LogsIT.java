package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient;
import software.amazon.awssdk.services.cloudwatchlogs.model.CloudWatchLogsException;
import software.amazon.awssdk.services.cloudwatchlogs.model.FilteredLogEvent;
import software.amazon.awssdk.services.cloudwatchlogs.model.InvalidParameterException;
import software.amazon.awssdk.services.cloudwatchlogs.model.LogGroup;
import software.amazon.awssdk.services.cloudwatchlogs.model.LogStream;
import software.amazon.awssdk.services.cloudwatchlogs.model.OutputLogEvent;
import software.amazon.awssdk.services.cloudwatchlogs.model.ResourceAlreadyExistsException;
import software.amazon.awssdk.services.cloudwatchlogs.model.ResourceNotFoundException;

/**
 * Function logs through the CloudWatch Logs API: the groups, streams and events that invocations
 * leave, read and managed (created, deleted, given a retention) with the SDK's CloudWatchLogsClient
 * and the AWS CLI.
 */
class LogsIT {

  static final ObjectMapper JSON = new ObjectMapper();
  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();
  static CloudWatchLogsClient logs;

  @BeforeAll
  static void start() {
    logs = kiln.logsClient();
  }

  @AfterAll
  static void stop() {
    logs.close();
  }

  /**
   * Events are written in the background: wait until {@code count} lines match. A group that an
   * invocation is to (re)create may not exist yet while its first lines are on their way.
   */
  static List<FilteredLogEvent> filter(String group, String pattern, int count) throws Exception {
    List<FilteredLogEvent> events = List.of();
    for (int i = 0; i < 100; i++) {
      try {
        events =
            logs
                .filterLogEventsPaginator(b -> b.logGroupName(group).filterPattern(pattern))
                .events()
                .stream()
                .toList();
      } catch (ResourceNotFoundException notYet) {
        if (count == 0) {
          throw notYet;
        }
        events = List.of();
      }
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
    kiln.lambda().updateFunctionConfiguration(b -> b.functionName("logged").timeout(1));
    for (String payload :
        List.of("{\"who\": \"a\"}", "{\"who\": \"b\"}", "{\"fail\": true}", "{\"sleep\": 3}")) {
      kiln.lambda().invoke(b -> b.functionName("logged").payload(SdkBytes.fromUtf8String(payload)));
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
        .anyMatch(m -> m.contains("Task timed out after 1.00 seconds"))
        // stamped as Lambda stamps it: UTC, to the millisecond
        .anyMatch(
            m ->
                m.matches(
                    "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z \\S+ Task timed out"
                        + " after 1\\.00 seconds\\s*"));

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
    Tools.Result r =
        aws("filter-log-events", "--log-group-name", group, "--filter-pattern", "hello-logs");
    assertThat(r.exit()).as(r.output()).isZero();
    JsonNode out = JSON.readTree(r.output());
    assertThat(out.get("events")).hasSize(4);
  }

  /** {@code aws logs <args>} with the AWS CLI v2, against Kiln, printing JSON. */
  static Tools.Result aws(String... args) throws Exception {
    List<String> logs = new ArrayList<>(List.of("logs"));
    logs.addAll(List.of(args));
    return Tools.aws(
        kiln.fixture(),
        dev.kiln.testing.TempDirs.create("kiln-cli-logs-"),
        logs.toArray(String[]::new));
  }

  /** The group named {@code name}, as DescribeLogGroups returns it. */
  static java.util.Optional<LogGroup> describedGroup(String name) {
    return logs.describeLogGroups(b -> b.logGroupNamePrefix(name)).logGroups().stream()
        .filter(g -> g.logGroupName().equals(name))
        .findFirst();
  }

  @Test
  void aPreCreatedGroup_keepsTheRetentionItIsGiven_untilItIsDeleted() throws Exception {
    String group = "/aws/lambda/retained";
    logs.createLogGroup(b -> b.logGroupName(group));
    LogGroup created = describedGroup(group).orElseThrow();
    assertThat(created.retentionInDays()).isNull();
    assertThat(created.storedBytes()).isZero();
    assertThat(created.logGroupArn()).endsWith(":log-group:" + group);
    assertThat(created.arn()).isEqualTo(created.logGroupArn() + ":*");
    assertThat(logs.describeLogStreams(b -> b.logGroupName(group)).logStreams()).isEmpty();

    logs.putRetentionPolicy(b -> b.logGroupName(group).retentionInDays(14));
    assertThat(describedGroup(group).orElseThrow().retentionInDays()).isEqualTo(14);

    // the function's first invocation writes into the group it finds, retention and all
    kiln.python("retained", "def handler(e, c):\n    print('kept-for-14-days')\n");
    kiln.lambda().invoke(b -> b.functionName("retained").payload(SdkBytes.fromUtf8String("{}")));
    assertThat(filter(group, "kept-for-14-days", 1)).hasSize(1);
    LogGroup written = describedGroup(group).orElseThrow();
    assertThat(written.retentionInDays()).isEqualTo(14);
    assertThat(written.creationTime()).isEqualTo(created.creationTime());
    assertThat(written.storedBytes()).isPositive();

    logs.deleteRetentionPolicy(b -> b.logGroupName(group));
    assertThat(describedGroup(group).orElseThrow().retentionInDays()).isNull();

    ResourceAlreadyExistsException again =
        catchThrowableOfType(
            ResourceAlreadyExistsException.class,
            () -> logs.createLogGroup(b -> b.logGroupName(group)));
    assertThat(again.awsErrorDetails().errorMessage())
        .isEqualTo("The specified log group already exists");

    logs.createLogStream(b -> b.logGroupName(group).logStreamName("by-hand"));
    assertThat(logs.describeLogStreams(b -> b.logGroupName(group).logStreamNamePrefix("by")))
        .extracting(r -> r.logStreams().get(0).logStreamName())
        .isEqualTo("by-hand");
    ResourceAlreadyExistsException streamAgain =
        catchThrowableOfType(
            ResourceAlreadyExistsException.class,
            () -> logs.createLogStream(b -> b.logGroupName(group).logStreamName("by-hand")));
    assertThat(streamAgain.awsErrorDetails().errorMessage())
        .isEqualTo("The specified log stream already exists");
  }

  @Test
  void deletedStreamsAndGroups_areRecreatedByTheNextInvocation() throws Exception {
    String group = "/aws/lambda/recreated";
    kiln.python("recreated", "def handler(e, c):\n    print('run-' + e['n'])\n");
    kiln.lambda()
        .invoke(
            b -> b.functionName("recreated").payload(SdkBytes.fromUtf8String("{\"n\": \"one\"}")));
    assertThat(filter(group, "REPORT", 1)).hasSize(1);
    String stream =
        logs.describeLogStreams(b -> b.logGroupName(group)).logStreams().get(0).logStreamName();

    logs.deleteLogStream(b -> b.logGroupName(group).logStreamName(stream));
    assertThat(logs.describeLogStreams(b -> b.logGroupName(group)).logStreams()).isEmpty();
    ResourceNotFoundException goneStream =
        catchThrowableOfType(
            ResourceNotFoundException.class,
            () -> logs.deleteLogStream(b -> b.logGroupName(group).logStreamName(stream)));
    assertThat(goneStream.awsErrorDetails().errorMessage())
        .isEqualTo("The specified log stream does not exist.");

    // the same (warm) instance writes on, into its stream made anew
    kiln.lambda()
        .invoke(
            b -> b.functionName("recreated").payload(SdkBytes.fromUtf8String("{\"n\": \"two\"}")));
    assertThat(filter(group, "run-two", 1)).hasSize(1);
    assertThat(filter(group, "run-one", 0)).isEmpty();
    assertThat(logs.describeLogStreams(b -> b.logGroupName(group)).logStreams())
        .extracting(LogStream::logStreamName)
        .containsExactly(stream);

    logs.putRetentionPolicy(b -> b.logGroupName(group).retentionInDays(3));
    logs.deleteLogGroup(b -> b.logGroupName(group));
    assertThat(describedGroup(group)).isEmpty();
    ResourceNotFoundException goneGroup =
        catchThrowableOfType(
            ResourceNotFoundException.class, () -> logs.deleteLogGroup(b -> b.logGroupName(group)));
    assertThat(goneGroup.awsErrorDetails().errorMessage())
        .isEqualTo("The specified log group does not exist.");

    kiln.lambda()
        .invoke(
            b ->
                b.functionName("recreated").payload(SdkBytes.fromUtf8String("{\"n\": \"three\"}")));
    assertThat(filter(group, "run-three", 1)).hasSize(1);
    assertThat(filter(group, "run-two", 0)).isEmpty();
    LogGroup recreated = describedGroup(group).orElseThrow();
    assertThat(recreated.retentionInDays())
        .as("the deleted group's retention went with it")
        .isNull();
    assertThat(logs.describeLogStreams(b -> b.logGroupName(group)).logStreams()).hasSize(1);
  }

  @Test
  void theAwsCli_putsARetentionPolicy_andDescribesIt() throws Exception {
    String group = "/aws/lambda/cli-retained";
    Tools.Result created = aws("create-log-group", "--log-group-name", group);
    assertThat(created.exit()).as(created.output()).isZero();

    Tools.Result put =
        aws("put-retention-policy", "--log-group-name", group, "--retention-in-days", "30");
    assertThat(put.exit()).as(put.output()).isZero();

    Tools.Result described = aws("describe-log-groups", "--log-group-name-prefix", group);
    assertThat(described.exit()).as(described.output()).isZero();
    JsonNode groups = JSON.readTree(described.output()).get("logGroups");
    assertThat(groups).hasSize(1);
    assertThat(groups.get(0).get("logGroupName").asText()).isEqualTo(group);
    assertThat(groups.get(0).get("retentionInDays").asInt()).isEqualTo(30);

    Tools.Result refused =
        aws("put-retention-policy", "--log-group-name", group, "--retention-in-days", "31");
    assertThat(refused.exit()).isNotZero();
    assertThat(refused.output())
        .contains("InvalidParameterException")
        .contains("Value '31' at 'retentionInDays' failed to satisfy constraint");
  }

  @Test
  void managingGroups_refusesBadParameters_withCloudWatchsErrors() throws Exception {
    String missing = "{\"logGroupName\": \"/aws/lambda/never-created\"";
    assertThat(raw("Logs_20140328.PutRetentionPolicy", missing + ", \"retentionInDays\": 2}"))
        .containsExactly(
            "400",
            "InvalidParameterException",
            "1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy"
                + " constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90,"
                + " 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]");
    assertThat(raw("Logs_20140328.PutRetentionPolicy", missing + "}"))
        .containsExactly(
            "400", "InvalidParameterException", "retentionInDays is a required parameter");
    assertThat(raw("Logs_20140328.PutRetentionPolicy", missing + ", \"retentionInDays\": \"7\"}"))
        .containsExactly("400", "SerializationException", "retentionInDays must be an integer");
    assertThat(raw("Logs_20140328.PutRetentionPolicy", missing + ", \"retentionInDays\": 7}"))
        .containsExactly(
            "400", "ResourceNotFoundException", "The specified log group does not exist.");
    assertThat(raw("Logs_20140328.DeleteRetentionPolicy", missing + "}"))
        .containsExactly(
            "400", "ResourceNotFoundException", "The specified log group does not exist.");
    assertThat(raw("Logs_20140328.CreateLogStream", missing + ", \"logStreamName\": \"s\"}"))
        .containsExactly(
            "400", "ResourceNotFoundException", "The specified log group does not exist.");
    assertThat(raw("Logs_20140328.DeleteLogStream", missing + ", \"logStreamName\": \"s\"}"))
        .containsExactly(
            "400", "ResourceNotFoundException", "The specified log group does not exist.");

    assertThat(raw("Logs_20140328.CreateLogGroup", "{}"))
        .containsExactly(
            "400", "InvalidParameterException", "logGroupName is a required parameter");
    assertThat(raw("Logs_20140328.CreateLogGroup", "{\"logGroupName\": \"\"}"))
        .containsExactly(
            "400",
            "InvalidParameterException",
            "1 validation error detected: Value '' at 'logGroupName' failed to satisfy constraint:"
                + " Member must have length greater than or equal to 1");
    String tooLong = "g".repeat(513);
    assertThat(raw("Logs_20140328.DeleteLogGroup", "{\"logGroupName\": \"" + tooLong + "\"}"))
        .containsExactly(
            "400",
            "InvalidParameterException",
            "1 validation error detected: Value '"
                + tooLong
                + "' at 'logGroupName' failed to satisfy constraint: Member must have length less"
                + " than or equal to 512");
    assertThat(raw("Logs_20140328.CreateLogGroup", "{\"logGroupName\": \"my group\"}"))
        .containsExactly(
            "400",
            "InvalidParameterException",
            "1 validation error detected: Value 'my group' at 'logGroupName' failed to satisfy"
                + " constraint: Member must satisfy regular expression pattern:"
                + " [\\.\\-_/#A-Za-z0-9]+");
    logs.createLogGroup(b -> b.logGroupName("/kiln/streams"));
    assertThat(raw("Logs_20140328.CreateLogStream", "{\"logGroupName\": \"/kiln/streams\"}"))
        .containsExactly(
            "400", "InvalidParameterException", "logStreamName is a required parameter");
    assertThat(
            raw(
                "Logs_20140328.CreateLogStream",
                "{\"logGroupName\": \"/kiln/streams\", \"logStreamName\": \"a:b\"}"))
        .containsExactly(
            "400",
            "InvalidParameterException",
            "1 validation error detected: Value 'a:b' at 'logStreamName' failed to satisfy"
                + " constraint: Member must satisfy regular expression pattern: [^:*]*");
    assertThat(
            raw(
                "Logs_20140328.DeleteLogStream",
                "{\"logGroupName\": \"/kiln/streams\", \"logStreamName\": \"none\"}"))
        .containsExactly(
            "400", "ResourceNotFoundException", "The specified log stream does not exist.");

    // the SDK sees the same, as its own exception types
    InvalidParameterException days =
        catchThrowableOfType(
            InvalidParameterException.class,
            () -> logs.putRetentionPolicy(b -> b.logGroupName("/kiln/streams").retentionInDays(0)));
    assertThat(days.awsErrorDetails().errorMessage())
        .startsWith("1 validation error detected: Value '0' at 'retentionInDays'");
    ResourceNotFoundException group =
        catchThrowableOfType(
            ResourceNotFoundException.class,
            () -> logs.deleteRetentionPolicy(b -> b.logGroupName("/kiln/never")));
    assertThat(group.awsErrorDetails().errorMessage())
        .isEqualTo("The specified log group does not exist.");
  }

  @Test
  void kilnLogs_printsTheLog_andFollowsIt() throws Exception {
    kiln.python("followed", "def handler(e, c):\n    print('line-' + e['n'])\n");
    kiln.lambda()
        .invoke(
            b -> b.functionName("followed").payload(SdkBytes.fromUtf8String("{\"n\": \"one\"}")));
    filter("/aws/lambda/followed", "line-one", 1);

    java.io.ByteArrayOutputStream once = new java.io.ByteArrayOutputStream();
    LogsCommand command = new LogsCommand();
    command.out = new java.io.PrintStream(once, true);
    int code =
        new picocli.CommandLine(command)
            .execute(
                "followed",
                "--endpoint",
                kiln.server().endpoint().toString(),
                "--data-dir",
                kiln.dataDir().toString());
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
                            kiln.server().endpoint().toString(),
                            "--data-dir",
                            kiln.dataDir().toString()));
    kiln.lambda()
        .invoke(
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
                  .execute(
                      "never-invoked",
                      "--endpoint",
                      kiln.server().endpoint().toString(),
                      "--data-dir",
                      kiln.dataDir().toString()))
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
                kiln.signed(
                    "POST",
                    "/",
                    java.util.Map.of(
                        "X-Amz-Target", operation, "Content-Type", "application/x-amz-json-1.1"),
                    body.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    "logs"),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    JsonNode doc = JSON.readTree(r.body());
    return new String[] {
      Integer.toString(r.statusCode()), doc.path("__type").asText(), doc.path("message").asText()
    };
  }

  @Test
  void eachBadParameter_isNamedInAJson11Error() throws Exception {
    kiln.python("named", "def handler(e, c):\n    print('x')\n");
    kiln.lambda().invoke(b -> b.functionName("named").payload(SdkBytes.fromUtf8String("{}")));
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
    assertThat(raw("Logs_20140328.PutSubscriptionFilter", "{}")[1])
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
    kiln.lambda().invoke(b -> b.functionName("quiet").payload(SdkBytes.fromUtf8String("{}")));
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
