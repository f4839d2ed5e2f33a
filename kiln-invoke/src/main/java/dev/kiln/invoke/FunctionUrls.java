package dev.kiln.invoke;

import dev.kiln.model.FunctionRef;
import dev.kiln.model.FunctionUrlConfig;
import dev.kiln.model.FunctionUrlConfig.Cors;
import dev.kiln.model.LambdaError;
import dev.kiln.store.MetadataStore;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Function URLs: their configs (Create, Get, Update, Delete, List FunctionUrlConfig), one for a
 * function itself and one for each of its aliases, and {@link #byUrlId}, the look-up the server
 * that answers on {@code <url-id>.lambda-url...} host names runs from.
 *
 * <p>A config's URL id is drawn once, when it is created, and stays for its life; the URL a client
 * calls is made from it by the {@link FunctionUrlAddress} the server gives. A config goes with its
 * alias and its function (the store removes it in the same transaction).
 *
 * <p>{@link #byUrlId} answers from memory after the first read. Every change made here drops the
 * function's entries after the store's commit, and so does every change the {@link ChangeFeed}
 * reports (a deleted function or alias among them); an entry is only kept if nothing changed
 * between its read and its caching (a counter every reported change moves), so a reader never
 * brings back what a writer has just dropped. Unknown URL ids are not cached, so guessing them
 * costs a store read and no memory. Store changes are made under the catalog's shared {@code
 * writeLock}.
 */
public final class FunctionUrls {

  /**
   * What a URL id names: the function (and alias) to invoke, and how the URL is served.
   *
   * @param qualifier the alias, empty for the function itself
   * @param functionArn the function's ARN, qualified with the alias if any
   */
  public record Target(
      String urlId,
      String functionName,
      Optional<String> qualifier,
      String authType,
      Optional<Cors> cors,
      String invokeMode,
      String functionArn) {}

  /** One page of {@link #list}; {@code nextMarker} is present when more follow. */
  public record Page(List<FunctionUrlConfig> configs, Optional<String> nextMarker) {}

  /** The most ListFunctionUrlConfigs returns at once, and its default. */
  public static final int MAX_ITEMS = 50;

  private static final String QUALIFIER_PATTERN = "((?!^\\d+$)^[0-9a-zA-Z-_]+$)";
  private static final String VERSION_PATTERN = "(^\\$LATEST$)|((?!^[0-9]+$)([a-zA-Z0-9-_]+))";
  private static final String MARKER_PREFIX = "url:";

  private final MetadataStore store;
  private final References references;
  private final FunctionUrlAddress address;
  private final InstantSource clock;
  private final Object writeLock;
  private final Map<String, Target> byUrlId = new ConcurrentHashMap<>();
  private final ChangeFeed changes;

  /** Moves at every change reported, under the cache's monitor; a read caches only if it held. */
  private volatile long epoch;

  /**
   * @param writeLock held around every change to the stores, by every part of the catalog
   */
  FunctionUrls(
      MetadataStore store,
      References references,
      FunctionUrlAddress address,
      InstantSource clock,
      Object writeLock,
      ChangeFeed changes) {
    this.store = store;
    this.references = references;
    this.address = address;
    this.clock = clock;
    this.writeLock = writeLock;
    this.changes = changes;
    changes.subscribe(this::forget);
  }

  /** CreateFunctionUrlConfig: a new URL for the function or the alias {@code ref} names. */
  public FunctionUrlConfig create(
      FunctionRef ref, String authType, Optional<Cors> cors, Optional<String> invokeMode) {
    Optional<String> qualifier = qualifier(ref);
    FunctionUrlConfig.checkAuthType(authType);
    invokeMode.ifPresent(FunctionUrlConfig::checkInvokeMode);
    requireTarget(ref.name(), qualifier, "Function does not exist");
    var now = clock.instant().truncatedTo(ChronoUnit.MICROS);
    FunctionUrlConfig config =
        new FunctionUrlConfig(
            FunctionUrlConfig.newUrlId(),
            ref.name(),
            qualifier,
            authType,
            cors.filter(c -> !c.equals(Cors.empty())),
            invokeMode.orElse(FunctionUrlConfig.BUFFERED),
            now,
            now);
    synchronized (writeLock) {
      if (store.functionUrlConfig(ref.name(), qualifier.orElse("")).isPresent()) {
        throw LambdaError.conflict(
            "Failed to create function url config for [functionArn = "
                + arn(ref.name(), qualifier)
                + "]. Error message:  FunctionUrlConfig exists for this Lambda function");
      }
      store.createFunctionUrlConfig(config);
    }
    changes.changed(ref.name());
    return config;
  }

  /**
   * UpdateFunctionUrlConfig: changes what is given; a {@code Cors} given replaces the one stored
   * (one with nothing set removes it).
   */
  public FunctionUrlConfig update(
      FunctionRef ref,
      Optional<String> authType,
      Optional<Cors> cors,
      Optional<String> invokeMode) {
    Optional<String> qualifier = qualifier(ref);
    authType.ifPresent(FunctionUrlConfig::checkAuthType);
    invokeMode.ifPresent(FunctionUrlConfig::checkInvokeMode);
    requireTarget(ref.name(), qualifier, "Function does not exist");
    FunctionUrlConfig updated;
    synchronized (writeLock) {
      FunctionUrlConfig current = stored(ref.name(), qualifier);
      updated =
          current.withSettings(
              authType.orElse(current.authType()),
              cors.isPresent() ? cors.filter(c -> !c.equals(Cors.empty())) : current.cors(),
              invokeMode.orElse(current.invokeMode()),
              clock.instant().truncatedTo(ChronoUnit.MICROS));
      store.replaceFunctionUrlConfig(updated);
    }
    changes.changed(ref.name());
    return updated;
  }

  /** GetFunctionUrlConfig. */
  public FunctionUrlConfig get(FunctionRef ref) {
    Optional<String> qualifier = qualifier(ref);
    requireTarget(ref.name(), qualifier, "The resource you requested does not exist.");
    return stored(ref.name(), qualifier);
  }

  /** DeleteFunctionUrlConfig. */
  public void delete(FunctionRef ref) {
    Optional<String> qualifier = qualifier(ref);
    requireTarget(ref.name(), qualifier, "The resource you requested does not exist.");
    synchronized (writeLock) {
      if (!store.deleteFunctionUrlConfig(ref.name(), qualifier.orElse(""))) {
        throw noConfig();
      }
    }
    changes.changed(ref.name());
  }

  /**
   * ListFunctionUrlConfigs: the function's own URL first, then its aliases' by name.
   *
   * @param marker where the previous page ended, as its {@code nextMarker} said
   * @param maxItems 1 to {@link #MAX_ITEMS}
   */
  public Page list(FunctionRef ref, Optional<String> marker, int maxItems) {
    if (maxItems < 1) {
      throw LambdaError.validation(
          "maxItems", maxItems, "Member must have value greater than or equal to 1");
    }
    if (maxItems > MAX_ITEMS) {
      throw LambdaError.validation(
          "maxItems", maxItems, "Member must have value less than or equal to " + MAX_ITEMS);
    }
    String after =
        marker
            .map(
                m -> {
                  if (!m.startsWith(MARKER_PREFIX)) {
                    throw LambdaError.invalidParameter(
                        "Invalid Marker: it was not issued by this Kiln");
                  }
                  return m.substring(MARKER_PREFIX.length());
                })
            .orElse(null);
    if (!store.exists(ref.name())) {
      throw LambdaError.notFound("Function does not exist");
    }
    List<FunctionUrlConfig> rest =
        store.functionUrlConfigs(ref.name()).stream()
            .filter(c -> after == null || c.qualifier().orElse("").compareTo(after) > 0)
            .toList();
    List<FunctionUrlConfig> page = rest.subList(0, Math.min(maxItems, rest.size()));
    Optional<String> next =
        rest.size() > maxItems
            ? Optional.of(MARKER_PREFIX + page.getLast().qualifier().orElse(""))
            : Optional.empty();
    return new Page(page, next);
  }

  /** The URL a client calls to reach {@code config}. */
  public String functionUrl(FunctionUrlConfig config) {
    return address.url(config.urlId());
  }

  /** The ARN a config answers with: the function's, qualified with the alias if any. */
  public String functionArn(FunctionUrlConfig config) {
    return arn(config.functionName(), config.qualifier());
  }

  /** The config a URL id names, if any: read from memory after the first read. */
  public Optional<Target> byUrlId(String urlId) {
    if (urlId == null || !FunctionUrlConfig.isUrlId(urlId)) {
      return Optional.empty();
    }
    Target cached = byUrlId.get(urlId);
    if (cached != null) {
      return Optional.of(cached);
    }
    long before = epoch;
    Optional<FunctionUrlConfig> read = store.functionUrlConfigByUrlId(urlId);
    if (read.isEmpty()) {
      return Optional.empty();
    }
    FunctionUrlConfig c = read.get();
    Target target =
        new Target(
            c.urlId(),
            c.functionName(),
            c.qualifier(),
            c.authType(),
            c.cors(),
            c.invokeMode(),
            functionArn(c));
    synchronized (byUrlId) {
      // kept only if no change was reported between the read and now: else it may be stale
      if (epoch == before) {
        byUrlId.put(urlId, target);
      }
    }
    return Optional.of(target);
  }

  /** Drops what is cached of {@code function}'s URLs; called after every change to a function. */
  private void forget(String function) {
    synchronized (byUrlId) {
      epoch++;
      byUrlId.values().removeIf(t -> t.functionName().equals(function));
    }
  }

  /** The alias a reference names, refusing what AWS's model refuses as a function URL qualifier. */
  private static Optional<String> qualifier(FunctionRef ref) {
    if (ref.qualifier().isEmpty()) {
      return Optional.empty();
    }
    String q = ref.qualifier().get();
    if (q.length() > 128) {
      throw LambdaError.validation(
          "qualifier", q, "Member must have length less than or equal to 128");
    }
    if (q.equals(FunctionRef.LATEST)) {
      throw LambdaError.validation(
          "qualifier", q, "Member must satisfy regular expression pattern: " + QUALIFIER_PATTERN);
    }
    if (!References.isAliasName(q)) {
      throw LambdaError.validation(
          "qualifier", q, "Member must satisfy regular expression pattern: " + VERSION_PATTERN);
    }
    return Optional.of(q);
  }

  /** The function exists, and so does the alias; else {@code message} as AWS words it. */
  private void requireTarget(String function, Optional<String> alias, String message) {
    if (!store.exists(function)
        || alias.isPresent() && store.alias(function, alias.get()).isEmpty()) {
      throw LambdaError.notFound(message);
    }
  }

  private FunctionUrlConfig stored(String function, Optional<String> qualifier) {
    return store
        .functionUrlConfig(function, qualifier.orElse(""))
        .orElseThrow(FunctionUrls::noConfig);
  }

  private static LambdaError noConfig() {
    return LambdaError.notFound("The resource you requested does not exist.");
  }

  private String arn(String function, Optional<String> qualifier) {
    return qualifier
        .map(q -> references.account().functionArn(function, q))
        .orElseGet(() -> references.account().functionArn(function));
  }
}
