package dev.kiln.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
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
import dev.kiln.store.StorageException.Entity;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The embedded metadata store: one SQLite file in WAL mode with {@code synchronous=FULL}, so a
 * change that returned is on disk even if Kiln is killed the next instant. Schema changes are
 * versioned Flyway migrations under {@code db/migration}.
 *
 * <p>A function's configuration is kept as one JSON document per version (the record {@link
 * FunctionConfig}), with the columns that queries need beside it; aliases, layer versions and
 * policies likewise. Control-plane traffic is light next to invokes, which never come here, so the
 * one connection of its {@link Jdbc} (whose monitor guards it) keeps every method a simple serial
 * transaction.
 */
public final class SqliteMetadataStore implements MetadataStore {

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .registerModule(new Jdk8Module())
          .registerModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** Orders a function's versions: {@code $LATEST} (0) before versions 1, 2, ... */
  private static final String VERSION_SEQ =
      "CASE WHEN version = '" + FunctionRef.LATEST + "' THEN 0 ELSE CAST(version AS INTEGER) END";

  private final Jdbc db;

  private SqliteMetadataStore(Jdbc db) {
    this.db = db;
  }

  /** Opens (creating and migrating if needed) the store in {@code file}. */
  public static SqliteMetadataStore open(Path file) {
    return new SqliteMetadataStore(SqliteDatabase.open(file, "db/migration", "metadata store"));
  }

  @Override
  public void createFunction(
      FunctionConfig latest, Map<String, String> tags, Optional<FunctionConfig> published) {
    db.inTransaction(
        () -> {
          String name = latest.functionName();
          if (exists(name)) {
            throw new StorageException.AlreadyExists(Entity.FUNCTION, name);
          }
          db.update(
              "INSERT INTO functions(name, next_version) VALUES (?, ?)",
              name,
              published.isPresent() ? 2 : 1);
          insertVersion(latest);
          published.ifPresent(this::insertVersion);
          putTags(name, tags);
          return null;
        });
  }

  @Override
  public Optional<FunctionConfig> function(String name, String version) {
    return db.first(
        "SELECT config FROM function_versions WHERE name = ? AND version = ?",
        rs -> read(rs.getString(1), FunctionConfig.class),
        name,
        version);
  }

  private record Listed(FunctionConfig config, long seq) {}

  @Override
  public FunctionPage listFunctions(Optional<String> marker, int maxItems, boolean allVersions) {
    // keyset pagination on (name, seq); a marker is the last row's "name/seq"
    ListMarker after = ListMarker.parse(marker);
    List<Listed> rows =
        db.list(
            "SELECT config, seq FROM (SELECT name, config, "
                + VERSION_SEQ
                + " AS seq FROM function_versions WHERE (? OR version = ?))"
                + " WHERE name > ? OR (name = ? AND seq > ?) ORDER BY name, seq LIMIT ?",
            rs -> new Listed(read(rs.getString(1), FunctionConfig.class), rs.getLong(2)),
            allVersions,
            FunctionRef.LATEST,
            after.name(),
            after.name(),
            after.seq(),
            maxItems + 1);
    List<Listed> page = rows.subList(0, Math.min(maxItems, rows.size()));
    Optional<String> next =
        rows.size() > maxItems
            ? Optional.of(
                ListMarker.after(page.getLast().config().functionName(), page.getLast().seq()))
            : Optional.empty();
    return new FunctionPage(page.stream().map(Listed::config).toList(), next);
  }

  @Override
  public void replaceLatest(FunctionConfig config, String expectedRevisionId) {
    db.inTransaction(
        () -> {
          String name = config.functionName();
          int changed =
              db.update(
                  "UPDATE function_versions SET config = ?, revision_id = ?, code_sha256_hex = ?,"
                      + " code_size = ? WHERE name = ? AND version = ? AND revision_id = ?",
                  write(config),
                  config.revisionId(),
                  CodeDigest.hexFromBase64(config.codeSha256()),
                  config.codeSize(),
                  name,
                  FunctionRef.LATEST,
                  expectedRevisionId);
          if (changed == 1) {
            return null;
          }
          requireExists(name);
          throw new StorageException.StaleRevision(Entity.FUNCTION, name);
        });
  }

  @Override
  public FunctionConfig publishVersion(String name, Optional<String> description) {
    return db.inTransaction(
        () -> {
          FunctionConfig latest =
              function(name, FunctionRef.LATEST)
                  .orElseThrow(() -> new StorageException.NotFound(Entity.FUNCTION, name));
          long number =
              db.first(
                      "SELECT next_version FROM functions WHERE name = ?",
                      rs -> rs.getLong(1),
                      name)
                  .orElseThrow();
          if (number > 1) {
            Optional<FunctionConfig> newest = function(name, Long.toString(number - 1));
            if (newest.isPresent() && newest.get().sameCodeAndSettings(latest)) {
              return newest.get();
            }
          }
          FunctionConfig snapshot = latest.asVersion(Long.toString(number));
          FunctionConfig version = description.map(snapshot::withDescription).orElse(snapshot);
          insertVersion(version);
          db.update("UPDATE functions SET next_version = ? WHERE name = ?", number + 1, name);
          return version;
        });
  }

  @Override
  public boolean deleteFunction(String name) {
    return db.update("DELETE FROM functions WHERE name = ?", name) == 1;
  }

  @Override
  public boolean deleteVersion(String name, String version) {
    if (version.equals(FunctionRef.LATEST)) {
      throw new IllegalArgumentException("$LATEST goes only with its function");
    }
    return db.update("DELETE FROM function_versions WHERE name = ? AND version = ?", name, version)
        == 1;
  }

  @Override
  public List<FunctionConfig> versions(String name) {
    return db.list(
        "SELECT config FROM function_versions WHERE name = ? ORDER BY " + VERSION_SEQ,
        rs -> read(rs.getString(1), FunctionConfig.class),
        name);
  }

  @Override
  public void createAlias(AliasConfig alias) {
    db.inTransaction(
        () -> {
          requireExists(alias.functionName());
          if (alias(alias.functionName(), alias.name()).isPresent()) {
            throw new StorageException.AlreadyExists(Entity.ALIAS, alias.name());
          }
          db.update(
              "INSERT INTO function_aliases (name, alias, config) VALUES (?, ?, ?)",
              alias.functionName(),
              alias.name(),
              write(alias));
          return null;
        });
  }

  @Override
  public Optional<AliasConfig> alias(String name, String alias) {
    return db.first(
        "SELECT config FROM function_aliases WHERE name = ? AND alias = ?",
        rs -> read(rs.getString(1), AliasConfig.class),
        name,
        alias);
  }

  @Override
  public List<AliasConfig> aliases(String name) {
    return db.list(
        "SELECT config FROM function_aliases WHERE name = ? ORDER BY alias",
        rs -> read(rs.getString(1), AliasConfig.class),
        name);
  }

  @Override
  public void replaceAlias(AliasConfig alias, String expectedRevisionId) {
    db.inTransaction(
        () -> {
          AliasConfig current =
              alias(alias.functionName(), alias.name())
                  .orElseThrow(() -> new StorageException.NotFound(Entity.ALIAS, alias.name()));
          if (!current.revisionId().equals(expectedRevisionId)) {
            throw new StorageException.StaleRevision(Entity.ALIAS, alias.name());
          }
          db.update(
              "UPDATE function_aliases SET config = ? WHERE name = ? AND alias = ?",
              write(alias),
              alias.functionName(),
              alias.name());
          return null;
        });
  }

  @Override
  public boolean deleteAlias(String name, String alias) {
    return db.inTransaction(
        () -> {
          db.update("DELETE FROM function_urls WHERE name = ? AND qualifier = ?", name, alias);
          return db.update("DELETE FROM function_aliases WHERE name = ? AND alias = ?", name, alias)
              == 1;
        });
  }

  @Override
  public Map<String, Integer> reservedConcurrency() {
    Map<String, Integer> out = new LinkedHashMap<>();
    db.list(
            "SELECT name, reserved FROM function_concurrency ORDER BY name",
            rs -> Map.entry(rs.getString(1), rs.getInt(2)))
        .forEach(e -> out.put(e.getKey(), e.getValue()));
    return out;
  }

  @Override
  public void putReservedConcurrency(String name, int reserved) {
    db.inTransaction(
        () -> {
          requireExists(name);
          return db.update(
              db.dialect()
                  .upsertReplacing(
                      "function_concurrency", List.of("name"), List.of("name", "reserved")),
              name,
              reserved);
        });
  }

  @Override
  public boolean deleteReservedConcurrency(String name) {
    return db.update("DELETE FROM function_concurrency WHERE name = ?", name) == 1;
  }

  @Override
  public void putProvisioned(ProvisionedConfig config) {
    db.inTransaction(
        () -> {
          requireExists(config.functionName());
          return db.update(
              db.dialect()
                  .upsertReplacing(
                      "provisioned_concurrency",
                      List.of("name", "qualifier"),
                      List.of("name", "qualifier", "requested", "last_modified")),
              config.functionName(),
              config.qualifier(),
              config.requested(),
              config.lastModified().toString());
        });
  }

  @Override
  public Optional<ProvisionedConfig> provisioned(String name, String qualifier) {
    return provisionedWhere("name = ? AND qualifier = ?", name, qualifier).stream().findFirst();
  }

  @Override
  public List<ProvisionedConfig> provisionedConfigs(Optional<String> name) {
    return provisionedWhere("? IS NULL OR name = ?", name, name);
  }

  private List<ProvisionedConfig> provisionedWhere(String where, Object... params) {
    return db.list(
        "SELECT name, qualifier, requested, last_modified FROM provisioned_concurrency WHERE "
            + where
            + " ORDER BY name, qualifier",
        rs ->
            new ProvisionedConfig(
                rs.getString(1), rs.getString(2), rs.getInt(3), Instant.parse(rs.getString(4))),
        params);
  }

  @Override
  public boolean deleteProvisioned(String name, String qualifier) {
    return db.update(
            "DELETE FROM provisioned_concurrency WHERE name = ? AND qualifier = ?", name, qualifier)
        == 1;
  }

  @Override
  public void putEventInvokeConfig(EventInvokeConfig config) {
    db.inTransaction(
        () -> {
          requireExists(config.functionName());
          return db.update(
              db.dialect()
                  .upsertReplacing(
                      "event_invoke_configs",
                      List.of("name", "qualifier"),
                      List.of("name", "qualifier", "config")),
              config.functionName(),
              config.qualifier(),
              write(config));
        });
  }

  @Override
  public Optional<EventInvokeConfig> eventInvokeConfig(String name, String qualifier) {
    return db.first(
        "SELECT config FROM event_invoke_configs WHERE name = ? AND qualifier = ?",
        rs -> read(rs.getString(1), EventInvokeConfig.class),
        name,
        qualifier);
  }

  @Override
  public List<EventInvokeConfig> eventInvokeConfigs(String name) {
    return db.list(
        "SELECT config FROM event_invoke_configs WHERE name = ? ORDER BY qualifier",
        rs -> read(rs.getString(1), EventInvokeConfig.class),
        name);
  }

  @Override
  public boolean deleteEventInvokeConfig(String name, String qualifier) {
    return db.update(
            "DELETE FROM event_invoke_configs WHERE name = ? AND qualifier = ?", name, qualifier)
        == 1;
  }

  @Override
  public void createFunctionUrlConfig(FunctionUrlConfig config) {
    db.inTransaction(
        () -> {
          requireExists(config.functionName());
          String qualifier = config.qualifier().orElse("");
          if (functionUrlConfig(config.functionName(), qualifier).isPresent()) {
            throw new StorageException.AlreadyExists(
                Entity.FUNCTION_URL, urlKey(config.functionName(), qualifier));
          }
          if (functionUrlConfigByUrlId(config.urlId()).isPresent()) {
            throw new StorageException.AlreadyExists(Entity.FUNCTION_URL, config.urlId());
          }
          return db.update(
              "INSERT INTO function_urls (name, qualifier, url_id, config) VALUES (?, ?, ?, ?)",
              config.functionName(),
              qualifier,
              config.urlId(),
              write(config));
        });
  }

  @Override
  public void replaceFunctionUrlConfig(FunctionUrlConfig config) {
    db.inTransaction(
        () -> {
          String qualifier = config.qualifier().orElse("");
          FunctionUrlConfig current =
              functionUrlConfig(config.functionName(), qualifier)
                  .orElseThrow(
                      () ->
                          new StorageException.NotFound(
                              Entity.FUNCTION_URL, urlKey(config.functionName(), qualifier)));
          FunctionUrlConfig kept =
              current.withSettings(
                  config.authType(), config.cors(), config.invokeMode(), config.lastModifiedTime());
          return db.update(
              "UPDATE function_urls SET config = ? WHERE name = ? AND qualifier = ?",
              write(kept),
              config.functionName(),
              qualifier);
        });
  }

  @Override
  public Optional<FunctionUrlConfig> functionUrlConfig(String name, String qualifier) {
    return db.first(
        "SELECT config FROM function_urls WHERE name = ? AND qualifier = ?",
        rs -> read(rs.getString(1), FunctionUrlConfig.class),
        name,
        qualifier);
  }

  @Override
  public Optional<FunctionUrlConfig> functionUrlConfigByUrlId(String urlId) {
    return db.first(
        "SELECT config FROM function_urls WHERE url_id = ?",
        rs -> read(rs.getString(1), FunctionUrlConfig.class),
        urlId);
  }

  @Override
  public List<FunctionUrlConfig> functionUrlConfigs(String name) {
    return db.list(
        "SELECT config FROM function_urls WHERE name = ? ORDER BY qualifier",
        rs -> read(rs.getString(1), FunctionUrlConfig.class),
        name);
  }

  @Override
  public boolean deleteFunctionUrlConfig(String name, String qualifier) {
    return db.update("DELETE FROM function_urls WHERE name = ? AND qualifier = ?", name, qualifier)
        == 1;
  }

  @Override
  public void createEventSourceMapping(EventSourceMapping mapping, String sourceKey) {
    db.inTransaction(
        () -> {
          requireExists(mapping.functionName());
          Optional<String> existing =
              db.first(
                  "SELECT uuid FROM event_source_mappings WHERE function_name = ? AND source_key = ?",
                  rs -> rs.getString(1),
                  mapping.functionName(),
                  sourceKey);
          if (existing.isPresent()) {
            throw new StorageException.AlreadyExists(Entity.EVENT_SOURCE_MAPPING, existing.get());
          }
          long seq =
              db.first(
                      "SELECT COALESCE(MAX(seq), 0) + 1 FROM event_source_mappings",
                      rs -> rs.getLong(1))
                  .orElse(1L);
          return db.update(
              "INSERT INTO event_source_mappings"
                  + " (uuid, seq, function_name, source_key, event_source_arn, config)"
                  + " VALUES (?, ?, ?, ?, ?, ?)",
              mapping.uuid(),
              seq,
              mapping.functionName(),
              sourceKey,
              mapping.eventSourceArn().orElse(null),
              write(mapping));
        });
  }

  @Override
  public Optional<EventSourceMapping> updateEventSourceMapping(
      String uuid, java.util.function.UnaryOperator<EventSourceMapping> change) {
    return db.inTransaction(
        () -> {
          Optional<EventSourceMapping> current = eventSourceMapping(uuid);
          if (current.isEmpty()) {
            return Optional.<EventSourceMapping>empty();
          }
          EventSourceMapping changed = change.apply(current.get());
          if (changed == null) {
            return current;
          }
          EventSourceMapping stored =
              changed.toBuilder().revision(current.get().revision() + 1).build();
          if (!stored.functionName().equals(current.get().functionName())) {
            // moved to another function: which must exist, and not read that source already
            requireExists(stored.functionName());
            Optional<String> taken =
                db.first(
                    "SELECT other.uuid FROM event_source_mappings other, event_source_mappings me"
                        + " WHERE me.uuid = ? AND other.function_name = ?"
                        + " AND other.source_key = me.source_key",
                    rs -> rs.getString(1),
                    uuid,
                    stored.functionName());
            if (taken.isPresent()) {
              throw new StorageException.AlreadyExists(Entity.EVENT_SOURCE_MAPPING, taken.get());
            }
          }
          db.update(
              "UPDATE event_source_mappings SET config = ?, function_name = ? WHERE uuid = ?",
              write(stored),
              stored.functionName(),
              uuid);
          return Optional.of(stored);
        });
  }

  @Override
  public Optional<EventSourceMapping> eventSourceMapping(String uuid) {
    return db.first(
        "SELECT config FROM event_source_mappings WHERE uuid = ?",
        rs -> read(rs.getString(1), EventSourceMapping.class),
        uuid);
  }

  @Override
  public MappingPage eventSourceMappings(
      Optional<String> functionName,
      Optional<String> eventSourceArn,
      Optional<String> marker,
      int maxItems) {
    long after = 0;
    if (marker.isPresent()) {
      try {
        after = Long.parseLong(marker.get());
      } catch (NumberFormatException e) {
        throw new StorageException.InvalidMarker(Entity.EVENT_SOURCE_MAPPING, marker.get());
      }
      if (after < 1) {
        throw new StorageException.InvalidMarker(Entity.EVENT_SOURCE_MAPPING, marker.get());
      }
    }
    List<Object> params = new ArrayList<>();
    StringBuilder sql =
        new StringBuilder("SELECT seq, config FROM event_source_mappings WHERE seq > ?");
    params.add(after);
    functionName.ifPresent(
        n -> {
          sql.append(" AND function_name = ?");
          params.add(n);
        });
    eventSourceArn.ifPresent(
        a -> {
          sql.append(" AND event_source_arn = ?");
          params.add(a);
        });
    sql.append(" ORDER BY seq LIMIT ?");
    params.add(maxItems + 1);
    record Row(long seq, EventSourceMapping mapping) {}
    List<Row> rows =
        db.list(
            sql.toString(),
            rs -> new Row(rs.getLong(1), read(rs.getString(2), EventSourceMapping.class)),
            params.toArray());
    if (rows.size() <= maxItems) {
      return new MappingPage(rows.stream().map(Row::mapping).toList(), Optional.empty());
    }
    List<Row> page = rows.subList(0, maxItems);
    return new MappingPage(
        page.stream().map(Row::mapping).toList(),
        Optional.of(Long.toString(page.get(page.size() - 1).seq())));
  }

  @Override
  public boolean deleteEventSourceMapping(String uuid) {
    return db.update("DELETE FROM event_source_mappings WHERE uuid = ?", uuid) == 1;
  }

  private static String urlKey(String name, String qualifier) {
    return qualifier.isEmpty() ? name : name + ":" + qualifier;
  }

  @Override
  public boolean exists(String name) {
    return db.exists("SELECT 1 FROM functions WHERE name = ?", name);
  }

  @Override
  public Map<String, String> tags(String name) {
    Map<String, String> tags = new LinkedHashMap<>();
    db.list(
            "SELECT tag_key, tag_value FROM function_tags WHERE name = ? ORDER BY tag_key",
            rs -> Map.entry(rs.getString(1), rs.getString(2)),
            name)
        .forEach(e -> tags.put(e.getKey(), e.getValue()));
    return tags;
  }

  @Override
  public void tag(String name, Map<String, String> tags) {
    db.inTransaction(
        () -> {
          requireExists(name);
          putTags(name, tags);
          return null;
        });
  }

  @Override
  public void untag(String name, Set<String> keys) {
    db.inTransaction(
        () -> {
          requireExists(name);
          db.batch(
              "DELETE FROM function_tags WHERE name = ? AND tag_key = ?",
              keys.stream().map(k -> new Object[] {name, k}).toList());
          return null;
        });
  }

  @Override
  public Usage usage() {
    return db.first(
            "SELECT (SELECT count(*) FROM functions),"
                + " (SELECT coalesce(sum(code_size), 0) FROM function_versions)",
            rs -> new Usage(rs.getLong(1), rs.getLong(2)))
        .orElseThrow();
  }

  @Override
  public LayerVersion publishLayerVersion(LayerVersion draft) {
    return db.inTransaction(
        () -> {
          String name = draft.layerName();
          db.update(
              db.dialect()
                  .insertIfAbsent("layers", List.of("name"), List.of("name", "next_version")),
              name,
              1);
          long number =
              db.first(
                      "UPDATE layers SET next_version = next_version + 1 WHERE name = ?"
                          + " RETURNING next_version - 1",
                      rs -> rs.getLong(1),
                      name)
                  .orElseThrow();
          LayerVersion stored =
              new LayerVersion(
                  name,
                  number,
                  draft.description(),
                  draft.createdDate(),
                  draft.compatibleRuntimes(),
                  draft.compatibleArchitectures(),
                  draft.licenseInfo(),
                  draft.codeSha256Hex(),
                  draft.codeSize(),
                  draft.unzippedSize());
          db.update(
              "INSERT INTO layer_versions(name, version, code_sha256_hex, config)"
                  + " VALUES (?, ?, ?, ?)",
              name,
              number,
              stored.codeSha256Hex(),
              write(stored));
          return stored;
        });
  }

  @Override
  public Optional<LayerVersion> layerVersion(String layerName, long version) {
    return db.first(
        "SELECT config FROM layer_versions WHERE name = ? AND version = ?",
        rs -> read(rs.getString(1), LayerVersion.class),
        layerName,
        version);
  }

  @Override
  public List<LayerVersion> layerVersions(Optional<String> layerName) {
    return db.list(
        "SELECT config FROM layer_versions WHERE ? IS NULL OR name = ?"
            + " ORDER BY name, version DESC",
        rs -> read(rs.getString(1), LayerVersion.class),
        layerName,
        layerName);
  }

  @Override
  public boolean deleteLayerVersion(String layerName, long version) {
    return db.update(
            "DELETE FROM layer_versions WHERE name = ? AND version = ?", layerName, version)
        > 0;
  }

  @Override
  public Optional<LayerPolicy> layerPolicy(String layerName, long version) {
    return db.first(
        "SELECT policy FROM layer_versions WHERE name = ? AND version = ?",
        rs -> rs.getString(1) == null ? null : read(rs.getString(1), LayerPolicy.class),
        layerName,
        version);
  }

  @Override
  public void putLayerPolicy(
      String layerName, long version, LayerPolicy policy, Optional<String> expectedRevisionId) {
    String key = layerName + ":" + version;
    db.inTransaction(
        () -> {
          Optional<LayerPolicy> current = layerPolicy(layerName, version);
          if (expectedRevisionId.isPresent()
              && !current.map(LayerPolicy::revisionId).equals(expectedRevisionId)) {
            throw new StorageException.StaleRevision(Entity.LAYER_POLICY, key);
          }
          int changed =
              db.update(
                  "UPDATE layer_versions SET policy = ? WHERE name = ? AND version = ?",
                  policy.statements().isEmpty() ? null : write(policy),
                  layerName,
                  version);
          if (changed == 0) {
            throw new StorageException.NotFound(Entity.LAYER_VERSION, key);
          }
          return null;
        });
  }

  @Override
  public Optional<FunctionPolicy> functionPolicy(String name, String qualifier) {
    return db.first(
        "SELECT policy FROM function_policies WHERE name = ? AND qualifier = ?",
        rs -> read(rs.getString(1), FunctionPolicy.class),
        name,
        qualifier);
  }

  @Override
  public void putFunctionPolicy(
      String name, String qualifier, FunctionPolicy policy, Optional<String> expectedRevisionId) {
    db.inTransaction(
        () -> {
          Optional<FunctionPolicy> current = functionPolicy(name, qualifier);
          if (expectedRevisionId.isPresent()
              && !current.map(FunctionPolicy::revisionId).equals(expectedRevisionId)) {
            throw new StorageException.StaleRevision(Entity.FUNCTION_POLICY, name);
          }
          if (policy.statements().isEmpty()) {
            return db.update(
                "DELETE FROM function_policies WHERE name = ? AND qualifier = ?", name, qualifier);
          }
          return db.update(
              db.dialect()
                  .upsertReplacing(
                      "function_policies",
                      List.of("name", "qualifier"),
                      List.of("name", "qualifier", "policy")),
              name,
              qualifier,
              write(policy));
        });
  }

  @Override
  public Set<String> referencedCode() {
    return new HashSet<>(
        db.list(
            "SELECT code_sha256_hex FROM function_versions"
                + " UNION SELECT json_extract(l.value, '$.codeSha256Hex')"
                + " FROM function_versions, json_each(function_versions.config, '$.layers') AS l"
                + " UNION SELECT code_sha256_hex FROM layer_versions",
            rs -> rs.getString(1)));
  }

  /** The bucket notification configurations, kept in this database (on its one connection). */
  public BucketNotificationStore bucketNotifications() {
    return new SqliteBucketNotificationStore(db);
  }

  @Override
  public void check() {
    SqliteDatabase.check(db);
  }

  @Override
  public void close() {
    db.close();
  }

  private void requireExists(String name) {
    if (!exists(name)) {
      throw new StorageException.NotFound(Entity.FUNCTION, name);
    }
  }

  private void insertVersion(FunctionConfig config) {
    db.update(
        "INSERT INTO function_versions(name, version, revision_id, code_sha256_hex, code_size,"
            + " config) VALUES (?, ?, ?, ?, ?, ?)",
        config.functionName(),
        config.version(),
        config.revisionId(),
        CodeDigest.hexFromBase64(config.codeSha256()),
        config.codeSize(),
        write(config));
  }

  private void putTags(String name, Map<String, String> tags) {
    db.batch(
        db.dialect()
            .upsertReplacing(
                "function_tags",
                List.of("name", "tag_key"),
                List.of("name", "tag_key", "tag_value")),
        tags.entrySet().stream().map(e -> new Object[] {name, e.getKey(), e.getValue()}).toList());
  }

  private static String write(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static <T> T read(String json, Class<T> type) {
    try {
      return JSON.readValue(json, type);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(
          "unreadable stored " + type.getSimpleName() + ": " + e.getMessage(), e);
    }
  }
}
