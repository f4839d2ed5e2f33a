package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient;
import software.amazon.awssdk.services.lambda.model.GetFunctionConfigurationResponse;
import software.amazon.awssdk.services.lambda.model.InvalidParameterValueException;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.LoggingConfig;

/**
 * {@code LoggingConfig}: the JSON log format with Lambda's platform events, the application and
 * system log levels that filter what reaches the log, and a log group of the function's choosing.
 */
class LogFormatIT {

  static final ObjectMapper JSON = new ObjectMapper();
  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();
  static CloudWatchLogsClient logs;

  static final String CODE =
      "import json, logging, time\n"
          + "log = logging.getLogger()\n"
          + "def handler(event, context):\n"
          + "    print('plain-line')\n"
          + "    log.debug('debug-line')\n"
          + "    log.info('info-line')\n"
          + "    log.warning('warn-line')\n"
          + "    print(json.dumps({'level': 'error', 'msg': 'json-error-line'}))\n"
          + "    time.sleep(event.get('sleep', 0))\n"
          + "    return 'ok'\n";

  @BeforeAll
  static void start() {
    logs = kiln.logsClient();
  }

  @AfterAll
  static void stop() {
    logs.close();
  }

  /** The group's messages once at least {@code count} contain {@code marker}. */
  static List<String> messages(String group, String marker, int count) throws Exception {
    List<String> all = List.of();
    for (int i = 0; i < 100; i++) {
      try {
        all =
            logs.filterLogEventsPaginator(b -> b.logGroupName(group)).events().stream()
                .map(e -> e.message())
                .toList();
      } catch (software.amazon.awssdk.services.cloudwatchlogs.model.ResourceNotFoundException e) {
        all = List.of();
      }
      if (all.stream().filter(m -> m.contains(marker)).count() >= count) {
        return all;
      }
      Thread.sleep(100);
    }
    return all;
  }

  static Optional<JsonNode> platformEvent(List<String> messages, String type, int nth)
      throws Exception {
    int seen = 0;
    for (String m : messages) {
      if (m.startsWith("{") && JSON.readTree(m).path("type").asText().equals(type)) {
        if (seen++ == nth) {
          return Optional.of(JSON.readTree(m));
        }
      }
    }
    return Optional.empty();
  }

  @Test
  void jsonFormat_writesPlatformEventsAsJson_andFiltersByLevel() throws Exception {
    kiln.python("json-logs", CODE);
    GetFunctionConfigurationResponse updated =
        toConfig(
            kiln.lambda()
                .updateFunctionConfiguration(
                    b ->
                        b.functionName("json-logs")
                            .timeout(1)
                            .loggingConfig(
                                l ->
                                    l.logFormat("JSON")
                                        .applicationLogLevel("WARN")
                                        .logGroup("/kiln/custom/json-logs"))));
    assertThat(updated.loggingConfig().logFormatAsString()).isEqualTo("JSON");
    assertThat(updated.loggingConfig().applicationLogLevelAsString()).isEqualTo("WARN");
    assertThat(updated.loggingConfig().systemLogLevelAsString())
        .as("the system level defaults to INFO with JSON")
        .isEqualTo("INFO");
    assertThat(updated.loggingConfig().logGroup()).isEqualTo("/kiln/custom/json-logs");

    InvokeResponse first =
        kiln.lambda()
            .invoke(b -> b.functionName("json-logs").payload(SdkBytes.fromUtf8String("{}")));
    String requestId = first.responseMetadata().requestId();
    String group = "/kiln/custom/json-logs";
    List<String> messages = messages(group, "platform.report", 1);

    JsonNode init = platformEvent(messages, "platform.initStart", 0).orElseThrow();
    assertThat(init.path("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT[0-9:]{8}\\.\\d{3}Z");
    assertThat(init.path("record").path("initializationType").asText()).isEqualTo("on-demand");
    assertThat(init.path("record").path("functionName").asText()).isEqualTo("json-logs");
    assertThat(init.path("record").path("functionVersion").asText()).isEqualTo("$LATEST");
    JsonNode start = platformEvent(messages, "platform.start", 0).orElseThrow();
    assertThat(start.path("record").path("requestId").asText()).isEqualTo(requestId);
    assertThat(start.path("record").path("version").asText()).isEqualTo("$LATEST");
    JsonNode report = platformEvent(messages, "platform.report", 0).orElseThrow();
    assertThat(report.path("record").path("requestId").asText()).isEqualTo(requestId);
    assertThat(report.path("record").path("status").asText()).isEqualTo("success");
    JsonNode metrics = report.path("record").path("metrics");
    assertThat(metrics.path("durationMs").asDouble()).isPositive();
    assertThat(metrics.path("billedDurationMs").asLong())
        .isEqualTo((long) Math.ceil(metrics.path("durationMs").asDouble()));
    assertThat(metrics.path("memorySizeMB").asInt()).isEqualTo(128);
    assertThat(metrics.path("maxMemoryUsedMB").asInt()).isPositive();
    assertThat(metrics.path("initDurationMs").asDouble()).isPositive();
    assertThat(platformEvent(messages, "platform.runtimeDone", 0))
        .as("runtimeDone is a DEBUG event, below the default system level")
        .isEmpty();
    assertThat(messages).noneMatch(m -> m.startsWith("START ") || m.startsWith("REPORT "));

    // WARN and above from the function; a line without a level counts as INFO and goes
    assertThat(messages)
        .anyMatch(
            m ->
                m.contains("warn-line")
                    && m.startsWith("{")
                    && m.contains("\"level\": \"WARNING\""))
        .anyMatch(m -> m.contains("json-error-line"))
        .noneMatch(m -> m.contains("info-line") || m.contains("debug-line"))
        .noneMatch(m -> m.contains("plain-line"));
    assertThat(
            logs.describeLogGroups(b -> b.logGroupNamePrefix("/aws/lambda/json-logs")).logGroups())
        .as("nothing goes to the default group")
        .isEmpty();

    // the other way round: everything from the function, only warnings from the platform
    kiln.lambda()
        .updateFunctionConfiguration(
            b ->
                b.functionName("json-logs")
                    .loggingConfig(l -> l.applicationLogLevel("DEBUG").systemLogLevel("WARN")));
    GetFunctionConfigurationResponse both =
        kiln.lambda().getFunctionConfiguration(b -> b.functionName("json-logs"));
    assertThat(both.loggingConfig().logGroup()).as("kept").isEqualTo(group);
    assertThat(both.loggingConfig().logFormatAsString()).as("kept").isEqualTo("JSON");
    kiln.lambda()
        .invoke(
            b -> b.functionName("json-logs").payload(SdkBytes.fromUtf8String("{\"sleep\": 3}")));
    messages = messages(group, "Task timed out after 1.00 seconds", 1);
    assertThat(messages)
        .anyMatch(m -> m.contains("debug-line"))
        .anyMatch(m -> m.contains("info-line"))
        .anyMatch(m -> m.equals("plain-line"));
    assertThat(messages.stream().filter(m -> m.contains("\"platform.report\"")))
        .as("no new report at WARN: still the first invocation's only")
        .hasSize(1);
    assertThat(platformEvent(messages, "platform.start", 1)).isEmpty();
  }

  @Test
  void debugSystemLevel_addsRuntimeDone_withTheStatusOfAFailure() throws Exception {
    kiln.python("json-debug", "def handler(e, c):\n    raise ValueError('boom')\n");
    kiln.lambda()
        .updateFunctionConfiguration(
            b ->
                b.functionName("json-debug")
                    .loggingConfig(l -> l.logFormat("JSON").systemLogLevel("DEBUG")));
    kiln.lambda().invoke(b -> b.functionName("json-debug").payload(SdkBytes.fromUtf8String("{}")));
    List<String> messages = messages("/aws/lambda/json-debug", "platform.report", 1);
    JsonNode done = platformEvent(messages, "platform.runtimeDone", 0).orElseThrow();
    assertThat(done.path("record").path("status").asText()).isEqualTo("error");
    assertThat(done.path("record").path("errorType").asText()).isEqualTo("Unhandled");
    JsonNode report = platformEvent(messages, "platform.report", 0).orElseThrow();
    assertThat(report.path("record").path("status").asText()).isEqualTo("error");
    assertThat(messages).anyMatch(m -> m.contains("boom"));
  }

  @Test
  void textFormat_isTheDefault_andTakesNoLevels() {
    kiln.python("text-logs", CODE);
    GetFunctionConfigurationResponse c =
        kiln.lambda().getFunctionConfiguration(b -> b.functionName("text-logs"));
    assertThat(c.loggingConfig().logFormatAsString()).isEqualTo("Text");
    assertThat(c.loggingConfig().applicationLogLevel()).isNull();

    kiln.lambda()
        .updateFunctionConfiguration(
            b -> b.functionName("text-logs").loggingConfig(l -> l.logFormat("JSON")));
    GetFunctionConfigurationResponse back =
        toConfig(
            kiln.lambda()
                .updateFunctionConfiguration(
                    b -> b.functionName("text-logs").loggingConfig(l -> l.logFormat("Text"))));
    assertThat(back.loggingConfig().applicationLogLevel()).as("levels go with JSON").isNull();
    assertThat(back.loggingConfig().systemLogLevel()).isNull();

    InvalidParameterValueException levels =
        catchThrowableOfType(
            InvalidParameterValueException.class,
            () ->
                kiln.lambda()
                    .updateFunctionConfiguration(
                        b ->
                            b.functionName("text-logs")
                                .loggingConfig(
                                    LoggingConfig.builder().applicationLogLevel("WARN").build())));
    assertThat(levels.awsErrorDetails().errorMessage())
        .isEqualTo("Application and system log levels can only be set when LogFormat is JSON.");

    LambdaException format =
        catchThrowableOfType(
            LambdaException.class,
            () ->
                kiln.lambda()
                    .updateFunctionConfiguration(
                        b -> b.functionName("text-logs").loggingConfig(l -> l.logFormat("XML"))));
    assertThat(format.statusCode()).isEqualTo(400);
    assertThat(format.awsErrorDetails().errorCode()).isEqualTo("ValidationException");
    assertThat(format.awsErrorDetails().errorMessage())
        .contains("'loggingConfig.logFormat'")
        .contains("Member must satisfy enum value set: [JSON, Text]");

    LambdaException level =
        catchThrowableOfType(
            LambdaException.class,
            () ->
                kiln.lambda()
                    .updateFunctionConfiguration(
                        b ->
                            b.functionName("text-logs")
                                .loggingConfig(l -> l.logFormat("JSON").systemLogLevel("ERROR"))));
    assertThat(level.awsErrorDetails().errorMessage())
        .contains("'loggingConfig.systemLogLevel'")
        .contains("[DEBUG, INFO, WARN]");
    assertThat(
            kiln.lambda()
                .getFunctionConfiguration(b -> b.functionName("text-logs"))
                .loggingConfig()
                .logFormatAsString())
        .as("a refused update changes nothing")
        .isEqualTo("Text");
  }

  private static GetFunctionConfigurationResponse toConfig(
      software.amazon.awssdk.services.lambda.model.UpdateFunctionConfigurationResponse r) {
    return GetFunctionConfigurationResponse.builder().loggingConfig(r.loggingConfig()).build();
  }
}
