package dev.kiln.invoke;

import dev.kiln.model.Account;
import dev.kiln.model.CodeDigest;
import dev.kiln.model.ConfigPatch;
import dev.kiln.model.FunctionConfig;
import dev.kiln.model.LambdaError;
import dev.kiln.model.LayerPolicy;
import dev.kiln.model.LayerRef;
import dev.kiln.model.LayerVersion;
import dev.kiln.store.CodeStore;
import dev.kiln.store.LocalCodeStore;
import dev.kiln.store.MetadataStore;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Layers: zips published once and shared by functions, whose content an instance sees under {@code
 * /opt}.
 *
 * <p>A layer version is immutable. Its content lives in the code store beside deployment packages,
 * and a function that uses it records the digest ({@link FunctionConfig.Layer}), so deleting the
 * layer version stops new functions from naming it but never breaks a function that already does:
 * the content stays until no function version and no layer version refers to it. The order of a
 * function's {@code Layers} is the order they are unpacked in, a later layer replacing the files of
 * an earlier one.
 */
public final class LayerCatalog {

  /** Lambda's limit on the layers of one function. */
  public static final int MAX_LAYERS_PER_FUNCTION = 5;

  private static final Pattern STATEMENT_ID = Pattern.compile("[a-zA-Z0-9-_]{1,100}");
  private static final Pattern PRINCIPAL =
      Pattern.compile("\\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root");
  private static final Pattern ORGANIZATION = Pattern.compile("o-[a-z0-9]{10,32}");
  private static final String GET_LAYER_VERSION = "lambda:GetLayerVersion";

  private final MetadataStore store;
  private final CodeStore code;
  private final Account account;
  private final InstantSource clock;
  private final Object writeLock;
  private final Runnable collectUnusedCode;

  /**
   * @param writeLock the lock every part of the catalog changes the stores under, so that deleting
   *     unused code never races a function starting to use it
   * @param collectUnusedCode deletes the packages nothing needs any more ({@link Functions} knows
   *     which instances still run from what)
   */
  LayerCatalog(
      MetadataStore store,
      CodeStore code,
      Account account,
      InstantSource clock,
      Object writeLock,
      Runnable collectUnusedCode) {
    this.store = store;
    this.code = code;
    this.account = account;
    this.clock = clock;
    this.writeLock = writeLock;
    this.collectUnusedCode = collectUnusedCode;
  }

  public Account account() {
    return account;
  }

  /** What PublishLayerVersion was given besides the zip. */
  public record LayerSettings(
      String description,
      List<String> compatibleRuntimes,
      List<String> compatibleArchitectures,
      Optional<String> licenseInfo) {}

  /** PublishLayerVersion: stores the zip and numbers the new version. */
  public LayerVersion publish(String layerName, byte[] zip, LayerSettings settings) {
    LayerRef ref = LayerRef.parseName(layerName, account);
    check(settings);
    CodeDigest digest = code.put(zip);
    synchronized (writeLock) {
      return store.publishLayerVersion(
          new LayerVersion(
              ref.name(),
              0,
              settings.description(),
              clock.instant(),
              settings.compatibleRuntimes(),
              settings.compatibleArchitectures(),
              settings.licenseInfo(),
              digest.sha256Hex(),
              digest.size(),
              digest.unzippedSize()));
    }
  }

  private static void check(LayerSettings s) {
    if (s.description().length() > 256) {
      throw LambdaError.validation(
          "description", s.description(), "Member must have length less than or equal to 256");
    }
    if (s.compatibleRuntimes().size() > 15) {
      throw LambdaError.validation(
          "compatibleRuntimes",
          s.compatibleRuntimes(),
          "Member must have length less than or equal to 15");
    }
    for (String runtime : s.compatibleRuntimes()) {
      if (!ConfigPatch.KNOWN_RUNTIMES.contains(runtime)) {
        throw LambdaError.validation(
            "compatibleRuntimes",
            s.compatibleRuntimes(),
            "Member must satisfy constraint: [Member must satisfy enum value set: "
                + new java.util.TreeSet<>(ConfigPatch.KNOWN_RUNTIMES)
                + "]");
      }
    }
    if (s.compatibleArchitectures().size() > 2) {
      throw LambdaError.validation(
          "compatibleArchitectures",
          s.compatibleArchitectures(),
          "Member must have length less than or equal to 2");
    }
    for (String arch : s.compatibleArchitectures()) {
      if (!arch.equals("x86_64") && !arch.equals("arm64")) {
        throw LambdaError.validation(
            "compatibleArchitectures",
            s.compatibleArchitectures(),
            "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64,"
                + " arm64]]");
      }
    }
    if (s.licenseInfo().map(String::length).orElse(0) > 512) {
      throw LambdaError.validation(
          "licenseInfo",
          s.licenseInfo().get(),
          "Member must have length less than or equal to 512");
    }
  }

  /** GetLayerVersion. */
  public LayerVersion version(String layerName, long number) {
    LayerRef ref = LayerRef.parseName(layerName, account);
    return store.layerVersion(ref.name(), number).orElseThrow(LayerCatalog::noSuchVersion);
  }

  /** GetLayerVersionByArn. */
  public LayerVersion versionByArn(String arn) {
    LayerRef ref = LayerRef.parseVersionArn(arn, "arn", account);
    return store
        .layerVersion(ref.name(), ref.version().orElseThrow())
        .orElseThrow(LayerCatalog::noSuchVersion);
  }

  /** ListLayerVersions: newest first, only those compatible with the filters given. */
  public List<LayerVersion> versions(
      String layerName, Optional<String> runtime, Optional<String> architecture) {
    LayerRef ref = LayerRef.parseName(layerName, account);
    return store.layerVersions(Optional.of(ref.name())).stream()
        .filter(v -> matches(v, runtime, architecture))
        .toList();
  }

  /** ListLayers: each layer with its newest version that matches the filters, by layer name. */
  public List<LayerVersion> latestVersions(
      Optional<String> runtime, Optional<String> architecture) {
    Map<String, LayerVersion> newest = new LinkedHashMap<>();
    for (LayerVersion v : store.layerVersions(Optional.empty())) {
      if (matches(v, runtime, architecture)) {
        newest.putIfAbsent(v.layerName(), v);
      }
    }
    return List.copyOf(newest.values());
  }

  private static boolean matches(
      LayerVersion v, Optional<String> runtime, Optional<String> architecture) {
    return runtime.map(v.compatibleRuntimes()::contains).orElse(true)
        && architecture.map(v.compatibleArchitectures()::contains).orElse(true);
  }

  /**
   * DeleteLayerVersion: gone for new functions; functions already using it keep its content. As on
   * Lambda, deleting a version that does not exist succeeds.
   */
  public void delete(String layerName, long number) {
    LayerRef ref = LayerRef.parseName(layerName, account);
    synchronized (writeLock) {
      store.deleteLayerVersion(ref.name(), number);
      collectUnusedCode.run();
    }
  }

  // ---- permissions --------------------------------------------------------------------------

  /** AddLayerVersionPermission; returns the statement added. */
  public LayerPolicy.Statement addPermission(
      String layerName,
      long number,
      String statementId,
      String action,
      String principal,
      Optional<String> organizationId,
      Optional<String> revisionId) {
    if (!STATEMENT_ID.matcher(statementId).matches()) {
      throw LambdaError.validation(
          "statementId",
          statementId,
          "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)");
    }
    if (!action.equals(GET_LAYER_VERSION)) {
      throw LambdaError.validation(
          "action",
          action,
          "Member must satisfy regular expression pattern: lambda:GetLayerVersion");
    }
    if (!PRINCIPAL.matcher(principal).matches()) {
      throw LambdaError.validation(
          "principal",
          principal,
          "Member must satisfy regular expression pattern:"
              + " \\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root");
    }
    organizationId.ifPresent(
        o -> {
          if (!ORGANIZATION.matcher(o).matches()) {
            throw LambdaError.validation(
                "organizationId",
                o,
                "Member must satisfy regular expression pattern: o-[a-z0-9]{10,32}");
          }
          if (!principal.equals("*")) {
            throw LambdaError.invalidParameter(
                "OrganizationId can only be specified together with Principal \"*\"");
          }
        });
    LayerVersion version = version(layerName, number);
    LayerPolicy.Statement statement =
        new LayerPolicy.Statement(statementId, action, principal, organizationId);
    synchronized (writeLock) {
      LayerPolicy current =
          store.layerPolicy(version.layerName(), number).orElseGet(LayerPolicy::empty);
      if (current.statement(statementId).isPresent()) {
        throw LambdaError.statementExists(statementId);
      }
      store.putLayerPolicy(version.layerName(), number, current.with(statement), revisionId);
    }
    return statement;
  }

  /** RemoveLayerVersionPermission. */
  public void removePermission(
      String layerName, long number, String statementId, Optional<String> revisionId) {
    LayerVersion version = version(layerName, number);
    synchronized (writeLock) {
      LayerPolicy current =
          store.layerPolicy(version.layerName(), number).orElseGet(LayerPolicy::empty);
      if (current.statement(statementId).isEmpty()) {
        throw LambdaError.statementNotFound(statementId);
      }
      store.putLayerPolicy(version.layerName(), number, current.without(statementId), revisionId);
    }
  }

  /** GetLayerVersionPolicy. */
  public LayerPolicy policy(String layerName, long number) {
    LayerVersion version = version(layerName, number);
    return store
        .layerPolicy(version.layerName(), number)
        .orElseThrow(
            () -> LambdaError.notFound("No policy is associated with the given resource."));
  }

  // ---- functions' layers --------------------------------------------------------------------

  /**
   * Resolves a function's {@code Layers}: at most five, each an existing layer version of this
   * Kiln, one version per layer, and with the function's own code within Lambda's 250 MB unzipped.
   *
   * @param codeUnzippedSize bytes of the function's code once unpacked
   */
  List<FunctionConfig.Layer> resolve(List<String> arns, long codeUnzippedSize) {
    if (arns.size() > MAX_LAYERS_PER_FUNCTION) {
      throw LambdaError.invalidParameter(
          "Cannot reference more than " + MAX_LAYERS_PER_FUNCTION + " layers.");
    }
    List<FunctionConfig.Layer> layers = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (String arn : arns) {
      LayerRef ref;
      try {
        ref = LayerRef.parseVersionArn(arn, "layers", account);
      } catch (LambdaError.NotFound e) {
        throw LambdaError.invalidParameter("Layer version " + arn + " does not exist.");
      }
      if (!names.add(ref.name())) {
        throw LambdaError.invalidParameter(
            "Two different versions of the same layer are not allowed: "
                + account.layerArn(ref.name())
                + " appears more than once in Layers.");
      }
      LayerVersion version =
          store
              .layerVersion(ref.name(), ref.version().orElseThrow())
              .orElseThrow(
                  () -> LambdaError.invalidParameter("Layer version " + arn + " does not exist."));
      layers.add(version.asFunctionLayer(account));
    }
    checkSize(layers, codeUnzippedSize);
    return layers;
  }

  /** The function's code and its layers together must unpack within Lambda's 250 MB. */
  static void checkSize(List<FunctionConfig.Layer> layers, long codeUnzippedSize) {
    long total =
        codeUnzippedSize + layers.stream().mapToLong(FunctionConfig.Layer::unzippedSize).sum();
    if (total > LocalCodeStore.MAX_UNZIPPED_BYTES) {
      throw LambdaError.invalidParameter(
          "Function code combined with layers exceeds the maximum allowed size of "
              + LocalCodeStore.MAX_UNZIPPED_BYTES
              + " bytes. The actual size is "
              + total
              + " bytes.");
    }
  }

  private static LambdaError noSuchVersion() {
    return LambdaError.notFound("The resource you requested does not exist.");
  }
}
