package dev.kiln.iam;

import java.util.List;
import java.util.Map;

/**
 * IAM's evaluation logic for a request within one account, as the IAM User Guide's "Policy
 * evaluation logic" documents it: every request starts denied; an explicit {@code Deny} in any
 * applicable statement, identity-based or resource-based, refuses it whatever else allows; short of
 * that, an {@code Allow} in the identity's policies or in the resource's policy allows it (in one
 * account either suffices); otherwise it stays implicitly denied.
 *
 * <p>A statement applies when its action matches ({@code Action} lists one that matches, or {@code
 * NotAction} lists none; actions compare ignoring case, with wildcards), its resource matches
 * ({@code Resource}/{@code NotResource}, ARN part by part, case-sensitive, with wildcards and
 * policy variables; a trust policy has no resource), its principal matches (resource-based and
 * trust policies only: {@code *}, the principal's ARN, its account's id or {@code root} ARN, the
 * role of a role session, or a service name) and all its conditions hold ({@link Conditions}).
 *
 * <p>Stateless; the documents it reads are immutable.
 */
public final class PolicyEvaluator {

  private PolicyEvaluator() {}

  /** Decides {@code request} against the identity's and the resource's policies. */
  public static Outcome evaluate(
      AccessRequest request, List<PolicyDocument> identity, List<PolicyDocument> resource) {
    boolean identityAllows = false;
    boolean resourceAllows = false;
    for (PolicyDocument document : identity) {
      for (PolicyDocument.Statement s : document.statements()) {
        if (applies(s, document, request, false)) {
          if (!s.allow()) {
            return new Outcome(Decision.EXPLICIT_DENY, Outcome.Where.IDENTITY);
          }
          identityAllows = true;
        }
      }
    }
    for (PolicyDocument document : resource) {
      for (PolicyDocument.Statement s : document.statements()) {
        if (applies(s, document, request, true)) {
          if (!s.allow()) {
            return new Outcome(Decision.EXPLICIT_DENY, Outcome.Where.RESOURCE);
          }
          resourceAllows = true;
        }
      }
    }
    if (identityAllows) {
      return new Outcome(Decision.ALLOW, Outcome.Where.IDENTITY);
    }
    if (resourceAllows) {
      return new Outcome(Decision.ALLOW, Outcome.Where.RESOURCE);
    }
    return Outcome.IMPLICIT;
  }

  /**
   * AWS's AccessDenied message for a refused request: {@code User: ARN is not authorized to
   * perform: ACTION on resource: RESOURCE} and why, as AWS words it.
   */
  public static String denialMessage(AccessRequest request, Outcome outcome) {
    String head =
        "User: "
            + request.principal().id()
            + " is not authorized to perform: "
            + request.action()
            + " on resource: "
            + request.resource();
    return switch (outcome.decision()) {
      case EXPLICIT_DENY ->
          head
              + " with an explicit deny in "
              + (outcome.where() == Outcome.Where.RESOURCE
                  ? "a resource-based policy"
                  : "an identity-based policy");
      case IMPLICIT_DENY, ALLOW ->
          head + " because no identity-based policy allows the " + request.action() + " action";
    };
  }

  private static boolean applies(
      PolicyDocument.Statement s,
      PolicyDocument document,
      AccessRequest request,
      boolean resourceBased) {
    if (!actionMatches(s, request.action())) {
      return false;
    }
    boolean variables = document.version().equals("2012-10-17");
    if (document.kind() != PolicyDocument.Kind.TRUST
        && !resourceMatches(s, request.resource(), request.context(), variables)) {
      return false;
    }
    if (resourceBased && !principalMatches(s, request.principal())) {
      return false;
    }
    return Conditions.allHold(s.conditions(), request.context(), variables);
  }

  private static boolean actionMatches(PolicyDocument.Statement s, String action) {
    if (s.actions() != null) {
      return anyMatches(s.actions(), action);
    }
    return !anyMatches(s.notActions(), action);
  }

  private static boolean anyMatches(List<String> patterns, String action) {
    for (String p : patterns) {
      if (Wildcards.matches(p, action, true)) {
        return true;
      }
    }
    return false;
  }

  private static boolean resourceMatches(
      PolicyDocument.Statement s,
      String resource,
      Map<String, List<String>> context,
      boolean variables) {
    List<String> patterns = s.resources() != null ? s.resources() : s.notResources();
    if (patterns == null) {
      return true;
    }
    boolean any = false;
    for (String p : patterns) {
      String pattern = variables ? Variables.substitute(p, context) : p;
      if (pattern != null && Wildcards.arnMatches(pattern, resource)) {
        any = true;
        break;
      }
    }
    return s.resources() != null ? any : !any;
  }

  private static boolean principalMatches(PolicyDocument.Statement s, Principal principal) {
    if (s.principals() != null) {
      return names(s.principals(), principal);
    }
    if (s.notPrincipals() != null) {
      return !names(s.notPrincipals(), principal);
    }
    return false;
  }

  private static boolean names(PolicyDocument.Principals principals, Principal p) {
    if (principals.everyone()) {
      return true;
    }
    List<String> ids = principals.ids().get(p.type());
    if (ids == null) {
      return false;
    }
    for (String id : ids) {
      if (id.equals("*") || id.equals(p.id())) {
        return true;
      }
      if (p.type().equals("AWS") && p.account() != null) {
        if (id.equals(p.account()) || id.equals("arn:aws:iam::" + p.account() + ":root")) {
          return true;
        }
        String role = roleOfSession(p.id());
        if (role != null
            && id.startsWith("arn:aws:iam::" + p.account() + ":role/")
            && id.endsWith("/" + role)) {
          return true;
        }
      }
    }
    return false;
  }

  /** The role's name {@code R} of a session {@code arn:aws:sts::A:assumed-role/R/S}. */
  private static String roleOfSession(String arn) {
    String[] parts = arn.split(":", 6);
    if (parts.length != 6 || !parts[2].equals("sts") || !parts[5].startsWith("assumed-role/")) {
      return null;
    }
    String[] path = parts[5].split("/");
    if (path.length < 3) {
      return null;
    }
    return path[1];
  }
}
