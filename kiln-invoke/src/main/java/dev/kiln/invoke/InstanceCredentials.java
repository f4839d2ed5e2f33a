package dev.kiln.invoke;

import java.time.Instant;
import java.util.Optional;

/**
 * The credentials an instance gets to call Kiln itself (a function fanning out to others with the
 * AWS SDK), as Lambda gives each execution environment its role's temporary credentials: they are
 * in the instance's environment ({@code AWS_ACCESS_KEY_ID}, {@code AWS_SECRET_ACCESS_KEY}, {@code
 * AWS_SESSION_TOKEN}), last a limited time, and are revoked when the instance ends. The API layer
 * issues and checks them; this module only asks for them.
 */
public interface InstanceCredentials {

  /** Temporary credentials, valid from {@code issued} until {@code expires}. */
  record Issued(
      String accessKeyId,
      String secretAccessKey,
      String sessionToken,
      Instant issued,
      Instant expires) {}

  /** No credentials: instances get none. */
  InstanceCredentials NONE =
      new InstanceCredentials() {
        @Override
        public Optional<Issued> issue(String functionArn, String roleArn, String instanceId) {
          return Optional.empty();
        }

        @Override
        public void revoke(String instanceId) {}
      };

  /**
   * Credentials for instance {@code instanceId} of {@code functionArn}, acting as the function's
   * execution role {@code roleArn} (the {@code Role} its configuration names).
   */
  Optional<Issued> issue(String functionArn, String roleArn, String instanceId);

  void revoke(String instanceId);
}
