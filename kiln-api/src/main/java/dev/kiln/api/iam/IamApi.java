package dev.kiln.api.iam;

import dev.kiln.api.query.QueryError;
import dev.kiln.api.query.QueryRequest;
import dev.kiln.api.query.QueryResponse;
import dev.kiln.iam.MalformedPolicyException;
import dev.kiln.iam.ManagedPolicies;
import dev.kiln.iam.PolicyDocument;
import dev.kiln.model.Account;
import dev.kiln.store.IamStore;
import dev.kiln.store.StorageException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The part of IAM (2010-05-08, AWS's Query protocol) that Lambda users need to give functions a
 * role: roles with their trust policies, inline role policies, customer managed policies with their
 * versions, attachments of those and of AWS's managed policies ({@link ManagedPolicies}), and tags
 * on roles. So {@code aws iam create-role}, boto3's and the SDKs' IAM clients work with nothing but
 * an endpoint override.
 *
 * <p>Every document is parsed and validated ({@link PolicyDocument}) before anything is stored, and
 * its size is checked against IAM's default quotas (trust policy 2,048, inline role policy 10,240,
 * managed policy 6,144 characters, whitespace not counted); a refused request changes nothing.
 * Errors carry IAM's codes and words ({@code NoSuchEntity}, {@code EntityAlreadyExists}, {@code
 * MalformedPolicyDocument}, {@code DeleteConflict}, {@code LimitExceeded}, {@code
 * ValidationError}).
 *
 * <p>Stateless but for the store, which serializes its own writes; each operation reads what it
 * checks and writes once, so two racing writers end as the store orders them.
 */
public final class IamApi {

  public static final String NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/";
  public static final String VERSION = "2010-05-08";

  static final Pattern NAME = Pattern.compile("[\\w+=,.@-]+");
  static final Pattern PATH = Pattern.compile("(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)");
  static final Pattern POLICY_PATH = Pattern.compile("((/[A-Za-z0-9\\.,\\+@=_-]+)*)/");
  static final Pattern PATH_PREFIX = Pattern.compile("\\u002F[\\u0021-\\u007F]*");
  static final Pattern DOCUMENT = Pattern.compile("[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+");
  static final Pattern ROLE_DESCRIPTION =
      Pattern.compile("[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*");
  static final Pattern TAG_KEY = Pattern.compile("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+");
  static final Pattern TAG_VALUE = Pattern.compile("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*");
  static final Pattern VERSION_ID = Pattern.compile("v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?");

  /** IAM's default quotas on a document's size, whitespace not counted. */
  static final int TRUST_POLICY_QUOTA = 2048;

  static final int ROLE_POLICY_QUOTA = 10_240;
  static final int MANAGED_POLICY_QUOTA = 6144;
  static final int MAX_TAGS = 50;
  static final int MAX_VERSIONS = 5;

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

  private final IamStore store;
  private final Account account;
  private final InstantSource clock;

  public IamApi(IamStore store, Account account, InstantSource clock) {
    this.store = store;
    this.account = account;
    this.clock = clock;
  }

  /** The actions this API serves, for the action table and the router. */
  public static final List<String> ACTIONS =
      List.of(
          "CreateRole",
          "GetRole",
          "ListRoles",
          "DeleteRole",
          "UpdateRole",
          "UpdateRoleDescription",
          "UpdateAssumeRolePolicy",
          "TagRole",
          "UntagRole",
          "ListRoleTags",
          "PutRolePolicy",
          "GetRolePolicy",
          "DeleteRolePolicy",
          "ListRolePolicies",
          "AttachRolePolicy",
          "DetachRolePolicy",
          "ListAttachedRolePolicies",
          "CreatePolicy",
          "GetPolicy",
          "DeletePolicy",
          "ListPolicies",
          "CreatePolicyVersion",
          "GetPolicyVersion",
          "ListPolicyVersions",
          "DeletePolicyVersion",
          "SetDefaultPolicyVersion");

  /** Runs {@code request}'s action; the answer, or a {@link QueryError} in IAM's words. */
  public QueryResponse handle(QueryRequest request, String requestId) {
    String action = request.action();
    try {
      return switch (action) {
        case "CreateRole" -> createRole(request, requestId);
        case "GetRole" -> getRole(request, requestId);
        case "ListRoles" -> listRoles(request, requestId);
        case "DeleteRole" -> deleteRole(request, requestId);
        case "UpdateRole" -> updateRole(request, requestId, false);
        case "UpdateRoleDescription" -> updateRole(request, requestId, true);
        case "UpdateAssumeRolePolicy" -> updateAssumeRolePolicy(request, requestId);
        case "TagRole" -> tagRole(request, requestId);
        case "UntagRole" -> untagRole(request, requestId);
        case "ListRoleTags" -> listRoleTags(request, requestId);
        case "PutRolePolicy" -> putRolePolicy(request, requestId);
        case "GetRolePolicy" -> getRolePolicy(request, requestId);
        case "DeleteRolePolicy" -> deleteRolePolicy(request, requestId);
        case "ListRolePolicies" -> listRolePolicies(request, requestId);
        case "AttachRolePolicy" -> attachRolePolicy(request, requestId);
        case "DetachRolePolicy" -> detachRolePolicy(request, requestId);
        case "ListAttachedRolePolicies" -> listAttachedRolePolicies(request, requestId);
        case "CreatePolicy" -> createPolicy(request, requestId);
        case "GetPolicy" -> getPolicy(request, requestId);
        case "DeletePolicy" -> deletePolicy(request, requestId);
        case "ListPolicies" -> listPolicies(request, requestId);
        case "CreatePolicyVersion" -> createPolicyVersion(request, requestId);
        case "GetPolicyVersion" -> getPolicyVersion(request, requestId);
        case "ListPolicyVersions" -> listPolicyVersions(request, requestId);
        case "DeletePolicyVersion" -> deletePolicyVersion(request, requestId);
        case "SetDefaultPolicyVersion" -> setDefaultPolicyVersion(request, requestId);
        default ->
            throw new QueryError(
                "InvalidAction",
                400,
                "Could not find operation " + action + " for version " + VERSION);
      };
    } catch (StorageException e) {
      // a race lost to another writer between this operation's check and its write
      throw stored(e);
    }
  }

  // ---- roles ---------------------------------------------------------------------------------

  private QueryResponse createRole(QueryRequest q, String requestId) {
    String name = roleName(q);
    String path = q.string("Path", 1, 512, PATH).orElse("/");
    String trust = document(q, "AssumeRolePolicyDocument");
    String description = q.string("Description", 0, 1000, ROLE_DESCRIPTION).orElse("");
    int maxSession = q.integer("MaxSessionDuration", 3600, 43200).orElse(3600);
    Map<String, String> tags = tags(q, "Tags");
    trustPolicy(trust);
    if (store.role(name).isPresent()) {
      throw new QueryError(
          "EntityAlreadyExists", 409, "Role with name " + name + " already exists.");
    }
    IamStore.Role role =
        new IamStore.Role(
            name, id("AROA"), path, trust, description, maxSession, clock.instant(), tags);
    store.createRole(role);
    QueryResponse out = QueryResponse.result("CreateRole", NAMESPACE, requestId);
    writeRole(out, role, true);
    return out;
  }

  private QueryResponse getRole(QueryRequest q, String requestId) {
    IamStore.Role role = existingRole(roleName(q));
    QueryResponse out = QueryResponse.result("GetRole", NAMESPACE, requestId);
    writeRole(out, role, true);
    return out;
  }

  private QueryResponse listRoles(QueryRequest q, String requestId) {
    String prefix = q.string("PathPrefix", 1, 512, PATH_PREFIX).orElse("/");
    Page<IamStore.Role> page = page(q, store.roles(prefix));
    QueryResponse out = QueryResponse.result("ListRoles", NAMESPACE, requestId).start("Roles");
    for (IamStore.Role role : page.items()) {
      writeRole(out, role, false);
    }
    out.end();
    page.writeMarker(out);
    return out;
  }

  private QueryResponse deleteRole(QueryRequest q, String requestId) {
    IamStore.Role role = existingRole(roleName(q));
    if (!store.rolePolicyNames(role.name()).isEmpty()) {
      throw new QueryError(
          "DeleteConflict", 409, "Cannot delete entity, must delete policies first.");
    }
    if (!store.attachedRolePolicies(role.name()).isEmpty()) {
      throw new QueryError(
          "DeleteConflict", 409, "Cannot delete entity, must detach all policies first.");
    }
    store.deleteRole(role.name());
    return QueryResponse.empty("DeleteRole", NAMESPACE, requestId);
  }

  private QueryResponse updateRole(QueryRequest q, String requestId, boolean descriptionOnly) {
    IamStore.Role role = existingRole(roleName(q));
    Optional<String> description =
        descriptionOnly
            ? Optional.of(q.requiredString("Description", 0, 1000, ROLE_DESCRIPTION))
            : q.string("Description", 0, 1000, ROLE_DESCRIPTION);
    Optional<Integer> maxSession =
        descriptionOnly ? Optional.empty() : q.integer("MaxSessionDuration", 3600, 43200);
    if (description.isPresent() || maxSession.isPresent()) {
      store.updateRole(
          role.name(),
          description,
          maxSession.map(java.util.OptionalInt::of).orElse(java.util.OptionalInt.empty()));
    }
    if (descriptionOnly) {
      QueryResponse out = QueryResponse.result("UpdateRoleDescription", NAMESPACE, requestId);
      writeRole(out, existingRole(role.name()), true);
      return out;
    }
    return QueryResponse.result("UpdateRole", NAMESPACE, requestId);
  }

  private QueryResponse updateAssumeRolePolicy(QueryRequest q, String requestId) {
    String name = roleName(q);
    String trust = document(q, "PolicyDocument");
    trustPolicy(trust);
    store.updateAssumeRolePolicy(existingRole(name).name(), trust);
    return QueryResponse.empty("UpdateAssumeRolePolicy", NAMESPACE, requestId);
  }

  private QueryResponse tagRole(QueryRequest q, String requestId) {
    IamStore.Role role = existingRole(roleName(q));
    Map<String, String> tags = tags(q, "Tags");
    if (tags.isEmpty()) {
      throw QueryError.missing("Tags");
    }
    java.util.Set<String> keys = new java.util.TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    keys.addAll(role.tags().keySet());
    keys.addAll(tags.keySet());
    if (keys.size() > MAX_TAGS) {
      throw new QueryError(
          "LimitExceeded",
          409,
          "The number of tags has reached the maximum limit of " + MAX_TAGS + ".");
    }
    store.tagRole(role.name(), tags);
    return QueryResponse.empty("TagRole", NAMESPACE, requestId);
  }

  private QueryResponse untagRole(QueryRequest q, String requestId) {
    IamStore.Role role = existingRole(roleName(q));
    List<String> keys = q.list("TagKeys");
    if (keys.isEmpty()) {
      throw QueryError.missing("TagKeys");
    }
    for (String key : keys) {
      QueryRequest.check(key, "TagKeys.member", 1, 128, TAG_KEY);
    }
    store.untagRole(role.name(), keys);
    return QueryResponse.empty("UntagRole", NAMESPACE, requestId);
  }

  private QueryResponse listRoleTags(QueryRequest q, String requestId) {
    IamStore.Role role = existingRole(roleName(q));
    Page<Map.Entry<String, String>> page = page(q, List.copyOf(role.tags().entrySet()));
    QueryResponse out = QueryResponse.result("ListRoleTags", NAMESPACE, requestId).start("Tags");
    for (Map.Entry<String, String> tag : page.items()) {
      out.start("member").text("Key", tag.getKey()).text("Value", tag.getValue()).end();
    }
    out.end();
    page.writeMarker(out);
    return out;
  }

  // ---- inline role policies --------------------------------------------------------------------

  private QueryResponse putRolePolicy(QueryRequest q, String requestId) {
    String role = roleName(q);
    String policyName = q.requiredString("PolicyName", 1, 128, NAME);
    String document = document(q, "PolicyDocument");
    identityPolicy(document, ROLE_POLICY_QUOTA);
    store.putRolePolicy(existingRole(role).name(), policyName, document);
    return QueryResponse.empty("PutRolePolicy", NAMESPACE, requestId);
  }

  private QueryResponse getRolePolicy(QueryRequest q, String requestId) {
    IamStore.Role role = existingRole(roleName(q));
    String policyName = q.requiredString("PolicyName", 1, 128, NAME);
    String document =
        store
            .rolePolicy(role.name(), policyName)
            .orElseThrow(() -> noRolePolicy(role.name(), policyName));
    return QueryResponse.result("GetRolePolicy", NAMESPACE, requestId)
        .text("RoleName", role.name())
        .text("PolicyName", policyName)
        .text("PolicyDocument", encoded(document));
  }

  private QueryResponse deleteRolePolicy(QueryRequest q, String requestId) {
    IamStore.Role role = existingRole(roleName(q));
    String policyName = q.requiredString("PolicyName", 1, 128, NAME);
    if (store.rolePolicy(role.name(), policyName).isEmpty()) {
      throw noRolePolicy(role.name(), policyName);
    }
    store.deleteRolePolicy(role.name(), policyName);
    return QueryResponse.empty("DeleteRolePolicy", NAMESPACE, requestId);
  }

  private QueryResponse listRolePolicies(QueryRequest q, String requestId) {
    IamStore.Role role = existingRole(roleName(q));
    Page<String> page = page(q, store.rolePolicyNames(role.name()));
    QueryResponse out =
        QueryResponse.result("ListRolePolicies", NAMESPACE, requestId).start("PolicyNames");
    for (String name : page.items()) {
      out.text("member", name);
    }
    out.end();
    page.writeMarker(out);
    return out;
  }

  // ---- attachments ---------------------------------------------------------------------------

  private QueryResponse attachRolePolicy(QueryRequest q, String requestId) {
    IamStore.Role role = existingRole(roleName(q));
    String arn = policyArn(q);
    if (attachable(arn).isEmpty()) {
      throw new QueryError(
          "NoSuchEntity", 404, "Policy " + arn + " does not exist or is not attachable.");
    }
    store.attachRolePolicy(role.name(), arn);
    return QueryResponse.empty("AttachRolePolicy", NAMESPACE, requestId);
  }

  private QueryResponse detachRolePolicy(QueryRequest q, String requestId) {
    IamStore.Role role = existingRole(roleName(q));
    String arn = policyArn(q);
    if (!store.attachedRolePolicies(role.name()).contains(arn)) {
      throw new QueryError("NoSuchEntity", 404, "Policy " + arn + " was not found.");
    }
    store.detachRolePolicy(role.name(), arn);
    return QueryResponse.empty("DetachRolePolicy", NAMESPACE, requestId);
  }

  private QueryResponse listAttachedRolePolicies(QueryRequest q, String requestId) {
    IamStore.Role role = existingRole(roleName(q));
    String prefix = q.string("PathPrefix", 1, 512, POLICY_PATH).orElse("/");
    List<Attachable> attached = new ArrayList<>();
    for (String arn : store.attachedRolePolicies(role.name())) {
      attachable(arn).filter(a -> a.path().startsWith(prefix)).ifPresent(attached::add);
    }
    Page<Attachable> page = page(q, attached);
    QueryResponse out =
        QueryResponse.result("ListAttachedRolePolicies", NAMESPACE, requestId)
            .start("AttachedPolicies");
    for (Attachable a : page.items()) {
      out.start("member").text("PolicyName", a.name()).text("PolicyArn", a.arn()).end();
    }
    out.end();
    page.writeMarker(out);
    return out;
  }

  // ---- managed policies ------------------------------------------------------------------------

  private QueryResponse createPolicy(QueryRequest q, String requestId) {
    String name = q.requiredString("PolicyName", 1, 128, NAME);
    String path = q.string("Path", 1, 512, POLICY_PATH).orElse("/");
    String document = document(q, "PolicyDocument");
    String description = q.string("Description", 0, 1000, null).orElse("");
    Map<String, String> tags = tags(q, "Tags");
    identityPolicy(document, MANAGED_POLICY_QUOTA);
    if (store.policy(name).isPresent()) {
      throw new QueryError(
          "EntityAlreadyExists",
          409,
          "A policy called " + name + " already exists. Duplicate names are not allowed.");
    }
    var now = clock.instant();
    IamStore.Policy policy =
        new IamStore.Policy(name, id("ANPA"), path, description, "v1", now, now, tags);
    store.createPolicy(policy, document);
    QueryResponse out = QueryResponse.result("CreatePolicy", NAMESPACE, requestId);
    writePolicy(out, attachable(PolicyArns.policy(account, path, name)).orElseThrow(), true);
    return out;
  }

  private QueryResponse getPolicy(QueryRequest q, String requestId) {
    String arn = policyArn(q);
    Attachable policy = attachable(arn).orElseThrow(() -> noPolicy(arn));
    QueryResponse out = QueryResponse.result("GetPolicy", NAMESPACE, requestId);
    writePolicy(out, policy, true);
    return out;
  }

  private QueryResponse deletePolicy(QueryRequest q, String requestId) {
    String arn = policyArn(q);
    String name = customerPolicy(arn);
    if (store.attachmentCount(arn) > 0) {
      throw new QueryError("DeleteConflict", 409, "Cannot delete a policy attached to entities.");
    }
    store.deletePolicy(name);
    return QueryResponse.empty("DeletePolicy", NAMESPACE, requestId);
  }

  private QueryResponse listPolicies(QueryRequest q, String requestId) {
    String scope = q.optional("Scope").orElse("All");
    if (!List.of("All", "AWS", "Local").contains(scope)) {
      throw QueryError.validation(
          scope, "scope", "Member must satisfy enum value set: [All, AWS, Local]");
    }
    boolean onlyAttached = q.bool("OnlyAttached");
    String prefix = q.string("PathPrefix", 1, 512, POLICY_PATH).orElse("/");
    List<Attachable> all = new ArrayList<>();
    if (!scope.equals("Local")) {
      for (ManagedPolicies.Managed m : ManagedPolicies.all()) {
        all.add(Attachable.of(m, store.attachmentCount(m.arn())));
      }
    }
    if (!scope.equals("AWS")) {
      for (IamStore.Policy p : store.policies("/")) {
        String arn = PolicyArns.policy(account, p.path(), p.name());
        all.add(Attachable.of(p, arn, store.attachmentCount(arn)));
      }
    }
    List<Attachable> matching =
        all.stream()
            .filter(a -> a.path().startsWith(prefix))
            .filter(a -> !onlyAttached || a.attachments() > 0)
            .sorted(java.util.Comparator.comparing(Attachable::name))
            .toList();
    Page<Attachable> page = page(q, matching);
    QueryResponse out =
        QueryResponse.result("ListPolicies", NAMESPACE, requestId).start("Policies");
    for (Attachable a : page.items()) {
      writePolicy(out, a, false);
    }
    out.end();
    page.writeMarker(out);
    return out;
  }

  private QueryResponse createPolicyVersion(QueryRequest q, String requestId) {
    String arn = policyArn(q);
    String name = customerPolicy(arn);
    String document = document(q, "PolicyDocument");
    identityPolicy(document, MANAGED_POLICY_QUOTA);
    if (store.policyVersions(name).size() >= MAX_VERSIONS) {
      throw new QueryError(
          "LimitExceeded",
          409,
          "A managed policy can have up to "
              + MAX_VERSIONS
              + " versions. Before you create a new version, you must delete an existing"
              + " version.");
    }
    IamStore.PolicyVersion version =
        store.createPolicyVersion(name, document, q.bool("SetAsDefault"));
    QueryResponse out = QueryResponse.result("CreatePolicyVersion", NAMESPACE, requestId);
    writeVersion(out, version, "PolicyVersion", false);
    return out;
  }

  private QueryResponse getPolicyVersion(QueryRequest q, String requestId) {
    String arn = policyArn(q);
    String versionId = q.requiredString("VersionId", 0, 128, VERSION_ID);
    IamStore.PolicyVersion version =
        versions(arn).stream()
            .filter(v -> v.versionId().equals(versionId))
            .findFirst()
            .orElseThrow(() -> noVersion(arn, versionId));
    QueryResponse out = QueryResponse.result("GetPolicyVersion", NAMESPACE, requestId);
    writeVersion(out, version, "PolicyVersion", true);
    return out;
  }

  private QueryResponse listPolicyVersions(QueryRequest q, String requestId) {
    String arn = policyArn(q);
    Page<IamStore.PolicyVersion> page = page(q, versions(arn));
    QueryResponse out =
        QueryResponse.result("ListPolicyVersions", NAMESPACE, requestId).start("Versions");
    for (IamStore.PolicyVersion v : page.items()) {
      writeVersion(out, v, "member", false);
    }
    out.end();
    page.writeMarker(out);
    return out;
  }

  private QueryResponse deletePolicyVersion(QueryRequest q, String requestId) {
    String arn = policyArn(q);
    String name = customerPolicy(arn);
    String versionId = q.requiredString("VersionId", 0, 128, VERSION_ID);
    IamStore.PolicyVersion version =
        store.policyVersion(name, versionId).orElseThrow(() -> noVersion(arn, versionId));
    if (version.isDefault()) {
      throw new QueryError("DeleteConflict", 409, "Cannot delete the default version of a policy.");
    }
    store.deletePolicyVersion(name, versionId);
    return QueryResponse.empty("DeletePolicyVersion", NAMESPACE, requestId);
  }

  private QueryResponse setDefaultPolicyVersion(QueryRequest q, String requestId) {
    String arn = policyArn(q);
    String name = customerPolicy(arn);
    String versionId = q.requiredString("VersionId", 0, 128, VERSION_ID);
    store.policyVersion(name, versionId).orElseThrow(() -> noVersion(arn, versionId));
    store.setDefaultPolicyVersion(name, versionId);
    return QueryResponse.empty("SetDefaultPolicyVersion", NAMESPACE, requestId);
  }

  // ---- policies as IAM shows them
  // ----------------------------------------------------------------

  /** A policy that may be attached: one of AWS's, or one of this account's. */
  record Attachable(
      String name,
      String arn,
      String path,
      String policyId,
      String defaultVersionId,
      String description,
      java.time.Instant created,
      java.time.Instant updated,
      int attachments,
      Map<String, String> tags) {

    static Attachable of(ManagedPolicies.Managed m, int attachments) {
      return new Attachable(
          m.name(),
          m.arn(),
          m.path(),
          m.policyId(),
          m.versionId(),
          m.description(),
          m.created(),
          m.updated(),
          attachments,
          Map.of());
    }

    static Attachable of(IamStore.Policy p, String arn, int attachments) {
      return new Attachable(
          p.name(),
          arn,
          p.path(),
          p.policyId(),
          p.defaultVersionId(),
          p.description(),
          p.created(),
          p.updated(),
          attachments,
          p.tags());
    }
  }

  private Optional<Attachable> attachable(String arn) {
    if (PolicyArns.isAwsManaged(arn)) {
      return ManagedPolicies.byArn(arn).map(m -> Attachable.of(m, store.attachmentCount(arn)));
    }
    return PolicyArns.customerPolicyName(account, arn)
        .flatMap(store::policy)
        .filter(p -> PolicyArns.policy(account, p.path(), p.name()).equals(arn))
        .map(p -> Attachable.of(p, arn, store.attachmentCount(arn)));
  }

  /** The versions of a policy: AWS's managed ones have their one current version. */
  private List<IamStore.PolicyVersion> versions(String arn) {
    if (PolicyArns.isAwsManaged(arn)) {
      ManagedPolicies.Managed m = ManagedPolicies.byArn(arn).orElseThrow(() -> noPolicy(arn));
      return List.of(
          new IamStore.PolicyVersion(m.versionId(), m.document().json(), true, m.updated()));
    }
    return store.policyVersions(customerPolicy(arn));
  }

  /** The name of the customer managed policy {@code arn} names, which must exist. */
  private String customerPolicy(String arn) {
    if (PolicyArns.isAwsManaged(arn)) {
      if (ManagedPolicies.byArn(arn).isEmpty()) {
        throw noPolicy(arn);
      }
      throw new QueryError(
          "InvalidInput", 400, "Cannot modify or delete the AWS managed policy " + arn + ".");
    }
    return attachable(arn).map(Attachable::name).orElseThrow(() -> noPolicy(arn));
  }

  private void writePolicy(QueryResponse out, Attachable p, boolean full) {
    out.start(full ? "Policy" : "member")
        .text("PolicyName", p.name())
        .text("PolicyId", p.policyId())
        .text("Arn", p.arn())
        .text("Path", p.path())
        .text("DefaultVersionId", p.defaultVersionId())
        .text("AttachmentCount", Integer.toString(p.attachments()))
        .text("PermissionsBoundaryUsageCount", "0")
        .text("IsAttachable", "true");
    if (full && !p.description().isEmpty()) {
      out.text("Description", p.description());
    }
    out.date("CreateDate", p.created()).date("UpdateDate", p.updated());
    if (full && !p.tags().isEmpty()) {
      writeTags(out, p.tags());
    }
    out.end();
  }

  private static void writeVersion(
      QueryResponse out, IamStore.PolicyVersion v, String element, boolean document) {
    out.start(element);
    if (document) {
      out.text("Document", encoded(v.document()));
    }
    out.text("VersionId", v.versionId())
        .text("IsDefaultVersion", Boolean.toString(v.isDefault()))
        .date("CreateDate", v.created())
        .end();
  }

  private void writeRole(QueryResponse out, IamStore.Role role, boolean full) {
    out.start(full ? "Role" : "member")
        .text("Path", role.path())
        .text("RoleName", role.name())
        .text("RoleId", role.roleId())
        .text("Arn", PolicyArns.role(account, role.path(), role.name()))
        .date("CreateDate", role.created())
        .text("AssumeRolePolicyDocument", encoded(role.assumeRolePolicyDocument()));
    if (!role.description().isEmpty()) {
      out.text("Description", role.description());
    }
    out.text("MaxSessionDuration", Integer.toString(role.maxSessionDuration()));
    if (full && !role.tags().isEmpty()) {
      writeTags(out, role.tags());
    }
    out.end();
  }

  private static void writeTags(QueryResponse out, Map<String, String> tags) {
    out.start("Tags");
    tags.forEach((k, v) -> out.start("member").text("Key", k).text("Value", v).end());
    out.end();
  }

  /** A document as IAM returns it: percent-encoded (RFC 3986), which boto3 and the CLI decode. */
  static String encoded(String document) {
    return URLEncoder.encode(document, StandardCharsets.UTF_8).replace("+", "%20");
  }

  // ---- checks ----------------------------------------------------------------------------------

  private static String roleName(QueryRequest q) {
    return q.requiredString("RoleName", 1, 64, NAME);
  }

  private static String policyArn(QueryRequest q) {
    String arn = q.requiredString("PolicyArn", 20, 2048, null);
    if (!arn.startsWith("arn:aws:iam::") || !arn.contains(":policy/")) {
      throw new QueryError("InvalidInput", 400, "ARN " + arn + " is not valid.");
    }
    return arn;
  }

  private static String document(QueryRequest q, String parameter) {
    return q.requiredString(parameter, 1, 131072, DOCUMENT);
  }

  private static Map<String, String> tags(QueryRequest q, String parameter) {
    Map<String, String> tags = q.tags(parameter);
    if (tags.size() > MAX_TAGS) {
      throw QueryError.validation(
          null,
          QueryError.lowerFirst(parameter),
          "Member must have length less than or equal to 50");
    }
    tags.forEach(
        (k, v) -> {
          QueryRequest.check(k, parameter + ".member.key", 1, 128, TAG_KEY);
          QueryRequest.check(v, parameter + ".member.value", 0, 256, TAG_VALUE);
        });
    return tags;
  }

  private static void trustPolicy(String document) {
    parsed(document, PolicyDocument.Kind.TRUST);
    if (PolicyDocument.sizeWithoutWhitespace(document) > TRUST_POLICY_QUOTA) {
      throw new QueryError(
          "LimitExceeded", 409, "Cannot exceed quota for ACLSizePerRole: " + TRUST_POLICY_QUOTA);
    }
  }

  private static void identityPolicy(String document, int quota) {
    parsed(document, PolicyDocument.Kind.IDENTITY);
    if (PolicyDocument.sizeWithoutWhitespace(document) > quota) {
      throw new QueryError("LimitExceeded", 409, "Cannot exceed quota for PolicySize: " + quota);
    }
  }

  private static PolicyDocument parsed(String document, PolicyDocument.Kind kind) {
    try {
      return PolicyDocument.parse(document, kind);
    } catch (MalformedPolicyException e) {
      throw new QueryError("MalformedPolicyDocument", 400, e.getMessage());
    }
  }

  private IamStore.Role existingRole(String name) {
    return store
        .role(name)
        .orElseThrow(
            () ->
                new QueryError(
                    "NoSuchEntity", 404, "The role with name " + name + " cannot be found."));
  }

  private static QueryError noRolePolicy(String role, String policy) {
    return new QueryError(
        "NoSuchEntity", 404, "The role policy with name " + policy + " cannot be found.");
  }

  private static QueryError noPolicy(String arn) {
    return new QueryError(
        "NoSuchEntity", 404, "Policy " + arn + " does not exist or is not attachable.");
  }

  private static QueryError noVersion(String arn, String versionId) {
    return new QueryError(
        "NoSuchEntity",
        404,
        "Policy " + arn + " version " + versionId + " does not exist or is not attachable.");
  }

  /** A store's outcome of a race lost between a check and a write, in IAM's words. */
  private static QueryError stored(StorageException e) {
    return switch (e) {
      case StorageException.AlreadyExists a ->
          new QueryError("EntityAlreadyExists", 409, "Entity " + a.key() + " already exists.");
      case StorageException.NotFound n ->
          new QueryError("NoSuchEntity", 404, "The entity " + n.key() + " cannot be found.");
      case StorageException.Rejected r ->
          new QueryError(
              r.overSizeLimit() ? "LimitExceeded" : "InvalidInput",
              r.overSizeLimit() ? 409 : 400,
              r.reason());
      default -> new QueryError("ServiceFailure", 500, "Kiln could not store the change");
    };
  }

  private static String id(String prefix) {
    StringBuilder s = new StringBuilder(prefix);
    for (int i = 0; i < 17; i++) {
      s.append(ID_ALPHABET.charAt(RANDOM.nextInt(ID_ALPHABET.length())));
    }
    return s.toString();
  }

  // ---- pages -----------------------------------------------------------------------------------

  /** One page of a list, with IAM's {@code IsTruncated} and {@code Marker}. */
  private record Page<T>(List<T> items, Optional<String> next) {
    void writeMarker(QueryResponse out) {
      out.text("IsTruncated", Boolean.toString(next.isPresent()));
      next.ifPresent(m -> out.text("Marker", m));
    }
  }

  /**
   * The page of {@code all} (in its order) that a marker starts; a marker is the encoded position
   * of the page's first item, which Kiln hands out and a client sends back unchanged.
   */
  private static <T> Page<T> page(QueryRequest q, List<T> all) {
    int max = q.integer("MaxItems", 1, 1000).orElse(100);
    int from = 0;
    Optional<String> marker = q.string("Marker", 1, 320, null);
    if (marker.isPresent()) {
      try {
        String text =
            new String(Base64.getUrlDecoder().decode(marker.get()), StandardCharsets.UTF_8);
        if (!text.startsWith("kiln:")) {
          throw new IllegalArgumentException(text);
        }
        from = Math.min(all.size(), Integer.parseInt(text.substring(5)));
      } catch (IllegalArgumentException e) {
        throw new QueryError("InvalidInput", 400, "Invalid Marker: " + marker.get());
      }
    }
    int to = Math.min(all.size(), from + max);
    Optional<String> next =
        to < all.size()
            ? Optional.of(
                Base64.getUrlEncoder()
                    .withoutPadding()
                    .encodeToString(("kiln:" + to).getBytes(StandardCharsets.UTF_8)))
            : Optional.empty();
    return new Page<>(all.subList(from, to), next);
  }

  static Collection<String> actions() {
    return ACTIONS;
  }
}
