package dev.kiln.model;

import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The resource policy of a layer version: who else may use it (AddLayerVersionPermission). Every
 * change gives it a new {@code revisionId}, which RevisionId preconditions compare.
 */
public record LayerPolicy(String revisionId, List<Statement> statements) {

  /**
   * One grant of {@code lambda:GetLayerVersion}.
   *
   * @param principal an account id, {@code *}, or an account's root ARN, as given
   * @param organizationId with principal {@code *}: only accounts of this organization
   */
  public record Statement(
      String statementId, String action, String principal, Optional<String> organizationId) {

    public Statement {
      organizationId = organizationId == null ? Optional.empty() : organizationId;
    }
  }

  public LayerPolicy {
    statements = List.copyOf(statements);
  }

  public static LayerPolicy empty() {
    return new LayerPolicy(UUID.randomUUID().toString(), List.of());
  }

  public Optional<Statement> statement(String statementId) {
    return statements.stream().filter(s -> s.statementId().equals(statementId)).findFirst();
  }

  public LayerPolicy with(Statement statement) {
    List<Statement> next = new java.util.ArrayList<>(statements);
    next.add(statement);
    return new LayerPolicy(UUID.randomUUID().toString(), next);
  }

  public LayerPolicy without(String statementId) {
    return new LayerPolicy(
        UUID.randomUUID().toString(),
        statements.stream().filter(s -> !s.statementId().equals(statementId)).toList());
  }
}
