package dev.kiln.testing;

import dev.kiln.store.IamStore;
import dev.kiln.store.StorageException;
import dev.kiln.store.StorageException.Entity;
import java.time.Clock;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An {@link IamStore} in memory, for unit tests of what sits above the store: it keeps the same
 * promises as the SQLite store (both pass {@link IamStoreContract}) and loses everything when
 * dropped. Roles and policies are kept by their names lowercased, so they are unique and found
 * ignoring case and list in the same order as the SQLite store's; each role holds its inline
 * policies and attachments, each policy its versions and the next version number, which only ever
 * grows. Times are kept truncated to the millisecond, as the SQLite store keeps them.
 *
 * <p>Every method but {@link #generation} is synchronized on the store, which guards all its maps;
 * a method that throws has changed nothing. The generation is an {@link AtomicLong} bumped at the
 * end of each write, read without the lock.
 */
public final class InMemoryIamStore implements IamStore {

  /** One role and what goes with it. */
  private static final class StoredRole {
    Role role;
    final TreeMap<String, String> policies = new TreeMap<>();
    final Set<String> attached = new LinkedHashSet<>();

    StoredRole(Role role) {
      this.role = role;
    }
  }

  /** One customer managed policy and its versions, kept with {@code isDefault} false. */
  private static final class StoredPolicy {
    Policy policy;
    final Map<String, PolicyVersion> versions = new LinkedHashMap<>();
    long nextVersion = 2;

    StoredPolicy(Policy policy) {
      this.policy = policy;
    }
  }

  private final InstantSource clock;
  private final TreeMap<String, StoredRole> roles = new TreeMap<>();
  private final TreeMap<String, StoredPolicy> policies = new TreeMap<>();
  private final AtomicLong generation = new AtomicLong();

  /** A store stamping times by {@code clock}. */
  public InMemoryIamStore(InstantSource clock) {
    this.clock = clock;
  }

  /** A store stamping times by the system clock. */
  public InMemoryIamStore() {
    this(Clock.systemUTC());
  }

  // roles

  @Override
  public synchronized void createRole(Role role) {
    if (roles.containsKey(key(role.name()))) {
      throw new StorageException.AlreadyExists(Entity.ROLE, role.name());
    }
    roles.put(
        key(role.name()),
        new StoredRole(
            new Role(
                role.name(),
                role.roleId(),
                role.path(),
                role.assumeRolePolicyDocument(),
                role.description(),
                role.maxSessionDuration(),
                millis(role.created()),
                copy(role.tags()))));
    written();
  }

  @Override
  public synchronized Optional<Role> role(String name) {
    return Optional.ofNullable(roles.get(key(name))).map(r -> r.role);
  }

  @Override
  public synchronized List<Role> roles(String pathPrefix) {
    return roles.values().stream()
        .map(r -> r.role)
        .filter(r -> r.path().startsWith(pathPrefix))
        .toList();
  }

  @Override
  public synchronized void updateAssumeRolePolicy(String role, String document) {
    StoredRole r = requireRole(role);
    Role o = r.role;
    r.role =
        new Role(
            o.name(),
            o.roleId(),
            o.path(),
            document,
            o.description(),
            o.maxSessionDuration(),
            o.created(),
            o.tags());
    written();
  }

  @Override
  public synchronized void updateRole(
      String role, Optional<String> description, OptionalInt maxSessionDuration) {
    StoredRole r = requireRole(role);
    Role o = r.role;
    r.role =
        new Role(
            o.name(),
            o.roleId(),
            o.path(),
            o.assumeRolePolicyDocument(),
            description.orElse(o.description()),
            maxSessionDuration.orElse(o.maxSessionDuration()),
            o.created(),
            o.tags());
    written();
  }

  @Override
  public synchronized void tagRole(String role, Map<String, String> tags) {
    StoredRole r = requireRole(role);
    r.role = withTags(r.role, IamStore.mergedTags(r.role.tags(), tags));
    written();
  }

  @Override
  public synchronized void untagRole(String role, Collection<String> keys) {
    StoredRole r = requireRole(role);
    r.role = withTags(r.role, IamStore.withoutTags(r.role.tags(), keys));
    written();
  }

  @Override
  public synchronized void deleteRole(String role) {
    if (roles.remove(key(role)) == null) {
      throw new StorageException.NotFound(Entity.ROLE, role);
    }
    written();
  }

  @Override
  public synchronized void putRolePolicy(String role, String policyName, String document) {
    requireRole(role).policies.put(policyName, document);
    written();
  }

  @Override
  public synchronized Optional<String> rolePolicy(String role, String policyName) {
    return Optional.ofNullable(roles.get(key(role))).map(r -> r.policies.get(policyName));
  }

  @Override
  public synchronized List<String> rolePolicyNames(String role) {
    StoredRole r = roles.get(key(role));
    return r == null ? List.of() : List.copyOf(r.policies.keySet());
  }

  @Override
  public synchronized void deleteRolePolicy(String role, String policyName) {
    if (requireRole(role).policies.remove(policyName) == null) {
      throw new StorageException.NotFound(Entity.ROLE_POLICY, role + "/" + policyName);
    }
    written();
  }

  @Override
  public synchronized void attachRolePolicy(String role, String policyArn) {
    requireRole(role).attached.add(policyArn);
    written();
  }

  @Override
  public synchronized void detachRolePolicy(String role, String policyArn) {
    if (!requireRole(role).attached.remove(policyArn)) {
      throw new StorageException.NotFound(Entity.ROLE_POLICY_ATTACHMENT, policyArn);
    }
    written();
  }

  @Override
  public synchronized List<String> attachedRolePolicies(String role) {
    StoredRole r = roles.get(key(role));
    return r == null ? List.of() : List.copyOf(r.attached);
  }

  @Override
  public synchronized int attachmentCount(String policyArn) {
    return (int) roles.values().stream().filter(r -> r.attached.contains(policyArn)).count();
  }

  // customer managed policies

  @Override
  public synchronized void createPolicy(Policy policy, String document) {
    if (policies.containsKey(key(policy.name()))) {
      throw new StorageException.AlreadyExists(Entity.IAM_POLICY, policy.name());
    }
    Instant created = millis(policy.created());
    StoredPolicy p =
        new StoredPolicy(
            new Policy(
                policy.name(),
                policy.policyId(),
                policy.path(),
                policy.description(),
                "v1",
                created,
                millis(policy.updated()),
                copy(policy.tags())));
    p.versions.put("v1", new PolicyVersion("v1", document, false, created));
    policies.put(key(policy.name()), p);
    written();
  }

  @Override
  public synchronized Optional<Policy> policy(String name) {
    return Optional.ofNullable(policies.get(key(name))).map(p -> p.policy);
  }

  @Override
  public synchronized List<Policy> policies(String pathPrefix) {
    return policies.values().stream()
        .map(p -> p.policy)
        .filter(p -> p.path().startsWith(pathPrefix))
        .toList();
  }

  @Override
  public synchronized void tagPolicy(String policy, Map<String, String> tags) {
    StoredPolicy p = requirePolicy(policy);
    p.policy = withTags(p.policy, IamStore.mergedTags(p.policy.tags(), tags));
    written();
  }

  @Override
  public synchronized void untagPolicy(String policy, Collection<String> keys) {
    StoredPolicy p = requirePolicy(policy);
    p.policy = withTags(p.policy, IamStore.withoutTags(p.policy.tags(), keys));
    written();
  }

  @Override
  public synchronized Optional<PolicyVersion> policyVersion(String policy, String versionId) {
    StoredPolicy p = policies.get(key(policy));
    return p == null
        ? Optional.empty()
        : Optional.ofNullable(p.versions.get(versionId)).map(v -> marked(p, v));
  }

  @Override
  public synchronized List<PolicyVersion> policyVersions(String policy) {
    StoredPolicy p = policies.get(key(policy));
    return p == null ? List.of() : p.versions.values().stream().map(v -> marked(p, v)).toList();
  }

  @Override
  public synchronized PolicyVersion createPolicyVersion(
      String policy, String document, boolean setAsDefault) {
    StoredPolicy p = requirePolicy(policy);
    Instant now = millis(clock.instant());
    String id = "v" + p.nextVersion++;
    p.versions.put(id, new PolicyVersion(id, document, false, now));
    p.policy = withDefault(p.policy, setAsDefault ? id : p.policy.defaultVersionId(), now);
    written();
    return new PolicyVersion(id, document, setAsDefault, now);
  }

  @Override
  public synchronized void setDefaultPolicyVersion(String policy, String versionId) {
    StoredPolicy p = requirePolicy(policy);
    if (!p.versions.containsKey(versionId)) {
      throw new StorageException.NotFound(Entity.POLICY_VERSION, policy + ":" + versionId);
    }
    p.policy = withDefault(p.policy, versionId, millis(clock.instant()));
    written();
  }

  @Override
  public synchronized void deletePolicyVersion(String policy, String versionId) {
    StoredPolicy p = requirePolicy(policy);
    String key = policy + ":" + versionId;
    if (!p.versions.containsKey(versionId)) {
      throw new StorageException.NotFound(Entity.POLICY_VERSION, key);
    }
    if (p.policy.defaultVersionId().equals(versionId)) {
      throw new StorageException.Rejected(
          Entity.POLICY_VERSION, key, "Cannot delete the default version of a policy.", false);
    }
    p.versions.remove(versionId);
    written();
  }

  @Override
  public synchronized void deletePolicy(String policy) {
    if (policies.remove(key(policy)) == null) {
      throw new StorageException.NotFound(Entity.IAM_POLICY, policy);
    }
    written();
  }

  @Override
  public long generation() {
    return generation.get();
  }

  @Override
  public void check() {
    // memory answers at once
  }

  @Override
  public void close() {
    // nothing to release
  }

  private void written() {
    generation.incrementAndGet();
  }

  private StoredRole requireRole(String role) {
    StoredRole r = roles.get(key(role));
    if (r == null) {
      throw new StorageException.NotFound(Entity.ROLE, role);
    }
    return r;
  }

  private StoredPolicy requirePolicy(String policy) {
    StoredPolicy p = policies.get(key(policy));
    if (p == null) {
      throw new StorageException.NotFound(Entity.IAM_POLICY, policy);
    }
    return p;
  }

  private static String key(String name) {
    return name.toLowerCase(Locale.ROOT);
  }

  /** {@code t} at the millisecond precision the stores keep. */
  private static Instant millis(Instant t) {
    return Instant.ofEpochMilli(t.toEpochMilli());
  }

  private static PolicyVersion marked(StoredPolicy p, PolicyVersion v) {
    return new PolicyVersion(
        v.versionId(),
        v.document(),
        v.versionId().equals(p.policy.defaultVersionId()),
        v.created());
  }

  private static Role withTags(Role o, Map<String, String> tags) {
    return new Role(
        o.name(),
        o.roleId(),
        o.path(),
        o.assumeRolePolicyDocument(),
        o.description(),
        o.maxSessionDuration(),
        o.created(),
        tags);
  }

  private static Policy withTags(Policy o, Map<String, String> tags) {
    return new Policy(
        o.name(),
        o.policyId(),
        o.path(),
        o.description(),
        o.defaultVersionId(),
        o.created(),
        o.updated(),
        tags);
  }

  private static Policy withDefault(Policy o, String defaultVersionId, Instant updated) {
    return new Policy(
        o.name(),
        o.policyId(),
        o.path(),
        o.description(),
        defaultVersionId,
        o.created(),
        updated,
        o.tags());
  }

  private static Map<String, String> copy(Map<String, String> tags) {
    return Collections.unmodifiableMap(new LinkedHashMap<>(tags == null ? Map.of() : tags));
  }
}
