package dev.kiln.iam;

/**
 * A {@link Decision} and the kind of policy that made it: the identity's or the resource's for an
 * Allow or an explicit Deny, {@link Where#NONE} for an implicit deny.
 */
public record Outcome(Decision decision, Where where) {

  /** Which kind of policy decided. */
  public enum Where {
    IDENTITY,
    RESOURCE,
    NONE
  }

  static final Outcome IMPLICIT = new Outcome(Decision.IMPLICIT_DENY, Where.NONE);
}
