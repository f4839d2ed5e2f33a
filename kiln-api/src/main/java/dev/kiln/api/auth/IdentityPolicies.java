package dev.kiln.api.auth;

import dev.kiln.api.iam.PolicyArns;
import dev.kiln.iam.MalformedPolicyException;
import dev.kiln.iam.ManagedPolicies;
import dev.kiln.iam.PolicyDocument;
import dev.kiln.model.Account;
import dev.kiln.store.IamStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The identity-based policies of a caller: a key's role policy, attached and inline policies; a
 * function session's role's inline and attached policies, read from the IAM store.
 *
 * <p>A role's documents are cached with the store's generation at the time they were read, and read
 * again as soon as the generation moves (any IAM write), so a change to a role's policies applies
 * to the next request of every running instance. Parsed documents are kept by their text, so a
 * document is parsed once however many requests it decides. Both caches are concurrent maps;
 * nothing else is shared.
 *
 * <p>A function whose {@code Role} names no role Kiln knows acts, in the default {@code compat}
 * mode, as before roles meant anything: it may invoke functions ({@code KilnInvokeAccess}), and
 * Kiln logs a warning naming the function and the role once. In {@code strict} mode such a function
 * has no policies, and CreateFunction refuses the role in the first place.
 */
public final class IdentityPolicies {

  private static final Logger LOG = LoggerFactory.getLogger(IdentityPolicies.class);

  /** What {@code kiln server --iam} says about roles Kiln does not know. */
  public enum Mode {
    COMPAT,
    STRICT
  }

  public static final String INVOKE_ACCESS = "arn:aws:iam::aws:policy/kiln/KilnInvokeAccess";

  private record Cached(long generation, Optional<List<PolicyDocument>> documents) {}

  private final IamStore store;
  private final Account account;
  private final Mode mode;
  private final ConcurrentHashMap<String, Cached> roles = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, PolicyDocument> parsed = new ConcurrentHashMap<>();
  private final Set<String> warned = ConcurrentHashMap.newKeySet();

  public IdentityPolicies(IamStore store, Account account, Mode mode) {
    this.store = store;
    this.account = account;
    this.mode = mode;
  }

  public Mode mode() {
    return mode;
  }

  /** The identity-based policies that decide what {@code caller} may do. */
  public List<PolicyDocument> of(Caller caller) {
    return switch (caller) {
      case Caller.User user -> ofKey(user.key());
      case Caller.AssumedRole session -> ofSession(session);
    };
  }

  private List<PolicyDocument> ofKey(AccessKeys.Key key) {
    List<PolicyDocument> out = new ArrayList<>();
    key.rolePolicyArn().flatMap(this::managed).ifPresent(out::add);
    for (String arn : key.policyArns()) {
      managed(arn).ifPresent(out::add);
    }
    for (String document : key.inlinePolicies().values()) {
      document(document).ifPresent(out::add);
    }
    return out;
  }

  private List<PolicyDocument> ofSession(Caller.AssumedRole session) {
    Optional<List<PolicyDocument>> role = role(session.session().roleArn());
    if (role.isPresent()) {
      return role.get();
    }
    if (mode == Mode.STRICT) {
      return List.of();
    }
    if (warned.add(session.session().owner() + " " + session.session().roleArn())) {
      LOG.warn(
          "function {} has the role {}, which Kiln's IAM does not know: it may only invoke"
              + " functions (create the role with aws iam create-role to give it permissions;"
              + " kiln server --iam strict refuses such roles)",
          session.session().functionName(),
          session.session().roleArn());
    }
    return managed(INVOKE_ACCESS).map(List::of).orElse(List.of());
  }

  /**
   * Refuses, as Lambda does at CreateFunction and UpdateFunctionConfiguration, a {@code Role} that
   * Lambda could not assume: a role Kiln knows whose trust policy does not let {@code
   * lambda.amazonaws.com} call {@code sts:AssumeRole}, or (in strict mode) a role Kiln does not
   * know. In compat mode an unknown role is accepted with a warning.
   *
   * @return AWS's message when the role is refused
   */
  public Optional<String> refusal(String roleArn, String function) {
    String refused = "The role defined for the function cannot be assumed by Lambda.";
    Optional<IamStore.Role> role =
        PolicyArns.roleName(account, roleArn)
            .flatMap(store::role)
            .filter(r -> PolicyArns.role(account, r.path(), r.name()).equals(roleArn));
    if (role.isEmpty()) {
      if (mode == Mode.STRICT) {
        return Optional.of(refused);
      }
      if (warned.add(function + " " + roleArn)) {
        LOG.warn(
            "function {} names the role {}, which Kiln's IAM does not know: the function may only"
                + " invoke functions until the role exists (kiln server --iam strict refuses it)",
            function,
            roleArn);
      }
      return Optional.empty();
    }
    PolicyDocument trust;
    try {
      trust =
          PolicyDocument.parse(role.get().assumeRolePolicyDocument(), PolicyDocument.Kind.TRUST);
    } catch (MalformedPolicyException e) {
      return Optional.of(refused);
    }
    dev.kiln.iam.AccessRequest assume =
        new dev.kiln.iam.AccessRequest(
            new dev.kiln.iam.Principal("Service", "lambda.amazonaws.com", null),
            "sts:AssumeRole",
            roleArn,
            java.util.Map.of(
                "aws:SourceAccount", List.of(account.accountId()),
                "aws:SourceArn", List.of(account.functionArn(function))));
    boolean trusted =
        dev.kiln.iam.PolicyEvaluator.evaluate(assume, List.of(), List.of(trust)).decision()
            == dev.kiln.iam.Decision.ALLOW;
    return trusted ? Optional.empty() : Optional.of(refused);
  }

  /** The unique id of the role {@code roleArn} names, or one derived from the ARN if none. */
  public String roleId(String roleArn) {
    return PolicyArns.roleName(account, roleArn)
        .flatMap(store::role)
        .map(IamStore.Role::roleId)
        .orElseGet(
            () -> {
              String hex = Integer.toHexString(roleArn.hashCode()).toUpperCase(Locale.ROOT);
              return "AROAKILN" + "0".repeat(Math.max(0, 13 - hex.length())) + hex;
            });
  }

  /** The documents of the role {@code roleArn} names, if Kiln knows that role. */
  public Optional<List<PolicyDocument>> role(String roleArn) {
    Optional<String> name = PolicyArns.roleName(account, roleArn);
    if (name.isEmpty()) {
      return Optional.empty();
    }
    String key = name.get().toLowerCase(Locale.ROOT);
    long generation = store.generation();
    Cached cached = roles.get(key);
    if (cached != null && cached.generation() == generation) {
      return cached.documents();
    }
    Optional<List<PolicyDocument>> documents = read(name.get(), roleArn);
    roles.put(key, new Cached(generation, documents));
    return documents;
  }

  private Optional<List<PolicyDocument>> read(String name, String roleArn) {
    Optional<IamStore.Role> role = store.role(name);
    if (role.isEmpty()
        || !PolicyArns.role(account, role.get().path(), role.get().name()).equals(roleArn)) {
      return Optional.empty();
    }
    List<PolicyDocument> out = new ArrayList<>();
    for (String policy : store.rolePolicyNames(role.get().name())) {
      store.rolePolicy(role.get().name(), policy).flatMap(this::document).ifPresent(out::add);
    }
    for (String arn : store.attachedRolePolicies(role.get().name())) {
      managed(arn).ifPresent(out::add);
    }
    return Optional.of(List.copyOf(out));
  }

  /** An AWS managed policy, or this account's customer managed policy at its default version. */
  public Optional<PolicyDocument> managed(String arn) {
    if (PolicyArns.isAwsManaged(arn)) {
      return ManagedPolicies.byArn(arn).map(ManagedPolicies.Managed::document);
    }
    return PolicyArns.customerPolicyName(account, arn)
        .flatMap(store::policy)
        .flatMap(p -> store.policyVersion(p.name(), p.defaultVersionId()))
        .flatMap(v -> document(v.document()));
  }

  private Optional<PolicyDocument> document(String json) {
    PolicyDocument known = parsed.get(json);
    if (known != null) {
      return Optional.of(known);
    }
    try {
      PolicyDocument document = PolicyDocument.parse(json, PolicyDocument.Kind.IDENTITY);
      if (parsed.size() > 10_000) {
        parsed.clear();
      }
      parsed.put(json, document);
      return Optional.of(document);
    } catch (MalformedPolicyException stored) {
      // every document is checked before it is stored: one that fails now grants nothing
      LOG.warn("a stored policy document no longer parses: {}", stored.getMessage());
      return Optional.empty();
    }
  }
}
