package dev.kiln.invoke;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.model.FunctionConfig.LoggingSettings;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The lines the platform itself writes into a function's log, around what the function printed, in
 * the function's {@code LoggingConfig}.
 *
 * <p>In the {@code Text} format these are Lambda's familiar lines: {@code INIT_START} on a cold
 * start, {@code START RequestId: … Version: …}, the function's output, an error line when the
 * runtime timed out or died, {@code END} and the tab-separated {@code REPORT}.
 *
 * <p>In the {@code JSON} format every platform line is a JSON object {@code {"time", "type",
 * "record"}} as Lambda writes them ({@code platform.initStart}, {@code platform.start}, {@code
 * platform.runtimeDone}, {@code platform.report} with its {@code metrics}), and the two levels of
 * {@code LoggingConfig} apply:
 *
 * <ul>
 *   <li>{@code SystemLogLevel} (default INFO) keeps platform events at or above it: {@code
 *       runtimeDone} is DEBUG, the others INFO, and the error line of a timeout or crash WARN;
 *   <li>{@code ApplicationLogLevel} (default INFO) keeps the function's lines at or above it. A
 *       line's level is the {@code "level"} field of a line that is a JSON object (the JSON the
 *       runtimes' loggers write), and INFO for any other line, as Lambda assigns it.
 * </ul>
 *
 * In the {@code Text} format nothing is filtered: Lambda accepts the levels only with JSON.
 *
 * <p>This class is the one definition of those lines, public so that whatever writes into a
 * function's log in Lambda's shape builds them here and nowhere else: today the instance around
 * every invocation and the instance's log when its runtime dies between invocations; a second way
 * to run invocations (another node's invoker) or another writer of platform events would use it as
 * they do. One is made per function version and its logging settings; it holds nothing that
 * changes, so it may be used from any thread.
 */
public final class PlatformLog {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT)
          .withZone(ZoneOffset.UTC);
  private static final List<String> LEVELS =
      List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL");
  private static final int INFO = LEVELS.indexOf("INFO");
  private static final int DEBUG = LEVELS.indexOf("DEBUG");
  private static final int WARN = LEVELS.indexOf("WARN");

  /** {@code at} as Lambda stamps its own log lines: UTC, to the millisecond. */
  public static String timestamp(Instant at) {
    return TIME.format(at);
  }

  /**
   * The figures of one invocation, as the REPORT line gives them.
   *
   * @param status {@code success}, {@code error} (the function's own), {@code timeout} or {@code
   *     failure} (the runtime died or failed to start), as {@code platform.runtimeDone} says it
   * @param errorType the error's type, for a failure
   */
  public record Report(
      String requestId,
      double durationMs,
      long billedDurationMs,
      int memorySizeMb,
      long maxMemoryUsedMb,
      Optional<Double> initDurationMs,
      String status,
      Optional<String> errorType) {}

  private final boolean json;
  private final int systemLevel;
  private final int applicationLevel;
  private final String functionName;
  private final String version;
  private final String runtime;
  private final String runtimeVersionArn;
  private final Optional<String> runsOn;

  /**
   * The platform's lines for version {@code version} of function {@code functionName}, in {@code
   * settings}' format and levels.
   *
   * @param runtime the runtime's identifier as INIT_START names it ({@code python3.12})
   * @param runtimeVersionArn what INIT_START gives as the runtime's version ARN
   */
  public PlatformLog(
      LoggingSettings settings,
      String functionName,
      String version,
      String runtime,
      String runtimeVersionArn) {
    this(settings, functionName, version, runtime, runtimeVersionArn, Optional.empty());
  }

  /**
   * @param runsOn what the instance really runs on when that is not the architecture the function
   *     asks for ({@link dev.kiln.runtimes.Architectures#runsOn}), said on the INIT_START line
   */
  public PlatformLog(
      LoggingSettings settings,
      String functionName,
      String version,
      String runtime,
      String runtimeVersionArn,
      Optional<String> runsOn) {
    this.runsOn = runsOn;
    this.json = settings.logFormat().equals("JSON");
    this.systemLevel = settings.systemLogLevel().map(LEVELS::indexOf).orElse(INFO);
    this.applicationLevel = settings.applicationLogLevel().map(LEVELS::indexOf).orElse(INFO);
    this.functionName = functionName;
    this.version = version;
    this.runtime = runtime;
    this.runtimeVersionArn = runtimeVersionArn;
  }

  /** The line that opens a cold start's log, or nothing when the system level hides it. */
  public String initStart(long timeMillis, boolean provisioned) {
    if (!json) {
      return "INIT_START Runtime Version: "
          + runtime
          + "\tRuntime Version ARN: "
          + runtimeVersionArn
          + runsOn.map(arch -> "\tArchitecture: " + arch).orElse("")
          + "\n";
    }
    ObjectNode record = JSON.createObjectNode();
    record
        .put("initializationType", provisioned ? "provisioned-concurrency" : "on-demand")
        .put("phase", "init")
        .put("runtimeVersion", runtime)
        .put("runtimeVersionArn", runtimeVersionArn)
        .put("functionName", functionName)
        .put("functionVersion", version);
    runsOn.ifPresent(arch -> record.put("architecture", arch));
    return event(timeMillis, "platform.initStart", INFO, record);
  }

  /** The line that opens an invocation. */
  public String start(long timeMillis, String requestId) {
    if (!json) {
      return "START RequestId: " + requestId + " Version: " + version + "\n";
    }
    ObjectNode record = JSON.createObjectNode().put("requestId", requestId).put("version", version);
    return event(timeMillis, "platform.start", INFO, record);
  }

  /**
   * The rest of an invocation's log: the function's output (filtered by level in JSON), the
   * platform's error line if any, then END and REPORT.
   */
  public String end(long timeMillis, String output, Optional<String> errorLine, Report report) {
    StringBuilder out = new StringBuilder();
    appendOutput(out, output);
    if (!json) {
      errorLine.ifPresent(l -> out.append(l).append('\n'));
      out.append("END RequestId: ").append(report.requestId()).append('\n');
      out.append(
          String.format(
              Locale.ROOT,
              "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB"
                  + "\tMax Memory Used: %d MB\t",
              report.requestId(),
              report.durationMs(),
              report.billedDurationMs(),
              report.memorySizeMb(),
              report.maxMemoryUsedMb()));
      report
          .initDurationMs()
          .ifPresent(
              init -> out.append(String.format(Locale.ROOT, "Init Duration: %.2f ms\t", init)));
      switch (report.status()) {
        case "timeout" -> out.append("Status: timeout");
        case "failure" ->
            out.append("Status: error\tError Type: ").append(report.errorType().orElse("Unknown"));
        default -> {
          // success and function errors have no status on the REPORT line
        }
      }
      return out.append('\n').toString();
    }
    if (errorLine.isPresent() && WARN >= systemLevel) {
      out.append(errorLine.get()).append('\n');
    }
    ObjectNode done =
        JSON.createObjectNode().put("requestId", report.requestId()).put("status", report.status());
    report.errorType().ifPresent(t -> done.put("errorType", t));
    out.append(event(timeMillis, "platform.runtimeDone", DEBUG, done));
    ObjectNode record = JSON.createObjectNode().put("requestId", report.requestId());
    ObjectNode metrics = record.putObject("metrics");
    metrics
        .put("durationMs", Math.round(report.durationMs() * 100) / 100.0)
        .put("billedDurationMs", report.billedDurationMs())
        .put("memorySizeMB", report.memorySizeMb())
        .put("maxMemoryUsedMB", report.maxMemoryUsedMb());
    report
        .initDurationMs()
        .ifPresent(init -> metrics.put("initDurationMs", Math.round(init * 100) / 100.0));
    record.put("status", report.status());
    report.errorType().ifPresent(t -> record.put("errorType", t));
    out.append(event(timeMillis, "platform.report", INFO, record));
    return out.toString();
  }

  /**
   * The function's output as its log keeps it (filtered by level in JSON), line by line: an
   * invocation's, or what a runtime wrote outside one (its last words after SIGTERM).
   */
  public String output(String output) {
    StringBuilder out = new StringBuilder();
    appendOutput(out, output);
    return out.toString();
  }

  private void appendOutput(StringBuilder out, String output) {
    if (output.isEmpty()) {
      return;
    }
    if (!json || applicationLevel <= LEVELS.indexOf("TRACE")) {
      out.append(output);
      if (!output.endsWith("\n")) {
        out.append('\n');
      }
      return;
    }
    for (String line : output.split("\n")) {
      if (!line.isEmpty() && levelOf(line) >= applicationLevel) {
        out.append(line).append('\n');
      }
    }
  }

  /** The level of one line of output: a JSON object's {@code "level"}, otherwise INFO. */
  static int levelOf(String line) {
    if (!line.startsWith("{")) {
      return INFO;
    }
    try {
      JsonNode level = JSON.readTree(line).path("level");
      int i = LEVELS.indexOf(level.asText().toUpperCase(Locale.ROOT));
      // Python's logging calls it WARNING and CRITICAL
      if (level.asText().equalsIgnoreCase("WARNING")) {
        return WARN;
      }
      if (level.asText().equalsIgnoreCase("CRITICAL")) {
        return LEVELS.indexOf("FATAL");
      }
      return i < 0 ? INFO : i;
    } catch (JsonProcessingException e) {
      return INFO;
    }
  }

  private String event(long timeMillis, String type, int level, ObjectNode record) {
    if (level < systemLevel) {
      return "";
    }
    ObjectNode event = JSON.createObjectNode();
    event.put("time", TIME.format(Instant.ofEpochMilli(timeMillis))).put("type", type);
    event.set("record", record);
    return event + "\n";
  }
}
