package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.api.auth.AccessKeys;
import dev.kiln.api.push.WebhookTokens;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class WebhookTokenCommandTest {

  @TempDir Path data;

  private record Run(int exit, String out) {}

  private Run run(String... args) {
    WebhookTokenCommand command = new WebhookTokenCommand();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    command.out = new PrintStream(out, true, StandardCharsets.UTF_8);
    int exit = new CommandLine(command).execute(args);
    return new Run(exit, out.toString(StandardCharsets.UTF_8));
  }

  @Test
  void printsTheUrlAndAToken_theReceiverAccepts_untilTheKeyIsRevoked() {
    AccessKeys keys = AccessKeys.openOrCreate(data);
    AccessKeys.Key invoke = keys.add(AccessKeys.Role.INVOKE, "alertmanager");
    Run r =
        run("--data-dir", data.toString(), "--key", invoke.accessKeyId(), "/kiln/alarms/repair");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("url: http://127.0.0.1:9000/kiln/alarms/repair");
    String token =
        r.out().lines().filter(l -> l.startsWith("token: ")).findFirst().orElseThrow().substring(7);
    WebhookTokens tokens = new WebhookTokens(id -> AccessKeys.open(data).find(id));
    assertThat(tokens.check(Optional.of(token), "/kiln/alarms/repair").accessKeyId())
        .isEqualTo(invoke.accessKeyId());
    keys.revoke(invoke.accessKeyId());
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> tokens.check(Optional.of(token), "/kiln/alarms/repair"))
        .hasMessageContaining("not a Kiln key");
  }

  @Test
  void anUnknownReceiver_orKey_isRefused() {
    AccessKeys.openOrCreate(data);
    assertThat(run("--data-dir", data.toString(), "/kiln/other").exit()).isEqualTo(1);
    assertThat(
            run("--data-dir", data.toString(), "--key", "AKIANOSUCHKEY", "/kiln/s3-events").exit())
        .isEqualTo(1);
    assertThat(run("--data-dir", data.toString(), "/kiln/s3-events").exit()).isZero();
  }
}
