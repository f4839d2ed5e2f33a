package dev.kiln.server;

import dev.kiln.model.Account;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code kiln} command line. */
@Command(
    name = "kiln",
    mixinStandardHelpOptions = true,
    version = "kiln 0.1.0",
    description = "A self-hosted, AWS Lambda compatible function platform.",
    subcommands = {
      KilnCli.Server.class,
      LogsCommand.class,
      UsageCommand.class,
      CredentialsCommand.class,
      WebhookTokenCommand.class,
      KilnCli.TestSuite.class,
      KilnCli.Bench.class,
      KilnCli.Build.class
    })
public final class KilnCli implements Runnable {

  /** Where Kiln keeps its data unless {@code --data-dir} says otherwise. */
  static final Path DEFAULT_DATA_DIR = Path.of(System.getProperty("user.home"), ".kiln");

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }

  public static void main(String[] args) {
    int code = failingInOneLine(new CommandLine(new KilnCli())).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  /**
   * The command line, failing as a command-line tool should: a mistake on the command line or a
   * failure while running (nothing listening, a missing key file, an answer that is not Kiln's) is
   * one line on stderr, {@code kiln <command>: <what went wrong>}, and exit status 2 or 1, never a
   * stack trace ({@code KILN_DEBUG=1} prints it for a failure Kiln did not foresee).
   */
  static CommandLine failingInOneLine(CommandLine cli) {
    cli.setParameterExceptionHandler(
        (e, args) -> {
          CommandLine c = e.getCommandLine();
          String name = c.getCommandSpec().qualifiedName();
          c.getErr()
              .println(
                  name
                      + ": "
                      + e.getMessage()
                      + " (see "
                      + (name.equals("kiln") ? "./kiln --help" : "./" + name + " --help")
                      + ")");
          return 2;
        });
    cli.setExecutionExceptionHandler(
        (e, c, parsed) -> {
          c.getErr().println(c.getCommandSpec().qualifiedName() + ": " + oneLine(e));
          if (System.getenv("KILN_DEBUG") != null) {
            e.printStackTrace(c.getErr());
          }
          return 1;
        });
    return cli;
  }

  /** What went wrong, in one line: the message of a failure Kiln foresaw, else its kind too. */
  static String oneLine(Throwable e) {
    if (e instanceof ClientEndpoint.Failure
        || e instanceof IllegalStateException
        || e instanceof IllegalArgumentException
        || e instanceof java.io.UncheckedIOException
        || e instanceof java.io.IOException) {
      String m = e.getMessage();
      if (m != null && !m.isBlank()) {
        return m.lines().findFirst().orElse(m);
      }
    }
    return "unexpected "
        + e.getClass().getSimpleName()
        + (e.getMessage() == null ? "" : ": " + e.getMessage().lines().findFirst().orElse(""))
        + " (KILN_DEBUG=1 prints where)";
  }

  /** {@code ./kiln test}: listed here for --help; the launcher runs Maven itself. */
  @Command(
      name = "test",
      description =
          "Run the whole test suite: unit, integration and AWS CLI end to end (./kiln test"
              + " [Maven options], e.g. -Dtest=ReadmeIT)")
  static final class TestSuite extends LauncherOnly {}

  /** {@code ./kiln bench}: listed here for --help; the launcher builds and runs the bench. */
  @Command(
      name = "bench",
      description =
          "Run the benchmarks against a Kiln of their own (./kiln bench [SUITE...] [options];"
              + " ./kiln bench --help lists them)")
  static final class Bench extends LauncherOnly {}

  /** {@code ./kiln build}: listed here for --help; the launcher builds and exits. */
  @Command(
      name = "build",
      description =
          "Build Kiln if the sources changed (mvn package into the modules' target/, nothing"
              + " installed into ~/.m2), then exit")
  static final class Build extends LauncherOnly {}

  /** A command the {@code ./kiln} script runs before this program starts. */
  abstract static class LauncherOnly implements Callable<Integer> {
    @CommandLine.Unmatched List<String> rest = List.of();

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      throw new IllegalStateException(
          "run it through the launcher: ./kiln " + spec.name() + " " + String.join(" ", rest));
    }
  }

  @Command(
      name = "server",
      mixinStandardHelpOptions = true,
      description = "Start Kiln on the embedded defaults (SQLite and a local code store).")
  static final class Server implements Callable<Integer> {

    @Option(
        names = "--port",
        paramLabel = "PORT",
        description = "Port of the Lambda API (default: ${DEFAULT-VALUE})")
    int port = ServerSettings.DEFAULT_PORT;

    @Option(
        names = "--bind",
        paramLabel = "ADDRESS",
        description = "Address to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 for all)")
    String bind = "127.0.0.1";

    @Option(
        names = "--data-dir",
        paramLabel = "DIR",
        description = "Where Kiln keeps metadata, code and instances (default: ~/.kiln)")
    Path dataDir = DEFAULT_DATA_DIR;

    @Option(
        names = "--store",
        paramLabel = "sqlite:[DIR]",
        description =
            "Where Kiln keeps functions, queued events, logs and usage: sqlite: for SQLite files in"
                + " the data directory, sqlite:DIR for SQLite files in DIR (default:"
                + " ${DEFAULT-VALUE})")
    String store = dev.kiln.store.Storage.DEFAULT;

    @Option(
        names = "--region",
        paramLabel = "REGION",
        description = "Region in ARNs (default: ${DEFAULT-VALUE})")
    String region = Account.DEFAULT.region();

    @Option(
        names = "--account-id",
        paramLabel = "ID",
        description = "12-digit account id in ARNs (default: ${DEFAULT-VALUE})")
    String accountId = Account.DEFAULT.accountId();

    @Option(
        names = "--keep-alive",
        paramLabel = "SECONDS",
        description = "Seconds an idle instance is kept warm (default: ${DEFAULT-VALUE})")
    long keepAliveSeconds = ServerSettings.DEFAULT_KEEP_ALIVE.toSeconds();

    @Option(
        names = "--shutdown-grace",
        paramLabel = "SECONDS",
        description =
            "Seconds running invocations may take to finish at shutdown (default: ${DEFAULT-VALUE})")
    long shutdownGraceSeconds = ServerSettings.DEFAULT_SHUTDOWN_GRACE.toSeconds();

    @Option(
        names = "--runtime",
        paramLabel = "ID=INTERPRETER",
        description = "Interpreter for a runtime, e.g. --runtime python3.12=/opt/py312/bin/python3")
    Map<String, String> interpreters = new LinkedHashMap<>();

    @Option(
        names = "--sandbox",
        paramLabel = "auto|linux|process",
        description =
            "How instances are isolated: linux (namespaces and cgroups), process (none) or auto"
                + " (linux where the host allows it; default: ${DEFAULT-VALUE})")
    String sandbox = "auto";

    @Option(
        names = "--zygote",
        paramLabel = "on|off",
        description =
            "Fork Python instances from a pre-initialised interpreter in their own sandbox (Linux"
                + " sandbox as root; off: bubblewrap starts each; default: ${DEFAULT-VALUE})")
    String zygote = ServerSettings.DEFAULT_ZYGOTE ? "on" : "off";

    @Option(
        names = "--outbound-network",
        paramLabel = "on|off",
        description =
            "Whether functions may reach the network beyond this host: on (as on Lambda) or off"
                + " (default: ${DEFAULT-VALUE})")
    String outboundNetwork = "on";

    @Option(
        names = "--concurrency-limit",
        paramLabel = "N",
        description =
            "Invocations that may run at once across all functions, Lambda's account concurrency"
                + " limit (default: ${DEFAULT-VALUE})")
    int concurrencyLimit = ServerSettings.DEFAULT_CONCURRENCY_LIMIT;

    @Option(
        names = "--scale-out-rate",
        paramLabel = "N",
        description =
            "New instances one function may start per 10 seconds (default: ${DEFAULT-VALUE}, as"
                + " on Lambda)")
    int scaleOutRate = ServerSettings.DEFAULT_SCALE_OUT_RATE;

    @Option(
        names = "--instance-memory",
        paramLabel = "MB",
        description =
            "MB of host memory all instances may hold together, their MemorySize summed (default:"
                + " the host's memory less a quarter)")
    long instanceMemoryMb = ServerSettings.defaultInstanceMemoryMb();

    @Option(
        names = "--async-retry-delay",
        paramLabel = "SECONDS",
        description =
            "Seconds a failed asynchronous event waits before its first retry; the second waits"
                + " twice as long (default: ${DEFAULT-VALUE}, as on Lambda)")
    long asyncRetryDelaySeconds = ServerSettings.DEFAULT_ASYNC_RETRY_DELAY.toSeconds();

    @Option(
        names = "--function-url-domain",
        paramLabel = "DOMAIN",
        description =
            "A wildcard domain whose names reach Kiln through a proxy that terminates TLS:"
                + " function URLs are then https://<url-id>.lambda-url.<region>.DOMAIN/ (default:"
                + " http(s)://<url-id>.lambda-url.<region>.localhost:<port>/)")
    String functionUrlDomain;

    @Option(
        names = "--sqs-endpoint",
        paramLabel = "URL",
        description =
            "The SQS-compatible endpoint (an ElasticMQ server, for one) that event source mappings"
                + " on arn:aws:sqs: queues poll, e.g. http://localhost:9324")
    String sqsEndpoint;

    @Option(
        names = "--secrets-dir",
        paramLabel = "DIR",
        description =
            "Where a SourceAccessConfiguration's Secrets Manager ARN is looked up: the file DIR/NAME"
                + " holds the JSON of the secret NAME (file: URIs are read as they are)")
    Path secretsDir;

    private ServerSettings.Triggers triggers() {
      Optional<java.net.URI> sqs = Optional.empty();
      if (sqsEndpoint != null) {
        java.net.URI uri;
        try {
          uri = java.net.URI.create(sqsEndpoint);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              "--sqs-endpoint must be a URL such as http://localhost:9324, got '"
                  + sqsEndpoint
                  + "'");
        }
        if (uri.getScheme() == null
            || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
            || uri.getHost() == null) {
          throw new IllegalArgumentException(
              "--sqs-endpoint must be an http or https URL such as http://localhost:9324, got '"
                  + sqsEndpoint
                  + "'");
        }
        sqs = Optional.of(uri);
      }
      if (secretsDir != null && !java.nio.file.Files.isDirectory(secretsDir)) {
        throw new IllegalArgumentException(
            "--secrets-dir must be a directory, got '" + secretsDir + "'");
      }
      return new ServerSettings.Triggers(sqs, Optional.ofNullable(secretsDir));
    }

    @Option(
        names = "--client-timeout",
        paramLabel = "SECONDS",
        description =
            "Seconds a client may take to send a request's line and headers, and may pause while"
                + " sending its body, before Kiln answers 408 and closes the connection (default:"
                + " ${DEFAULT-VALUE}, as nginx's)")
    long clientTimeoutSeconds = ServerSettings.DEFAULT_CLIENT_TIMEOUT.toSeconds();

    @Option(
        names = "--log-retention-days",
        paramLabel = "DAYS",
        description =
            "Days function logs are kept at most; a log group's own retention"
                + " (PutRetentionPolicy) can only shorten this (default: ${DEFAULT-VALUE})")
    long logRetentionDays = ServerSettings.DEFAULT_LOG_RETENTION.toDays();

    @Option(
        names = "--log-max-mb",
        paramLabel = "MB",
        description =
            "MB of function logs kept at most, the oldest dropped first (default:"
                + " ${DEFAULT-VALUE})")
    long logMaxMb = ServerSettings.DEFAULT_LOG_MAX_BYTES / (1024 * 1024);

    @Option(
        names = "--otlp-endpoint",
        paramLabel = "URL",
        description =
            "Export a span per invocation (with its queue, sandbox, init and invoke phases) to this"
                + " OTLP/HTTP collector, e.g. http://localhost:4318 (default:"
                + " $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else $OTEL_EXPORTER_OTLP_ENDPOINT, else"
                + " off)")
    String otlpEndpoint;

    @Option(
        names = "--iam",
        paramLabel = "MODE",
        description =
            "compat (default): a function whose Role Kiln's IAM does not know may invoke functions,"
                + " with a warning; strict: CreateFunction refuses such a Role, as AWS does")
    String iamMode = "compat";

    @Option(
        names = "--insecure-no-auth",
        description =
            "Accept every request without checking its signature: for local experiments only")
    boolean insecureNoAuth;

    @Option(
        names = "--tls-cert",
        paramLabel = "FILE",
        description = "Serve HTTPS with this PEM certificate (chain); needs --tls-key")
    Path tlsCert;

    @Option(
        names = "--tls-key",
        paramLabel = "FILE",
        description = "The PEM (PKCS#8) private key of --tls-cert")
    Path tlsKey;

    @Option(
        names = "--tls-self-signed",
        description =
            "Serve HTTPS with a certificate Kiln makes once in <data-dir>/tls (clients trust"
                + " <data-dir>/tls/kiln-cert.pem)")
    boolean tlsSelfSigned;

    @Option(
        names = "--instance-credentials-lifetime",
        paramLabel = "SECONDS",
        description =
            "Seconds an instance's temporary AWS key lasts; instances are replaced before theirs"
                + " ends (at least 960; default: ${DEFAULT-VALUE}, 12 hours)")
    long instanceCredentialsLifetimeSeconds =
        ServerSettings.DEFAULT_INSTANCE_CREDENTIALS_LIFETIME.toSeconds();

    @Override
    public Integer call() throws InterruptedException {
      ServerSettings settings;
      try {
        Duration credentialsLifetime = Duration.ofSeconds(instanceCredentialsLifetimeSeconds);
        dev.kiln.api.auth.IdentityPolicies.Mode iam =
            switch (iamMode.toLowerCase(java.util.Locale.ROOT)) {
              case "compat" -> dev.kiln.api.auth.IdentityPolicies.Mode.COMPAT;
              case "strict" -> dev.kiln.api.auth.IdentityPolicies.Mode.STRICT;
              default ->
                  throw new IllegalArgumentException(
                      "--iam must be compat or strict, got '" + iamMode + "'");
            };
        if (credentialsLifetime.compareTo(ServerSettings.MIN_INSTANCE_CREDENTIALS_LIFETIME) < 0) {
          throw new IllegalArgumentException(
              "--instance-credentials-lifetime must be at least "
                  + ServerSettings.MIN_INSTANCE_CREDENTIALS_LIFETIME.toSeconds()
                  + " (seconds: the longest function timeout and a minute), got "
                  + instanceCredentialsLifetimeSeconds);
        }
        settings =
            new ServerSettings(
                bind,
                port,
                dataDir,
                new Account(region, accountId),
                Duration.ofSeconds(keepAliveSeconds),
                Duration.ofSeconds(shutdownGraceSeconds),
                interpreters,
                ServerSettings.SandboxChoice.parse(sandbox),
                ServerSettings.onOff("--outbound-network", outboundNetwork),
                concurrencyLimit,
                scaleOutRate,
                instanceMemoryMb,
                Duration.ofSeconds(asyncRetryDelaySeconds),
                Duration.ofDays(logRetentionDays),
                logMaxMb * 1024 * 1024,
                Optional.ofNullable(otlpEndpoint)
                    .or(
                        () ->
                            Optional.ofNullable(
                                System.getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")))
                    .or(() -> Optional.ofNullable(System.getenv("OTEL_EXPORTER_OTLP_ENDPOINT")))
                    .filter(s -> !s.isBlank())
                    .map(java.net.URI::create),
                !insecureNoAuth,
                tlsSelfSigned
                    ? Optional.of(ServerTls.Settings.selfSigned())
                    : tlsCert != null || tlsKey != null
                        ? Optional.of(
                            new ServerTls.Settings(
                                Optional.ofNullable(tlsCert), Optional.ofNullable(tlsKey)))
                        : Optional.empty(),
                credentialsLifetime,
                Duration.ofSeconds(clientTimeoutSeconds),
                store,
                iam,
                Optional.ofNullable(functionUrlDomain),
                triggers(),
                ServerSettings.onOff("--zygote", zygote));
      } catch (IllegalArgumentException e) {
        System.err.println("kiln server: " + e.getMessage());
        return 2;
      }
      KilnServer server;
      try {
        server = KilnServer.start(settings);
      } catch (RuntimeException e) {
        System.err.println("kiln server: " + e.getMessage());
        return 1;
      }
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    System.out.println(
                        "Kiln is shutting down: running invocations get "
                            + settings.shutdownGrace().toSeconds()
                            + " s to finish");
                    server.close();
                    System.out.println("Kiln stopped");
                    System.out.flush();
                    stopped.countDown();
                  },
                  "kiln-shutdown"));
      server.banner().forEach(System.out::println);
      System.out.flush();
      stopped.await();
      return 0;
    }
  }
}
