package dev.kiln.model;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The settings a CreateFunction or UpdateFunctionConfiguration request carries; an absent member
 * leaves the current value as it is. {@link #applyTo} is the one place where settings are checked
 * against Lambda's limits, so both operations reject the same values with the same words.
 *
 * @param deadLetterTarget {@code DeadLetterConfig.TargetArn}; empty text removes it
 * @param layers {@code Layers}: layer version ARNs, resolved by the catalog (an empty list removes
 *     them all)
 */
public record ConfigPatch(
    Optional<String> runtime,
    Optional<String> handler,
    Optional<String> role,
    Optional<String> description,
    Optional<Integer> memorySize,
    Optional<Integer> timeout,
    Optional<Map<String, String>> environment,
    Optional<Integer> ephemeralStorageSize,
    Optional<List<String>> architectures,
    Optional<String> packageType,
    Optional<String> tracingMode,
    Optional<LoggingPatch> logging,
    Optional<String> deadLetterTarget,
    Optional<List<String>> layers) {

  public static final int MIN_MEMORY_MB = 128;
  public static final int MAX_MEMORY_MB = 10_240;
  public static final int MIN_TIMEOUT_SECONDS = 1;
  public static final int MAX_TIMEOUT_SECONDS = 900;
  public static final int MIN_EPHEMERAL_MB = 512;
  public static final int MAX_EPHEMERAL_MB = 10_240;
  public static final int MAX_ENVIRONMENT_BYTES = 4 * 1024;

  /** Names the platform sets itself; AWS refuses them in a function's environment. */
  public static final Set<String> RESERVED_ENVIRONMENT_KEYS =
      Set.of(
          "_HANDLER",
          "_X_AMZN_TRACE_ID",
          "AWS_DEFAULT_REGION",
          "AWS_REGION",
          "AWS_EXECUTION_ENV",
          "AWS_LAMBDA_FUNCTION_NAME",
          "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
          "AWS_LAMBDA_FUNCTION_VERSION",
          "AWS_LAMBDA_INITIALIZATION_TYPE",
          "AWS_LAMBDA_LOG_GROUP_NAME",
          "AWS_LAMBDA_LOG_STREAM_NAME",
          "AWS_ACCESS_KEY",
          "AWS_ACCESS_KEY_ID",
          "AWS_SECRET_ACCESS_KEY",
          "AWS_SESSION_TOKEN",
          "AWS_LAMBDA_RUNTIME_API",
          "LAMBDA_TASK_ROOT",
          "LAMBDA_RUNTIME_DIR");

  /** Every runtime identifier the Lambda service model knows, current or deprecated. */
  public static final Set<String> KNOWN_RUNTIMES =
      Set.of(
          "nodejs",
          "nodejs4.3",
          "nodejs6.10",
          "nodejs8.10",
          "nodejs10.x",
          "nodejs12.x",
          "nodejs14.x",
          "nodejs16.x",
          "nodejs18.x",
          "nodejs20.x",
          "nodejs22.x",
          "nodejs24.x",
          "nodejs26.x",
          "java8",
          "java8.al2",
          "java11",
          "java17",
          "java21",
          "java25",
          "java8.al2023",
          "java11.al2023",
          "java17.al2023",
          "python2.7",
          "python3.6",
          "python3.7",
          "python3.8",
          "python3.9",
          "python3.10",
          "python3.11",
          "python3.12",
          "python3.13",
          "python3.14",
          "python3.15",
          "dotnetcore1.0",
          "dotnetcore2.0",
          "dotnetcore2.1",
          "dotnetcore3.1",
          "dotnet6",
          "dotnet8",
          "dotnet10",
          "nodejs4.3-edge",
          "go1.x",
          "ruby2.5",
          "ruby2.7",
          "ruby3.2",
          "ruby3.3",
          "ruby3.4",
          "ruby4.0",
          "provided",
          "provided.al2",
          "provided.al2023");

  private static final Pattern ROLE =
      Pattern.compile("arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
  private static final Pattern HANDLER = Pattern.compile("[^\\s]+");
  private static final Pattern ENV_KEY = Pattern.compile("[a-zA-Z]([a-zA-Z0-9_])+");
  private static final Set<String> LOG_FORMATS = Set.of("JSON", "Text");
  private static final Set<String> APP_LOG_LEVELS =
      Set.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL");
  private static final Set<String> SYSTEM_LOG_LEVELS = Set.of("DEBUG", "INFO", "WARN");
  private static final Pattern LOG_GROUP = Pattern.compile("[\\.\\-_/#A-Za-z0-9]+");

  /** {@code LoggingConfig} as a request carries it. */
  public record LoggingPatch(
      Optional<String> logFormat,
      Optional<String> applicationLogLevel,
      Optional<String> systemLogLevel,
      Optional<String> logGroup) {}

  public static ConfigPatch empty() {
    return new ConfigPatch(
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty());
  }

  /** Just what a zip function must have: the runtime, the handler and the role. */
  public static ConfigPatch of(String runtime, String handler, String role) {
    ConfigPatch p = empty();
    return new ConfigPatch(
        Optional.of(runtime),
        Optional.of(handler),
        Optional.of(role),
        p.description,
        p.memorySize,
        p.timeout,
        p.environment,
        p.ephemeralStorageSize,
        p.architectures,
        p.packageType,
        p.tracingMode,
        p.logging,
        p.deadLetterTarget,
        p.layers);
  }

  /** The configuration with these settings applied, checked, with a new revision id. */
  public FunctionConfig applyTo(FunctionConfig current, Instant now) {
    runtime.ifPresent(ConfigPatch::checkRuntime);
    handler.ifPresent(ConfigPatch::checkHandler);
    role.ifPresent(ConfigPatch::checkRole);
    description.ifPresent(
        d -> {
          if (d.length() > 256) {
            throw LambdaError.validation(
                "description", d, "Member must have length less than or equal to 256");
          }
        });
    memorySize.ifPresent(
        m -> checkRange("MemorySize", "memorySize", m, MIN_MEMORY_MB, MAX_MEMORY_MB));
    timeout.ifPresent(
        t -> checkRange("Timeout", "timeout", t, MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS));
    ephemeralStorageSize.ifPresent(
        s ->
            checkRange(
                "EphemeralStorage.Size",
                "ephemeralStorage.size",
                s,
                MIN_EPHEMERAL_MB,
                MAX_EPHEMERAL_MB));
    environment.ifPresent(ConfigPatch::checkEnvironment);
    architectures.ifPresent(ConfigPatch::checkArchitectures);
    packageType.ifPresent(
        p -> {
          if (p.equals("Image")) {
            throw LambdaError.invalidParameter(
                "PackageType Image is not supported by Kiln: deploy a .zip file archive"
                    + " (PackageType Zip)");
          }
          if (!p.equals("Zip")) {
            throw LambdaError.validation(
                "packageType", p, "Member must satisfy enum value set: [Zip, Image]");
          }
        });
    tracingMode.ifPresent(
        m -> {
          if (!m.equals("Active") && !m.equals("PassThrough")) {
            throw LambdaError.validation(
                "tracingConfig.mode",
                m,
                "Member must satisfy enum value set: [Active, PassThrough]");
          }
        });
    FunctionConfig.LoggingSettings newLogging =
        logging.map(l -> applyLogging(l, current.logging())).orElse(current.logging());

    FunctionConfig next =
        new FunctionConfig(
            current.functionName(),
            current.version(),
            runtime.orElse(current.runtime()),
            handler.orElse(current.handler()),
            role.orElse(current.role()),
            description.orElse(current.description()),
            memorySize.orElse(current.memorySize()),
            timeout.orElse(current.timeout()),
            environment.orElse(current.environment()),
            ephemeralStorageSize.orElse(current.ephemeralStorageSize()),
            architectures.orElse(current.architectures()),
            packageType.orElse(current.packageType()),
            tracingMode.orElse(current.tracingMode()),
            newLogging,
            current.codeSha256(),
            current.codeSize(),
            now,
            FunctionConfig.newRevisionId(),
            deadLetterTarget
                .map(t -> t.isEmpty() ? Optional.<String>empty() : Optional.of(t))
                .orElse(current.deadLetterTarget()),
            current.layers());
    if (next.runtime() == null || next.handler() == null) {
      throw LambdaError.invalidParameter(
          "Runtime and Handler are mandatory parameters for functions created with deployment"
              + " packages.");
    }
    if (next.role() == null) {
      throw LambdaError.validation("role", "null", "Member must not be null");
    }
    return next;
  }

  private static void checkRuntime(String runtime) {
    if (!KNOWN_RUNTIMES.contains(runtime)) {
      throw LambdaError.validation(
          "runtime",
          runtime,
          "Member must satisfy enum value set: " + new TreeSet<>(KNOWN_RUNTIMES));
    }
  }

  private static void checkHandler(String handler) {
    if (handler.length() > 128) {
      throw LambdaError.validation(
          "handler", handler, "Member must have length less than or equal to 128");
    }
    if (!HANDLER.matcher(handler).matches()) {
      throw LambdaError.validation(
          "handler", handler, "Member must satisfy regular expression pattern: [^\\s]+");
    }
  }

  /** Refuses a Role that is not a role ARN, with the service model's pattern. */
  public static void checkRole(String role) {
    if (!ROLE.matcher(role).matches()) {
      throw LambdaError.validation(
          "role",
          role,
          "Member must satisfy regular expression pattern:"
              + " arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
    }
  }

  private static void checkRange(String member, String field, int value, int min, int max) {
    if (value < min) {
      throw LambdaError.validation(
          field, value, "Member must have value greater than or equal to " + min);
    }
    if (value > max) {
      throw LambdaError.invalidParameter(
          "'"
              + member
              + "' value failed to satisfy constraint: Member must have value less than"
              + " or equal to "
              + max);
    }
  }

  private static void checkEnvironment(Map<String, String> variables) {
    for (var e : variables.entrySet()) {
      if (!ENV_KEY.matcher(e.getKey()).matches()) {
        throw LambdaError.validation(
            "environment.variables",
            e.getKey(),
            "Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+ (the name"
                + " of environment variable '"
                + e.getKey()
                + "')");
      }
      if (e.getValue() == null) {
        throw LambdaError.invalidParameter(
            "Environment variable " + e.getKey() + " has no value: Variables values are strings");
      }
    }
    String reserved =
        variables.keySet().stream()
            .filter(RESERVED_ENVIRONMENT_KEYS::contains)
            .sorted()
            .collect(Collectors.joining(","));
    if (!reserved.isEmpty()) {
      throw LambdaError.invalidParameter(
          "Lambda was unable to configure your environment variables because the environment"
              + " variables you have provided contains reserved keys that are currently not"
              + " supported for modification. Reserved keys used in this request: "
              + reserved);
    }
    int size = environmentSize(variables);
    if (size > MAX_ENVIRONMENT_BYTES) {
      throw LambdaError.invalidParameter(
          "Lambda was unable to configure your environment variables because the environment"
              + " variables you have provided exceeded the 4KB limit. String measured: "
              + size
              + " bytes of Environment.Variables");
    }
  }

  /** AWS counts the variables as the JSON object they travel in; so does Kiln. */
  static int environmentSize(Map<String, String> variables) {
    int size = 2; // {}
    boolean first = true;
    for (var e : variables.entrySet()) {
      size += (first ? 0 : 1) + jsonStringBytes(e.getKey()) + 1 + jsonStringBytes(e.getValue());
      first = false;
    }
    return size;
  }

  private static int jsonStringBytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length + 2;
  }

  /** Checks {@code Architectures} as UpdateFunctionCode carries it, alone. */
  public static void checkArchitectures(List<String> archs) {
    if (archs.size() != 1) {
      throw LambdaError.validation(
          "architectures", archs, "Member must have length less than or equal to 1");
    }
    String arch = archs.get(0);
    if (!arch.equals("x86_64") && !arch.equals("arm64")) {
      throw LambdaError.validation(
          "architectures", archs, "Member must satisfy enum value set: [x86_64, arm64]");
    }
    // either architecture on any host: what a function really runs on is the runtimes' business
    // (dev.kiln.runtimes.Architectures), and the function's Architectures is echoed as asked
  }

  private static FunctionConfig.LoggingSettings applyLogging(
      LoggingPatch patch, FunctionConfig.LoggingSettings current) {
    patch
        .logFormat()
        .filter(f -> !LOG_FORMATS.contains(f))
        .ifPresent(
            f -> {
              throw LambdaError.validation(
                  "loggingConfig.logFormat", f, "Member must satisfy enum value set: [JSON, Text]");
            });
    patch
        .applicationLogLevel()
        .filter(l -> !APP_LOG_LEVELS.contains(l))
        .ifPresent(
            l -> {
              throw LambdaError.validation(
                  "loggingConfig.applicationLogLevel",
                  l,
                  "Member must satisfy enum value set: [TRACE, DEBUG, INFO, WARN, ERROR, FATAL]");
            });
    patch
        .systemLogLevel()
        .filter(l -> !SYSTEM_LOG_LEVELS.contains(l))
        .ifPresent(
            l -> {
              throw LambdaError.validation(
                  "loggingConfig.systemLogLevel",
                  l,
                  "Member must satisfy enum value set: [DEBUG, INFO, WARN]");
            });
    patch
        .logGroup()
        .filter(g -> g.length() > 512 || !LOG_GROUP.matcher(g).matches())
        .ifPresent(
            g -> {
              throw LambdaError.validation(
                  "loggingConfig.logGroup",
                  g,
                  "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+");
            });
    String format = patch.logFormat().orElse(current.logFormat());
    boolean json = format.equals("JSON");
    if (!json && (patch.applicationLogLevel().isPresent() || patch.systemLogLevel().isPresent())) {
      throw LambdaError.invalidParameter(
          "Application and system log levels can only be set when LogFormat is JSON.");
    }
    return new FunctionConfig.LoggingSettings(
        format,
        json
            ? patch
                .applicationLogLevel()
                .or(current::applicationLogLevel)
                .or(() -> Optional.of("INFO"))
            : Optional.empty(),
        json
            ? patch.systemLogLevel().or(current::systemLogLevel).or(() -> Optional.of("INFO"))
            : Optional.empty(),
        patch.logGroup().orElse(current.logGroup()));
  }
}
