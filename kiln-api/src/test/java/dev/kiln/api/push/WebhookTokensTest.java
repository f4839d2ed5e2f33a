package dev.kiln.api.push;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.api.auth.AccessKeys;
import dev.kiln.model.LambdaError;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class WebhookTokensTest {

  private static final String ALARMS = "/kiln/alarms/repair";
  private final AccessKeys.Key admin =
      new AccessKeys.Key(
          "AKIAADMIN", "s3cr3t-admin-secret", AccessKeys.Role.ADMIN, Instant.EPOCH, "");
  private final AccessKeys.Key policy =
      new AccessKeys.Key("AKIAPOLICY", "policy-secret", AccessKeys.Role.POLICY, Instant.EPOCH, "");
  private final Map<String, AccessKeys.Key> keys = new HashMap<>();
  private final WebhookTokens tokens = new WebhookTokens(id -> Optional.ofNullable(keys.get(id)));

  WebhookTokensTest() {
    keys.put(admin.accessKeyId(), admin);
    keys.put(policy.accessKeyId(), policy);
  }

  @Test
  void aTokenIsTheKeyIdAndAnHmacOfTheReceiverPath_andIsAccepted() {
    String token = WebhookTokens.token(admin, ALARMS);
    assertThat(token).startsWith("AKIAADMIN.").doesNotContain("s3cr3t").doesNotContain("=");
    assertThat(tokens.check(Optional.of(token), ALARMS)).isEqualTo(admin);
  }

  @Test
  void aTokenForOneReceiver_isRefusedByAnother() {
    String token = WebhookTokens.token(admin, ALARMS);
    assertThatThrownBy(() -> tokens.check(Optional.of(token), "/kiln/alarms/other"))
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> {
              assertThat(e.status()).isEqualTo(403);
              assertThat(e.errorType()).isEqualTo("AccessDeniedException");
              assertThat(e.getMessage()).contains("not valid for /kiln/alarms/other");
            });
  }

  @Test
  void noToken_is401_sayingHowToGetOne() {
    assertThatThrownBy(() -> tokens.check(Optional.empty(), ALARMS))
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> {
              assertThat(e.status()).isEqualTo(401);
              assertThat(e.getMessage()).contains("kiln webhook-token " + ALARMS);
            });
  }

  @Test
  void aRevokedKeysTokens_areRefused() {
    String token = WebhookTokens.token(admin, ALARMS);
    keys.remove(admin.accessKeyId());
    assertThatThrownBy(() -> tokens.check(Optional.of(token), ALARMS))
        .hasMessageContaining("AKIAADMIN, which is not a Kiln key");
  }

  @Test
  void aForgedSignature_orAMalformedToken_isRefused() {
    String token = WebhookTokens.token(admin, ALARMS);
    String forged = token.substring(0, token.length() - 2) + "AA";
    assertThatThrownBy(() -> tokens.check(Optional.of(forged), ALARMS))
        .hasMessageContaining("not valid for " + ALARMS);
    assertThatThrownBy(() -> tokens.check(Optional.of("no-dot-here"), ALARMS))
        .hasMessageContaining("malformed");
    AccessKeys.Key otherSecret =
        new AccessKeys.Key("AKIAADMIN", "another-secret", AccessKeys.Role.ADMIN, Instant.EPOCH, "");
    assertThatThrownBy(
            () -> tokens.check(Optional.of(WebhookTokens.token(otherSecret, ALARMS)), ALARMS))
        .hasMessageContaining("not valid");
  }

  @Test
  void aPolicyKey_mayNotAuthorizeWebhooks() {
    assertThatThrownBy(() -> tokens.check(Optional.of(WebhookTokens.token(policy, ALARMS)), ALARMS))
        .hasMessageContaining("role policy");
  }

  @Test
  void theTokenIsTakenFromBearer_BasicPassword_orTheQuery() {
    assertThat(WebhookTokens.presented(Optional.of("Bearer abc.def"), Optional.empty()))
        .contains("abc.def");
    String basic =
        Base64.getEncoder().encodeToString("kiln:abc.def".getBytes(StandardCharsets.UTF_8));
    assertThat(WebhookTokens.presented(Optional.of("Basic " + basic), Optional.empty()))
        .contains("abc.def");
    assertThat(WebhookTokens.presented(Optional.empty(), Optional.of("abc.def")))
        .contains("abc.def");
    assertThat(WebhookTokens.presented(Optional.empty(), Optional.empty())).isEmpty();
  }
}
