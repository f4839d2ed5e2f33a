package dev.kiln.iam;

/**
 * A policy document IAM would refuse, with IAM's own message ({@code Syntax errors in policy.},
 * {@code Policy statement must contain actions.}, ...): the IAM API answers it as {@code
 * MalformedPolicyDocument}.
 */
public final class MalformedPolicyException extends Exception {
  public MalformedPolicyException(String message) {
    super(message, null, false, false);
  }
}
