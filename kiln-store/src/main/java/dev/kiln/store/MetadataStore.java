package dev.kiln.store;

import dev.kiln.model.AliasConfig;
import dev.kiln.model.EventInvokeConfig;
import dev.kiln.model.EventSourceMapping;
import dev.kiln.model.FunctionConfig;
import dev.kiln.model.FunctionUrlConfig;
import dev.kiln.model.LayerPolicy;
import dev.kiln.model.LayerVersion;
import dev.kiln.model.ProvisionedConfig;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where Kiln keeps what users told it: functions, their versions and tags. Every method is one
 * transaction; a method that fails changes nothing. Implementations: {@link SqliteMetadataStore}
 * (embedded default). The hot invoke path never reads from here: it works from configurations the
 * invoker holds in memory, refreshed when the control plane changes them.
 */
public interface MetadataStore extends AutoCloseable {

  /**
   * Stores a new function's {@code $LATEST} (and, when the caller asked to publish, version 1).
   *
   * @throws StorageException.AlreadyExists if the name is taken
   */
  void createFunction(
      FunctionConfig latest, Map<String, String> tags, Optional<FunctionConfig> published);

  Optional<FunctionConfig> function(String name, String version);

  /**
   * Pages through the functions in name order: their {@code $LATEST} configurations, or with {@code
   * allVersions} every version ({@code $LATEST} first, then published ones by number).
   *
   * @param marker where the previous page ended, as its {@code nextMarker} said
   */
  FunctionPage listFunctions(Optional<String> marker, int maxItems, boolean allVersions);

  /** One page of {@link #listFunctions}; {@code nextMarker} is present when more follow. */
  record FunctionPage(List<FunctionConfig> functions, Optional<String> nextMarker) {}

  /**
   * Where a page of {@link #listFunctions} ended, as every store words its markers: the last row's
   * function name and the position of its version ({@code name/seq}), so that the next page starts
   * after it (keyset paging, stable while functions are added).
   */
  record ListMarker(String name, long seq) {

    /** Before the first row: every name sorts after {@code ""}. */
    public static final ListMarker START = new ListMarker("", Long.MAX_VALUE);

    /**
     * The marker a caller gave back, or {@link #START} without one.
     *
     * @throws StorageException.InvalidMarker if it is not one this store issued
     */
    public static ListMarker parse(Optional<String> marker) {
      if (marker.isEmpty()) {
        return START;
      }
      int slash = marker.get().lastIndexOf('/');
      try {
        return new ListMarker(
            marker.get().substring(0, slash), Long.parseLong(marker.get().substring(slash + 1)));
      } catch (RuntimeException e) {
        throw new StorageException.InvalidMarker(StorageException.Entity.FUNCTION, marker.get());
      }
    }

    /** The marker to hand out after the row of {@code name} at position {@code seq}. */
    public static String after(String name, long seq) {
      return name + "/" + seq;
    }
  }

  /**
   * Replaces {@code $LATEST} if its revision is still {@code expectedRevisionId}.
   *
   * @throws StorageException.StaleRevision if someone changed it first, {@link
   *     StorageException.NotFound} if it is gone
   */
  void replaceLatest(FunctionConfig config, String expectedRevisionId);

  /**
   * Snapshots {@code $LATEST} as the next version number, unless the newest version already has the
   * same code and configuration (AWS publishes nothing new then and returns that version).
   */
  FunctionConfig publishVersion(String name, Optional<String> description);

  /** Removes one published version; false if there was none. */
  boolean deleteVersion(String name, String version);

  /**
   * Removes a function with all its versions, tags, aliases and what hangs on them (policies, event
   * invoke configs, function URLs); false if there was none.
   */
  boolean deleteFunction(String name);

  boolean exists(String name);

  Map<String, String> tags(String name);

  void tag(String name, Map<String, String> tags);

  void untag(String name, Set<String> keys);

  /** Every version of a function: {@code $LATEST} first, then published ones by number. */
  List<FunctionConfig> versions(String name);

  /**
   * @throws StorageException.AlreadyExists if the alias exists
   */
  void createAlias(AliasConfig alias);

  Optional<AliasConfig> alias(String name, String alias);

  /** The function's aliases, by name. */
  List<AliasConfig> aliases(String name);

  /**
   * Replaces an alias if its revision is still {@code expectedRevisionId}.
   *
   * @throws StorageException.StaleRevision if someone changed it first
   */
  void replaceAlias(AliasConfig alias, String expectedRevisionId);

  /** Removes an alias and the function URL configured on it; false if there was none. */
  boolean deleteAlias(String name, String alias);

  /** Reserved concurrency of every function that has one. */
  Map<String, Integer> reservedConcurrency();

  void putReservedConcurrency(String name, int reserved);

  boolean deleteReservedConcurrency(String name);

  void putProvisioned(ProvisionedConfig config);

  Optional<ProvisionedConfig> provisioned(String name, String qualifier);

  /** A function's provisioned-concurrency configurations; every function's for an empty name. */
  List<ProvisionedConfig> provisionedConfigs(Optional<String> name);

  boolean deleteProvisioned(String name, String qualifier);

  void putEventInvokeConfig(EventInvokeConfig config);

  Optional<EventInvokeConfig> eventInvokeConfig(String name, String qualifier);

  List<EventInvokeConfig> eventInvokeConfigs(String name);

  boolean deleteEventInvokeConfig(String name, String qualifier);

  /**
   * Stores a new function URL.
   *
   * @throws StorageException.AlreadyExists if the function (or the alias) has one already, {@link
   *     StorageException.NotFound} if the function is gone
   */
  void createFunctionUrlConfig(FunctionUrlConfig config);

  /**
   * Replaces a function URL's settings (its URL id and creation time stay as they were stored).
   *
   * @throws StorageException.NotFound if it is gone
   */
  void replaceFunctionUrlConfig(FunctionUrlConfig config);

  /** The URL of a function ({@code qualifier} empty) or of one of its aliases. */
  Optional<FunctionUrlConfig> functionUrlConfig(String name, String qualifier);

  /** The function URL a URL id names. */
  Optional<FunctionUrlConfig> functionUrlConfigByUrlId(String urlId);

  /** A function's URLs: the function's own first, then its aliases' by name. */
  List<FunctionUrlConfig> functionUrlConfigs(String name);

  /** Removes a function URL; false if there was none. Deleting its function or alias does too. */
  boolean deleteFunctionUrlConfig(String name, String qualifier);

  /**
   * Stores a new event source mapping, as the source it reads is named by {@code sourceKey}.
   *
   * @throws StorageException.AlreadyExists if the function has a mapping on that source already
   *     (its key is that mapping's UUID), {@link StorageException.NotFound} if the function is gone
   */
  void createEventSourceMapping(EventSourceMapping mapping, String sourceKey);

  /**
   * Reads, changes and writes back one mapping in one transaction, so that a user's update and a
   * poller's report of its state cannot undo each other; the written copy's revision is one past
   * the stored one. Empty if the mapping is gone (or {@code change} returns null: nothing written).
   * A change may move the mapping to another function.
   *
   * @throws StorageException.AlreadyExists if that function has a mapping on the same source (its
   *     key is that mapping's UUID), {@link StorageException.NotFound} if that function is gone
   */
  Optional<EventSourceMapping> updateEventSourceMapping(
      String uuid, java.util.function.UnaryOperator<EventSourceMapping> change);

  Optional<EventSourceMapping> eventSourceMapping(String uuid);

  /**
   * Mappings in the order they were created, of one function and/or on one event source ARN when
   * given, from just after {@code marker}.
   *
   * @throws StorageException.InvalidMarker for a marker the store never issued
   */
  MappingPage eventSourceMappings(
      Optional<String> functionName,
      Optional<String> eventSourceArn,
      Optional<String> marker,
      int maxItems);

  record MappingPage(List<EventSourceMapping> mappings, Optional<String> nextMarker) {}

  /** Removes a mapping; false if there was none. Deleting its function does too. */
  boolean deleteEventSourceMapping(String uuid);

  /** Function count and bytes of zipped code held, for GetAccountSettings. */
  Usage usage();

  record Usage(long functionCount, long totalCodeSize) {}

  /**
   * Stores a new version of a layer (creating the layer), numbered one past the last version it
   * ever had; {@code draft}'s own number is ignored.
   */
  LayerVersion publishLayerVersion(LayerVersion draft);

  Optional<LayerVersion> layerVersion(String layerName, long version);

  /** The versions of one layer, or of all layers when empty, newest first within a layer. */
  List<LayerVersion> layerVersions(Optional<String> layerName);

  /** Removes a layer version and its policy; false if there was none. */
  boolean deleteLayerVersion(String layerName, long version);

  Optional<LayerPolicy> layerPolicy(String layerName, long version);

  /**
   * Replaces a layer version's policy if its revision is still {@code expectedRevisionId} (when
   * given).
   *
   * @throws StorageException.NotFound if the version is gone, {@link
   *     StorageException.StaleRevision} if the policy changed since
   */
  void putLayerPolicy(
      String layerName, long version, LayerPolicy policy, Optional<String> expectedRevisionId);

  /** The resource-based policy of a function ({@code qualifier} empty) or of one qualifier. */
  Optional<dev.kiln.model.FunctionPolicy> functionPolicy(String name, String qualifier);

  /**
   * Replaces a function's (or qualifier's) policy if its revision is still {@code
   * expectedRevisionId} (when given); an empty policy removes it.
   *
   * @throws StorageException.StaleRevision if the policy changed since
   */
  void putFunctionPolicy(
      String name,
      String qualifier,
      dev.kiln.model.FunctionPolicy policy,
      Optional<String> expectedRevisionId);

  /**
   * Hex digests of every package still needed: the code of every function version, the layers those
   * versions use, and every layer version.
   */
  Set<String> referencedCode();

  /** Answers at once when the store can be read; throws when it cannot (a health check). */
  void check();

  @Override
  void close();
}
