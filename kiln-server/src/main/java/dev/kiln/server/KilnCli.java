package dev.kiln.server;

import dev.kiln.model.Account;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
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
      CredentialsCommand.class
    })
public final class KilnCli implements Runnable {

  /** Where Kiln keeps its data unless {@code --data-dir} says otherwise. */
  static final Path DEFAULT_DATA_DIR = Path.of(System.getProperty("user.home"), ".kiln");

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }

  public static void main(String[] args) {
    int code = new CommandLine(new KilnCli()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  @Command(
      name = "server",
      mixinStandardHelpOptions = true,
      description = "Start Kiln on the embedded defaults (SQLite and a local code store).")
  static final class Server implements Callable<Integer> {

    @Option(names = "--port", description = "Port of the Lambda API (default: ${DEFAULT-VALUE})")
    int port = ServerSettings.DEFAULT_PORT;

    @Option(
        names = "--bind",
        description = "Address to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 for all)")
    String bind = "127.0.0.1";

    @Option(
        names = "--data-dir",
        description = "Where Kiln keeps metadata, code and instances (default: ~/.kiln)")
    Path dataDir = DEFAULT_DATA_DIR;

    @Option(names = "--region", description = "Region in ARNs (default: ${DEFAULT-VALUE})")
    String region = Account.DEFAULT.region();

    @Option(
        names = "--account-id",
        description = "12-digit account id in ARNs (default: ${DEFAULT-VALUE})")
    String accountId = Account.DEFAULT.accountId();

    @Option(
        names = "--keep-alive",
        description = "Seconds an idle instance is kept warm (default: ${DEFAULT-VALUE})")
    long keepAliveSeconds = ServerSettings.DEFAULT_KEEP_ALIVE.toSeconds();

    @Option(
        names = "--shutdown-grace",
        description =
            "Seconds running invocations may take to finish at shutdown (default: ${DEFAULT-VALUE})")
    long shutdownGraceSeconds = ServerSettings.DEFAULT_SHUTDOWN_GRACE.toSeconds();

    @Option(
        names = "--runtime",
        description = "Interpreter for a runtime, e.g. --runtime python3.12=/opt/py312/bin/python3")
    Map<String, String> interpreters = new LinkedHashMap<>();

    @Option(
        names = "--sandbox",
        description =
            "How instances are isolated: linux (namespaces and cgroups), process (none) or auto"
                + " (linux where the host allows it; default: ${DEFAULT-VALUE})")
    String sandbox = "auto";

    @Option(
        names = "--outbound-network",
        description =
            "Whether functions may reach the network beyond this host: on (as on Lambda) or off"
                + " (default: ${DEFAULT-VALUE})")
    String outboundNetwork = "on";

    @Option(
        names = "--concurrency-limit",
        description =
            "Invocations that may run at once across all functions, Lambda's account concurrency"
                + " limit (default: ${DEFAULT-VALUE})")
    int concurrencyLimit = ServerSettings.DEFAULT_CONCURRENCY_LIMIT;

    @Option(
        names = "--scale-out-rate",
        description =
            "New instances one function may start per 10 seconds (default: ${DEFAULT-VALUE}, as"
                + " on Lambda)")
    int scaleOutRate = ServerSettings.DEFAULT_SCALE_OUT_RATE;

    @Option(
        names = "--instance-memory",
        description =
            "MB of host memory all instances may hold together, their MemorySize summed (default:"
                + " the host's memory less a quarter)")
    long instanceMemoryMb = ServerSettings.defaultInstanceMemoryMb();

    @Option(
        names = "--async-retry-delay",
        description =
            "Seconds a failed asynchronous event waits before its first retry; the second waits"
                + " twice as long (default: ${DEFAULT-VALUE}, as on Lambda)")
    long asyncRetryDelaySeconds = ServerSettings.DEFAULT_ASYNC_RETRY_DELAY.toSeconds();

    @Option(
        names = "--client-timeout",
        description =
            "Seconds a client may take to send a request's line and headers, and may pause while"
                + " sending its body, before Kiln answers 408 and closes the connection (default:"
                + " ${DEFAULT-VALUE}, as nginx's)")
    long clientTimeoutSeconds = ServerSettings.DEFAULT_CLIENT_TIMEOUT.toSeconds();

    @Option(
        names = "--log-retention-days",
        description =
            "Days function logs are kept at most; a log group's own retention"
                + " (PutRetentionPolicy) can only shorten this (default: ${DEFAULT-VALUE})")
    long logRetentionDays = ServerSettings.DEFAULT_LOG_RETENTION.toDays();

    @Option(
        names = "--log-max-mb",
        description =
            "MB of function logs kept at most, the oldest dropped first (default:"
                + " ${DEFAULT-VALUE})")
    long logMaxMb = ServerSettings.DEFAULT_LOG_MAX_BYTES / (1024 * 1024);

    @Option(
        names = "--otlp-endpoint",
        description =
            "Export a span per invocation (with its queue, sandbox, init and invoke phases) to this"
                + " OTLP/HTTP collector, e.g. http://localhost:4318 (default:"
                + " $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else $OTEL_EXPORTER_OTLP_ENDPOINT, else"
                + " off)")
    String otlpEndpoint;

    @Option(
        names = "--insecure-no-auth",
        description =
            "Accept every request without checking its signature: for local experiments only")
    boolean insecureNoAuth;

    @Option(
        names = "--tls-cert",
        description = "Serve HTTPS with this PEM certificate (chain); needs --tls-key")
    Path tlsCert;

    @Option(names = "--tls-key", description = "The PEM (PKCS#8) private key of --tls-cert")
    Path tlsKey;

    @Option(
        names = "--tls-self-signed",
        description =
            "Serve HTTPS with a certificate Kiln makes once in <data-dir>/tls (clients trust"
                + " <data-dir>/tls/kiln-cert.pem)")
    boolean tlsSelfSigned;

    @Option(
        names = "--instance-credentials-lifetime",
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
                Duration.ofSeconds(clientTimeoutSeconds));
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
