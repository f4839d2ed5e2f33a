package dev.kiln.server;

import dev.kiln.api.auth.AccessKeys;
import dev.kiln.api.push.WebhookTokens;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code kiln webhook-token RECEIVER}: the URL and the token a push source (Alertmanager, an object
 * store) calls a receiver with, made from a key of the data directory ({@link WebhookTokens}): the
 * admin key unless {@code --key} names another. Revoking the key revokes the token.
 */
@Command(
    name = "webhook-token",
    mixinStandardHelpOptions = true,
    description =
        "Print the URL and bearer token of a webhook receiver (/kiln/alarms/FUNCTION,"
            + " /kiln/s3-events), made from an access key; revoking the key revokes it.")
final class WebhookTokenCommand implements Callable<Integer> {

  @Parameters(
      paramLabel = "RECEIVER",
      description = "The receiver's path, e.g. /kiln/alarms/my-function or /kiln/s3-events")
  String receiver;

  @Option(
      names = "--key",
      paramLabel = "ACCESS_KEY_ID",
      description = "The key to make the token from (default: the admin key)")
  String keyId;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description = "Kiln's data directory (default: ${DEFAULT-VALUE})")
  Path dataDir = KilnCli.DEFAULT_DATA_DIR;

  PrintStream out = System.out;

  @Override
  public Integer call() {
    if (!receiver.startsWith("/kiln/alarms/") && !receiver.equals("/kiln/s3-events")) {
      System.err.println(
          "kiln webhook-token: the receiver is /kiln/alarms/FUNCTION or /kiln/s3-events, got '"
              + receiver
              + "'");
      return 1;
    }
    AccessKeys keys = CredentialsCommand.open(dataDir);
    if (keys == null) {
      return 1;
    }
    Optional<AccessKeys.Key> key = keyId == null ? keys.admin() : keys.find(keyId);
    if (key.isEmpty()) {
      System.err.println(
          "kiln webhook-token: "
              + (keyId == null ? "no admin key" : "no key " + keyId)
              + " in "
              + keys.file());
      return 1;
    }
    String endpoint =
        EndpointRecord.read(dataDir)
            .map(r -> r.endpoint().toString())
            .orElse(ClientEndpoint.DEFAULT_ENDPOINT);
    out.println("url: " + endpoint.replaceAll("/+$", "") + receiver);
    out.println("token: " + WebhookTokens.token(key.get(), receiver));
    return 0;
  }
}
