package dev.kiln.server;

import dev.kiln.api.auth.AccessKeys;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code kiln credentials}: the access keys of a Kiln data directory. Without a subcommand it
 * prints the admin key as {@code export} lines, for {@code eval "$(./kiln credentials)"}; {@code
 * add}, {@code list} and {@code revoke} manage the others. A running server sees changes within a
 * second. Secrets are printed only when a key is made or asked for, never listed.
 */
@Command(
    name = "credentials",
    mixinStandardHelpOptions = true,
    description = "Print the admin key as export lines; add, list or revoke keys.",
    subcommands = {
      CredentialsCommand.Add.class,
      CredentialsCommand.ListKeys.class,
      CredentialsCommand.Revoke.class
    })
final class CredentialsCommand implements Callable<Integer> {

  @Option(
      names = "--data-dir",
      description = "Kiln's data directory (default: ${DEFAULT-VALUE})",
      scope = picocli.CommandLine.ScopeType.INHERIT)
  Path dataDir = KilnCli.DEFAULT_DATA_DIR;

  @Option(
      names = "--endpoint",
      description = "The endpoint to export (default: the local server on its default port)")
  String endpoint;

  @Option(names = "--region", description = "The region to export (default: ${DEFAULT-VALUE})")
  String region = "us-east-1";

  PrintStream out = System.out;

  @Override
  public Integer call() {
    AccessKeys keys = open(dataDir);
    if (keys == null) {
      return 1;
    }
    AccessKeys.Key admin = keys.admin().orElse(null);
    if (admin == null) {
      System.err.println(
          "kiln credentials: no admin key in "
              + keys.file()
              + "; add one with: kiln credentials add");
      return 1;
    }
    exports(out, admin, region, endpoint == null ? ClientEndpoint.resolve(null, null) : endpoint);
    caBundle(out, dataDir);
    return 0;
  }

  static void exports(PrintStream out, AccessKeys.Key key, String region, String endpoint) {
    out.println("export AWS_ACCESS_KEY_ID=" + key.accessKeyId());
    out.println("export AWS_SECRET_ACCESS_KEY=" + key.secretAccessKey());
    out.println("export AWS_DEFAULT_REGION=" + region);
    out.println("export AWS_ENDPOINT_URL=" + endpoint);
  }

  /** When Kiln made itself a certificate, where clients find it to trust it. */
  static void caBundle(PrintStream out, Path dataDir) {
    Path pem = dataDir.resolve(ServerTls.DIR).resolve(ServerTls.CA_BUNDLE);
    if (java.nio.file.Files.exists(pem)) {
      out.println("export AWS_CA_BUNDLE=" + pem.toAbsolutePath());
    }
  }

  static AccessKeys open(Path dataDir) {
    try {
      return AccessKeys.open(dataDir);
    } catch (IllegalStateException e) {
      System.err.println("kiln credentials: " + e.getMessage());
      return null;
    }
  }

  @Command(name = "add", mixinStandardHelpOptions = true, description = "Make a new key.")
  static final class Add implements Callable<Integer> {
    @ParentCommand CredentialsCommand parent;

    @Option(
        names = "--role",
        description =
            "admin (everything) or invoke (only invoke functions); default: ${DEFAULT-VALUE}")
    String role = "invoke";

    @Option(names = "--description", description = "What the key is for")
    String description = "";

    @Override
    public Integer call() {
      AccessKeys.Role parsed;
      try {
        parsed = AccessKeys.Role.parse(role);
      } catch (IllegalArgumentException e) {
        System.err.println("kiln credentials add: --" + e.getMessage());
        return 2;
      }
      AccessKeys keys = open(parent.dataDir);
      if (keys == null) {
        return 1;
      }
      AccessKeys.Key key = keys.add(parsed, description);
      exports(
          parent.out,
          key,
          parent.region,
          parent.endpoint == null ? ClientEndpoint.resolve(null, null) : parent.endpoint);
      caBundle(parent.out, parent.dataDir);
      return 0;
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "List the keys (no secrets).")
  static final class ListKeys implements Callable<Integer> {
    @ParentCommand CredentialsCommand parent;

    @Override
    public Integer call() {
      AccessKeys keys = open(parent.dataDir);
      if (keys == null) {
        return 1;
      }
      parent.out.printf("%-22s %-7s %-21s %s%n", "ACCESS KEY ID", "ROLE", "CREATED", "DESCRIPTION");
      for (AccessKeys.Key k : keys.list()) {
        parent.out.printf(
            "%-22s %-7s %-21s %s%n",
            k.accessKeyId(), k.role().wire(), k.created(), k.description());
      }
      return 0;
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Remove a key.")
  static final class Revoke implements Callable<Integer> {
    @ParentCommand CredentialsCommand parent;

    @Parameters(index = "0", paramLabel = "ACCESS_KEY_ID")
    String accessKeyId;

    @Override
    public Integer call() {
      AccessKeys keys = open(parent.dataDir);
      if (keys == null) {
        return 1;
      }
      if (!keys.revoke(accessKeyId)) {
        System.err.println("kiln credentials revoke: no key " + accessKeyId + " in " + keys.file());
        return 1;
      }
      parent.out.println("revoked " + accessKeyId);
      return 0;
    }
  }
}
