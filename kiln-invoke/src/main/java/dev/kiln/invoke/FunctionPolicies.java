package dev.kiln.invoke;

import dev.kiln.model.FunctionPolicy;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import dev.kiln.store.MetadataStore;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Functions' resource-based policies (AddPermission, RemovePermission, GetPolicy), and the one
 * question the request gate asks of them: does a statement let this caller invoke the function?
 * (Layer versions' policies are {@link LayerCatalog}'s.)
 *
 * <p>A policy belongs to a function or to one of its qualifiers (a version or an alias), and is a
 * list of statements, each granting an action to a principal, possibly under conditions. A
 * statement is added or removed by reading the policy, checking its statement id, and storing the
 * new list with the revision the caller gave, all under the catalog's shared {@code writeLock}, so
 * that two additions never both pass the duplicate check; the store refuses a stale {@code
 * RevisionId}. Invocations read the policy afresh, so nothing here is cached or reported to the
 * change feed.
 */
public final class FunctionPolicies {

  private static final Pattern STATEMENT_ID = Pattern.compile("[a-zA-Z0-9-_.]+");
  private static final Pattern ACTION = Pattern.compile("(lambda:[*]|lambda:[a-zA-Z]+|[*])");
  private static final Pattern PRINCIPAL = Pattern.compile("[^\\s]+");
  private static final Pattern EVENT_SOURCE_TOKEN = Pattern.compile("[a-zA-Z0-9._\\-]+");

  private final MetadataStore store;
  private final References references;
  private final Object writeLock;

  /**
   * @param writeLock held around every change to the stores, by every part of the catalog
   */
  FunctionPolicies(MetadataStore store, References references, Object writeLock) {
    this.store = store;
    this.references = references;
    this.writeLock = writeLock;
  }

  /** AddPermission: a statement on the function, or on the qualifier the reference names. */
  public FunctionPolicy.Statement addPermission(
      FunctionRef ref,
      String statementId,
      String action,
      String principal,
      Optional<String> sourceArn,
      Optional<String> sourceAccount,
      Optional<String> principalOrgId,
      Optional<String> functionUrlAuthType,
      Optional<String> eventSourceToken,
      Optional<Boolean> invokedViaFunctionUrl,
      Optional<String> revisionId) {
    if (statementId.isEmpty()
        || statementId.length() > 100
        || !STATEMENT_ID.matcher(statementId).matches()) {
      throw LambdaError.validation(
          "statementId",
          statementId,
          "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_.]+)");
    }
    if (!ACTION.matcher(action).matches()) {
      throw LambdaError.validation(
          "action",
          action,
          "Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])");
    }
    if (!PRINCIPAL.matcher(principal).matches()) {
      throw LambdaError.validation(
          "principal", principal, "Member must satisfy regular expression pattern: [^\\s]+");
    }
    functionUrlAuthType
        .filter(t -> !t.equals("NONE") && !t.equals("AWS_IAM"))
        .ifPresent(
            t -> {
              throw LambdaError.validation(
                  "functionUrlAuthType", t, "Member must satisfy enum value set: [AWS_IAM, NONE]");
            });
    eventSourceToken
        .filter(t -> t.length() > 256 || !EVENT_SOURCE_TOKEN.matcher(t).matches())
        .ifPresent(
            t -> {
              throw LambdaError.validation(
                  "eventSourceToken",
                  t,
                  t.length() > 256
                      ? "Member must have length less than or equal to 256"
                      : "Member must satisfy regular expression pattern: [a-zA-Z0-9._\\-]+");
            });
    if (ref.qualifier().isPresent()) {
      references.requireQualifierExists(ref);
    } else {
      references.requireExists(ref);
    }
    String qualifier = ref.qualifier().orElse("");
    FunctionPolicy.Statement statement =
        new FunctionPolicy.Statement(
            statementId,
            action,
            principal,
            qualifier.isEmpty()
                ? references.account().functionArn(ref.name())
                : references.account().functionArn(ref.name(), qualifier),
            sourceArn,
            sourceAccount,
            principalOrgId,
            functionUrlAuthType,
            eventSourceToken,
            invokedViaFunctionUrl);
    synchronized (writeLock) {
      FunctionPolicy current =
          store.functionPolicy(ref.name(), qualifier).orElseGet(FunctionPolicy::empty);
      if (current.statement(statementId).isPresent()) {
        throw LambdaError.statementExists(statementId);
      }
      store.putFunctionPolicy(ref.name(), qualifier, current.with(statement), revisionId);
    }
    return statement;
  }

  /** RemovePermission. */
  public void removePermission(FunctionRef ref, String statementId, Optional<String> revisionId) {
    references.requireExists(ref);
    String qualifier = ref.qualifier().orElse("");
    synchronized (writeLock) {
      FunctionPolicy current =
          store.functionPolicy(ref.name(), qualifier).orElseGet(FunctionPolicy::empty);
      if (current.statement(statementId).isEmpty()) {
        throw LambdaError.statementNotFound(statementId);
      }
      store.putFunctionPolicy(ref.name(), qualifier, current.without(statementId), revisionId);
    }
  }

  /** GetPolicy. */
  public FunctionPolicy policy(FunctionRef ref) {
    references.requireExists(ref);
    return store
        .functionPolicy(ref.name(), ref.qualifier().orElse(""))
        .filter(p -> !p.statements().isEmpty())
        .orElseThrow(() -> LambdaError.notFound("The resource you requested does not exist."));
  }

  /**
   * Whether a statement of the function's policy, or of the qualifier's, lets {@code principalArn}
   * (a caller with no rights of its own) perform {@code action}. Statements with conditions on the
   * calling service ({@code SourceArn}, {@code SourceAccount}) grant AWS services, never a key.
   */
  public boolean allows(FunctionRef ref, String principalArn, String action) {
    for (FunctionPolicy.Statement s : statements(ref)) {
      boolean actionMatches =
          s.action().equals("*") || s.action().equals("lambda:*") || s.action().equals(action);
      boolean principalMatches = s.principal().equals("*") || s.principal().equals(principalArn);
      // a condition no key can meet (a source for AWS services, an organization, a function
      // URL, an Alexa skill's token) keeps the statement from granting keys anything
      if (actionMatches
          && principalMatches
          && s.sourceArn().isEmpty()
          && s.sourceAccount().isEmpty()
          && s.principalOrgId().isEmpty()
          && s.functionUrlAuthType().isEmpty()
          && s.eventSourceToken().isEmpty()
          && !s.invokedViaFunctionUrl().orElse(false)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether the function's policy (or its qualifier's) lets the AWS service {@code
   * servicePrincipal} (such as {@code events.amazonaws.com}) perform {@code action} for the
   * resource {@code sourceArn} of account {@code sourceAccount}, as Lambda decides when a service
   * invokes a function: a statement whose principal is the service (or {@code *}), whose action
   * covers {@code action}, whose {@code SourceArn} condition, if it has one, matches {@code
   * sourceArn} as {@code ArnLike} does ({@code *} and {@code ?} wildcards), and whose {@code
   * SourceAccount} condition, if it has one, is {@code sourceAccount}. A statement with a condition
   * no service call meets (an organization, a function URL, an Alexa skill's token) grants nothing
   * here.
   */
  public boolean allowsService(
      FunctionRef ref,
      String servicePrincipal,
      String action,
      String sourceArn,
      String sourceAccount) {
    for (FunctionPolicy.Statement s : statements(ref)) {
      boolean actionMatches =
          s.action().equals("*") || s.action().equals("lambda:*") || s.action().equals(action);
      boolean principalMatches =
          s.principal().equals("*") || s.principal().equals(servicePrincipal);
      if (actionMatches
          && principalMatches
          && s.sourceArn().map(p -> arnLike(p, sourceArn)).orElse(true)
          && s.sourceAccount().map(sourceAccount::equals).orElse(true)
          && s.principalOrgId().isEmpty()
          && s.functionUrlAuthType().isEmpty()
          && s.eventSourceToken().isEmpty()
          && !s.invokedViaFunctionUrl().orElse(false)) {
        return true;
      }
    }
    return false;
  }

  /** IAM's {@code ArnLike}: {@code *} matches any run of characters, {@code ?} any one. */
  static boolean arnLike(String pattern, String arn) {
    StringBuilder regex = new StringBuilder();
    for (char c : pattern.toCharArray()) {
      switch (c) {
        case '*' -> regex.append(".*");
        case '?' -> regex.append('.');
        default -> regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.matches(regex.toString(), arn);
  }

  /**
   * Whether the function's policy (or its qualifier's) lets {@code principalArn} call the
   * function's URL of auth type {@code authType}, as Lambda has required since October 2025: one
   * statement granting {@code lambda:InvokeFunctionUrl} (with no {@code lambda:FunctionUrlAuthType}
   * condition, or one naming {@code authType}) and one granting {@code lambda:InvokeFunction}
   * (unconditionally, or on {@code lambda:InvokedViaFunctionUrl}).
   */
  public boolean allowsFunctionUrl(FunctionRef ref, String principalArn, String authType) {
    boolean url = false;
    boolean invoke = false;
    for (FunctionPolicy.Statement s : statements(ref)) {
      boolean principalMatches = s.principal().equals("*") || s.principal().equals(principalArn);
      boolean unconditional =
          s.sourceArn().isEmpty()
              && s.sourceAccount().isEmpty()
              && s.principalOrgId().isEmpty()
              && s.eventSourceToken().isEmpty()
              && s.functionUrlAuthType().map(authType::equals).orElse(true);
      if (!principalMatches || !unconditional) {
        continue;
      }
      boolean all = s.action().equals("*") || s.action().equals("lambda:*");
      url |= all || s.action().equals("lambda:InvokeFunctionUrl");
      invoke |= all || s.action().equals("lambda:InvokeFunction");
    }
    return url && invoke;
  }

  /** The statements of the function's policy and, for a qualified reference, its qualifier's. */
  private List<FunctionPolicy.Statement> statements(FunctionRef ref) {
    List<FunctionPolicy.Statement> out = new java.util.ArrayList<>();
    store.functionPolicy(ref.name(), "").ifPresent(p -> out.addAll(p.statements()));
    ref.qualifier()
        .flatMap(q -> store.functionPolicy(ref.name(), q))
        .ifPresent(p -> out.addAll(p.statements()));
    return out;
  }
}
