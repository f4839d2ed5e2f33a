package dev.kiln.api.push;

import dev.kiln.api.auth.AccessKeys;
import dev.kiln.model.LambdaError;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Optional;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The tokens that authenticate the push sources' webhooks (Alertmanager, object stores), which
 * cannot sign their requests with Signature Version 4.
 *
 * <p>A token is made from a Kiln access key for one receiver path: {@code <access key id> "."
 * base64url(HMAC-SHA256(secret access key, "kiln-webhook:" + receiver path))}. So only someone who
 * holds the key's secret can make one (the user, with {@code kiln webhook-token}); it names one
 * receiver, so the token given to an Alertmanager for {@code /kiln/alarms/repair} cannot call
 * another function's receiver; nothing is stored for it, and revoking the key ({@code kiln
 * credentials revoke}) revokes every token made from it at once, because the key is looked up
 * afresh for each request. The check compares the MACs in constant time. A key of role {@code
 * admin} or {@code invoke} may make tokens; a {@code policy} key, which may do only what resource
 * policies grant it, may not.
 *
 * <p>A sender gives the token as {@code Authorization: Bearer <token>} (Alertmanager's {@code
 * http_config.authorization.credentials}, MinIO's {@code auth_token}), as the password of HTTP
 * Basic authentication (a URL's userinfo, {@code https://kiln:<token>@host/...}) or, where it can
 * only set a URL (Ceph RGW's push endpoint), as the query parameter {@code token}. Stateless and
 * thread-safe.
 */
public final class WebhookTokens {

  static final String PURPOSE = "kiln-webhook:";

  private final Function<String, Optional<AccessKeys.Key>> keys;

  /**
   * @param keys finds a key by its id, as the credentials file holds it now (revoked keys are gone)
   */
  public WebhookTokens(Function<String, Optional<AccessKeys.Key>> keys) {
    this.keys = keys;
  }

  /**
   * The token for {@code receiverPath} (e.g. {@code /kiln/alarms/repair}) made from {@code key}.
   */
  public static String token(AccessKeys.Key key, String receiverPath) {
    return key.accessKeyId() + "." + mac(key.secretAccessKey(), receiverPath);
  }

  /**
   * The token a request presents: the {@code Authorization} header (Bearer, or Basic with the token
   * as password) or else the {@code token} query parameter.
   */
  public static Optional<String> presented(
      Optional<String> authorization, Optional<String> queryToken) {
    if (authorization.isPresent()) {
      String value = authorization.get().trim();
      int space = value.indexOf(' ');
      String scheme = space < 0 ? value : value.substring(0, space);
      String credentials = space < 0 ? "" : value.substring(space + 1).trim();
      if (scheme.equalsIgnoreCase("Bearer")) {
        return Optional.of(credentials);
      }
      if (scheme.equalsIgnoreCase("Basic")) {
        try {
          String pair = new String(Base64.getDecoder().decode(credentials), StandardCharsets.UTF_8);
          int colon = pair.indexOf(':');
          return Optional.of(colon < 0 ? pair : pair.substring(colon + 1));
        } catch (IllegalArgumentException notBase64) {
          return Optional.of("");
        }
      }
    }
    return queryToken.filter(t -> !t.isEmpty());
  }

  /**
   * Checks the token a request to {@code receiverPath} presented; returns the key it was made from.
   *
   * @throws LambdaError 401 when there is no token, 403 when it is not one for this receiver
   */
  public AccessKeys.Key check(Optional<String> presented, String receiverPath) {
    if (presented.isEmpty() || presented.get().isEmpty()) {
      throw new LambdaError(
          "MissingAuthenticationTokenException",
          401,
          "This webhook needs a token: send 'Authorization: Bearer <token>' (or the query"
              + " parameter token=<token>); print the token for this receiver with: kiln"
              + " webhook-token "
              + receiverPath);
    }
    String token = presented.get();
    int dot = token.indexOf('.');
    if (dot <= 0) {
      throw denied(
          "The webhook token is malformed: a token is '<access key id>.<signature>', as kiln"
              + " webhook-token "
              + receiverPath
              + " prints it");
    }
    String keyId = token.substring(0, dot);
    AccessKeys.Key key =
        keys.apply(keyId)
            .orElseThrow(
                () ->
                    denied(
                        "The webhook token was made from the access key "
                            + keyId
                            + ", which is not a Kiln key (it was revoked, or never existed)"));
    byte[] expected = mac(key.secretAccessKey(), receiverPath).getBytes(StandardCharsets.US_ASCII);
    byte[] given = token.substring(dot + 1).getBytes(StandardCharsets.US_ASCII);
    if (!MessageDigest.isEqual(expected, given)) {
      throw denied(
          "The webhook token is not valid for "
              + receiverPath
              + ": a token is made for one receiver path; print this one's with: kiln"
              + " webhook-token "
              + receiverPath);
    }
    if (key.role() == AccessKeys.Role.POLICY) {
      throw denied(
          "The webhook token was made from the access key "
              + keyId
              + " of role policy, which may not authorize webhooks; use an admin or invoke key");
    }
    return key;
  }

  private static LambdaError denied(String message) {
    return new LambdaError("AccessDeniedException", 403, message);
  }

  private static String mac(String secret, String receiverPath) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      byte[] sum = mac.doFinal((PURPOSE + receiverPath).getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(sum);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }
}
