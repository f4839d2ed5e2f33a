package dev.kiln.server;

import dev.kiln.model.Account;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * How a Kiln server is set up; checked once when the server starts, then fixed.
 *
 * @param port 0 picks a free port (tests)
 * @param keepAlive how long an idle instance stays warm
 * @param shutdownGrace how long running invocations may take to finish when Kiln stops
 * @param interpreters runtime identifier to interpreter path, overriding the host's defaults
 * @param sandbox which sandbox driver runs instances
 * @param outboundNetwork whether instances may reach the network beyond the host (as on Lambda)
 * @param concurrencyLimit how many invocations may run at once across all functions (Lambda's
 *     account concurrency limit)
 * @param scaleOutRate how many new instances one function may start per 10 seconds
 * @param instanceMemoryMb the host memory instances may hold together (their MemorySize summed)
 * @param asyncRetryDelay how long an asynchronous event waits after its first failed attempt (the
 *     second retry waits twice as long); Lambda's is a minute
 * @param clientTimeout how long a client may take to send a request's line and headers, and may
 *     pause while sending its body, before Kiln answers 408 and closes the connection (both APIs)
 * @param store where the node keeps its state: {@code sqlite:} (the default: SQLite files in the
 *     data directory) or {@code sqlite:DIR}; see {@link dev.kiln.store.Storage}
 * @param iam what a function whose {@code Role} Kiln's IAM does not know may do: {@code compat}
 *     (invoke functions, as before roles were kept) or {@code strict} (CreateFunction refuses it)
 * @param functionUrlDomain a wildcard domain (behind a proxy that terminates TLS) under which
 *     function URLs are {@code https://<url-id>.lambda-url.<region>.<domain>/}; without it they are
 *     {@code http(s)://<url-id>.lambda-url.<region>.localhost:<port>/}
 * @param triggers what the event source mappings' pollers reach their sources with
 * @param zygote whether Python instances are forked from a pre-initialised interpreter (the Linux
 *     sandbox as root; see LinuxSandboxDriver) rather than started by bubblewrap
 */
public record ServerSettings(
    String bind,
    int port,
    Path dataDir,
    Account account,
    Duration keepAlive,
    Duration shutdownGrace,
    Map<String, String> interpreters,
    SandboxChoice sandbox,
    boolean outboundNetwork,
    int concurrencyLimit,
    int scaleOutRate,
    long instanceMemoryMb,
    Duration asyncRetryDelay,
    Duration logRetention,
    long logMaxBytes,
    Optional<URI> otlpEndpoint,
    boolean authentication,
    Optional<ServerTls.Settings> tls,
    Duration instanceCredentialsLifetime,
    Duration clientTimeout,
    String store,
    dev.kiln.api.auth.IdentityPolicies.Mode iam,
    Optional<String> functionUrlDomain,
    Triggers triggers,
    boolean zygote) {

  /**
   * Whether Python instances are forked from zygotes unless {@code --zygote} says otherwise: on,
   * since IsolationIT passes on forked instances (IsolationZygoteIT); where there is no root or no
   * cgroups the Linux driver starts them with bubblewrap all the same.
   */
  public static final boolean DEFAULT_ZYGOTE = true;

  /** These settings, with Python zygotes on or off. */
  public ServerSettings withZygote(boolean on) {
    return with(
        otlpEndpoint,
        tls,
        instanceCredentialsLifetime,
        clientTimeout,
        iam,
        functionUrlDomain,
        triggers,
        on);
  }

  private static final java.util.regex.Pattern DOMAIN =
      java.util.regex.Pattern.compile(
          "(?=.{1,200}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*");

  /** How long function logs are kept unless {@code --log-retention-days} says otherwise. */
  public static final Duration DEFAULT_LOG_RETENTION = Duration.ofDays(30);

  /** How many bytes of function logs are kept at most, the oldest going first. */
  public static final long DEFAULT_LOG_MAX_BYTES = 1024L * 1024 * 1024;

  /**
   * {@code linux}: namespaces and cgroups, or refuse to start; {@code process}: plain processes, no
   * isolation; {@code auto}: linux where the host allows it, else process with a warning.
   */
  public enum SandboxChoice {
    AUTO,
    LINUX,
    PROCESS;

    /** From the command line's spelling: {@code auto}, {@code linux} or {@code process}. */
    public static SandboxChoice parse(String value) {
      for (SandboxChoice c : values()) {
        if (c.name().equalsIgnoreCase(value)) {
          return c;
        }
      }
      throw new IllegalArgumentException(
          "--sandbox must be auto, linux or process, got '" + value + "'");
    }
  }

  public static final int DEFAULT_PORT = 9000;
  public static final int DEFAULT_CONCURRENCY_LIMIT = 1000;

  /** Lambda's: a minute before the first retry of a failed asynchronous event. */
  public static final Duration DEFAULT_ASYNC_RETRY_DELAY = Duration.ofMinutes(1);

  /** Lambda's: 1000 new instances per function per 10 seconds. */
  public static final int DEFAULT_SCALE_OUT_RATE = 1000;

  /**
   * Instances may hold together what the host has, less a quarter (at least 1 GB) for Kiln and the
   * rest of the machine.
   */
  public static long defaultInstanceMemoryMb() {
    long total = 4096;
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          total = Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
        }
      }
    } catch (java.io.IOException | NumberFormatException e) {
      // not Linux: a modest default
    }
    return Math.max(128, total - Math.max(1024, total / 4));
  }

  public static final Duration DEFAULT_KEEP_ALIVE = Duration.ofMinutes(5);

  /**
   * How long an instance's temporary key lasts: 12 hours, the longest a role's session may last on
   * AWS. Instances are replaced before their key ends.
   */
  public static final Duration DEFAULT_INSTANCE_CREDENTIALS_LIFETIME = Duration.ofHours(12);

  /**
   * The shortest key lifetime the command line accepts: Lambda's longest timeout (15 minutes) and a
   * minute, so that every instance can serve at least one invocation of any function.
   */
  public static final Duration MIN_INSTANCE_CREDENTIALS_LIFETIME = Duration.ofMinutes(16);

  public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(10);

  /** As nginx's {@code client_header_timeout} and {@code client_body_timeout}. */
  public static final Duration DEFAULT_CLIENT_TIMEOUT = dev.kiln.runtimeapi.ClientTimeout.DEFAULT;

  /** A day: longer than any client should stall, and far from overflowing a nanosecond count. */
  public static final Duration MAX_CLIENT_TIMEOUT = Duration.ofDays(1);

  public ServerSettings {
    interpreters = Map.copyOf(interpreters);
    functionUrlDomain
        .filter(d -> !DOMAIN.matcher(d).matches())
        .ifPresent(
            d -> {
              throw new IllegalArgumentException(
                  "--function-url-domain must be a DNS name in lower case such as"
                      + " kiln.example.com (no scheme, port or path), got '"
                      + d
                      + "'");
            });
    try {
      dev.kiln.store.Storage.Location.parse(store);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--store: " + e.getMessage(), e);
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("--port must be between 0 and 65535, got " + port);
    }
    if (concurrencyLimit < 1) {
      throw new IllegalArgumentException(
          "--concurrency-limit must be at least 1, got " + concurrencyLimit);
    }
    if (scaleOutRate < 1) {
      throw new IllegalArgumentException(
          "--scale-out-rate must be at least 1, got " + scaleOutRate);
    }
    if (instanceMemoryMb < 128) {
      throw new IllegalArgumentException(
          "--instance-memory must be at least 128 (MB), got " + instanceMemoryMb);
    }
    if (logRetention.isNegative() || logRetention.isZero()) {
      throw new IllegalArgumentException(
          "--log-retention-days must be at least 1, got " + logRetention.toDays());
    }
    if (logMaxBytes < 1024 * 1024) {
      throw new IllegalArgumentException(
          "--log-max-mb must be at least 1, got " + logMaxBytes / (1024 * 1024));
    }
    otlpEndpoint
        .filter(
            u ->
                !("http".equals(u.getScheme()) || "https".equals(u.getScheme()))
                    || u.getHost() == null)
        .ifPresent(
            u -> {
              throw new IllegalArgumentException(
                  "--otlp-endpoint must be an http:// or https:// URL such as"
                      + " http://localhost:4318, got '"
                      + u
                      + "'");
            });
    tls.filter(t -> t.certificate().isPresent() != t.key().isPresent())
        .ifPresent(
            t -> {
              throw new IllegalArgumentException(
                  "--tls-cert and --tls-key go together: give both, or --tls-self-signed");
            });
    if (instanceCredentialsLifetime.isNegative()
        || instanceCredentialsLifetime.isZero()
        || instanceCredentialsLifetime.compareTo(DEFAULT_INSTANCE_CREDENTIALS_LIFETIME) > 0) {
      throw new IllegalArgumentException(
          "--instance-credentials-lifetime must be at most "
              + DEFAULT_INSTANCE_CREDENTIALS_LIFETIME.toSeconds()
              + " (seconds: 12 hours, the longest a role's session lasts on AWS), got "
              + instanceCredentialsLifetime.toSeconds());
    }
    if (keepAlive.isNegative() || keepAlive.isZero()) {
      throw new IllegalArgumentException("--keep-alive must be positive, got " + keepAlive);
    }
    if (clientTimeout.compareTo(Duration.ofSeconds(1)) < 0
        || clientTimeout.compareTo(MAX_CLIENT_TIMEOUT) > 0) {
      throw new IllegalArgumentException(
          "--client-timeout must be from 1 to "
              + MAX_CLIENT_TIMEOUT.toSeconds()
              + " (seconds), got "
              + clientTimeout.toSeconds());
    }
  }

  /** A command-line switch spelled {@code on} or {@code off}. */
  public static boolean onOff(String option, String value) {
    return switch (value.toLowerCase(java.util.Locale.ROOT)) {
      case "on", "true", "yes" -> true;
      case "off", "false", "no" -> false;
      default ->
          throw new IllegalArgumentException(option + " must be on or off, got '" + value + "'");
    };
  }

  public static ServerSettings defaults(Path dataDir) {
    return new ServerSettings(
        "127.0.0.1",
        DEFAULT_PORT,
        dataDir,
        Account.DEFAULT,
        DEFAULT_KEEP_ALIVE,
        DEFAULT_SHUTDOWN_GRACE,
        Map.of(),
        SandboxChoice.AUTO,
        true,
        DEFAULT_CONCURRENCY_LIMIT,
        DEFAULT_SCALE_OUT_RATE,
        defaultInstanceMemoryMb(),
        DEFAULT_ASYNC_RETRY_DELAY,
        DEFAULT_LOG_RETENTION,
        DEFAULT_LOG_MAX_BYTES,
        Optional.empty(),
        true,
        Optional.empty(),
        DEFAULT_INSTANCE_CREDENTIALS_LIFETIME,
        DEFAULT_CLIENT_TIMEOUT,
        dev.kiln.store.Storage.DEFAULT,
        dev.kiln.api.auth.IdentityPolicies.Mode.COMPAT,
        Optional.empty(),
        Triggers.NONE,
        DEFAULT_ZYGOTE);
  }

  /**
   * These settings, handing out function URLs under {@code domain}: {@code
   * https://<url-id>.lambda-url.<region>.<domain>/}.
   */
  public ServerSettings withFunctionUrlDomain(String domain) {
    return with(
        otlpEndpoint,
        tls,
        instanceCredentialsLifetime,
        clientTimeout,
        iam,
        Optional.of(domain),
        triggers,
        zygote);
  }

  /** These settings, exporting invocation spans to an OTLP/HTTP collector at {@code endpoint}. */
  public ServerSettings withOtlpEndpoint(URI endpoint) {
    return with(
        Optional.of(endpoint),
        tls,
        instanceCredentialsLifetime,
        clientTimeout,
        iam,
        functionUrlDomain,
        triggers,
        zygote);
  }

  /** These settings, with {@code mode} for roles Kiln's IAM does not know. */
  public ServerSettings withIam(dev.kiln.api.auth.IdentityPolicies.Mode mode) {
    return with(
        otlpEndpoint,
        tls,
        instanceCredentialsLifetime,
        clientTimeout,
        mode,
        functionUrlDomain,
        triggers,
        zygote);
  }

  /** These settings, serving the API over HTTPS with {@code certificate}. */
  public ServerSettings withTls(ServerTls.Settings certificate) {
    return with(
        otlpEndpoint,
        Optional.of(certificate),
        instanceCredentialsLifetime,
        clientTimeout,
        iam,
        functionUrlDomain,
        triggers,
        zygote);
  }

  /**
   * These settings, giving instances keys that last {@code lifetime}. Shorter than {@link
   * #MIN_INSTANCE_CREDENTIALS_LIFETIME} (which the command line refuses) only for tests of
   * rotation.
   */
  public ServerSettings withInstanceCredentialsLifetime(Duration lifetime) {
    return with(
        otlpEndpoint, tls, lifetime, clientTimeout, iam, functionUrlDomain, triggers, zygote);
  }

  /** These settings, cutting off a client that stalls mid-request after {@code timeout}. */
  public ServerSettings withClientTimeout(Duration timeout) {
    return with(
        otlpEndpoint,
        tls,
        instanceCredentialsLifetime,
        timeout,
        iam,
        functionUrlDomain,
        triggers,
        zygote);
  }

  private ServerSettings with(
      Optional<URI> otlp,
      Optional<ServerTls.Settings> https,
      Duration credentialsLifetime,
      Duration stalledClient,
      dev.kiln.api.auth.IdentityPolicies.Mode iamMode,
      Optional<String> urlDomain,
      Triggers sources,
      boolean forkPython) {
    return new ServerSettings(
        bind,
        port,
        dataDir,
        account,
        keepAlive,
        shutdownGrace,
        interpreters,
        sandbox,
        outboundNetwork,
        concurrencyLimit,
        scaleOutRate,
        instanceMemoryMb,
        asyncRetryDelay,
        logRetention,
        logMaxBytes,
        otlp,
        authentication,
        https,
        credentialsLifetime,
        stalledClient,
        store,
        iamMode,
        urlDomain,
        sources,
        forkPython);
  }

  /** These settings, with what the event source mappings' pollers reach their sources with. */
  public ServerSettings withTriggers(Triggers t) {
    return with(
        otlpEndpoint,
        tls,
        instanceCredentialsLifetime,
        clientTimeout,
        iam,
        functionUrlDomain,
        t,
        zygote);
  }

  /**
   * What event source mappings reach their sources with.
   *
   * @param sqsEndpoint the SQS-compatible endpoint queues are polled at ({@code --sqs-endpoint})
   * @param secretsDir where a SourceAccessConfiguration's Secrets Manager ARN is looked up: the
   *     file named as the secret, holding its JSON ({@code --secrets-dir})
   */
  public record Triggers(Optional<URI> sqsEndpoint, Optional<Path> secretsDir) {
    public static final Triggers NONE = new Triggers(Optional.empty(), Optional.empty());
  }
}
