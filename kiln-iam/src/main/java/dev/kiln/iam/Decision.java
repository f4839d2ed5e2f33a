package dev.kiln.iam;

/**
 * What evaluation decides: allowed, refused by a Deny statement, or refused for want of an Allow.
 */
public enum Decision {
  ALLOW,
  EXPLICIT_DENY,
  IMPLICIT_DENY
}
