package dev.kiln.model;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * One version of a function as stored: its code (by digest) and every setting that shapes how it
 * runs. Immutable; an update produces a new value with a new {@code revisionId}, which is what
 * optimistic concurrency ({@code RevisionId} preconditions) compares, and what instance pools key
 * on so that instances of an older revision are never handed new work.
 *
 * @param version {@code $LATEST} or a published version number
 * @param codeSha256 base64 of the SHA-256 of the deployment package, as the API reports it
 * @param codeSize bytes of the zipped deployment package
 */
public record FunctionConfig(
    String functionName,
    String version,
    String runtime,
    String handler,
    String role,
    String description,
    int memorySize,
    int timeout,
    Map<String, String> environment,
    int ephemeralStorageSize,
    List<String> architectures,
    String packageType,
    String tracingMode,
    LoggingSettings logging,
    String codeSha256,
    long codeSize,
    Instant lastModified,
    String revisionId,
    Optional<String> deadLetterTarget,
    List<Layer> layers) {

  public static final int DEFAULT_MEMORY_MB = 128;
  public static final int DEFAULT_TIMEOUT_SECONDS = 3;
  public static final int DEFAULT_EPHEMERAL_STORAGE_MB = 512;

  /**
   * @param deadLetterTarget the ARN of the function that gets the events that failed for good, from
   *     {@code DeadLetterConfig.TargetArn}
   */
  public FunctionConfig {
    environment = Map.copyOf(environment);
    architectures = List.copyOf(architectures);
    deadLetterTarget = deadLetterTarget == null ? Optional.empty() : deadLetterTarget;
    layers = layers == null ? List.of() : List.copyOf(layers);
  }

  /**
   * A layer version the function uses, in the order given: its ARN and the digest of its content,
   * which keeps the content in the code store for as long as a version of the function names it,
   * even after DeleteLayerVersion.
   */
  public record Layer(String arn, long codeSize, String codeSha256Hex, long unzippedSize) {}

  /** The same configuration with these layers (already resolved and checked). */
  public FunctionConfig withLayers(List<Layer> newLayers) {
    return new FunctionConfig(
        functionName,
        version,
        runtime,
        handler,
        role,
        description,
        memorySize,
        timeout,
        environment,
        ephemeralStorageSize,
        architectures,
        packageType,
        tracingMode,
        logging,
        codeSha256,
        codeSize,
        lastModified,
        revisionId,
        deadLetterTarget,
        newLayers);
  }

  /** How the function's logs are formatted and where they go, as {@code LoggingConfig}. */
  public record LoggingSettings(
      String logFormat,
      Optional<String> applicationLogLevel,
      Optional<String> systemLogLevel,
      String logGroup) {

    public static LoggingSettings defaultFor(String functionName) {
      return new LoggingSettings(
          "Text", Optional.empty(), Optional.empty(), "/aws/lambda/" + functionName);
    }
  }

  /** The first configuration of a new function: AWS's defaults, then the caller's settings. */
  public static FunctionConfig create(
      String functionName, CodeDigest code, ConfigPatch settings, Instant now) {
    FunctionConfig defaults =
        new FunctionConfig(
            functionName,
            FunctionRef.LATEST,
            null,
            null,
            null,
            "",
            DEFAULT_MEMORY_MB,
            DEFAULT_TIMEOUT_SECONDS,
            Map.of(),
            DEFAULT_EPHEMERAL_STORAGE_MB,
            List.of("x86_64"),
            "Zip",
            "PassThrough",
            LoggingSettings.defaultFor(functionName),
            code.sha256Base64(),
            code.size(),
            now,
            newRevisionId(),
            Optional.empty(),
            List.of());
    return settings.applyTo(defaults, now);
  }

  public FunctionConfig withCode(CodeDigest code, List<String> newArchitectures, Instant now) {
    return new FunctionConfig(
        functionName,
        version,
        runtime,
        handler,
        role,
        description,
        memorySize,
        timeout,
        environment,
        ephemeralStorageSize,
        newArchitectures.isEmpty() ? architectures : newArchitectures,
        packageType,
        tracingMode,
        logging,
        code.sha256Base64(),
        code.size(),
        now,
        newRevisionId(),
        deadLetterTarget,
        layers);
  }

  /** The snapshot that PublishVersion stores: same settings and code, a number for a version. */
  public FunctionConfig asVersion(String number) {
    return withIdentity(number, lastModified, newRevisionId());
  }

  /** The same configuration with another description (PublishVersion's own, for the version). */
  public FunctionConfig withDescription(String newDescription) {
    return new FunctionConfig(
        functionName,
        version,
        runtime,
        handler,
        role,
        newDescription,
        memorySize,
        timeout,
        environment,
        ephemeralStorageSize,
        architectures,
        packageType,
        tracingMode,
        logging,
        codeSha256,
        codeSize,
        lastModified,
        revisionId,
        deadLetterTarget,
        layers);
  }

  /**
   * True when both run the same code the same way, whatever their version, revision and description
   * (PublishVersion may give a version a description of its own).
   */
  public boolean sameCodeAndSettings(FunctionConfig other) {
    return withIdentity("", Instant.EPOCH, "")
        .withDescription("")
        .equals(other.withIdentity("", Instant.EPOCH, "").withDescription(""));
  }

  private FunctionConfig withIdentity(String v, Instant modified, String revision) {
    return new FunctionConfig(
        functionName,
        v,
        runtime,
        handler,
        role,
        description,
        memorySize,
        timeout,
        environment,
        ephemeralStorageSize,
        architectures,
        packageType,
        tracingMode,
        logging,
        codeSha256,
        codeSize,
        modified,
        revision,
        deadLetterTarget,
        layers);
  }

  public static String newRevisionId() {
    return UUID.randomUUID().toString();
  }
}
