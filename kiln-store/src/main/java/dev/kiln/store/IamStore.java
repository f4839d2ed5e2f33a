package dev.kiln.store;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Where Kiln keeps its IAM: roles (with their trust policy, inline policies and the managed
 * policies attached to them) and customer managed policies with their versions. Every method is one
 * transaction; a method that fails changes nothing. Implementations: {@link SqliteIamStore}
 * (embedded default, {@code iam.db}).
 *
 * <p>Names of roles and of customer managed policies compare case-insensitively, as IAM's do: a
 * lookup by any spelling finds the one stored, which answers with the spelling it was created with.
 * Inline policy names, policy ARNs and version ids compare exactly. Times are kept at millisecond
 * precision: an {@link java.time.Instant} given with more comes back truncated to the millisecond,
 * and exactly so every time after. Tags keep the order they were first added in; a tag whose key
 * equals an existing one ignoring case replaces it (its spelling and value) where it stands.
 *
 * <p>A change to a role or a policy can change what a caller is allowed, and the access check reads
 * from here on every request: it caches what it read with {@link #generation}, which moves on every
 * successful write, so a change applies to the very next request.
 */
public interface IamStore extends AutoCloseable {

  /**
   * A role. {@code description} may be null (none given); {@code tags} in the order they were
   * added.
   */
  record Role(
      String name,
      String roleId,
      String path,
      String assumeRolePolicyDocument,
      String description,
      int maxSessionDuration,
      java.time.Instant created,
      Map<String, String> tags) {}

  /**
   * A customer managed policy. {@code description} may be null; {@code updated} is when its default
   * version last changed (or it was created).
   */
  record Policy(
      String name,
      String policyId,
      String path,
      String description,
      String defaultVersionId,
      java.time.Instant created,
      java.time.Instant updated,
      Map<String, String> tags) {}

  /** One version of a customer managed policy's document: {@code v1}, {@code v2}, ... */
  record PolicyVersion(
      String versionId, String document, boolean isDefault, java.time.Instant created) {}

  // roles

  /**
   * Stores a new role, its {@code created} and tags as given.
   *
   * @throws StorageException.AlreadyExists ({@code ROLE}, the name given) when a role of that name
   *     in any spelling exists
   */
  void createRole(Role role);

  /** The role of that name in any spelling, as stored. */
  Optional<Role> role(String name);

  /** The roles whose path starts with {@code pathPrefix}, by name ignoring case. */
  List<Role> roles(String pathPrefix);

  /**
   * Replaces a role's trust policy.
   *
   * @throws StorageException.NotFound ({@code ROLE}) for an unknown role
   */
  void updateAssumeRolePolicy(String role, String document);

  /**
   * Changes what is present of a role's description and maximum session duration, and nothing else.
   *
   * @throws StorageException.NotFound ({@code ROLE}) for an unknown role
   */
  void updateRole(String role, Optional<String> description, OptionalInt maxSessionDuration);

  /**
   * Adds tags to a role's: a key equal ignoring case to one it has replaces that one in place,
   * others are appended in the order given.
   *
   * @throws StorageException.NotFound ({@code ROLE}) for an unknown role
   */
  void tagRole(String role, Map<String, String> tags);

  /**
   * Removes a role's tags whose keys equal one of {@code keys} ignoring case; keys it has not are
   * ignored.
   *
   * @throws StorageException.NotFound ({@code ROLE}) for an unknown role
   */
  void untagRole(String role, Collection<String> keys);

  /**
   * Removes a role with its inline policies and attachments.
   *
   * @throws StorageException.NotFound ({@code ROLE}) for an unknown role
   */
  void deleteRole(String role);

  /**
   * Stores a role's inline policy, replacing one of the same name.
   *
   * @throws StorageException.NotFound ({@code ROLE}) for an unknown role
   */
  void putRolePolicy(String role, String policyName, String document);

  /** A role's inline policy document; empty for an unknown role or policy. */
  Optional<String> rolePolicy(String role, String policyName);

  /** The names of a role's inline policies, sorted; empty for an unknown role. */
  List<String> rolePolicyNames(String role);

  /**
   * Removes a role's inline policy.
   *
   * @throws StorageException.NotFound ({@code ROLE_POLICY}, {@code role/policyName}) when the role
   *     has no such policy, ({@code ROLE}) for an unknown role
   */
  void deleteRolePolicy(String role, String policyName);

  /**
   * Attaches a managed policy to a role; attaching it again changes nothing.
   *
   * @throws StorageException.NotFound ({@code ROLE}) for an unknown role
   */
  void attachRolePolicy(String role, String policyArn);

  /**
   * Detaches a managed policy from a role.
   *
   * @throws StorageException.NotFound ({@code ROLE_POLICY_ATTACHMENT}, the ARN) when it is not
   *     attached, ({@code ROLE}) for an unknown role
   */
  void detachRolePolicy(String role, String policyArn);

  /** The ARNs of the managed policies attached to a role, in the order attached. */
  List<String> attachedRolePolicies(String role);

  /** How many roles have the policy of exactly this ARN attached. */
  int attachmentCount(String policyArn);

  // customer managed policies

  /**
   * Stores a new policy (its {@code created}, {@code updated} and tags as given) with {@code
   * document} as its version {@code v1}, created when the policy was, and the default; the record's
   * {@code defaultVersionId} is ignored.
   *
   * @throws StorageException.AlreadyExists ({@code IAM_POLICY}, the name given) when a policy of
   *     that name in any spelling exists
   */
  void createPolicy(Policy policy, String document);

  /** The customer managed policy of that name in any spelling. */
  Optional<Policy> policy(String name);

  /** The policies whose path starts with {@code pathPrefix}, by name ignoring case. */
  List<Policy> policies(String pathPrefix);

  /**
   * Adds tags to a policy's, as {@link #tagRole} does to a role's.
   *
   * @throws StorageException.NotFound ({@code IAM_POLICY}) for an unknown policy
   */
  void tagPolicy(String policy, Map<String, String> tags);

  /**
   * Removes tags from a policy's, as {@link #untagRole} does from a role's.
   *
   * @throws StorageException.NotFound ({@code IAM_POLICY}) for an unknown policy
   */
  void untagPolicy(String policy, Collection<String> keys);

  /** One version of a policy; empty for an unknown policy or version. */
  Optional<PolicyVersion> policyVersion(String policy, String versionId);

  /** A policy's versions in the order created ({@code v1} first); empty for an unknown policy. */
  List<PolicyVersion> policyVersions(String policy);

  /**
   * Stores a new version of a policy, created now, numbered one past the highest it ever had (a
   * deleted version's id is never issued again), and the default if {@code setAsDefault}. The
   * policy's {@code updated} becomes now.
   *
   * @throws StorageException.NotFound ({@code IAM_POLICY}) for an unknown policy
   */
  PolicyVersion createPolicyVersion(String policy, String document, boolean setAsDefault);

  /**
   * Makes a version the policy's default; its {@code updated} becomes now.
   *
   * @throws StorageException.NotFound ({@code POLICY_VERSION}, {@code policy:versionId}) for an
   *     unknown version, ({@code IAM_POLICY}) for an unknown policy
   */
  void setDefaultPolicyVersion(String policy, String versionId);

  /**
   * Removes a version that is not the default.
   *
   * @throws StorageException.Rejected ({@code POLICY_VERSION}, {@code policy:versionId}) for the
   *     default version
   * @throws StorageException.NotFound ({@code POLICY_VERSION}, {@code policy:versionId}) for an
   *     unknown version, ({@code IAM_POLICY}) for an unknown policy
   */
  void deletePolicyVersion(String policy, String versionId);

  /**
   * Removes a policy and its versions (roles it is attached to keep the attachment by ARN: IAM
   * refuses to delete an attached policy before it gets here).
   *
   * @throws StorageException.NotFound ({@code IAM_POLICY}) for an unknown policy
   */
  void deletePolicy(String policy);

  /**
   * A number that changes on every successful write of this store, and on nothing else: cheap
   * enough to read on every request, to tell whether what was read from the store is still current.
   */
  long generation();

  /** Answers at once when the store can be read; throws when it cannot (a health check). */
  void check();

  @Override
  void close();

  /**
   * IAM's rule for adding tags, which every store keeps: {@code current} with {@code tags} added, a
   * key equal ignoring case to one there replacing it in its place (with the new spelling).
   */
  static Map<String, String> mergedTags(Map<String, String> current, Map<String, String> tags) {
    java.util.List<Map.Entry<String, String>> entries =
        new java.util.ArrayList<>(current.entrySet());
    tags.forEach(
        (k, v) -> {
          for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).getKey().equalsIgnoreCase(k)) {
              entries.set(i, Map.entry(k, v));
              return;
            }
          }
          entries.add(Map.entry(k, v));
        });
    Map<String, String> out = new java.util.LinkedHashMap<>();
    entries.forEach(e -> out.put(e.getKey(), e.getValue()));
    return java.util.Collections.unmodifiableMap(out);
  }

  /**
   * IAM's rule for removing tags: {@code current} without the keys equal ignoring case to one of
   * {@code keys}.
   */
  static Map<String, String> withoutTags(Map<String, String> current, Collection<String> keys) {
    Map<String, String> out = new java.util.LinkedHashMap<>(current);
    out.keySet().removeIf(k -> keys.stream().anyMatch(k::equalsIgnoreCase));
    return java.util.Collections.unmodifiableMap(out);
  }
}
