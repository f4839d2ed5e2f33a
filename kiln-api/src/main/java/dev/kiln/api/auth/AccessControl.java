package dev.kiln.api.auth;

import dev.kiln.iam.AccessRequest;
import dev.kiln.iam.Decision;
import dev.kiln.iam.Outcome;
import dev.kiln.iam.PolicyDocument;
import dev.kiln.iam.PolicyEvaluator;
import dev.kiln.iam.Principal;
import dev.kiln.model.Account;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Decides whether a caller may perform an operation, as IAM does within one account: an explicit
 * Deny in the caller's identity-based policies ({@link IdentityPolicies}) refuses; otherwise an
 * Allow there, or a grant of the resource's own policy (a function's, from AddPermission), allows;
 * otherwise the request is refused. The refusal's message is AWS's, naming the caller's ARN, the
 * action and the resource ({@link PolicyEvaluator#denialMessage}).
 *
 * <p>The request's condition keys are the global ones Kiln knows ({@code aws:PrincipalArn}, {@code
 * aws:PrincipalAccount}, {@code aws:userid}, {@code aws:username}, {@code aws:RequestedRegion},
 * {@code aws:CurrentTime}, {@code aws:EpochTime}), the operation's own ({@link RequestConditions}:
 * {@code aws:RequestTag/*}, {@code aws:TagKeys}, {@code lambda:Principal}, {@code lambda:Layer},
 * {@code lambda:FunctionUrlAuthType}, {@code lambda:FunctionArn}) and, when a policy asks for them,
 * the function's tags as {@code aws:ResourceTag/*}.
 *
 * <p>Stateless; safe for any number of request threads.
 */
public final class AccessControl {

  /** Whether a function's resource-based policy grants {@code principalArn} the action. */
  @FunctionalInterface
  public interface ResourceGrants {
    boolean allows(String principalArn, String action, String function, Optional<String> qualifier);
  }

  /** A function's tags, for {@code aws:ResourceTag}; empty for a function that does not exist. */
  @FunctionalInterface
  public interface ResourceTags {
    Map<String, String> of(String function);
  }

  private final IdentityPolicies identities;
  private final ResourceGrants grants;
  private final ResourceTags tags;
  private final Account account;
  private final InstantSource clock;

  public AccessControl(
      IdentityPolicies identities,
      ResourceGrants grants,
      ResourceTags tags,
      Account account,
      InstantSource clock) {
    this.identities = identities;
    this.grants = grants;
    this.tags = tags;
    this.account = account;
    this.clock = clock;
  }

  public IdentityPolicies identities() {
    return identities;
  }

  /**
   * Empty when {@code caller} may perform {@code operation}; AWS's AccessDenied message otherwise.
   *
   * @param conditions the operation's own condition keys ({@link RequestConditions})
   */
  public Optional<String> denial(
      Caller caller, ApiOperations.Operation operation, Map<String, List<String>> conditions) {
    List<PolicyDocument> policies = identities.of(caller);
    Map<String, List<String>> context = new HashMap<>(conditions);
    context.put("aws:PrincipalArn", List.of(caller.principalArn()));
    context.put("aws:PrincipalAccount", List.of(account.accountId()));
    context.put("aws:userid", List.of(caller.userId()));
    if (caller instanceof Caller.User user) {
      context.put("aws:username", List.of(user.key().accessKeyId()));
    }
    context.put("aws:RequestedRegion", List.of(account.region()));
    Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    context.put("aws:CurrentTime", List.of(now.toString()));
    context.put("aws:EpochTime", List.of(Long.toString(now.getEpochSecond())));
    if (operation.function().isPresent() && asksForResourceTags(policies)) {
      tags.of(operation.function().get())
          .forEach((k, v) -> context.put("aws:ResourceTag/" + k, List.of(v)));
    }
    AccessRequest request =
        new AccessRequest(
            new Principal("AWS", caller.arn(), account.accountId()),
            operation.action(),
            operation.resource(),
            context);
    Outcome outcome = PolicyEvaluator.evaluate(request, policies, List.of());
    if (outcome.decision() == Decision.ALLOW) {
      return Optional.empty();
    }
    if (outcome.decision() == Decision.IMPLICIT_DENY && operation.function().isPresent()) {
      Optional<String> qualifier =
          Optional.ofNullable(conditions.get(RequestConditions.QUALIFIER))
              .flatMap(q -> q.stream().findFirst());
      String function = operation.function().get();
      if (grants.allows(caller.arn(), operation.action(), function, qualifier)
          || (!caller.arn().equals(caller.principalArn())
              && grants.allows(caller.principalArn(), operation.action(), function, qualifier))) {
        return Optional.empty();
      }
      if (policies.isEmpty() && caller instanceof Caller.User) {
        // a key with no identity policy of its own: only resource-based policies could allow it
        return Optional.of(
            "User: "
                + caller.arn()
                + " is not authorized to perform: "
                + operation.action()
                + " on resource: "
                + operation.resource()
                + " because no resource-based policy allows the "
                + operation.action()
                + " action");
      }
    }
    return Optional.of(PolicyEvaluator.denialMessage(request, outcome));
  }

  private static boolean asksForResourceTags(List<PolicyDocument> policies) {
    for (PolicyDocument p : policies) {
      if (p.readsKeyStartingWith("aws:ResourceTag/")) {
        return true;
      }
    }
    return false;
  }
}
