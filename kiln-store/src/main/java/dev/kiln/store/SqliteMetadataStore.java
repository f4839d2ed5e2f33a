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
import dev.kiln.model.FunctionConfig;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import dev.kiln.model.LayerPolicy;
import dev.kiln.model.LayerVersion;
import dev.kiln.model.ProvisionedConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
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
 * FunctionConfig}), with the columns that queries need beside it. Control-plane traffic is light
 * next to invokes, which never come here, so one connection behind a lock keeps every method a
 * simple serial transaction.
 */
public final class SqliteMetadataStore implements MetadataStore {

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .registerModule(new Jdk8Module())
          .registerModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private final Connection db;

  private SqliteMetadataStore(Connection db) {
    this.db = db;
  }

  /** Opens (creating and migrating if needed) the store in {@code file}. */
  public static SqliteMetadataStore open(Path file) {
    return new SqliteMetadataStore(SqliteDatabase.open(file, "db/migration", "metadata store"));
  }

  @Override
  public synchronized void createFunction(
      FunctionConfig latest, Map<String, String> tags, Optional<FunctionConfig> published) {
    inTransaction(
        () -> {
          if (existsLocked(latest.functionName())) {
            throw LambdaError.conflict("Function already exist: " + latest.functionName());
          }
          try (PreparedStatement st =
              db.prepareStatement("INSERT INTO functions(name, next_version) VALUES (?, ?)")) {
            st.setString(1, latest.functionName());
            st.setLong(2, published.isPresent() ? 2 : 1);
            st.executeUpdate();
          }
          insertVersion(latest);
          if (published.isPresent()) {
            insertVersion(published.get());
          }
          putTags(latest.functionName(), tags);
          return null;
        });
  }

  @Override
  public synchronized Optional<FunctionConfig> function(String name, String version) {
    return inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement(
                  "SELECT config FROM function_versions WHERE name = ? AND version = ?")) {
            st.setString(1, name);
            st.setString(2, version);
            try (ResultSet rs = st.executeQuery()) {
              return rs.next() ? Optional.of(fromJson(rs.getString(1))) : Optional.empty();
            }
          }
        });
  }

  @Override
  public synchronized FunctionPage listFunctions(
      Optional<String> marker, int maxItems, boolean allVersions) {
    // keyset pagination on (name, seq), where seq orders $LATEST (0) before versions 1, 2, ...
    String afterName = "";
    long afterSeq = Long.MAX_VALUE;
    if (marker.isPresent()) {
      int slash = marker.get().lastIndexOf('/');
      try {
        afterName = marker.get().substring(0, slash);
        afterSeq = Long.parseLong(marker.get().substring(slash + 1));
      } catch (RuntimeException e) {
        throw LambdaError.invalidParameter("Invalid Marker: it was not issued by this Kiln");
      }
    }
    String from = afterName;
    long fromSeq = afterSeq;
    return inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement(
                  "SELECT config, seq FROM (SELECT name, config, CASE WHEN version = ? THEN 0"
                      + " ELSE CAST(version AS INTEGER) END AS seq FROM function_versions"
                      + " WHERE (? OR version = ?))"
                      + " WHERE name > ? OR (name = ? AND seq > ?) ORDER BY name, seq LIMIT ?")) {
            st.setString(1, FunctionRef.LATEST);
            st.setBoolean(2, allVersions);
            st.setString(3, FunctionRef.LATEST);
            st.setString(4, from);
            st.setString(5, from);
            st.setLong(6, fromSeq);
            st.setInt(7, maxItems + 1);
            List<FunctionConfig> page = new ArrayList<>();
            long lastSeq = 0;
            boolean more = false;
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                if (page.size() == maxItems) {
                  more = true;
                  break;
                }
                page.add(fromJson(rs.getString(1)));
                lastSeq = rs.getLong(2);
              }
            }
            Optional<String> next =
                more
                    ? Optional.of(page.get(page.size() - 1).functionName() + "/" + lastSeq)
                    : Optional.empty();
            return new FunctionPage(page, next);
          }
        });
  }

  @Override
  public synchronized void replaceLatest(FunctionConfig config, String expectedRevisionId) {
    inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement(
                  "UPDATE function_versions SET config = ?, revision_id = ?, code_sha256_hex = ?,"
                      + " code_size = ? WHERE name = ? AND version = ? AND revision_id = ?")) {
            st.setString(1, toJson(config));
            st.setString(2, config.revisionId());
            st.setString(3, CodeDigest.hexFromBase64(config.codeSha256()));
            st.setLong(4, config.codeSize());
            st.setString(5, config.functionName());
            st.setString(6, FunctionRef.LATEST);
            st.setString(7, expectedRevisionId);
            if (st.executeUpdate() == 1) {
              return null;
            }
          }
          if (!existsLocked(config.functionName())) {
            throw LambdaError.notFound("Function not found: " + config.functionName());
          }
          throw LambdaError.preconditionFailed(
              "The Revision Id provided does not match the latest Revision Id. Call the"
                  + " GetFunction/GetAlias API to retrieve the latest Revision Id");
        });
  }

  @Override
  public synchronized FunctionConfig publishVersion(String name, Optional<String> description) {
    return inTransaction(
        () -> {
          FunctionConfig latest =
              function(name, FunctionRef.LATEST)
                  .orElseThrow(() -> LambdaError.notFound("Function not found: " + name));
          long number;
          try (PreparedStatement st =
              db.prepareStatement("SELECT next_version FROM functions WHERE name = ?")) {
            st.setString(1, name);
            try (ResultSet rs = st.executeQuery()) {
              rs.next();
              number = rs.getLong(1);
            }
          }
          if (number > 1) {
            Optional<FunctionConfig> newest = function(name, Long.toString(number - 1));
            if (newest.isPresent() && newest.get().sameCodeAndSettings(latest)) {
              return newest.get();
            }
          }
          FunctionConfig snapshot = latest.asVersion(Long.toString(number));
          FunctionConfig version = description.map(snapshot::withDescription).orElse(snapshot);
          insertVersion(version);
          try (PreparedStatement st =
              db.prepareStatement("UPDATE functions SET next_version = ? WHERE name = ?")) {
            st.setLong(1, number + 1);
            st.setString(2, name);
            st.executeUpdate();
          }
          return version;
        });
  }

  @Override
  public synchronized boolean deleteFunction(String name) {
    return inTransaction(
        () -> {
          try (PreparedStatement st = db.prepareStatement("DELETE FROM functions WHERE name = ?")) {
            st.setString(1, name);
            return st.executeUpdate() == 1;
          }
        });
  }

  @Override
  public synchronized boolean deleteVersion(String name, String version) {
    if (version.equals(FunctionRef.LATEST)) {
      throw new IllegalArgumentException("$LATEST goes only with its function");
    }
    return inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement("DELETE FROM function_versions WHERE name = ? AND version = ?")) {
            st.setString(1, name);
            st.setString(2, version);
            return st.executeUpdate() == 1;
          }
        });
  }

  @Override
  public synchronized List<FunctionConfig> versions(String name) {
    return inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement(
                  "SELECT config FROM function_versions WHERE name = ? ORDER BY CASE WHEN version"
                      + " = ? THEN 0 ELSE CAST(version AS INTEGER) END")) {
            st.setString(1, name);
            st.setString(2, FunctionRef.LATEST);
            List<FunctionConfig> out = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                out.add(fromJson(rs.getString(1)));
              }
            }
            return out;
          }
        });
  }

  @Override
  public synchronized void createAlias(AliasConfig alias) {
    inTransaction(
        () -> {
          requireExists(alias.functionName());
          if (aliasLocked(alias.functionName(), alias.name()).isPresent()) {
            throw LambdaError.conflict("Alias already exists: " + alias.name());
          }
          try (PreparedStatement st =
              db.prepareStatement(
                  "INSERT INTO function_aliases (name, alias, config) VALUES (?, ?, ?)")) {
            st.setString(1, alias.functionName());
            st.setString(2, alias.name());
            st.setString(3, write(alias));
            st.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public synchronized Optional<AliasConfig> alias(String name, String alias) {
    return inTransaction(() -> aliasLocked(name, alias));
  }

  private Optional<AliasConfig> aliasLocked(String name, String alias) throws SQLException {
    try (PreparedStatement st =
        db.prepareStatement("SELECT config FROM function_aliases WHERE name = ? AND alias = ?")) {
      st.setString(1, name);
      st.setString(2, alias);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? Optional.of(read(rs.getString(1), AliasConfig.class)) : Optional.empty();
      }
    }
  }

  @Override
  public synchronized List<AliasConfig> aliases(String name) {
    return inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement(
                  "SELECT config FROM function_aliases WHERE name = ? ORDER BY alias")) {
            st.setString(1, name);
            List<AliasConfig> out = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                out.add(read(rs.getString(1), AliasConfig.class));
              }
            }
            return out;
          }
        });
  }

  @Override
  public synchronized void replaceAlias(AliasConfig alias, String expectedRevisionId) {
    inTransaction(
        () -> {
          AliasConfig current =
              aliasLocked(alias.functionName(), alias.name())
                  .orElseThrow(() -> LambdaError.notFound("Alias not found: " + alias.name()));
          if (!current.revisionId().equals(expectedRevisionId)) {
            throw LambdaError.preconditionFailed(
                "The Revision Id provided does not match the latest Revision Id. Call the"
                    + " GetAlias API to retrieve the latest Revision Id");
          }
          try (PreparedStatement st =
              db.prepareStatement(
                  "UPDATE function_aliases SET config = ? WHERE name = ? AND alias = ?")) {
            st.setString(1, write(alias));
            st.setString(2, alias.functionName());
            st.setString(3, alias.name());
            st.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public synchronized boolean deleteAlias(String name, String alias) {
    return inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement("DELETE FROM function_aliases WHERE name = ? AND alias = ?")) {
            st.setString(1, name);
            st.setString(2, alias);
            return st.executeUpdate() == 1;
          }
        });
  }

  @Override
  public synchronized Map<String, Integer> reservedConcurrency() {
    return inTransaction(
        () -> {
          Map<String, Integer> out = new LinkedHashMap<>();
          try (PreparedStatement st =
                  db.prepareStatement("SELECT name, reserved FROM function_concurrency");
              ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
              out.put(rs.getString(1), rs.getInt(2));
            }
          }
          return out;
        });
  }

  @Override
  public synchronized void putReservedConcurrency(String name, int reserved) {
    inTransaction(
        () -> {
          requireExists(name);
          try (PreparedStatement st =
              db.prepareStatement(
                  "INSERT INTO function_concurrency (name, reserved) VALUES (?, ?)"
                      + " ON CONFLICT(name) DO UPDATE SET reserved = excluded.reserved")) {
            st.setString(1, name);
            st.setInt(2, reserved);
            st.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public synchronized boolean deleteReservedConcurrency(String name) {
    return inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement("DELETE FROM function_concurrency WHERE name = ?")) {
            st.setString(1, name);
            return st.executeUpdate() == 1;
          }
        });
  }

  @Override
  public synchronized void putProvisioned(ProvisionedConfig config) {
    inTransaction(
        () -> {
          requireExists(config.functionName());
          try (PreparedStatement st =
              db.prepareStatement(
                  "INSERT INTO provisioned_concurrency (name, qualifier, requested, last_modified)"
                      + " VALUES (?, ?, ?, ?) ON CONFLICT(name, qualifier) DO UPDATE SET"
                      + " requested = excluded.requested, last_modified = excluded.last_modified")) {
            st.setString(1, config.functionName());
            st.setString(2, config.qualifier());
            st.setInt(3, config.requested());
            st.setString(4, config.lastModified().toString());
            st.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public synchronized Optional<ProvisionedConfig> provisioned(String name, String qualifier) {
    return provisionedWhere("name = ? AND qualifier = ?", name, qualifier).stream().findFirst();
  }

  @Override
  public synchronized List<ProvisionedConfig> provisionedConfigs(Optional<String> name) {
    return name.isPresent() ? provisionedWhere("name = ?", name.get()) : provisionedWhere("1 = 1");
  }

  private List<ProvisionedConfig> provisionedWhere(String where, String... args) {
    return inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement(
                  "SELECT name, qualifier, requested, last_modified FROM provisioned_concurrency"
                      + " WHERE "
                      + where
                      + " ORDER BY name, qualifier")) {
            for (int i = 0; i < args.length; i++) {
              st.setString(i + 1, args[i]);
            }
            List<ProvisionedConfig> out = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new ProvisionedConfig(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getInt(3),
                        java.time.Instant.parse(rs.getString(4))));
              }
            }
            return out;
          }
        });
  }

  @Override
  public synchronized boolean deleteProvisioned(String name, String qualifier) {
    return inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement(
                  "DELETE FROM provisioned_concurrency WHERE name = ? AND qualifier = ?")) {
            st.setString(1, name);
            st.setString(2, qualifier);
            return st.executeUpdate() == 1;
          }
        });
  }

  @Override
  public synchronized void putEventInvokeConfig(EventInvokeConfig config) {
    inTransaction(
        () -> {
          requireExists(config.functionName());
          try (PreparedStatement st =
              db.prepareStatement(
                  "INSERT INTO event_invoke_configs (name, qualifier, config) VALUES (?, ?, ?)"
                      + " ON CONFLICT(name, qualifier) DO UPDATE SET config = excluded.config")) {
            st.setString(1, config.functionName());
            st.setString(2, config.qualifier());
            st.setString(3, write(config));
            st.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public synchronized Optional<EventInvokeConfig> eventInvokeConfig(String name, String qualifier) {
    return eventInvokeConfigsWhere("name = ? AND qualifier = ?", name, qualifier).stream()
        .findFirst();
  }

  @Override
  public synchronized List<EventInvokeConfig> eventInvokeConfigs(String name) {
    return eventInvokeConfigsWhere("name = ?", name);
  }

  private List<EventInvokeConfig> eventInvokeConfigsWhere(String where, String... args) {
    return inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement(
                  "SELECT config FROM event_invoke_configs WHERE "
                      + where
                      + " ORDER BY qualifier")) {
            for (int i = 0; i < args.length; i++) {
              st.setString(i + 1, args[i]);
            }
            List<EventInvokeConfig> out = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                out.add(read(rs.getString(1), EventInvokeConfig.class));
              }
            }
            return out;
          }
        });
  }

  @Override
  public synchronized boolean deleteEventInvokeConfig(String name, String qualifier) {
    return inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement(
                  "DELETE FROM event_invoke_configs WHERE name = ? AND qualifier = ?")) {
            st.setString(1, name);
            st.setString(2, qualifier);
            return st.executeUpdate() == 1;
          }
        });
  }

  @Override
  public synchronized boolean exists(String name) {
    return inTransaction(() -> existsLocked(name));
  }

  @Override
  public synchronized Map<String, String> tags(String name) {
    return inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement(
                  "SELECT tag_key, tag_value FROM function_tags WHERE name = ? ORDER BY tag_key")) {
            st.setString(1, name);
            Map<String, String> tags = new LinkedHashMap<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                tags.put(rs.getString(1), rs.getString(2));
              }
            }
            return tags;
          }
        });
  }

  @Override
  public synchronized void tag(String name, Map<String, String> tags) {
    inTransaction(
        () -> {
          requireExists(name);
          putTags(name, tags);
          return null;
        });
  }

  @Override
  public synchronized void untag(String name, Set<String> keys) {
    inTransaction(
        () -> {
          requireExists(name);
          try (PreparedStatement st =
              db.prepareStatement("DELETE FROM function_tags WHERE name = ? AND tag_key = ?")) {
            for (String key : keys) {
              st.setString(1, name);
              st.setString(2, key);
              st.addBatch();
            }
            st.executeBatch();
          }
          return null;
        });
  }

  @Override
  public synchronized Usage usage() {
    return inTransaction(
        () -> {
          try (Statement st = db.createStatement();
              ResultSet rs =
                  st.executeQuery(
                      "SELECT (SELECT count(*) FROM functions),"
                          + " (SELECT coalesce(sum(code_size), 0) FROM function_versions)")) {
            rs.next();
            return new Usage(rs.getLong(1), rs.getLong(2));
          }
        });
  }

  @Override
  public synchronized LayerVersion publishLayerVersion(LayerVersion draft) {
    return inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement(
                  "INSERT INTO layers(name, next_version) VALUES (?, 1) ON CONFLICT(name) DO"
                      + " NOTHING")) {
            st.setString(1, draft.layerName());
            st.executeUpdate();
          }
          long number;
          try (PreparedStatement st =
              db.prepareStatement(
                  "UPDATE layers SET next_version = next_version + 1 WHERE name = ?"
                      + " RETURNING next_version - 1")) {
            st.setString(1, draft.layerName());
            try (ResultSet rs = st.executeQuery()) {
              rs.next();
              number = rs.getLong(1);
            }
          }
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
          try (PreparedStatement st =
              db.prepareStatement(
                  "INSERT INTO layer_versions(name, version, code_sha256_hex, config)"
                      + " VALUES (?, ?, ?, ?)")) {
            st.setString(1, stored.layerName());
            st.setLong(2, number);
            st.setString(3, stored.codeSha256Hex());
            st.setString(4, write(stored));
            st.executeUpdate();
          }
          return stored;
        });
  }

  @Override
  public synchronized Optional<LayerVersion> layerVersion(String layerName, long version) {
    return inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement(
                  "SELECT config FROM layer_versions WHERE name = ? AND version = ?")) {
            st.setString(1, layerName);
            st.setLong(2, version);
            try (ResultSet rs = st.executeQuery()) {
              return rs.next()
                  ? Optional.of(read(rs.getString(1), LayerVersion.class))
                  : Optional.empty();
            }
          }
        });
  }

  @Override
  public synchronized List<LayerVersion> layerVersions(Optional<String> layerName) {
    return inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement(
                  "SELECT config FROM layer_versions WHERE ? IS NULL OR name = ?"
                      + " ORDER BY name, version DESC")) {
            st.setString(1, layerName.orElse(null));
            st.setString(2, layerName.orElse(null));
            List<LayerVersion> out = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                out.add(read(rs.getString(1), LayerVersion.class));
              }
            }
            return out;
          }
        });
  }

  @Override
  public synchronized boolean deleteLayerVersion(String layerName, long version) {
    return inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement("DELETE FROM layer_versions WHERE name = ? AND version = ?")) {
            st.setString(1, layerName);
            st.setLong(2, version);
            return st.executeUpdate() > 0;
          }
        });
  }

  @Override
  public synchronized Optional<LayerPolicy> layerPolicy(String layerName, long version) {
    return inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement(
                  "SELECT policy FROM layer_versions WHERE name = ? AND version = ?")) {
            st.setString(1, layerName);
            st.setLong(2, version);
            try (ResultSet rs = st.executeQuery()) {
              return rs.next() && rs.getString(1) != null
                  ? Optional.of(read(rs.getString(1), LayerPolicy.class))
                  : Optional.empty();
            }
          }
        });
  }

  @Override
  public synchronized void putLayerPolicy(
      String layerName, long version, LayerPolicy policy, Optional<String> expectedRevisionId) {
    inTransaction(
        () -> {
          Optional<LayerPolicy> current = layerPolicy(layerName, version);
          if (expectedRevisionId.isPresent()
              && !current.map(LayerPolicy::revisionId).equals(expectedRevisionId)) {
            throw LambdaError.preconditionFailed(
                "The RevisionId provided does not match the latest RevisionId for the layer"
                    + " version policy. Call GetLayerVersionPolicy to retrieve the latest"
                    + " RevisionId");
          }
          try (PreparedStatement st =
              db.prepareStatement(
                  "UPDATE layer_versions SET policy = ? WHERE name = ? AND version = ?")) {
            st.setString(1, policy.statements().isEmpty() ? null : write(policy));
            st.setString(2, layerName);
            st.setLong(3, version);
            if (st.executeUpdate() == 0) {
              throw LambdaError.notFound(
                  "Layer version " + layerName + ":" + version + " does not exist.");
            }
          }
          return null;
        });
  }

  @Override
  public synchronized Optional<dev.kiln.model.FunctionPolicy> functionPolicy(
      String name, String qualifier) {
    return inTransaction(
        () -> {
          try (PreparedStatement st =
              db.prepareStatement(
                  "SELECT policy FROM function_policies WHERE name = ? AND qualifier = ?")) {
            st.setString(1, name);
            st.setString(2, qualifier);
            try (ResultSet rs = st.executeQuery()) {
              return rs.next()
                  ? Optional.of(read(rs.getString(1), dev.kiln.model.FunctionPolicy.class))
                  : Optional.empty();
            }
          }
        });
  }

  @Override
  public synchronized void putFunctionPolicy(
      String name,
      String qualifier,
      dev.kiln.model.FunctionPolicy policy,
      Optional<String> expectedRevisionId) {
    inTransaction(
        () -> {
          Optional<dev.kiln.model.FunctionPolicy> current = functionPolicy(name, qualifier);
          if (expectedRevisionId.isPresent()
              && !current
                  .map(dev.kiln.model.FunctionPolicy::revisionId)
                  .equals(expectedRevisionId)) {
            throw LambdaError.preconditionFailed(
                "The RevisionId provided does not match the latest RevisionId for the Lambda"
                    + " function or alias. Call the GetFunction or the GetAlias API to retrieve"
                    + " the latest RevisionId for your resource.");
          }
          if (policy.statements().isEmpty()) {
            try (PreparedStatement st =
                db.prepareStatement(
                    "DELETE FROM function_policies WHERE name = ? AND qualifier = ?")) {
              st.setString(1, name);
              st.setString(2, qualifier);
              st.executeUpdate();
            }
          } else {
            try (PreparedStatement st =
                db.prepareStatement(
                    "INSERT INTO function_policies(name, qualifier, policy) VALUES (?, ?, ?)"
                        + " ON CONFLICT(name, qualifier) DO UPDATE SET policy = excluded.policy")) {
              st.setString(1, name);
              st.setString(2, qualifier);
              st.setString(3, write(policy));
              st.executeUpdate();
            }
          }
          return null;
        });
  }

  @Override
  public synchronized Set<String> referencedCode() {
    return inTransaction(
        () -> {
          Set<String> digests = new HashSet<>();
          try (Statement st = db.createStatement();
              ResultSet rs =
                  st.executeQuery(
                      "SELECT code_sha256_hex FROM function_versions"
                          + " UNION SELECT json_extract(l.value, '$.codeSha256Hex')"
                          + " FROM function_versions, json_each(function_versions.config,"
                          + " '$.layers') AS l"
                          + " UNION SELECT code_sha256_hex FROM layer_versions")) {
            while (rs.next()) {
              digests.add(rs.getString(1));
            }
          }
          return digests;
        });
  }

  @Override
  public synchronized void check() {
    SqliteDatabase.check(db, "metadata store");
  }

  @Override
  public synchronized void close() {
    try {
      db.close();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private boolean existsLocked(String name) throws SQLException {
    try (PreparedStatement st = db.prepareStatement("SELECT 1 FROM functions WHERE name = ?")) {
      st.setString(1, name);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next();
      }
    }
  }

  private void requireExists(String name) throws SQLException {
    if (!existsLocked(name)) {
      throw LambdaError.notFound("Function not found: " + name);
    }
  }

  private void insertVersion(FunctionConfig config) throws SQLException {
    try (PreparedStatement st =
        db.prepareStatement(
            "INSERT INTO function_versions(name, version, revision_id, code_sha256_hex, code_size,"
                + " config) VALUES (?, ?, ?, ?, ?, ?)")) {
      st.setString(1, config.functionName());
      st.setString(2, config.version());
      st.setString(3, config.revisionId());
      st.setString(4, CodeDigest.hexFromBase64(config.codeSha256()));
      st.setLong(5, config.codeSize());
      st.setString(6, toJson(config));
      st.executeUpdate();
    }
  }

  private void putTags(String name, Map<String, String> tags) throws SQLException {
    try (PreparedStatement st =
        db.prepareStatement(
            "INSERT INTO function_tags(name, tag_key, tag_value) VALUES (?, ?, ?)"
                + " ON CONFLICT(name, tag_key) DO UPDATE SET tag_value = excluded.tag_value")) {
      for (var e : tags.entrySet()) {
        st.setString(1, name);
        st.setString(2, e.getKey());
        st.setString(3, e.getValue());
        st.addBatch();
      }
      st.executeBatch();
    }
  }

  private <T> T inTransaction(SqliteDatabase.Work<T> work) {
    return SqliteDatabase.inTransaction(db, work, "metadata store");
  }

  private static String toJson(FunctionConfig config) {
    try {
      return JSON.writeValueAsString(config);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
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
      throw new IllegalStateException("unreadable stored " + type.getSimpleName(), e);
    }
  }

  private static FunctionConfig fromJson(String json) {
    try {
      return JSON.readValue(json, FunctionConfig.class);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("unreadable stored configuration: " + e.getMessage(), e);
    }
  }
}
