package dev.kiln.events.push;

import dev.kiln.invoke.FunctionPolicies;
import dev.kiln.model.FunctionPolicy;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Whether a function's resource-based policy lets an AWS service invoke it, as Lambda decides for a
 * service principal: a statement whose principal is the service (or {@code *}), whose action is
 * {@code lambda:InvokeFunction} (or {@code lambda:*}, {@code *}), whose {@code SourceArn}
 * condition, if any, matches the calling resource's ARN ({@code ArnLike}: {@code *} and {@code ?}
 * wildcards) and whose {@code SourceAccount}, if any, is the account. The function's own policy
 * and, for a qualified reference, its qualifier's both count. Stateless.
 */
public final class ServicePermission {

  private ServicePermission() {}

  /** Whether {@code service} may invoke {@code ref} on behalf of {@code sourceArn}. */
  public static boolean allows(
      FunctionPolicies policies,
      FunctionRef ref,
      String service,
      String sourceArn,
      String accountId) {
    for (FunctionPolicy.Statement s : statements(policies, ref)) {
      boolean principal = s.principal().equals(service) || s.principal().equals("*");
      boolean action =
          s.action().equals("lambda:InvokeFunction")
              || s.action().equals("lambda:*")
              || s.action().equals("*");
      boolean source = s.sourceArn().map(p -> arnLike(p, sourceArn)).orElse(true);
      boolean account = s.sourceAccount().map(accountId::equals).orElse(true);
      if (principal
          && action
          && source
          && account
          && s.principalOrgId().isEmpty()
          && s.functionUrlAuthType().isEmpty()
          && s.eventSourceToken().isEmpty()) {
        return true;
      }
    }
    return false;
  }

  /** IAM's {@code ArnLike}: {@code *} any run of characters, {@code ?} any one. */
  static boolean arnLike(String pattern, String arn) {
    StringBuilder regex = new StringBuilder();
    for (char c : pattern.toCharArray()) {
      switch (c) {
        case '*' -> regex.append(".*");
        case '?' -> regex.append('.');
        default -> regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(regex.toString(), Pattern.DOTALL).matcher(arn).matches();
  }

  private static List<FunctionPolicy.Statement> statements(
      FunctionPolicies policies, FunctionRef ref) {
    List<FunctionPolicy.Statement> out = new ArrayList<>();
    policy(policies, new FunctionRef(ref.name(), Optional.empty()))
        .ifPresent(p -> out.addAll(p.statements()));
    if (ref.qualifier().isPresent()) {
      policy(policies, ref).ifPresent(p -> out.addAll(p.statements()));
    }
    return out;
  }

  private static Optional<FunctionPolicy> policy(FunctionPolicies policies, FunctionRef ref) {
    try {
      return Optional.of(policies.policy(ref));
    } catch (LambdaError.NotFound none) {
      return Optional.empty();
    }
  }
}
