package dev.kiln.api.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class CodeLinksTest {

  static Map<String, String> parse(String query) {
    Map<String, String> out = new java.util.HashMap<>();
    for (String p : query.split("&")) {
      String[] kv = p.split("=", 2);
      out.put(kv[0], kv[1]);
    }
    return out;
  }

  @Test
  void aLink_isValidForTenMinutes_forItsFileOnly() {
    AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-11-25T12:00:00Z"));
    Clock clock =
        new Clock() {
          @Override
          public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(java.time.ZoneId zone) {
            return this;
          }

          @Override
          public Instant instant() {
            return now.get();
          }
        };
    CodeLinks links = new CodeLinks(clock);
    Map<String, String> q = parse(links.query("abc.zip"));
    String expires = q.get("X-Kiln-Expires");
    String signature = q.get("X-Kiln-Signature");
    assertThat(links.valid("abc.zip", expires, signature)).isTrue();
    assertThat(links.valid("abd.zip", expires, signature)).as("another file").isFalse();
    assertThat(links.valid("abc.zip", Long.toString(Long.parseLong(expires) + 600), signature))
        .as("a later expiry than signed")
        .isFalse();
    assertThat(links.valid("abc.zip", "soon", signature)).isFalse();
    assertThat(links.valid("abc.zip", expires, null)).isFalse();
    now.set(now.get().plusSeconds(600));
    assertThat(links.valid("abc.zip", expires, signature)).as("at ten minutes").isTrue();
    now.set(now.get().plusSeconds(1));
    assertThat(links.valid("abc.zip", expires, signature)).as("past ten minutes").isFalse();
    assertThat(new CodeLinks(clock).valid("abc.zip", expires, signature))
        .as("another start of Kiln, another secret")
        .isFalse();
  }
}
