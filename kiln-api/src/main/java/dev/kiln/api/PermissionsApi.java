package dev.kiln.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.invoke.Catalog;
import dev.kiln.invoke.FunctionPolicies;
import dev.kiln.model.Account;
import dev.kiln.model.FunctionPolicy;
import dev.kiln.model.FunctionRef;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;

/**
 * AddPermission, RemovePermission and GetPolicy: a function's resource-based policy (or its
 * qualifier's), returned as IAM writes it ({@code Statement} and {@code Policy} are JSON documents
 * inside JSON strings, as AWS returns them).
 */
final class PermissionsApi {

  private static final int MAX_BODY = 64 * 1024;

  private final FunctionPolicies policies;
  private final Account account;

  PermissionsApi(Catalog catalog) {
    this.policies = catalog.policies();
    this.account = catalog.account();
  }

  void routes(HttpRouting.Builder r) {
    String policy = LambdaApi.FUNCTIONS + "/{name}/policy";
    r.post(policy, this::addPermission)
        .get(policy, this::getPolicy)
        .delete(policy + "/{sid}", this::removePermission);
  }

  private void addPermission(ServerRequest req, ServerResponse res) throws IOException {
    FunctionRef ref = LambdaApi.functionRef(req, account);
    RequestBody body = RequestBody.parse(LambdaApi.readBody(req, MAX_BODY, "AddPermission"));
    FunctionPolicy.Statement statement =
        policies.addPermission(
            ref,
            body.requiredString("StatementId"),
            body.requiredString("Action"),
            body.requiredString("Principal"),
            body.string("SourceArn"),
            body.string("SourceAccount"),
            body.string("PrincipalOrgID"),
            body.string("FunctionUrlAuthType"),
            body.string("EventSourceToken"),
            body.bool("InvokedViaFunctionUrl"),
            body.string("RevisionId"));
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    out.put("Statement", statementJson(statement).toString());
    LambdaApi.sendJson(res, req, 201, out);
  }

  private void getPolicy(ServerRequest req, ServerResponse res) {
    FunctionPolicy policy = policies.policy(LambdaApi.functionRef(req, account));
    ObjectNode document = FunctionJson.JSON.createObjectNode();
    document.put("Version", "2012-10-17");
    document.put("Id", "default");
    ArrayNode statements = document.putArray("Statement");
    policy.statements().forEach(s -> statements.add(statementJson(s)));
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    out.put("Policy", document.toString());
    out.put("RevisionId", policy.revisionId());
    LambdaApi.sendJson(res, req, 200, out);
  }

  private void removePermission(ServerRequest req, ServerResponse res) {
    policies.removePermission(
        LambdaApi.functionRef(req, account),
        req.path().pathParameters().get("sid"),
        LambdaApi.query(req, "RevisionId"));
    res.status(204).header("x-amzn-RequestId", LambdaApi.requestId(req)).send();
  }

  /**
   * A statement as IAM writes it: a service principal, an AWS one (ARN or account), or {@code *}.
   */
  private ObjectNode statementJson(FunctionPolicy.Statement s) {
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    out.put("Sid", s.statementId());
    out.put("Effect", "Allow");
    if (s.principal().equals("*")) {
      out.put("Principal", "*");
    } else if (s.principal().endsWith(".amazonaws.com")) {
      out.putObject("Principal").put("Service", s.principal());
    } else {
      out.putObject("Principal")
          .put(
              "AWS",
              s.principal().startsWith("arn:")
                  ? s.principal()
                  : "arn:aws:iam::" + s.principal() + ":root");
    }
    out.put("Action", s.action());
    out.put("Resource", s.resource());
    ObjectNode condition = FunctionJson.JSON.createObjectNode();
    s.sourceArn().ifPresent(a -> condition.putObject("ArnLike").put("AWS:SourceArn", a));
    if (s.sourceAccount().isPresent()
        || s.principalOrgId().isPresent()
        || s.functionUrlAuthType().isPresent()
        || s.eventSourceToken().isPresent()) {
      ObjectNode equals = condition.putObject("StringEquals");
      s.sourceAccount().ifPresent(a -> equals.put("AWS:SourceAccount", a));
      s.principalOrgId().ifPresent(o -> equals.put("aws:PrincipalOrgID", o));
      s.functionUrlAuthType().ifPresent(t -> equals.put("lambda:FunctionUrlAuthType", t));
      s.eventSourceToken().ifPresent(t -> equals.put("lambda:EventSourceToken", t));
    }
    s.invokedViaFunctionUrl()
        .ifPresent(
            v -> condition.putObject("Bool").put("lambda:InvokedViaFunctionUrl", v.toString()));
    if (!condition.isEmpty()) {
      out.set("Condition", condition);
    }
    return out;
  }
}
