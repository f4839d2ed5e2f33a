package dev.kiln.api.auth;

import dev.kiln.invoke.InstanceCredentials;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Temporary keys of instances: each instance gets an access key ({@code ASIA…}), a secret and a
 * session token when it starts, good for the server's lifetime (12 hours unless {@code
 * --instance-credentials-lifetime} says otherwise) or until the instance ends, whichever comes
 * first; the pool replaces an instance before its key ends. After that the key is refused with
 * {@code ExpiredTokenException}. They are kept in memory only (a restart of Kiln ends every
 * instance anyway). A key acts as its function's execution role ({@link Caller.AssumedRole}): what
 * it may do is what that role's policies allow, read when each request is checked, so a change to
 * the role takes effect at once for running instances ({@link AccessControl}).
 */
public final class SessionKeys implements InstanceCredentials {

  /** One instance's temporary key. */
  /**
   * One instance's temporary key, of the function {@code owner} (its ARN), acting as the role
   * {@code roleArn} (the function's {@code Role}) whose unique id is {@code roleId}.
   */
  public record Session(
      AccessKeys.Key key,
      String sessionToken,
      Instant expires,
      String owner,
      String roleArn,
      String roleId) {

    /** The function's name: the session name Lambda gives its role's sessions. */
    public String functionName() {
      String[] parts = owner.split(":");
      return parts.length > 6 ? parts[6] : owner;
    }
  }

  private static final SecureRandom RANDOM = new SecureRandom();
  private final ConcurrentHashMap<String, Session> byKey = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, String> keyOfInstance = new ConcurrentHashMap<>();
  private final Clock clock;
  private final Duration lifetime;

  private final java.util.function.Function<String, String> roleIds;

  /**
   * @param roleIds the unique id of the role an ARN names ({@code AROA...}), for {@code
   *     aws:userid}; a role Kiln does not know gets one derived from its ARN
   */
  public SessionKeys(
      Clock clock, Duration lifetime, java.util.function.Function<String, String> roleIds) {
    this.clock = clock;
    this.lifetime = lifetime;
    this.roleIds = roleIds;
  }

  @Override
  public Optional<Issued> issue(String functionArn, String roleArn, String instanceId) {
    AccessKeys.Key key =
        AccessKeys.newKey(
            "ASIA", AccessKeys.Role.INVOKE, "instance " + instanceId + " of " + functionArn);
    byte[] token = new byte[96];
    RANDOM.nextBytes(token);
    String sessionToken = Base64.getEncoder().encodeToString(token);
    Instant issued = clock.instant();
    Instant expires = issued.plus(lifetime);
    byKey.put(
        key.accessKeyId(),
        new Session(key, sessionToken, expires, functionArn, roleArn, roleIds.apply(roleArn)));
    keyOfInstance.put(instanceId, key.accessKeyId());
    return Optional.of(
        new Issued(key.accessKeyId(), key.secretAccessKey(), sessionToken, issued, expires));
  }

  @Override
  public void revoke(String instanceId) {
    String key = keyOfInstance.remove(instanceId);
    if (key != null) {
      byKey.remove(key);
    }
  }

  public Optional<Session> find(String accessKeyId) {
    return Optional.ofNullable(byKey.get(accessKeyId));
  }

  public Clock clock() {
    return clock;
  }
}
