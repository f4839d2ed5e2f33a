package dev.kiln.api.iam;

import dev.kiln.model.Account;
import java.util.Optional;

/**
 * The ARNs IAM gives roles and policies: {@code arn:aws:iam::ACCOUNT:role/PATH/NAME} and {@code
 * arn:aws:iam::ACCOUNT:policy/PATH/NAME}, where the path is part of the ARN, and AWS's own managed
 * policies under the account {@code aws}. A name is the last segment; names are unique in an
 * account whatever their path, so a policy is found by its name once its ARN names this account.
 */
public final class PolicyArns {

  private PolicyArns() {}

  public static String role(Account account, String path, String name) {
    return "arn:aws:iam::" + account.accountId() + ":role" + path + name;
  }

  public static String policy(Account account, String path, String name) {
    return "arn:aws:iam::" + account.accountId() + ":policy" + path + name;
  }

  /** The name of this account's customer managed policy that {@code arn} names, if it names one. */
  public static Optional<String> customerPolicyName(Account account, String arn) {
    String prefix = "arn:aws:iam::" + account.accountId() + ":policy/";
    if (!arn.startsWith(prefix) || arn.endsWith("/")) {
      return Optional.empty();
    }
    return Optional.of(arn.substring(arn.lastIndexOf('/') + 1));
  }

  /** The name of this account's role that {@code arn} names ({@code ...:role/path/NAME}). */
  public static Optional<String> roleName(Account account, String arn) {
    String prefix = "arn:aws:iam::" + account.accountId() + ":role/";
    if (arn == null || !arn.startsWith(prefix) || arn.endsWith("/")) {
      return Optional.empty();
    }
    return Optional.of(arn.substring(arn.lastIndexOf('/') + 1));
  }

  /** Whether {@code arn} is AWS's own ({@code arn:aws:iam::aws:policy/...}). */
  public static boolean isAwsManaged(String arn) {
    return arn.startsWith("arn:aws:iam::aws:policy/");
  }
}
