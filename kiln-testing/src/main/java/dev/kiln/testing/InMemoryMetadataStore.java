package dev.kiln.testing;

import dev.kiln.model.AliasConfig;
import dev.kiln.model.CodeDigest;
import dev.kiln.model.EventInvokeConfig;
import dev.kiln.model.EventSourceMapping;
import dev.kiln.model.FunctionConfig;
import dev.kiln.model.FunctionPolicy;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.FunctionUrlConfig;
import dev.kiln.model.LayerPolicy;
import dev.kiln.model.LayerVersion;
import dev.kiln.model.ProvisionedConfig;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.StorageException;
import dev.kiln.store.StorageException.Entity;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * A {@link MetadataStore} in memory, for unit tests of what sits above the store: it keeps the same
 * promises as the SQLite store (both pass {@link MetadataStoreContract}) and loses everything when
 * dropped. Every method is synchronized on the store, which guards all its maps; a method that
 * throws has changed nothing.
 */
public final class InMemoryMetadataStore implements MetadataStore {

  /** One function and everything that goes with it. */
  private static final class Function {
    /** By version, {@code $LATEST} first, then published ones by number. */
    final TreeMap<String, FunctionConfig> versions = new TreeMap<>(VERSION_ORDER);

    final TreeMap<String, String> tags = new TreeMap<>();
    final TreeMap<String, AliasConfig> aliases = new TreeMap<>();
    final TreeMap<String, ProvisionedConfig> provisioned = new TreeMap<>();
    final TreeMap<String, EventInvokeConfig> eventInvokeConfigs = new TreeMap<>();
    final Map<String, FunctionPolicy> policies = new HashMap<>();
    final TreeMap<String, FunctionUrlConfig> urls = new TreeMap<>();
    long nextVersion;
  }

  private record LayerKey(String name, long version) {}

  private static final Comparator<String> VERSION_ORDER = Comparator.comparingLong(v -> seq(v));

  private final TreeMap<String, Function> functions = new TreeMap<>();
  private final Map<String, Integer> reserved = new TreeMap<>();
  private final Map<String, Long> nextLayerVersion = new HashMap<>();
  private final TreeMap<LayerKey, LayerVersion> layerVersions =
      new TreeMap<>(
          Comparator.comparing(LayerKey::name)
              .thenComparing(LayerKey::version, Comparator.reverseOrder()));
  private final Map<LayerKey, LayerPolicy> layerPolicies = new HashMap<>();

  private record StoredMapping(long seq, String sourceKey, EventSourceMapping mapping) {}

  private final Map<String, StoredMapping> mappings = new LinkedHashMap<>();
  private long nextMappingSeq = 1;

  @Override
  public synchronized void createFunction(
      FunctionConfig latest, Map<String, String> tags, Optional<FunctionConfig> published) {
    String name = latest.functionName();
    if (functions.containsKey(name)) {
      throw new StorageException.AlreadyExists(Entity.FUNCTION, name);
    }
    Function f = new Function();
    f.versions.put(latest.version(), latest);
    published.ifPresent(p -> f.versions.put(p.version(), p));
    f.nextVersion = published.isPresent() ? 2 : 1;
    f.tags.putAll(tags);
    functions.put(name, f);
  }

  @Override
  public synchronized Optional<FunctionConfig> function(String name, String version) {
    return find(name).map(f -> f.versions.get(version));
  }

  @Override
  public synchronized FunctionPage listFunctions(
      Optional<String> marker, int maxItems, boolean allVersions) {
    MetadataStore.ListMarker after = MetadataStore.ListMarker.parse(marker);
    List<FunctionConfig> page = new ArrayList<>();
    for (var f : functions.tailMap(after.name(), true).entrySet()) {
      for (FunctionConfig c : f.getValue().versions.values()) {
        if (!allVersions && !c.version().equals(FunctionRef.LATEST)) {
          continue;
        }
        if (f.getKey().equals(after.name()) && seq(c.version()) <= after.seq()) {
          continue;
        }
        if (page.size() == maxItems) {
          FunctionConfig last = page.getLast();
          return new FunctionPage(
              page,
              Optional.of(
                  MetadataStore.ListMarker.after(last.functionName(), seq(last.version()))));
        }
        page.add(c);
      }
    }
    return new FunctionPage(page, Optional.empty());
  }

  @Override
  public synchronized void replaceLatest(FunctionConfig config, String expectedRevisionId) {
    Function f = require(config.functionName());
    if (!f.versions.get(FunctionRef.LATEST).revisionId().equals(expectedRevisionId)) {
      throw new StorageException.StaleRevision(Entity.FUNCTION, config.functionName());
    }
    f.versions.put(FunctionRef.LATEST, config);
  }

  @Override
  public synchronized FunctionConfig publishVersion(String name, Optional<String> description) {
    Function f = require(name);
    FunctionConfig latest = f.versions.get(FunctionRef.LATEST);
    FunctionConfig newest = f.versions.get(Long.toString(f.nextVersion - 1));
    if (newest != null && newest.sameCodeAndSettings(latest)) {
      return newest;
    }
    FunctionConfig snapshot = latest.asVersion(Long.toString(f.nextVersion));
    FunctionConfig version = description.map(snapshot::withDescription).orElse(snapshot);
    f.versions.put(version.version(), version);
    f.nextVersion++;
    return version;
  }

  @Override
  public synchronized boolean deleteVersion(String name, String version) {
    if (version.equals(FunctionRef.LATEST)) {
      throw new IllegalArgumentException("$LATEST goes only with its function");
    }
    return find(name).map(f -> f.versions.remove(version) != null).orElse(false);
  }

  @Override
  public synchronized boolean deleteFunction(String name) {
    reserved.remove(name);
    mappings.values().removeIf(m -> m.mapping().functionName().equals(name));
    return functions.remove(name) != null;
  }

  @Override
  public synchronized boolean exists(String name) {
    return functions.containsKey(name);
  }

  @Override
  public synchronized Map<String, String> tags(String name) {
    return new LinkedHashMap<>(find(name).map(f -> f.tags).orElse(new TreeMap<>()));
  }

  @Override
  public synchronized void tag(String name, Map<String, String> tags) {
    require(name).tags.putAll(tags);
  }

  @Override
  public synchronized void untag(String name, Set<String> keys) {
    require(name).tags.keySet().removeAll(keys);
  }

  @Override
  public synchronized List<FunctionConfig> versions(String name) {
    return find(name).map(f -> List.copyOf(f.versions.values())).orElse(List.of());
  }

  @Override
  public synchronized void createAlias(AliasConfig alias) {
    Function f = require(alias.functionName());
    if (f.aliases.containsKey(alias.name())) {
      throw new StorageException.AlreadyExists(Entity.ALIAS, alias.name());
    }
    f.aliases.put(alias.name(), alias);
  }

  @Override
  public synchronized Optional<AliasConfig> alias(String name, String alias) {
    return find(name).map(f -> f.aliases.get(alias));
  }

  @Override
  public synchronized List<AliasConfig> aliases(String name) {
    return find(name).map(f -> List.copyOf(f.aliases.values())).orElse(List.of());
  }

  @Override
  public synchronized void replaceAlias(AliasConfig alias, String expectedRevisionId) {
    AliasConfig current =
        alias(alias.functionName(), alias.name())
            .orElseThrow(() -> new StorageException.NotFound(Entity.ALIAS, alias.name()));
    if (!current.revisionId().equals(expectedRevisionId)) {
      throw new StorageException.StaleRevision(Entity.ALIAS, alias.name());
    }
    functions.get(alias.functionName()).aliases.put(alias.name(), alias);
  }

  @Override
  public synchronized boolean deleteAlias(String name, String alias) {
    find(name).ifPresent(f -> f.urls.remove(alias));
    return find(name).map(f -> f.aliases.remove(alias) != null).orElse(false);
  }

  @Override
  public synchronized void createFunctionUrlConfig(FunctionUrlConfig config) {
    Function f = require(config.functionName());
    String qualifier = config.qualifier().orElse("");
    if (f.urls.containsKey(qualifier)) {
      throw new StorageException.AlreadyExists(
          Entity.FUNCTION_URL,
          qualifier.isEmpty() ? config.functionName() : config.functionName() + ":" + qualifier);
    }
    if (functionUrlConfigByUrlId(config.urlId()).isPresent()) {
      throw new StorageException.AlreadyExists(Entity.FUNCTION_URL, config.urlId());
    }
    f.urls.put(qualifier, config);
  }

  @Override
  public synchronized void replaceFunctionUrlConfig(FunctionUrlConfig config) {
    String qualifier = config.qualifier().orElse("");
    FunctionUrlConfig current =
        functionUrlConfig(config.functionName(), qualifier)
            .orElseThrow(
                () ->
                    new StorageException.NotFound(
                        Entity.FUNCTION_URL,
                        qualifier.isEmpty()
                            ? config.functionName()
                            : config.functionName() + ":" + qualifier));
    functions
        .get(config.functionName())
        .urls
        .put(
            qualifier,
            current.withSettings(
                config.authType(), config.cors(), config.invokeMode(), config.lastModifiedTime()));
  }

  @Override
  public synchronized Optional<FunctionUrlConfig> functionUrlConfig(String name, String qualifier) {
    return find(name).map(f -> f.urls.get(qualifier));
  }

  @Override
  public synchronized Optional<FunctionUrlConfig> functionUrlConfigByUrlId(String urlId) {
    return functions.values().stream()
        .flatMap(f -> f.urls.values().stream())
        .filter(c -> c.urlId().equals(urlId))
        .findFirst();
  }

  @Override
  public synchronized List<FunctionUrlConfig> functionUrlConfigs(String name) {
    return find(name).map(f -> List.copyOf(f.urls.values())).orElse(List.of());
  }

  @Override
  public synchronized boolean deleteFunctionUrlConfig(String name, String qualifier) {
    return find(name).map(f -> f.urls.remove(qualifier) != null).orElse(false);
  }

  @Override
  public synchronized void createEventSourceMapping(EventSourceMapping mapping, String sourceKey) {
    require(mapping.functionName());
    for (StoredMapping m : mappings.values()) {
      if (m.mapping().functionName().equals(mapping.functionName())
          && m.sourceKey().equals(sourceKey)) {
        throw new StorageException.AlreadyExists(Entity.EVENT_SOURCE_MAPPING, m.mapping().uuid());
      }
    }
    mappings.put(mapping.uuid(), new StoredMapping(nextMappingSeq++, sourceKey, mapping));
  }

  @Override
  public synchronized Optional<EventSourceMapping> updateEventSourceMapping(
      String uuid, java.util.function.UnaryOperator<EventSourceMapping> change) {
    StoredMapping current = mappings.get(uuid);
    if (current == null) {
      return Optional.empty();
    }
    EventSourceMapping changed = change.apply(current.mapping());
    if (changed == null) {
      return Optional.of(current.mapping());
    }
    EventSourceMapping stored =
        changed.toBuilder().revision(current.mapping().revision() + 1).build();
    if (!stored.functionName().equals(current.mapping().functionName())) {
      require(stored.functionName());
      for (StoredMapping m : mappings.values()) {
        if (m.mapping().functionName().equals(stored.functionName())
            && m.sourceKey().equals(current.sourceKey())) {
          throw new StorageException.AlreadyExists(Entity.EVENT_SOURCE_MAPPING, m.mapping().uuid());
        }
      }
    }
    mappings.put(uuid, new StoredMapping(current.seq(), current.sourceKey(), stored));
    return Optional.of(stored);
  }

  @Override
  public synchronized Optional<EventSourceMapping> eventSourceMapping(String uuid) {
    return Optional.ofNullable(mappings.get(uuid)).map(StoredMapping::mapping);
  }

  @Override
  public synchronized MappingPage eventSourceMappings(
      Optional<String> functionName,
      Optional<String> eventSourceArn,
      Optional<String> marker,
      int maxItems) {
    long after;
    try {
      after = marker.map(Long::parseLong).orElse(0L);
    } catch (NumberFormatException e) {
      throw new StorageException.InvalidMarker(Entity.EVENT_SOURCE_MAPPING, marker.get());
    }
    if (marker.isPresent() && after < 1) {
      throw new StorageException.InvalidMarker(Entity.EVENT_SOURCE_MAPPING, marker.get());
    }
    List<StoredMapping> matching =
        mappings.values().stream()
            .filter(m -> m.seq() > after)
            .filter(m -> functionName.map(m.mapping().functionName()::equals).orElse(true))
            .filter(
                m ->
                    eventSourceArn.isEmpty() || m.mapping().eventSourceArn().equals(eventSourceArn))
            .sorted(Comparator.comparingLong(StoredMapping::seq))
            .toList();
    if (matching.size() <= maxItems) {
      return new MappingPage(
          matching.stream().map(StoredMapping::mapping).toList(), Optional.empty());
    }
    List<StoredMapping> page = matching.subList(0, maxItems);
    return new MappingPage(
        page.stream().map(StoredMapping::mapping).toList(),
        Optional.of(Long.toString(page.get(page.size() - 1).seq())));
  }

  @Override
  public synchronized boolean deleteEventSourceMapping(String uuid) {
    return mappings.remove(uuid) != null;
  }

  @Override
  public synchronized Map<String, Integer> reservedConcurrency() {
    return new LinkedHashMap<>(reserved);
  }

  @Override
  public synchronized void putReservedConcurrency(String name, int count) {
    require(name);
    reserved.put(name, count);
  }

  @Override
  public synchronized boolean deleteReservedConcurrency(String name) {
    return reserved.remove(name) != null;
  }

  @Override
  public synchronized void putProvisioned(ProvisionedConfig config) {
    require(config.functionName()).provisioned.put(config.qualifier(), config);
  }

  @Override
  public synchronized Optional<ProvisionedConfig> provisioned(String name, String qualifier) {
    return find(name).map(f -> f.provisioned.get(qualifier));
  }

  @Override
  public synchronized List<ProvisionedConfig> provisionedConfigs(Optional<String> name) {
    return functions.entrySet().stream()
        .filter(e -> name.isEmpty() || name.get().equals(e.getKey()))
        .flatMap(e -> e.getValue().provisioned.values().stream())
        .toList();
  }

  @Override
  public synchronized boolean deleteProvisioned(String name, String qualifier) {
    return find(name).map(f -> f.provisioned.remove(qualifier) != null).orElse(false);
  }

  @Override
  public synchronized void putEventInvokeConfig(EventInvokeConfig config) {
    require(config.functionName()).eventInvokeConfigs.put(config.qualifier(), config);
  }

  @Override
  public synchronized Optional<EventInvokeConfig> eventInvokeConfig(String name, String qualifier) {
    return find(name).map(f -> f.eventInvokeConfigs.get(qualifier));
  }

  @Override
  public synchronized List<EventInvokeConfig> eventInvokeConfigs(String name) {
    return find(name).map(f -> List.copyOf(f.eventInvokeConfigs.values())).orElse(List.of());
  }

  @Override
  public synchronized boolean deleteEventInvokeConfig(String name, String qualifier) {
    return find(name).map(f -> f.eventInvokeConfigs.remove(qualifier) != null).orElse(false);
  }

  @Override
  public synchronized Usage usage() {
    long size =
        functions.values().stream()
            .flatMap(f -> f.versions.values().stream())
            .mapToLong(FunctionConfig::codeSize)
            .sum();
    return new Usage(functions.size(), size);
  }

  @Override
  public synchronized LayerVersion publishLayerVersion(LayerVersion draft) {
    long number = nextLayerVersion.merge(draft.layerName(), 1L, Long::sum);
    LayerVersion stored =
        new LayerVersion(
            draft.layerName(),
            number,
            draft.description(),
            draft.createdDate(),
            draft.compatibleRuntimes(),
            draft.compatibleArchitectures(),
            draft.licenseInfo(),
            draft.codeSha256Hex(),
            draft.codeSize(),
            draft.unzippedSize());
    layerVersions.put(new LayerKey(draft.layerName(), number), stored);
    return stored;
  }

  @Override
  public synchronized Optional<LayerVersion> layerVersion(String layerName, long version) {
    return Optional.ofNullable(layerVersions.get(new LayerKey(layerName, version)));
  }

  @Override
  public synchronized List<LayerVersion> layerVersions(Optional<String> layerName) {
    return layerVersions.values().stream()
        .filter(v -> layerName.isEmpty() || layerName.get().equals(v.layerName()))
        .toList();
  }

  @Override
  public synchronized boolean deleteLayerVersion(String layerName, long version) {
    LayerKey key = new LayerKey(layerName, version);
    layerPolicies.remove(key);
    return layerVersions.remove(key) != null;
  }

  @Override
  public synchronized Optional<LayerPolicy> layerPolicy(String layerName, long version) {
    return Optional.ofNullable(layerPolicies.get(new LayerKey(layerName, version)));
  }

  @Override
  public synchronized void putLayerPolicy(
      String layerName, long version, LayerPolicy policy, Optional<String> expectedRevisionId) {
    LayerKey key = new LayerKey(layerName, version);
    if (expectedRevisionId.isPresent()
        && !layerPolicy(layerName, version)
            .map(LayerPolicy::revisionId)
            .equals(expectedRevisionId)) {
      throw new StorageException.StaleRevision(Entity.LAYER_POLICY, layerName + ":" + version);
    }
    if (!layerVersions.containsKey(key)) {
      throw new StorageException.NotFound(Entity.LAYER_VERSION, layerName + ":" + version);
    }
    if (policy.statements().isEmpty()) {
      layerPolicies.remove(key);
    } else {
      layerPolicies.put(key, policy);
    }
  }

  @Override
  public synchronized Optional<FunctionPolicy> functionPolicy(String name, String qualifier) {
    return find(name).map(f -> f.policies.get(qualifier));
  }

  @Override
  public synchronized void putFunctionPolicy(
      String name, String qualifier, FunctionPolicy policy, Optional<String> expectedRevisionId) {
    if (expectedRevisionId.isPresent()
        && !functionPolicy(name, qualifier)
            .map(FunctionPolicy::revisionId)
            .equals(expectedRevisionId)) {
      throw new StorageException.StaleRevision(Entity.FUNCTION_POLICY, name);
    }
    if (policy.statements().isEmpty()) {
      find(name).ifPresent(f -> f.policies.remove(qualifier));
    } else {
      require(name).policies.put(qualifier, policy);
    }
  }

  @Override
  public synchronized Set<String> referencedCode() {
    Set<String> digests = new HashSet<>();
    for (Function f : functions.values()) {
      for (FunctionConfig c : f.versions.values()) {
        digests.add(CodeDigest.hexFromBase64(c.codeSha256()));
        c.layers().forEach(l -> digests.add(l.codeSha256Hex()));
      }
    }
    layerVersions.values().forEach(v -> digests.add(v.codeSha256Hex()));
    return digests;
  }

  @Override
  public void check() {
    // memory answers at once
  }

  @Override
  public void close() {
    // nothing to release
  }

  private Optional<Function> find(String name) {
    return Optional.ofNullable(functions.get(name));
  }

  private Function require(String name) {
    return find(name).orElseThrow(() -> new StorageException.NotFound(Entity.FUNCTION, name));
  }

  /** Where a version sorts among its function's: {@code $LATEST} 0, then by number. */
  private static long seq(String version) {
    return version.equals(FunctionRef.LATEST) ? -1 : Long.parseLong(version);
  }
}
