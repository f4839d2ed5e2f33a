package dev.kiln.invoke;

import dev.kiln.model.Account;
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

  /**
   * Bumped after every durable change. A cached version is used only if no change happened since
   * before it was read from the store, so a read racing a change can never pin the old revision.
   */
  private final java.util.concurrent.atomic.AtomicLong changes =
      new java.util.concurrent.atomic.AtomicLong();

  private record Resolved(FunctionVersion version, long generation) {}

  private final Object writeLock = new Object();

  public FunctionCatalog(
      MetadataStore store,
      CodeStore code,
      RuntimeTable runtimes,
      Invoker invoker,
      Account account,
      InstantSource clock) {
    this.store = store;
    this.code = code;
    this.runtimes = runtimes;
    this.invoker = invoker;
    this.account = account;
    this.clock = clock;
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
    runtimes.launch(probe.runtime()); // refuses a runtime this host cannot run, before storing
    if (store.exists(name)) {
      throw LambdaError.conflict("Function already exist: " + name);
    }
    CodeDigest digest = code.put(zip);
    FunctionConfig latest = FunctionConfig.create(name, digest, settings, clock.instant());
    Optional<FunctionConfig> published =
        publish ? Optional.of(latest.asVersion("1")) : Optional.empty();
    synchronized (writeLock) {
      store.createFunction(latest, tags, published);
    }
    return published.orElse(latest);
  }

  /** The configuration a reference names: {@code $LATEST} or a published version number. */
  public FunctionConfig get(FunctionRef ref) {
    return store.function(ref.name(), ref.qualifierOrLatest()).orElseThrow(() -> notFound(ref));
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
    architectures.ifPresent(
        a -> {
          ConfigPatch p = ConfigPatch.empty();
          new ConfigPatch(
                  p.runtime(),
                  p.handler(),
                  p.role(),
                  p.description(),
                  p.memorySize(),
                  p.timeout(),
                  p.environment(),
                  p.ephemeralStorageSize(),
                  Optional.of(a),
                  p.packageType(),
                  p.tracingMode(),
                  p.logging())
              .applyTo(current, clock.instant());
        });
    CodeDigest digest = code.put(zip);
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
    if (settings.runtime().isPresent()) {
      runtimes.launch(next.runtime());
    }
    return commit(current, next, false);
  }

  private FunctionConfig commit(FunctionConfig current, FunctionConfig next, boolean publish) {
    FunctionConfig result = next;
    synchronized (writeLock) {
      store.replaceLatest(next, current.revisionId());
      if (publish) {
        result = store.publishVersion(next.functionName());
      }
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
    boolean deleted;
    synchronized (writeLock) {
      deleted =
          ref.qualifier().isPresent()
              ? store.deleteVersion(ref.name(), ref.qualifier().get())
              : store.deleteFunction(ref.name());
    }
    if (!deleted) {
      throw notFound(ref);
    }
    forget(ref.name());
    if (ref.qualifier().isPresent()) {
      invoker.retire(ref.name(), ref.qualifier().get());
    } else {
      invoker.retireAll(ref.name());
    }
    synchronized (writeLock) {
      code.retainOnly(store.referencedCode());
    }
  }

  /** The runnable form of a reference, from memory when it was resolved before. */
  public FunctionVersion resolve(FunctionRef ref) {
    String key = ref.name() + ":" + ref.qualifierOrLatest();
    long generation = changes.get();
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
            !"off"
                .equalsIgnoreCase(
                    store.tags(config.functionName()).get(FunctionVersion.NETWORK_TAG)));
    resolved.put(key, new Resolved(version, generation));
    return version;
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
    changes.incrementAndGet();
    resolved.keySet().removeIf(k -> k.startsWith(name + ":"));
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
