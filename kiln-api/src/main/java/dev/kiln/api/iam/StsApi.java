package dev.kiln.api.iam;

import dev.kiln.api.auth.Caller;
import dev.kiln.api.query.QueryError;
import dev.kiln.api.query.QueryRequest;
import dev.kiln.api.query.QueryResponse;
import dev.kiln.model.Account;
import java.util.List;
import java.util.Optional;

/**
 * The part of STS (2011-06-15, Query protocol) that functions and scripts call to learn who they
 * are: GetCallerIdentity, which answers for a Kiln key ({@code arn:aws:iam::ACCOUNT:user/AKIA...})
 * and for a function's credentials ({@code arn:aws:sts::ACCOUNT:assumed-role/ROLE/FUNCTION}, user
 * id {@code ROLEID:FUNCTION}), as AWS does. Every caller may call it; no policy can deny it.
 */
public final class StsApi {

  public static final String NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";
  public static final String VERSION = "2011-06-15";
  public static final List<String> ACTIONS = List.of("GetCallerIdentity");

  private final Account account;

  public StsApi(Account account) {
    this.account = account;
  }

  /**
   * Runs {@code request}'s action for {@code caller} (empty when authentication is off: the
   * account's root then answers).
   */
  public QueryResponse handle(QueryRequest request, Optional<Caller> caller, String requestId) {
    if (!request.action().equals("GetCallerIdentity")) {
      throw new QueryError(
          "InvalidAction",
          400,
          "Could not find operation " + request.action() + " for version " + VERSION);
    }
    return QueryResponse.result("GetCallerIdentity", NAMESPACE, requestId)
        .text("UserId", caller.map(Caller::userId).orElse(account.accountId()))
        .text("Account", account.accountId())
        .text(
            "Arn", caller.map(Caller::arn).orElse("arn:aws:iam::" + account.accountId() + ":root"));
  }
}
