package dev.kiln.model;

import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The resource-based policy of a function or one of its qualifiers: who else may call it
 * (AddPermission). Every change gives it a new {@code revisionId}, which RevisionId preconditions
 * compare.
 */
public record FunctionPolicy(String revisionId, List<Statement> statements) {

  /**
   * One grant, as AddPermission made it.
   *
   * @param principal as given: an account id, an ARN, a service ({@code s3.amazonaws.com}) or
   *     {@code *}
   * @param resource the function's ARN, qualified as the permission was
   */
  public record Statement(
      String statementId,
      String action,
      String principal,
      String resource,
      Optional<String> sourceArn,
      Optional<String> sourceAccount,
      Optional<String> principalOrgId,
      Optional<String> functionUrlAuthType,
      Optional<String> eventSourceToken,
      Optional<Boolean> invokedViaFunctionUrl) {

    public Statement {
      // policies stored before a condition existed have no such member
      sourceArn = orEmpty(sourceArn);
      sourceAccount = orEmpty(sourceAccount);
      principalOrgId = orEmpty(principalOrgId);
      functionUrlAuthType = orEmpty(functionUrlAuthType);
      eventSourceToken = orEmpty(eventSourceToken);
      invokedViaFunctionUrl = orEmpty(invokedViaFunctionUrl);
    }

    private static <T> Optional<T> orEmpty(Optional<T> value) {
      return value == null ? Optional.empty() : value;
    }
  }

  public FunctionPolicy {
    statements = List.copyOf(statements);
  }

  public static FunctionPolicy empty() {
    return new FunctionPolicy(UUID.randomUUID().toString(), List.of());
  }

  public Optional<Statement> statement(String statementId) {
    return statements.stream().filter(s -> s.statementId().equals(statementId)).findFirst();
  }

  public FunctionPolicy with(Statement statement) {
    List<Statement> next = new java.util.ArrayList<>(statements);
    next.add(statement);
    return new FunctionPolicy(UUID.randomUUID().toString(), next);
  }

  public FunctionPolicy without(String statementId) {
    return new FunctionPolicy(
        UUID.randomUUID().toString(),
        statements.stream().filter(s -> !s.statementId().equals(statementId)).toList());
  }
}
