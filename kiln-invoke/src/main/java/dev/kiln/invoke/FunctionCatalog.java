package dev.kiln.invoke;

import dev.kiln.model.Account;
import dev.kiln.model.AliasConfig;
import dev.kiln.model.CodeDigest;
import dev.kiln.model.ConfigPatch;
import dev.kiln.model.EventInvokeConfig;
import dev.kiln.model.FunctionConfig;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import dev.kiln.model.ProvisionedConfig;
import dev.kiln.runtimes.RuntimeTable;
import dev.kiln.store.CodeStore;
import dev.kiln.store.MetadataStore;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The functions Kiln knows, and the one way to change them.
 *
 * <p>Every change goes to the durable stores first (code, then metadata, so that metadata never
 * names code that is not there), and only then to memory: the resolved versions that invocations
 * run from are cached here, so the hot path never reads the database, and a change drops the cached
 * entry and retires the instances of the old revision in the same step.
 */
public final class FunctionCatalog {

  private final MetadataStore store;
  private final CodeStore code;
  private final RuntimeTable runtimes;
  private final Invoker invoker;
  private final Account account;
  private final InstantSource clock;
  private final ConcurrentHashMap<String, Resolved> resolved = new ConcurrentHashMap<>();
  private final LayerCatalog layers;

  /**
   * Told of every durable change, per function. A cached version is used only if its function did
   * not change since before it was read from the store, so a read racing a change can never pin the
   * old revision.
   */
  private final ChangeFeed changes = new ChangeFeed();

  private record Resolved(FunctionVersion version, long generation) {}

  private record ResolvedAlias(AliasConfig alias, long generation) {}

  private final ConcurrentHashMap<String, ResolvedAlias> resolvedAliases =
      new ConcurrentHashMap<>();

  private final Object writeLock = new Object();

  public FunctionCatalog(
      MetadataStore store,
      CodeStore code,
      RuntimeTable runtimes,
      Invoker invoker,
      Account account,
      InstantSource clock) {
    store = StorageOutcomes.mapped(store);
    code = StorageOutcomes.mapped(code);
    this.store = store;
    this.code = code;
    this.runtimes = runtimes;
    this.invoker = invoker;
    this.account = account;
    this.clock = clock;
    this.layers = new LayerCatalog(store, code, account, clock, writeLock, this::collectUnusedCode);
  }

  /** The layers functions can use. */
  public LayerCatalog layers() {
    return layers;
  }

  public Account account() {
    return account;
  }

  /**
   * CreateFunction: stores the code and the configuration; with {@code publish}, version 1 too,
   * which is then what the response describes.
   */
  public FunctionConfig create(
      String name, byte[] zip, ConfigPatch settings, Map<String, String> tags, boolean publish) {
    FunctionConfig probe =
        FunctionConfig.create(name, placeholderDigest(), settings, clock.instant());
    probe.deadLetterTarget().ifPresent(this::checkDestination);
    runtimes.launch(probe.runtime()); // refuses a runtime this host cannot run, before storing
    runtimes.checkHandler(probe.runtime(), probe.handler());
    if (store.exists(name)) {
      throw LambdaError.conflict("Function already exist: " + name);
    }
    List<String> layerArns = settings.layers().orElse(List.of());
    layers.resolve(layerArns, 0); // refuses missing layers before the code is stored
    CodeDigest digest = code.put(zip);
    synchronized (writeLock) {
      // resolved again under the lock: a layer version deleted meanwhile is refused, never stored
      FunctionConfig latest =
          FunctionConfig.create(name, digest, settings, clock.instant())
              .withLayers(layers.resolve(layerArns, digest.unzippedSize()));
      Optional<FunctionConfig> published =
          publish ? Optional.of(latest.asVersion("1")) : Optional.empty();
      store.createFunction(latest, tags, published);
      invoker.declared(name, FunctionRef.LATEST);
      published.ifPresent(p -> invoker.declared(name, p.version()));
      return published.orElse(latest);
    }
  }

  /** Declares every stored function version to the invoker's meters; called once at start. */
  public void declareAll() {
    Optional<String> marker = Optional.empty();
    do {
      MetadataStore.FunctionPage page = store.listFunctions(marker, 1000, true);
      page.functions().forEach(f -> invoker.declared(f.functionName(), f.version()));
      marker = page.nextMarker();
    } while (marker.isPresent());
  }

  /**
   * The configuration a reference names: {@code $LATEST}, a published version number, or an alias
   * (the version it points to).
   */
  public FunctionConfig get(FunctionRef ref) {
    String qualifier = ref.qualifierOrLatest();
    if (isAliasName(qualifier)) {
      AliasConfig alias = getAlias(ref.name(), qualifier);
      return store.function(ref.name(), alias.functionVersion()).orElseThrow(() -> notFound(ref));
    }
    return store.function(ref.name(), qualifier).orElseThrow(() -> notFound(ref));
  }

  /** Version numbers and {@code $LATEST} are not alias names; anything else is. */
  static boolean isAliasName(String qualifier) {
    return !qualifier.equals(FunctionRef.LATEST) && !qualifier.chars().allMatch(Character::isDigit);
  }

  // ---- versions -----------------------------------------------------------------------------

  /**
   * PublishVersion: snapshots {@code $LATEST}, or returns the newest version when nothing changed
   * since it was published.
   */
  public FunctionConfig publish(
      FunctionRef ref,
      Optional<String> codeSha256,
      Optional<String> description,
      Optional<String> revisionId) {
    requireUnqualified(ref);
    FunctionConfig latest = get(ref.withQualifier(Optional.empty()));
    if (codeSha256.isPresent() && !codeSha256.get().equals(latest.codeSha256())) {
      throw LambdaError.invalidParameter(
          "CodeSHA256 ("
              + codeSha256.get()
              + ") is different from current CodeSHA256 in $LATEST ("
              + latest.codeSha256()
              + "). Please try again with the CodeSHA256 in $LATEST.");
    }
    checkRevision(latest, revisionId);
    FunctionConfig published;
    synchronized (writeLock) {
      published = store.publishVersion(ref.name(), description);
    }
    forget(ref.name());
    invoker.declared(ref.name(), published.version());
    return published;
  }

  /** ListVersionsByFunction: {@code $LATEST}, then the published versions by number. */
  public List<FunctionConfig> versions(FunctionRef ref) {
    requireExists(ref);
    return store.versions(ref.name());
  }

  // ---- concurrency --------------------------------------------------------------------------

  /**
   * PutFunctionConcurrency: reserves {@code count} of the account's concurrency for the function.
   */
  public int reserveConcurrency(FunctionRef ref, int count) {
    requireUnqualified(ref);
    requireExists(ref);
    ConcurrencyBudget budget = invoker.budget();
    if (count < 0) {
      throw LambdaError.validation(
          "reservedConcurrentExecutions",
          count,
          "Member must have value greater than or equal to 0");
    }
    synchronized (writeLock) {
      if (budget.unreservedIf(ref.name(), count) < budget.minimumUnreserved()) {
        throw LambdaError.invalidParameter(
            "Specified ReservedConcurrentExecutions for function decreases account's"
                + " UnreservedConcurrentExecution below its minimum value of ["
                + budget.minimumUnreserved()
                + "].");
      }
      store.putReservedConcurrency(ref.name(), count);
      budget.reserve(ref.name(), count);
    }
    return count;
  }

  /** GetFunctionConcurrency: the function's reserved concurrency, if it has any. */
  public Optional<Integer> reservedConcurrency(FunctionRef ref) {
    requireExists(ref);
    return Optional.ofNullable(invoker.budget().reservations().get(ref.name()));
  }

  /** DeleteFunctionConcurrency: the function shares the unreserved pool again. */
  public void unreserveConcurrency(FunctionRef ref) {
    requireUnqualified(ref);
    requireExists(ref);
    synchronized (writeLock) {
      store.deleteReservedConcurrency(ref.name());
      invoker.budget().unreserve(ref.name());
    }
  }

  // ---- asynchronous invocation --------------------------------------------------------------

  /**
   * Put ({@code replace}) or Update FunctionEventInvokeConfig: Put sets what is given and resets
   * the rest to the defaults, Update changes only what is given.
   */
  public EventInvokeConfig putEventInvokeConfig(
      FunctionRef ref,
      Optional<Integer> retries,
      Optional<Integer> maxAge,
      Optional<Optional<String>> onSuccess,
      Optional<Optional<String>> onFailure,
      boolean replace) {
    String qualifier = ref.qualifierOrLatest();
    requireQualifierExists(ref);
    EventInvokeConfig base =
        replace
            ? EventInvokeConfig.defaults(ref.name(), qualifier)
            : store
                .eventInvokeConfig(ref.name(), qualifier)
                .orElseThrow(() -> noEventInvokeConfig(ref));
    Optional<String> success = onSuccess.orElse(base.onSuccess());
    Optional<String> failure = onFailure.orElse(base.onFailure());
    success.ifPresent(this::checkDestination);
    failure.ifPresent(this::checkDestination);
    EventInvokeConfig config =
        new EventInvokeConfig(
            ref.name(),
            qualifier,
            retries.orElse(base.maxRetryAttempts()),
            maxAge.orElse(base.maxEventAgeSeconds()),
            success,
            failure,
            clock.instant());
    synchronized (writeLock) {
      store.putEventInvokeConfig(config);
    }
    return config;
  }

  public EventInvokeConfig eventInvokeConfig(FunctionRef ref) {
    requireExists(ref);
    return store
        .eventInvokeConfig(ref.name(), ref.qualifierOrLatest())
        .orElseThrow(() -> noEventInvokeConfig(ref));
  }

  public void deleteEventInvokeConfig(FunctionRef ref) {
    requireExists(ref);
    synchronized (writeLock) {
      if (!store.deleteEventInvokeConfig(ref.name(), ref.qualifierOrLatest())) {
        throw noEventInvokeConfig(ref);
      }
    }
  }

  public List<EventInvokeConfig> eventInvokeConfigs(FunctionRef ref) {
    requireExists(ref);
    return store.eventInvokeConfigs(ref.name());
  }

  /** What applies to events of {@code function} invoked as {@code qualifier}. */
  public EventInvokeConfig effectiveEventInvokeConfig(String function, String qualifier) {
    if (!store.exists(function)) {
      throw LambdaError.functionNotFound(account.functionArn(function));
    }
    return store
        .eventInvokeConfig(function, qualifier)
        .orElseGet(() -> EventInvokeConfig.defaults(function, qualifier));
  }

  /**
   * The dead-letter function of the version an event was sent to, from its {@code
   * DeadLetterConfig}; none when the function or version is gone.
   */
  public Optional<String> deadLetterTarget(String function, String qualifier) {
    try {
      return get(new FunctionRef(function, Optional.of(qualifier))).deadLetterTarget();
    } catch (LambdaError gone) {
      return Optional.empty();
    }
  }

  /** Destinations and dead-letter targets are functions of this Kiln, named by ARN. */
  void checkDestination(String arn) {
    if (!arn.startsWith("arn:") || !arn.contains(":lambda:") || !arn.contains(":function:")) {
      throw LambdaError.invalidParameter(
          "The destination ARN "
              + arn
              + " is invalid: Kiln delivers to Lambda functions only, named by their ARN"
              + " (arn:aws:lambda:<region>:<account>:function:<name>)");
    }
    FunctionRef to = FunctionRef.parse(arn, "destination", account);
    if (!store.exists(to.name())) {
      throw LambdaError.invalidParameter(
          "The destination function " + arn + " does not exist in this Kiln");
    }
  }

  // ---- resource-based policies --------------------------------------------------------------

  private static final java.util.regex.Pattern STATEMENT_ID =
      java.util.regex.Pattern.compile("[a-zA-Z0-9-_.]+");
  private static final java.util.regex.Pattern ACTION =
      java.util.regex.Pattern.compile("(lambda:[*]|lambda:[a-zA-Z]+|[*])");
  private static final java.util.regex.Pattern PRINCIPAL =
      java.util.regex.Pattern.compile("[^\\s]+");
  private static final java.util.regex.Pattern EVENT_SOURCE_TOKEN =
      java.util.regex.Pattern.compile("[a-zA-Z0-9._\\-]+");

  /** AddPermission: a statement on the function, or on the qualifier the reference names. */
  public dev.kiln.model.FunctionPolicy.Statement addPermission(
      FunctionRef ref,
      String statementId,
      String action,
      String principal,
      Optional<String> sourceArn,
      Optional<String> sourceAccount,
      Optional<String> principalOrgId,
      Optional<String> functionUrlAuthType,
      Optional<String> eventSourceToken,
      Optional<Boolean> invokedViaFunctionUrl,
      Optional<String> revisionId) {
    if (statementId.isEmpty()
        || statementId.length() > 100
        || !STATEMENT_ID.matcher(statementId).matches()) {
      throw LambdaError.validation(
          "statementId",
          statementId,
          "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_.]+)");
    }
    if (!ACTION.matcher(action).matches()) {
      throw LambdaError.validation(
          "action",
          action,
          "Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])");
    }
    if (!PRINCIPAL.matcher(principal).matches()) {
      throw LambdaError.validation(
          "principal", principal, "Member must satisfy regular expression pattern: [^\\s]+");
    }
    eventSourceToken
        .filter(t -> t.length() > 256 || !EVENT_SOURCE_TOKEN.matcher(t).matches())
        .ifPresent(
            t -> {
              throw LambdaError.validation(
                  "eventSourceToken",
                  t,
                  t.length() > 256
                      ? "Member must have length less than or equal to 256"
                      : "Member must satisfy regular expression pattern: [a-zA-Z0-9._\\-]+");
            });
    if (ref.qualifier().isPresent()) {
      requireQualifierExists(ref);
    } else {
      requireExists(ref);
    }
    String qualifier = ref.qualifier().orElse("");
    dev.kiln.model.FunctionPolicy.Statement statement =
        new dev.kiln.model.FunctionPolicy.Statement(
            statementId,
            action,
            principal,
            qualifier.isEmpty()
                ? account.functionArn(ref.name())
                : account.functionArn(ref.name(), qualifier),
            sourceArn,
            sourceAccount,
            principalOrgId,
            functionUrlAuthType,
            eventSourceToken,
            invokedViaFunctionUrl);
    synchronized (writeLock) {
      dev.kiln.model.FunctionPolicy current =
          store
              .functionPolicy(ref.name(), qualifier)
              .orElseGet(dev.kiln.model.FunctionPolicy::empty);
      if (current.statement(statementId).isPresent()) {
        throw LambdaError.statementExists(statementId);
      }
      store.putFunctionPolicy(ref.name(), qualifier, current.with(statement), revisionId);
    }
    return statement;
  }

  /** RemovePermission. */
  public void removePermission(FunctionRef ref, String statementId, Optional<String> revisionId) {
    requireExists(ref);
    String qualifier = ref.qualifier().orElse("");
    synchronized (writeLock) {
      dev.kiln.model.FunctionPolicy current =
          store
              .functionPolicy(ref.name(), qualifier)
              .orElseGet(dev.kiln.model.FunctionPolicy::empty);
      if (current.statement(statementId).isEmpty()) {
        throw LambdaError.statementNotFound(statementId);
      }
      store.putFunctionPolicy(ref.name(), qualifier, current.without(statementId), revisionId);
    }
  }

  /** GetPolicy. */
  public dev.kiln.model.FunctionPolicy policy(FunctionRef ref) {
    requireExists(ref);
    return store
        .functionPolicy(ref.name(), ref.qualifier().orElse(""))
        .filter(p -> !p.statements().isEmpty())
        .orElseThrow(() -> LambdaError.notFound("The resource you requested does not exist."));
  }

  /**
   * Whether a statement of the function's policy, or of the qualifier's, lets {@code principalArn}
   * (a caller with no rights of its own) perform {@code action}. Statements with conditions on the
   * calling service ({@code SourceArn}, {@code SourceAccount}) grant AWS services, never a key.
   */
  public boolean policyAllows(FunctionRef ref, String principalArn, String action) {
    List<String> qualifiers = new java.util.ArrayList<>(List.of(""));
    ref.qualifier().ifPresent(qualifiers::add);
    for (String qualifier : qualifiers) {
      Optional<dev.kiln.model.FunctionPolicy> policy = store.functionPolicy(ref.name(), qualifier);
      if (policy.isEmpty()) {
        continue;
      }
      for (dev.kiln.model.FunctionPolicy.Statement s : policy.get().statements()) {
        boolean actionMatches =
            s.action().equals("*") || s.action().equals("lambda:*") || s.action().equals(action);
        boolean principalMatches = s.principal().equals("*") || s.principal().equals(principalArn);
        // a condition no key can meet (a source for AWS services, an organization, a function
        // URL, an Alexa skill's token) keeps the statement from granting keys anything
        if (actionMatches
            && principalMatches
            && s.sourceArn().isEmpty()
            && s.sourceAccount().isEmpty()
            && s.principalOrgId().isEmpty()
            && s.functionUrlAuthType().isEmpty()
            && s.eventSourceToken().isEmpty()
            && !s.invokedViaFunctionUrl().orElse(false)) {
          return true;
        }
      }
    }
    return false;
  }

  private void requireQualifierExists(FunctionRef ref) {
    String qualifier = ref.qualifierOrLatest();
    if (isAliasName(qualifier)) {
      getAlias(ref.name(), qualifier);
    } else if (store.function(ref.name(), qualifier).isEmpty()) {
      throw notFound(ref);
    }
  }

  private LambdaError noEventInvokeConfig(FunctionRef ref) {
    return LambdaError.notFound(
        "The function "
            + account.functionArn(ref.name(), ref.qualifierOrLatest())
            + " doesn't have an EventInvokeConfig");
  }

  // ---- provisioned concurrency --------------------------------------------------------------

  /** A provisioned-concurrency configuration and how far Kiln has come with it. */
  public record ProvisionedView(ProvisionedConfig config, int ready, Optional<String> failure) {

    /** {@code READY} when all requested instances are initialised, as AWS's status enum says. */
    public String status() {
      if (failure.isPresent()) {
        return "FAILED";
      }
      return ready >= config.requested() ? "READY" : "IN_PROGRESS";
    }
  }

  /** PutProvisionedConcurrencyConfig on a version or an alias. */
  public ProvisionedView provision(FunctionRef ref, int count) {
    String qualifier = provisionableQualifier(ref);
    if (count < 1) {
      throw LambdaError.validation(
          "provisionedConcurrentExecutions",
          count,
          "Member must have value greater than or equal to 1");
    }
    FunctionVersion target = provisionedVersion(ref.name(), qualifier);
    Integer reserved = invoker.budget().reservations().get(ref.name());
    if (reserved != null) {
      int others =
          store.provisionedConfigs(Optional.of(ref.name())).stream()
              .filter(c -> !c.qualifier().equals(qualifier))
              .mapToInt(ProvisionedConfig::requested)
              .sum();
      if (others + count > reserved) {
        throw LambdaError.invalidParameter(
            "Requested Provisioned Concurrency should not be greater than the"
                + " reservedConcurrentExecution for function");
      }
    }
    ProvisionedConfig config = new ProvisionedConfig(ref.name(), qualifier, count, clock.instant());
    synchronized (writeLock) {
      store.putProvisioned(config);
    }
    invoker.provision(target, count);
    return view(config);
  }

  public ProvisionedView provisioned(FunctionRef ref) {
    String qualifier = provisionableQualifier(ref);
    return store
        .provisioned(ref.name(), qualifier)
        .map(this::view)
        .orElseThrow(
            () ->
                new LambdaError(
                    "ProvisionedConcurrencyConfigNotFoundException",
                    404,
                    "No Provisioned Concurrency Config found for this function"));
  }

  public void deprovision(FunctionRef ref) {
    String qualifier = provisionableQualifier(ref);
    FunctionVersion target = provisionedVersion(ref.name(), qualifier);
    synchronized (writeLock) {
      store.deleteProvisioned(ref.name(), qualifier);
    }
    invoker.provision(target, 0);
  }

  public List<ProvisionedView> provisionedConfigs(FunctionRef ref) {
    requireExists(ref);
    return store.provisionedConfigs(Optional.of(ref.name())).stream().map(this::view).toList();
  }

  /** Starts provisioning what the store holds: at start-up, after a restart. */
  public void restoreProvisioning() {
    for (ProvisionedConfig c : store.provisionedConfigs(Optional.empty())) {
      try {
        invoker.provision(provisionedVersion(c.functionName(), c.qualifier()), c.requested());
      } catch (LambdaError e) {
        // the version or alias went away with an earlier Kiln; nothing to provision
      }
    }
  }

  private ProvisionedView view(ProvisionedConfig config) {
    Invoker.Provisioning p =
        invoker.provisioning(provisionedVersion(config.functionName(), config.qualifier()));
    return new ProvisionedView(config, p.ready(), p.failure());
  }

  private FunctionVersion provisionedVersion(String function, String qualifier) {
    String version =
        isAliasName(qualifier) ? getAlias(function, qualifier).functionVersion() : qualifier;
    return resolve(new FunctionRef(function, Optional.of(version)));
  }

  private String provisionableQualifier(FunctionRef ref) {
    requireExists(ref);
    String qualifier =
        ref.qualifier()
            .orElseThrow(
                () -> LambdaError.validation("qualifier", "null", "Member must not be null"));
    if (qualifier.equals(FunctionRef.LATEST)) {
      throw LambdaError.invalidParameter(
          "Provisioned Concurrency Configs cannot be applied to unpublished function versions.");
    }
    return qualifier;
  }

  // ---- aliases ------------------------------------------------------------------------------

  public AliasConfig createAlias(
      FunctionRef ref,
      String name,
      String functionVersion,
      String description,
      Map<String, Double> weights) {
    requireUnqualified(ref);
    requireExists(ref);
    AliasConfig alias = AliasConfig.of(ref.name(), name, functionVersion, description, weights);
    requireVersions(alias);
    synchronized (writeLock) {
      store.createAlias(alias);
    }
    forget(ref.name());
    return alias;
  }

  public AliasConfig getAlias(String function, String name) {
    AliasConfig.checkName(name);
    if (!store.exists(function)) {
      throw LambdaError.functionNotFound(account.functionArn(function));
    }
    return store
        .alias(function, name)
        .orElseThrow(
            () -> LambdaError.notFound("Alias not found: " + account.functionArn(function, name)));
  }

  /** UpdateAlias: changes what is given, keeps the rest. */
  public AliasConfig updateAlias(
      FunctionRef ref,
      String name,
      Optional<String> functionVersion,
      Optional<String> description,
      Optional<Map<String, Double>> weights,
      Optional<String> revisionId) {
    AliasConfig current = getAlias(ref.name(), name);
    if (revisionId.isPresent() && !revisionId.get().equals(current.revisionId())) {
      throw LambdaError.preconditionFailed(
          "The Revision Id provided does not match the latest Revision Id. Call the GetAlias API"
              + " to retrieve the latest Revision Id");
    }
    AliasConfig next =
        AliasConfig.of(
            ref.name(),
            name,
            functionVersion.orElse(current.functionVersion()),
            description.orElse(current.description()),
            weights.orElse(current.additionalVersionWeights()));
    requireVersions(next);
    synchronized (writeLock) {
      store.replaceAlias(next, current.revisionId());
    }
    forget(ref.name());
    // provisioned concurrency on the alias moves with it to its new version
    store
        .provisioned(ref.name(), name)
        .filter(c -> !current.functionVersion().equals(next.functionVersion()))
        .ifPresent(
            c -> {
              invoker.provision(
                  resolve(new FunctionRef(ref.name(), Optional.of(next.functionVersion()))),
                  c.requested());
              invoker.provision(
                  resolve(new FunctionRef(ref.name(), Optional.of(current.functionVersion()))), 0);
            });
    return next;
  }

  public void deleteAlias(FunctionRef ref, String name) {
    AliasConfig.checkName(name);
    if (store.provisioned(ref.name(), name).isPresent()) {
      deprovision(new FunctionRef(ref.name(), Optional.of(name)));
    }
    synchronized (writeLock) {
      store.deleteAlias(ref.name(), name);
    }
    forget(ref.name());
  }

  /** ListAliases, optionally only those that route to {@code functionVersion}. */
  public List<AliasConfig> aliases(FunctionRef ref, Optional<String> functionVersion) {
    requireExists(ref);
    return store.aliases(ref.name()).stream()
        .filter(a -> functionVersion.map(v -> a.versions().contains(v)).orElse(true))
        .toList();
  }

  private void requireVersions(AliasConfig alias) {
    for (String v : alias.versions()) {
      if (store.function(alias.functionName(), v).isEmpty()) {
        throw LambdaError.notFound(
            "Function not found: " + account.functionArn(alias.functionName(), v));
      }
    }
  }

  public MetadataStore.FunctionPage list(
      Optional<String> marker, int maxItems, boolean allVersions) {
    return store.listFunctions(marker, maxItems, allVersions);
  }

  /** UpdateFunctionCode: new code for {@code $LATEST}, optionally published as a new version. */
  public FunctionConfig updateCode(
      FunctionRef ref,
      byte[] zip,
      Optional<List<String>> architectures,
      boolean publish,
      Optional<String> revisionId,
      boolean dryRun) {
    requireUnqualified(ref);
    FunctionConfig current = get(ref);
    checkRevision(current, revisionId);
    architectures.ifPresent(ConfigPatch::checkArchitectures);
    CodeDigest digest = code.put(zip);
    LayerCatalog.checkSize(current.layers(), digest.unzippedSize());
    FunctionConfig next =
        current.withCode(digest, architectures.orElse(List.of()), clock.instant());
    if (dryRun) {
      return next;
    }
    return commit(current, next, publish);
  }

  /** UpdateFunctionConfiguration. */
  public FunctionConfig updateConfiguration(
      FunctionRef ref, ConfigPatch settings, Optional<String> revisionId) {
    requireUnqualified(ref);
    FunctionConfig current = get(ref);
    checkRevision(current, revisionId);
    FunctionConfig next = settings.applyTo(current, clock.instant());
    next.deadLetterTarget().ifPresent(this::checkDestination);
    if (settings.runtime().isPresent()) {
      runtimes.launch(next.runtime());
    }
    runtimes.checkHandler(next.runtime(), next.handler());
    if (settings.layers().isEmpty()) {
      return commit(current, next, false);
    }
    long codeSize = code.unzippedSize(CodeDigest.hexFromBase64(current.codeSha256()));
    synchronized (writeLock) {
      // under the lock: a layer version deleted meanwhile is refused, never stored
      return commit(
          current, next.withLayers(layers.resolve(settings.layers().get(), codeSize)), false);
    }
  }

  private FunctionConfig commit(FunctionConfig current, FunctionConfig next, boolean publish) {
    FunctionConfig result = next;
    synchronized (writeLock) {
      store.replaceLatest(next, current.revisionId());
      if (publish) {
        result = store.publishVersion(next.functionName(), Optional.empty());
      }
    }
    if (publish) {
      invoker.declared(next.functionName(), result.version());
    }
    forget(next.functionName());
    invoker.retire(next.functionName(), FunctionRef.LATEST);
    return result;
  }

  /** DeleteFunction: the whole function, or one published version when qualified. */
  public void delete(FunctionRef ref) {
    if (ref.qualifier().isPresent() && ref.qualifier().get().equals(FunctionRef.LATEST)) {
      throw LambdaError.invalidParameter(
          "$LATEST version cannot be deleted without deleting the function.");
    }
    if (ref.qualifier().isPresent() && isAliasName(ref.qualifier().get())) {
      throw LambdaError.invalidParameter(
          "Deletion of aliases is not supported by DeleteFunction; use DeleteAlias to delete"
              + " alias "
              + ref.qualifier().get());
    }
    if (ref.qualifier().isPresent()) {
      List<String> using =
          store.aliases(ref.name()).stream()
              .filter(a -> a.versions().contains(ref.qualifier().get()))
              .map(AliasConfig::name)
              .toList();
      if (!using.isEmpty()) {
        throw LambdaError.conflict(
            "Unable to delete version because the following aliases reference it: " + using);
      }
    }
    boolean deleted;
    synchronized (writeLock) {
      deleted =
          ref.qualifier().isPresent()
              ? store.deleteVersion(ref.name(), ref.qualifier().get())
              : store.deleteFunction(ref.name());
      if (deleted && ref.qualifier().isPresent()) {
        store.deleteProvisioned(ref.name(), ref.qualifier().get());
      }
    }
    if (!deleted) {
      throw notFound(ref);
    }
    forget(ref.name());
    if (ref.qualifier().isPresent()) {
      invoker.retire(ref.name(), ref.qualifier().get());
    } else {
      invoker.functionDeleted(ref.name());
    }
    collectUnusedCode();
  }

  /**
   * Deletes the packages nothing needs any more: no stored version or layer version names them, and
   * no instance (running, or still stopping) runs from them.
   */
  void collectUnusedCode() {
    synchronized (writeLock) {
      Set<String> keep = new java.util.HashSet<>(store.referencedCode());
      keep.addAll(invoker.codeInUse());
      code.retainOnly(keep);
      invoker.retainPrepared(keep);
    }
  }

  /**
   * The runnable form of a reference, from memory when it was resolved before. An alias picks one
   * of its versions by their weights, afresh for every call.
   */
  public FunctionVersion resolve(FunctionRef ref) {
    String qualifier = ref.qualifierOrLatest();
    if (isAliasName(qualifier)) {
      AliasConfig alias = resolveAlias(ref.name(), qualifier);
      String version = alias.pick(java.util.concurrent.ThreadLocalRandom.current().nextDouble());
      return resolve(new FunctionRef(ref.name(), Optional.of(version)));
    }
    String key = ref.name() + ":" + qualifier;
    long generation = changes.generation(ref.name());
    Resolved cached = resolved.get(key);
    if (cached != null && cached.generation() == generation) {
      return cached.version();
    }
    FunctionConfig config = get(ref);
    FunctionVersion version =
        new FunctionVersion(
            config,
            account.functionArn(config.functionName(), config.version()),
            code.taskRoot(CodeDigest.hexFromBase64(config.codeSha256())),
            runtimes.launch(config.runtime()),
            config.layers().isEmpty()
                ? Optional.empty()
                : Optional.of(
                    code.merged(
                        config.layers().stream()
                            .map(FunctionConfig.Layer::codeSha256Hex)
                            .toList())),
            !"off"
                .equalsIgnoreCase(
                    store.tags(config.functionName()).get(FunctionVersion.NETWORK_TAG)));
    resolved.put(key, new Resolved(version, generation));
    return version;
  }

  private AliasConfig resolveAlias(String function, String name) {
    String key = function + ":@" + name;
    long generation = changes.generation(function);
    ResolvedAlias cached = resolvedAliases.get(key);
    if (cached != null && cached.generation() == generation) {
      return cached.alias();
    }
    AliasConfig alias = getAlias(function, name);
    resolvedAliases.put(key, new ResolvedAlias(alias, generation));
    return alias;
  }

  public Map<String, String> tags(FunctionRef ref) {
    requireExists(ref);
    return store.tags(ref.name());
  }

  public void tag(FunctionRef ref, Map<String, String> tags) {
    synchronized (writeLock) {
      store.tag(ref.name(), tags);
      if (tags.containsKey(FunctionVersion.NETWORK_TAG)) {
        networkChanged(ref.name());
      }
    }
  }

  public void untag(FunctionRef ref, Set<String> keys) {
    synchronized (writeLock) {
      store.untag(ref.name(), keys);
      if (keys.contains(FunctionVersion.NETWORK_TAG)) {
        networkChanged(ref.name());
      }
    }
  }

  /** The network tag changed: new invocations get instances with the new network. */
  private void networkChanged(String name) {
    forget(name);
    invoker.retireAll(name);
  }

  public Optional<Path> codeZip(String sha256Hex) {
    return code.zip(sha256Hex);
  }

  public MetadataStore.Usage usage() {
    return store.usage();
  }

  private void requireExists(FunctionRef ref) {
    if (!store.exists(ref.name())) {
      throw notFound(ref);
    }
  }

  /** Called after a change to {@code name} is durable. */
  private void forget(String name) {
    changes.changed(name);
    resolved.keySet().removeIf(k -> k.startsWith(name + ":"));
    resolvedAliases.keySet().removeIf(k -> k.startsWith(name + ":"));
  }

  private void requireUnqualified(FunctionRef ref) {
    if (ref.qualifier().isPresent() && !ref.qualifier().get().equals(FunctionRef.LATEST)) {
      throw LambdaError.invalidParameter(
          "Only the $LATEST version can be updated; a published version is immutable (got"
              + " qualifier "
              + ref.qualifier().get()
              + ")");
    }
  }

  private static void checkRevision(FunctionConfig current, Optional<String> revisionId) {
    if (revisionId.isPresent() && !revisionId.get().equals(current.revisionId())) {
      throw LambdaError.preconditionFailed(
          "The Revision Id provided does not match the latest Revision Id. Call the"
              + " GetFunction/GetAlias API to retrieve the latest Revision Id");
    }
  }

  private LambdaError notFound(FunctionRef ref) {
    return LambdaError.functionNotFound(
        ref.qualifier().isPresent()
            ? account.functionArn(ref.name(), ref.qualifier().get())
            : account.functionArn(ref.name()));
  }

  private static CodeDigest placeholderDigest() {
    return new CodeDigest("0".repeat(64), 0, 0);
  }
}
