package dev.kiln.server;

import dev.kiln.api.auth.AccessKeys;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code kiln credentials}: the access keys of a Kiln data directory. Without a subcommand it
 * prints the admin key as {@code export} lines, for {@code eval "$(./kiln credentials)"}, with the
 * endpoint and region the data directory's server recorded ({@link EndpointRecord}); {@code
 * --profile NAME} writes them as an AWS profile instead ({@link AwsProfiles}). {@code add}, {@code
 * list} and {@code revoke} manage the other keys. A running server sees changes within a second.
 * Secrets are printed only when a key is made or asked for, never listed.
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
      paramLabel = "DIR",
      description = "Kiln's data directory (default: ${DEFAULT-VALUE})",
      scope = picocli.CommandLine.ScopeType.INHERIT)
  Path dataDir = KilnCli.DEFAULT_DATA_DIR;

  @Option(
      names = "--endpoint",
      paramLabel = "URL",
      description =
          "The endpoint to export (default: the one the server of --data-dir recorded at its"
              + " start, else http://127.0.0.1:9000)",
      scope = picocli.CommandLine.ScopeType.INHERIT)
  String endpoint;

  @Option(
      names = "--region",
      paramLabel = "REGION",
      description =
          "The region to export (default: the server's, as it recorded it, else us-east-1)",
      scope = picocli.CommandLine.ScopeType.INHERIT)
  String region;

  @Option(
      names = "--profile",
      paramLabel = "NAME",
      description =
          "Instead of export lines, write the key into the AWS profile NAME ($AWS_CONFIG_FILE or"
              + " ~/.aws/config and $AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials), with"
              + " Kiln as the endpoint of Lambda, CloudWatch Logs, IAM, STS, Scheduler and EventBridge only",
      scope = picocli.CommandLine.ScopeType.INHERIT)
  String profile;

  PrintStream out = System.out;
  Map<String, String> env = System.getenv();

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
              + "; add one with: kiln credentials add --role admin");
      return 1;
    }
    return hand(admin);
  }

  /** Prints the key as export lines, or writes it into {@code --profile}. */
  int hand(AccessKeys.Key key) {
    Optional<EndpointRecord> recorded = EndpointRecord.read(dataDir);
    String url = endpoint;
    if (url == null) {
      url = recorded.map(r -> r.endpoint().toString()).orElse(ClientEndpoint.DEFAULT_ENDPOINT);
      if (recorded.isEmpty()) {
        System.err.println(
            "kiln credentials: no Kiln has started with "
                + dataDir
                + " yet; the endpoint is its default, "
                + url);
      }
    }
    String inRegion =
        region != null ? region : recorded.map(EndpointRecord::region).orElse("us-east-1");
    Optional<Path> caBundle = caBundle(dataDir);
    if (profile == null) {
      exports(out, key, inRegion, url, caBundle);
      return 0;
    }
    AwsProfiles.Written written =
        AwsProfiles.write(AwsProfiles.files(env), profile, key, inRegion, url, caBundle);
    out.println(
        "wrote the profile "
            + profile
            + " ("
            + key.role().wire()
            + " key "
            + key.accessKeyId()
            + ") into "
            + written.config()
            + " and "
            + written.credentials());
    out.println(
        "  aws --profile "
            + profile
            + " lambda list-functions                          # AWS CLI 2.13+ or 1.29+");
    out.println(
        "  aws --profile "
            + profile
            + " --endpoint-url "
            + url
            + " lambda list-functions   # every AWS CLI");
    return 0;
  }

  /**
   * The key as shell {@code export} lines: the region under both names (the AWS CLI and boto3 read
   * {@code AWS_DEFAULT_REGION}, the JavaScript SDK v3 only {@code AWS_REGION}), and Kiln's endpoint
   * for the services Kiln serves only, so that every other AWS service in that shell still reaches
   * AWS.
   */
  static void exports(
      PrintStream out,
      AccessKeys.Key key,
      String region,
      String endpoint,
      Optional<Path> caBundle) {
    out.println("export AWS_ACCESS_KEY_ID=" + key.accessKeyId());
    out.println("export AWS_SECRET_ACCESS_KEY=" + key.secretAccessKey());
    out.println("export AWS_REGION=" + region);
    out.println("export AWS_DEFAULT_REGION=" + region);
    for (ClientEndpoint.Service s : ClientEndpoint.Service.values()) {
      out.println("export " + s.variable + "=" + endpoint);
    }
    caBundle.ifPresent(pem -> out.println("export AWS_CA_BUNDLE=" + pem));
  }

  /** When Kiln made itself a certificate, where clients find it to trust it. */
  static Optional<Path> caBundle(Path dataDir) {
    Path pem = dataDir.resolve(ServerTls.DIR).resolve(ServerTls.CA_BUNDLE);
    return java.nio.file.Files.exists(pem) ? Optional.of(pem.toAbsolutePath()) : Optional.empty();
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
        paramLabel = "admin|invoke|policy",
        description =
            "admin (every action: AdministratorAccess), invoke (Invoke and InvokeAsync on every"
                + " function: KilnInvokeAccess) or policy (nothing but what its --policy-arn and"
                + " --policy-file policies and functions' resource-based policies grant it);"
                + " default: invoke, or policy when a --policy-arn or --policy-file is given")
    String role;

    @Option(
        names = "--policy-arn",
        paramLabel = "ARN",
        description =
            "Attach this managed policy to the key: one of AWS's (arn:aws:iam::aws:policy/...) or"
                + " one made with aws iam create-policy; may be repeated")
    List<String> policyArns = new ArrayList<>();

    @Option(
        names = "--policy-file",
        paramLabel = "FILE",
        description =
            "Give the key this IAM policy document (JSON) as an inline policy named after the"
                + " file; may be repeated")
    List<Path> policyFiles = new ArrayList<>();

    @Option(names = "--description", paramLabel = "TEXT", description = "What the key is for")
    String description = "";

    @Override
    public Integer call() {
      AccessKeys.Role parsed;
      try {
        parsed =
            AccessKeys.Role.parse(
                role != null
                    ? role
                    : policyArns.isEmpty() && policyFiles.isEmpty() ? "invoke" : "policy");
      } catch (IllegalArgumentException e) {
        System.err.println("kiln credentials add: --" + e.getMessage());
        return 2;
      }
      for (String arn : policyArns) {
        boolean aws = arn.startsWith("arn:aws:iam::aws:policy/");
        if (aws && dev.kiln.iam.ManagedPolicies.byArn(arn).isEmpty()) {
          System.err.println(
              "kiln credentials add: --policy-arn "
                  + arn
                  + ": Kiln has no such AWS managed policy");
          return 2;
        }
        if (!aws && !arn.matches("arn:aws:iam::\\d{12}:policy/.+")) {
          System.err.println(
              "kiln credentials add: --policy-arn "
                  + arn
                  + ": not a policy ARN (arn:aws:iam::ACCOUNT:policy/NAME)");
          return 2;
        }
      }
      java.util.Map<String, String> inline = new java.util.LinkedHashMap<>();
      for (Path file : policyFiles) {
        String name = file.getFileName().toString().replaceFirst("\\.json$", "");
        try {
          String document = java.nio.file.Files.readString(file);
          dev.kiln.iam.PolicyDocument.parse(document, dev.kiln.iam.PolicyDocument.Kind.IDENTITY);
          inline.put(name, document);
        } catch (java.io.IOException e) {
          System.err.println("kiln credentials add: --policy-file " + file + ": " + e.getMessage());
          return 2;
        } catch (dev.kiln.iam.MalformedPolicyException e) {
          System.err.println(
              "kiln credentials add: --policy-file "
                  + file
                  + ": MalformedPolicyDocument: "
                  + e.getMessage());
          return 2;
        }
      }
      AccessKeys keys = open(parent.dataDir);
      if (keys == null) {
        return 1;
      }
      AccessKeys.Key key = keys.add(parsed, description, policyArns, inline);
      return parent.hand(key);
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
      parent.out.printf(
          "%-22s %-7s %-21s %-40s %s%n",
          "ACCESS KEY ID", "ROLE", "CREATED", "POLICIES", "DESCRIPTION");
      for (AccessKeys.Key k : keys.list()) {
        List<String> policies = new ArrayList<>();
        k.policyArns().forEach(a -> policies.add(a.substring(a.lastIndexOf('/') + 1)));
        k.inlinePolicies().keySet().forEach(n -> policies.add(n + " (inline)"));
        parent.out.printf(
            "%-22s %-7s %-21s %-40s %s%n",
            k.accessKeyId(),
            k.role().wire(),
            k.created(),
            policies.isEmpty() ? "-" : String.join(",", policies),
            k.description());
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
