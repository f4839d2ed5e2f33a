package dev.kiln.api.auth;

import dev.kiln.model.Account;

/**
 * Who signed a request, as IAM names them: a Kiln key is an IAM user of its own ({@code
 * arn:aws:iam::ACCOUNT:user/AKIA...}); an instance's temporary key is a session of its function's
 * execution role, named after the function as Lambda names it ({@code
 * arn:aws:sts::ACCOUNT:assumed-role/ROLE/FUNCTION}). The ARN is what an AccessDenied message and
 * STS GetCallerIdentity say, and what {@code aws:PrincipalArn} is in a condition (for a session:
 * the role's ARN, as AWS gives it).
 */
public sealed interface Caller {

  /** The ARN AWS names this caller by in answers. */
  String arn();

  /** {@code aws:PrincipalArn}: the user's ARN, or the role's for a session. */
  String principalArn();

  /** {@code aws:userid}, and GetCallerIdentity's {@code UserId}. */
  String userId();

  /** A Kiln key. */
  record User(AccessKeys.Key key, Account account) implements Caller {
    @Override
    public String arn() {
      return "arn:aws:iam::" + account.accountId() + ":user/" + key.accessKeyId();
    }

    @Override
    public String principalArn() {
      return arn();
    }

    @Override
    public String userId() {
      return key.accessKeyId();
    }
  }

  /** An instance's temporary key: its function's role, in a session named after the function. */
  record AssumedRole(SessionKeys.Session session, Account account) implements Caller {
    /** The role's name: the last segment of the function's {@code Role} ARN. */
    public String roleName() {
      String role = session.roleArn();
      return role.substring(role.lastIndexOf('/') + 1);
    }

    @Override
    public String arn() {
      return "arn:aws:sts::"
          + account.accountId()
          + ":assumed-role/"
          + roleName()
          + "/"
          + session.functionName();
    }

    @Override
    public String principalArn() {
      return session.roleArn();
    }

    @Override
    public String userId() {
      return session.roleId() + ":" + session.functionName();
    }
  }
}
