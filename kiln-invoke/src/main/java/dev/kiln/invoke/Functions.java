package dev.kiln.invoke;

import dev.kiln.model.Account;
import dev.kiln.model.AliasConfig;
import dev.kiln.model.CodeDigest;
import dev.kiln.model.ConfigPatch;
import dev.kiln.model.FunctionConfig;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
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
 * Functions and their versions: create, read, list, update, publish and delete them, and resolve a
 * reference to the runnable {@link FunctionVersion} an invocation needs, which is the hot path.
 *
 * <p>A function is its {@code $LATEST} configuration, which changes, and the versions published
 * from it, which never do. Every change goes to the durable stores first (code, then metadata, so
 * that metadata never names code that is not there), and only then to memory: the {@link
 * ChangeFeed} hears of it ({@code changed(name)}) and the instances of the old revision are
 * retired.
 *
 * <p>{@link #resolve} caches what it resolves (versions, and the aliases on the way to them), so an
 * invocation never reads the database. An entry is used only while its function's generation in the
 * change feed is the one read before the entry was read from the store: a change to one function,
 * whichever part of the catalog makes it, sends only that function's next resolve back to the
 * store, and a read racing a change can never pin the old revision. The caches are concurrent maps
 * and take no lock; entries of a changed function are also dropped when the feed reports it.
 *
 * <p>{@code writeLock}, shared by every part of the catalog and by {@link LayerCatalog}, is held
 * around each change to the stores, so that collecting unused code ({@link #collectUnusedCode})
 * never races a function or layer version starting to name a package, and a layer version deleted
 * while a function is created or updated is refused, never stored.
 */
public final class Functions {

  private final MetadataStore store;
  private final CodeStore code;
  private final RuntimeTable runtimes;
  private final Invoker invoker;
  private final References references;
  private final Account account;
  private final InstantSource clock;
  private final Object writeLock;
  private final ChangeFeed changes;
  private final LayerCatalog layers;

  private record Resolved(FunctionVersion version, long generation) {}

  private record ResolvedAlias(AliasConfig alias, long generation) {}

  private final ConcurrentHashMap<String, Resolved> resolved = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, ResolvedAlias> resolvedAliases =
      new ConcurrentHashMap<>();

  /**
   * @param writeLock held around every change to the stores, by every part of the catalog
   * @param changes told of every durable change to a function; the resolution caches listen
   */
  Functions(
      MetadataStore store,
      CodeStore code,
      RuntimeTable runtimes,
      Invoker invoker,
      References references,
      InstantSource clock,
      Object writeLock,
      ChangeFeed changes) {
    this.store = store;
    this.code = code;
    this.runtimes = runtimes;
    this.invoker = invoker;
    this.references = references;
    this.account = references.account();
    this.clock = clock;
    this.writeLock = writeLock;
    this.changes = changes;
    // functions and layer versions share the code store, and so the collection of unused code
    this.layers = new LayerCatalog(store, code, account, clock, writeLock, this::collectUnusedCode);
    changes.subscribe(this::dropResolved);
  }

  /** The layers functions can use. */
  LayerCatalog layers() {
    return layers;
  }

  /**
   * CreateFunction: stores the code and the configuration; with {@code publish}, version 1 too,
   * which is then what the response describes.
   */
  public FunctionConfig create(
      String name, byte[] zip, ConfigPatch settings, Map<String, String> tags, boolean publish) {
    FunctionConfig probe =
        FunctionConfig.create(name, placeholderDigest(), settings, clock.instant());
    probe.deadLetterTarget().ifPresent(references::checkDestination);
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
    return references.config(ref);
  }

  public MetadataStore.FunctionPage list(
      Optional<String> marker, int maxItems, boolean allVersions) {
    return store.listFunctions(marker, maxItems, allVersions);
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
    References.requireUnqualified(ref);
    FunctionConfig latest = get(ref.withQualifier(Optional.empty()));
    if (codeSha256.isPresent() && !codeSha256.get().equals(latest.codeSha256())) {
      throw LambdaError.invalidParameter(
          "CodeSHA256 ("
              + codeSha256.get()
              + ") is different from current CodeSHA256 in $LATEST ("
              + latest.codeSha256()
              + "). Please try again with the CodeSHA256 in $LATEST.");
    }
    References.checkRevision(latest, revisionId);
    FunctionConfig published;
    synchronized (writeLock) {
      published = store.publishVersion(ref.name(), description);
    }
    changes.changed(ref.name());
    invoker.declared(ref.name(), published.version());
    return published;
  }

  /** ListVersionsByFunction: {@code $LATEST}, then the published versions by number. */
  public List<FunctionConfig> versions(FunctionRef ref) {
    references.requireExists(ref);
    return store.versions(ref.name());
  }

  // ---- updates and deletion -----------------------------------------------------------------

  /** UpdateFunctionCode: new code for {@code $LATEST}, optionally published as a new version. */
  public FunctionConfig updateCode(
      FunctionRef ref,
      byte[] zip,
      Optional<List<String>> architectures,
      boolean publish,
      Optional<String> revisionId,
      boolean dryRun) {
    References.requireUnqualified(ref);
    FunctionConfig current = get(ref);
    References.checkRevision(current, revisionId);
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
    References.requireUnqualified(ref);
    FunctionConfig current = get(ref);
    References.checkRevision(current, revisionId);
    FunctionConfig next = settings.applyTo(current, clock.instant());
    next.deadLetterTarget().ifPresent(references::checkDestination);
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
    changes.changed(next.functionName());
    invoker.retire(next.functionName(), FunctionRef.LATEST);
    return result;
  }

  /** DeleteFunction: the whole function, or one published version when qualified. */
  public void delete(FunctionRef ref) {
    if (ref.qualifier().isPresent() && ref.qualifier().get().equals(FunctionRef.LATEST)) {
      throw LambdaError.invalidParameter(
          "$LATEST version cannot be deleted without deleting the function.");
    }
    if (ref.qualifier().isPresent() && References.isAliasName(ref.qualifier().get())) {
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
      throw references.notFound(ref);
    }
    changes.changed(ref.name());
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

  // ---- resolution (the invocation path) -----------------------------------------------------

  /**
   * The runnable form of a reference, from memory when it was resolved before. An alias picks one
   * of its versions by their weights, afresh for every call.
   */
  public FunctionVersion resolve(FunctionRef ref) {
    String qualifier = ref.qualifierOrLatest();
    if (References.isAliasName(qualifier)) {
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
    AliasConfig alias = references.alias(function, name);
    resolvedAliases.put(key, new ResolvedAlias(alias, generation));
    return alias;
  }

  /**
   * The feed reported a change to {@code name}: its entries are stale (the generation check would
   * skip them) and go, so that a deleted function leaves nothing behind.
   */
  private void dropResolved(String name) {
    resolved.keySet().removeIf(k -> k.startsWith(name + ":"));
    resolvedAliases.keySet().removeIf(k -> k.startsWith(name + ":"));
  }

  // ---- code and usage -----------------------------------------------------------------------

  public Optional<Path> codeZip(String sha256Hex) {
    return code.zip(sha256Hex);
  }

  public MetadataStore.Usage usage() {
    return store.usage();
  }

  private static CodeDigest placeholderDigest() {
    return new CodeDigest("0".repeat(64), 0, 0);
  }
}
