package dev.kiln.store;

/**
 * What a store refuses, in the store's own terms: the {@link Entity} and the key it concerns, and
 * why. Stores throw these and nothing AWS-shaped; the catalog (kiln-invoke's {@code
 * StorageOutcomes}) is the one place that turns them into the Lambda API's errors, so a second
 * backend only has to throw the same outcomes to answer exactly as the embedded one does.
 *
 * <p>The outcomes are a closed set: {@link AlreadyExists}, {@link NotFound}, {@link StaleRevision}
 * (an optimistic write whose expected revision is no longer current), {@link InvalidMarker} (a
 * paging marker the store never issued) and {@link Rejected} (content the store will not keep, such
 * as a deployment package that is not a safe zip).
 */
public abstract sealed class StorageException extends RuntimeException
    permits StorageException.AlreadyExists,
        StorageException.NotFound,
        StorageException.StaleRevision,
        StorageException.InvalidMarker,
        StorageException.Rejected {

  /** The kinds of thing the stores keep, as far as an outcome needs to name one. */
  public enum Entity {
    FUNCTION,
    ALIAS,
    LAYER_VERSION,
    LAYER_POLICY,
    FUNCTION_POLICY,
    FUNCTION_URL,
    EVENT_SOURCE_MAPPING,
    CODE,
    ROLE,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    IAM_POLICY,
    POLICY_VERSION,
    EVENT_BUS,
    EVENT_RULE,
    SCHEDULE,
    SCHEDULE_GROUP
  }

  private final Entity entity;
  private final String key;

  private StorageException(Entity entity, String key, String message) {
    super(message, null, false, false);
    this.entity = entity;
    this.key = key;
  }

  public Entity entity() {
    return entity;
  }

  /**
   * The key of what the outcome concerns: a function's name, an alias's name, {@code layer:version}
   * for a layer version or its policy, a function's name for its policy, {@code name} or {@code
   * name:alias} for a function URL, a mapping's UUID (or, for one that already exists, the UUID of
   * the mapping already on that source), a package's digest; in IAM, a role's name, {@code
   * role/policyName} for a role's inline policy, a managed policy's ARN for its attachment to a
   * role, a customer managed policy's name, and {@code policy:versionId} for one of its versions. A
   * name is spelled as the caller gave it.
   */
  public String key() {
    return key;
  }

  /** A create found the key taken. */
  public static final class AlreadyExists extends StorageException {
    public AlreadyExists(Entity entity, String key) {
      super(entity, key, entity + " " + key + " already exists");
    }
  }

  /** What a change needs is not (or no longer) there. */
  public static final class NotFound extends StorageException {
    public NotFound(Entity entity, String key) {
      super(entity, key, entity + " " + key + " not found");
    }
  }

  /** A write expected a revision that is no longer the current one: someone changed it first. */
  public static final class StaleRevision extends StorageException {
    public StaleRevision(Entity entity, String key) {
      super(entity, key, entity + " " + key + " changed since the revision given");
    }
  }

  /** A paging marker this store did not issue. */
  public static final class InvalidMarker extends StorageException {
    public InvalidMarker(Entity entity, String marker) {
      super(entity, marker, "marker " + marker + " was not issued for " + entity);
    }
  }

  /**
   * Content the store will not keep. {@code reason} says what is wrong with it in words meant for
   * the person who sent it; {@code overSizeLimit} tells a refusal for size from one for shape.
   */
  public static final class Rejected extends StorageException {
    private final String reason;
    private final boolean overSizeLimit;

    public Rejected(Entity entity, String key, String reason, boolean overSizeLimit) {
      super(entity, key, reason);
      this.reason = reason;
      this.overSizeLimit = overSizeLimit;
    }

    public String reason() {
      return reason;
    }

    public boolean overSizeLimit() {
      return overSizeLimit;
    }
  }
}
