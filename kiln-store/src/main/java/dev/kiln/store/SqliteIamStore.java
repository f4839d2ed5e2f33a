package dev.kiln.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.store.StorageException.Entity;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The embedded IAM store: one SQLite file ({@code iam.db}) with a table of roles, one of their
 * inline policies, one of their attachments, one of customer managed policies and one of those
 * policies' versions, migrated by Flyway from {@code db/iam}. A role or policy row is keyed by its
 * name lowercased ({@code name_key}) beside the name as given, which makes names unique and found
 * ignoring case; its inline policies, attachments and versions reference that key with {@code ON
 * DELETE CASCADE}, so deleting a role or policy is one statement. Tags are a JSON object in the
 * row, read, merged and written back in one transaction. A policy version is kept by its number
 * ({@code v3} is 3), and the policy row holds the next number to issue, which only ever grows.
 *
 * <p>The one connection is guarded by its {@link Jdbc}'s monitor, and every write is one {@code
 * db.inTransaction}. {@link #generation} is an {@link AtomicLong} of its own, bumped after each
 * write commits, so reading it takes no lock; the time a version is created or a default changed is
 * the injected clock's, to the millisecond.
 */
public final class SqliteIamStore implements IamStore {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<LinkedHashMap<String, String>> TAGS = new TypeReference<>() {};

  /** A version id this store issues: {@code v} and a number without leading zeros. */
  private static final Pattern VERSION_ID = Pattern.compile("v[1-9][0-9]{0,17}");

  private static final String ROLE_COLUMNS =
      "name, role_id, path, assume_role_policy, description, max_session_duration, created, tags";
  private static final String POLICY_COLUMNS =
      "name, policy_id, path, description, default_version, created, updated, tags";
  private static final String VERSION_COLUMNS =
      "v.version, v.document, v.version = p.default_version, v.created FROM policy_versions v"
          + " JOIN policies p ON p.name_key = v.policy_key";

  private final Jdbc db;
  private final InstantSource clock;
  private final AtomicLong generation = new AtomicLong();

  private SqliteIamStore(Jdbc db, InstantSource clock) {
    this.db = db;
    this.clock = clock;
  }

  /** Opens (creating and migrating if needed) the store in {@code file}. */
  public static SqliteIamStore open(Path file, InstantSource clock) {
    return new SqliteIamStore(SqliteDatabase.open(file, "db/iam", "IAM store"), clock);
  }

  // roles

  @Override
  public void createRole(Role role) {
    write(
        () -> {
          if (db.exists("SELECT 1 FROM roles WHERE name_key = ?", key(role.name()))) {
            throw new StorageException.AlreadyExists(Entity.ROLE, role.name());
          }
          return db.update(
              "INSERT INTO roles(name_key, "
                  + ROLE_COLUMNS
                  + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
              key(role.name()),
              role.name(),
              role.roleId(),
              role.path(),
              role.assumeRolePolicyDocument(),
              role.description(),
              role.maxSessionDuration(),
              role.created().toEpochMilli(),
              writeTags(role.tags()));
        });
  }

  @Override
  public Optional<Role> role(String name) {
    return db.first(
        "SELECT " + ROLE_COLUMNS + " FROM roles WHERE name_key = ?",
        SqliteIamStore::readRole,
        key(name));
  }

  @Override
  public List<Role> roles(String pathPrefix) {
    return db.list(
        "SELECT "
            + ROLE_COLUMNS
            + " FROM roles WHERE substr(path, 1, length(?)) = ? ORDER BY name_key",
        SqliteIamStore::readRole,
        pathPrefix,
        pathPrefix);
  }

  @Override
  public void updateAssumeRolePolicy(String role, String document) {
    write(
        () ->
            requireChanged(
                db.update(
                    "UPDATE roles SET assume_role_policy = ? WHERE name_key = ?",
                    document,
                    key(role)),
                Entity.ROLE,
                role));
  }

  @Override
  public void updateRole(
      String role, Optional<String> description, OptionalInt maxSessionDuration) {
    // an absent value binds NULL, which coalesce reads as "keep what is there"
    write(
        () ->
            requireChanged(
                db.update(
                    "UPDATE roles SET description = coalesce(?, description),"
                        + " max_session_duration = coalesce(?, max_session_duration)"
                        + " WHERE name_key = ?",
                    description,
                    maxSessionDuration.isPresent()
                        ? Optional.of(maxSessionDuration.getAsInt())
                        : Optional.empty(),
                    key(role)),
                Entity.ROLE,
                role));
  }

  @Override
  public void tagRole(String role, Map<String, String> tags) {
    changeTags("roles", Entity.ROLE, role, current -> IamStore.mergedTags(current, tags));
  }

  @Override
  public void untagRole(String role, Collection<String> keys) {
    changeTags("roles", Entity.ROLE, role, current -> IamStore.withoutTags(current, keys));
  }

  @Override
  public void deleteRole(String role) {
    write(
        () ->
            requireChanged(
                db.update("DELETE FROM roles WHERE name_key = ?", key(role)), Entity.ROLE, role));
  }

  @Override
  public void putRolePolicy(String role, String policyName, String document) {
    write(
        () -> {
          requireRole(role);
          return db.update(
              db.dialect()
                  .upsertReplacing(
                      "role_policies",
                      List.of("role_key", "policy_name"),
                      List.of("role_key", "policy_name", "document")),
              key(role),
              policyName,
              document);
        });
  }

  @Override
  public Optional<String> rolePolicy(String role, String policyName) {
    return db.first(
        "SELECT document FROM role_policies WHERE role_key = ? AND policy_name = ?",
        rs -> rs.getString(1),
        key(role),
        policyName);
  }

  @Override
  public List<String> rolePolicyNames(String role) {
    return db.list(
        "SELECT policy_name FROM role_policies WHERE role_key = ? ORDER BY policy_name",
        rs -> rs.getString(1),
        key(role));
  }

  @Override
  public void deleteRolePolicy(String role, String policyName) {
    write(
        () -> {
          requireRole(role);
          return requireChanged(
              db.update(
                  "DELETE FROM role_policies WHERE role_key = ? AND policy_name = ?",
                  key(role),
                  policyName),
              Entity.ROLE_POLICY,
              role + "/" + policyName);
        });
  }

  @Override
  public void attachRolePolicy(String role, String policyArn) {
    write(
        () -> {
          requireRole(role);
          long seq =
              db.first(
                      "SELECT coalesce(max(seq), 0) + 1 FROM role_attachments WHERE role_key = ?",
                      rs -> rs.getLong(1),
                      key(role))
                  .orElseThrow();
          return db.update(
              db.dialect()
                  .insertIfAbsent(
                      "role_attachments",
                      List.of("role_key", "policy_arn"),
                      List.of("role_key", "policy_arn", "seq")),
              key(role),
              policyArn,
              seq);
        });
  }

  @Override
  public void detachRolePolicy(String role, String policyArn) {
    write(
        () -> {
          requireRole(role);
          return requireChanged(
              db.update(
                  "DELETE FROM role_attachments WHERE role_key = ? AND policy_arn = ?",
                  key(role),
                  policyArn),
              Entity.ROLE_POLICY_ATTACHMENT,
              policyArn);
        });
  }

  @Override
  public List<String> attachedRolePolicies(String role) {
    return db.list(
        "SELECT policy_arn FROM role_attachments WHERE role_key = ? ORDER BY seq",
        rs -> rs.getString(1),
        key(role));
  }

  @Override
  public int attachmentCount(String policyArn) {
    return db.first(
            "SELECT count(*) FROM role_attachments WHERE policy_arn = ?",
            rs -> rs.getInt(1),
            policyArn)
        .orElseThrow();
  }

  // customer managed policies

  @Override
  public void createPolicy(Policy policy, String document) {
    write(
        () -> {
          String key = key(policy.name());
          if (db.exists("SELECT 1 FROM policies WHERE name_key = ?", key)) {
            throw new StorageException.AlreadyExists(Entity.IAM_POLICY, policy.name());
          }
          db.update(
              "INSERT INTO policies(name_key, next_version, "
                  + POLICY_COLUMNS
                  + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              key,
              2,
              policy.name(),
              policy.policyId(),
              policy.path(),
              policy.description(),
              1,
              policy.created().toEpochMilli(),
              policy.updated().toEpochMilli(),
              writeTags(policy.tags()));
          return db.update(
              "INSERT INTO policy_versions(policy_key, version, document, created)"
                  + " VALUES (?, ?, ?, ?)",
              key,
              1,
              document,
              policy.created().toEpochMilli());
        });
  }

  @Override
  public Optional<Policy> policy(String name) {
    return db.first(
        "SELECT " + POLICY_COLUMNS + " FROM policies WHERE name_key = ?",
        SqliteIamStore::readPolicy,
        key(name));
  }

  @Override
  public List<Policy> policies(String pathPrefix) {
    return db.list(
        "SELECT "
            + POLICY_COLUMNS
            + " FROM policies WHERE substr(path, 1, length(?)) = ? ORDER BY name_key",
        SqliteIamStore::readPolicy,
        pathPrefix,
        pathPrefix);
  }

  @Override
  public void tagPolicy(String policy, Map<String, String> tags) {
    changeTags(
        "policies", Entity.IAM_POLICY, policy, current -> IamStore.mergedTags(current, tags));
  }

  @Override
  public void untagPolicy(String policy, Collection<String> keys) {
    changeTags(
        "policies", Entity.IAM_POLICY, policy, current -> IamStore.withoutTags(current, keys));
  }

  @Override
  public Optional<PolicyVersion> policyVersion(String policy, String versionId) {
    if (!VERSION_ID.matcher(versionId).matches()) {
      return Optional.empty();
    }
    return db.first(
        "SELECT " + VERSION_COLUMNS + " WHERE v.policy_key = ? AND v.version = ?",
        SqliteIamStore::readVersion,
        key(policy),
        number(versionId));
  }

  @Override
  public List<PolicyVersion> policyVersions(String policy) {
    return db.list(
        "SELECT " + VERSION_COLUMNS + " WHERE v.policy_key = ? ORDER BY v.version",
        SqliteIamStore::readVersion,
        key(policy));
  }

  @Override
  public PolicyVersion createPolicyVersion(String policy, String document, boolean setAsDefault) {
    return write(
        () -> {
          String key = key(policy);
          long number =
              db.first(
                      "SELECT next_version FROM policies WHERE name_key = ?",
                      rs -> rs.getLong(1),
                      key)
                  .orElseThrow(() -> new StorageException.NotFound(Entity.IAM_POLICY, policy));
          long now = clock.millis();
          db.update(
              "INSERT INTO policy_versions(policy_key, version, document, created)"
                  + " VALUES (?, ?, ?, ?)",
              key,
              number,
              document,
              now);
          db.update(
              "UPDATE policies SET next_version = ?, updated = ?,"
                  + " default_version = CASE WHEN ? THEN ? ELSE default_version END"
                  + " WHERE name_key = ?",
              number + 1,
              now,
              setAsDefault,
              number,
              key);
          return new PolicyVersion(
              versionId(number), document, setAsDefault, Instant.ofEpochMilli(now));
        });
  }

  @Override
  public void setDefaultPolicyVersion(String policy, String versionId) {
    write(
        () -> {
          requirePolicy(policy);
          if (policyVersion(policy, versionId).isEmpty()) {
            throw new StorageException.NotFound(Entity.POLICY_VERSION, policy + ":" + versionId);
          }
          return db.update(
              "UPDATE policies SET default_version = ?, updated = ? WHERE name_key = ?",
              number(versionId),
              clock.millis(),
              key(policy));
        });
  }

  @Override
  public void deletePolicyVersion(String policy, String versionId) {
    write(
        () -> {
          requirePolicy(policy);
          String key = policy + ":" + versionId;
          PolicyVersion version =
              policyVersion(policy, versionId)
                  .orElseThrow(() -> new StorageException.NotFound(Entity.POLICY_VERSION, key));
          if (version.isDefault()) {
            throw new StorageException.Rejected(
                Entity.POLICY_VERSION,
                key,
                "Cannot delete the default version of a policy.",
                false);
          }
          return db.update(
              "DELETE FROM policy_versions WHERE policy_key = ? AND version = ?",
              key(policy),
              number(versionId));
        });
  }

  @Override
  public void deletePolicy(String policy) {
    write(
        () ->
            requireChanged(
                db.update("DELETE FROM policies WHERE name_key = ?", key(policy)),
                Entity.IAM_POLICY,
                policy));
  }

  @Override
  public long generation() {
    return generation.get();
  }

  @Override
  public void check() {
    SqliteDatabase.check(db);
  }

  @Override
  public void close() {
    db.close();
  }

  /** Runs a write as one transaction and, once it committed, moves the generation. */
  private <T> T write(Jdbc.Work<T> work) {
    T result = db.inTransaction(work);
    generation.incrementAndGet();
    return result;
  }

  /** Reads, changes and writes back the tags of the row of {@code name} in {@code table}. */
  private void changeTags(
      String table,
      Entity entity,
      String name,
      Function<Map<String, String>, Map<String, String>> change) {
    write(
        () -> {
          Map<String, String> current =
              db.first(
                      "SELECT tags FROM " + table + " WHERE name_key = ?",
                      rs -> readTags(rs.getString(1)),
                      key(name))
                  .orElseThrow(() -> new StorageException.NotFound(entity, name));
          return db.update(
              "UPDATE " + table + " SET tags = ? WHERE name_key = ?",
              writeTags(change.apply(current)),
              key(name));
        });
  }

  private void requireRole(String role) {
    if (!db.exists("SELECT 1 FROM roles WHERE name_key = ?", key(role))) {
      throw new StorageException.NotFound(Entity.ROLE, role);
    }
  }

  private void requirePolicy(String policy) {
    if (!db.exists("SELECT 1 FROM policies WHERE name_key = ?", key(policy))) {
      throw new StorageException.NotFound(Entity.IAM_POLICY, policy);
    }
  }

  private static int requireChanged(int changed, Entity entity, String key) {
    if (changed == 0) {
      throw new StorageException.NotFound(entity, key);
    }
    return changed;
  }

  /** The key a role's or policy's name is unique and found by: IAM names ignore case. */
  private static String key(String name) {
    return name.toLowerCase(Locale.ROOT);
  }

  private static long number(String versionId) {
    return Long.parseLong(versionId.substring(1));
  }

  private static String versionId(long number) {
    return "v" + number;
  }

  private static Role readRole(ResultSet rs) throws SQLException {
    return new Role(
        rs.getString(1),
        rs.getString(2),
        rs.getString(3),
        rs.getString(4),
        rs.getString(5),
        rs.getInt(6),
        Instant.ofEpochMilli(rs.getLong(7)),
        readTags(rs.getString(8)));
  }

  private static Policy readPolicy(ResultSet rs) throws SQLException {
    return new Policy(
        rs.getString(1),
        rs.getString(2),
        rs.getString(3),
        rs.getString(4),
        versionId(rs.getLong(5)),
        Instant.ofEpochMilli(rs.getLong(6)),
        Instant.ofEpochMilli(rs.getLong(7)),
        readTags(rs.getString(8)));
  }

  private static PolicyVersion readVersion(ResultSet rs) throws SQLException {
    return new PolicyVersion(
        versionId(rs.getLong(1)),
        rs.getString(2),
        rs.getBoolean(3),
        Instant.ofEpochMilli(rs.getLong(4)));
  }

  private static String writeTags(Map<String, String> tags) {
    try {
      return JSON.writeValueAsString(tags == null ? Map.of() : tags);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Map<String, String> readTags(String json) {
    try {
      return Collections.unmodifiableMap(JSON.readValue(json, TAGS));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("unreadable stored tags: " + e.getMessage(), e);
    }
  }
}
