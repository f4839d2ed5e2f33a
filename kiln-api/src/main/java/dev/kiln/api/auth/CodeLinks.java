package dev.kiln.api.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The download links of deployment packages that GetFunction returns as {@code Code.Location}: as
 * AWS's are presigned S3 URLs that work without credentials for ten minutes, Kiln's carry an expiry
 * and an HMAC of the file and expiry, keyed with a secret Kiln draws at each start (so a link also
 * dies with a restart).
 */
public final class CodeLinks {

  public static final String PATH = "/kiln/code";
  static final Duration VALID_FOR = Duration.ofMinutes(10);

  private final byte[] secret = new byte[32];
  private final Clock clock;

  public CodeLinks(Clock clock) {
    this.clock = clock;
    new SecureRandom().nextBytes(secret);
  }

  /** The query that makes {@code file}'s link valid for ten minutes from now. */
  public String query(String file) {
    long expires = clock.instant().plus(VALID_FOR).getEpochSecond();
    return "X-Kiln-Expires=" + expires + "&X-Kiln-Signature=" + mac(file, expires);
  }

  /** Whether a link to {@code file} with this expiry and signature is valid now. */
  public boolean valid(String file, String expires, String signature) {
    long at;
    try {
      at = Long.parseLong(expires);
    } catch (NumberFormatException e) {
      return false;
    }
    return clock.instant().getEpochSecond() <= at
        && signature != null
        && MessageDigest.isEqual(
            mac(file, at).getBytes(StandardCharsets.US_ASCII),
            signature.getBytes(StandardCharsets.US_ASCII));
  }

  private String mac(String file, long expires) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return HexFormat.of()
          .formatHex(mac.doFinal((file + "\n" + expires).getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
    }
  }
}
