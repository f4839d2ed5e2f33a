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
 * instance anyway) and carry the {@code invoke} role: a function may invoke other functions with
 * them, not change any.
 */
public final class SessionKeys implements InstanceCredentials {

  /** One instance's temporary key. */
  public record Session(AccessKeys.Key key, String sessionToken, Instant expires, String owner) {}

  private static final SecureRandom RANDOM = new SecureRandom();
  private final ConcurrentHashMap<String, Session> byKey = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, String> keyOfInstance = new ConcurrentHashMap<>();
  private final Clock clock;
  private final Duration lifetime;

  public SessionKeys(Clock clock, Duration lifetime) {
    this.clock = clock;
    this.lifetime = lifetime;
  }

  @Override
  public Optional<Issued> issue(String functionArn, String instanceId) {
    AccessKeys.Key key =
        AccessKeys.newKey(
            "ASIA", AccessKeys.Role.INVOKE, "instance " + instanceId + " of " + functionArn);
    byte[] token = new byte[96];
    RANDOM.nextBytes(token);
    String sessionToken = Base64.getEncoder().encodeToString(token);
    Instant issued = clock.instant();
    Instant expires = issued.plus(lifetime);
    byKey.put(key.accessKeyId(), new Session(key, sessionToken, expires, functionArn));
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
