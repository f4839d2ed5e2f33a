package dev.kiln.bench;

import dev.kiln.testing.FreePorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * The Kiln under measurement: {@code kiln server} started as a child process of the bench, on a
 * free port and a scratch data directory that is deleted afterwards.
 *
 * <p>A child process rather than a {@code KilnServer} inside the bench's JVM, so that Kiln's heap,
 * garbage collector, JIT threads and safepoints are not shared with the load generator's: each pays
 * for its own, as they would on a real host, and a pause in one does not show up as latency in the
 * other. The child runs on the bench's own class path (which holds kiln-server and all it needs)
 * and the same JDK, with the flags {@code ./kiln server} uses.
 *
 * <p>The server gets a memory budget far above the host's ({@code --instance-memory}): the bench
 * creates its functions at 1769 MB, one full vCPU, so that the sandbox's CPU share does not
 * throttle a tight loop of invocations, and a no-op function uses a few MB of that. The density
 * suite, too, wants no admission limit: it measures what idle instances really hold, which is what
 * a budget could be set from, not the MemorySize sum the budget admits by.
 */
final class KilnProcess implements AutoCloseable {

  private static final long UNLIMITED_INSTANCE_MEMORY_MB = 1L << 30;

  private final Process process;
  private final Path dataDir;
  private final Path console;
  private final URI endpoint;
  private LambdaClient lambda;
  private AwsBasicCredentials credentials;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private KilnProcess(Process process, Path dataDir, Path console, URI endpoint) {
    this.process = process;
    this.dataDir = dataDir;
    this.console = console;
    this.endpoint = endpoint;
  }

  /** Starts Kiln and waits for its banner. */
  static KilnProcess start(String sandbox, List<String> extraArgs) throws IOException {
    Path dataDir = Files.createTempDirectory("kiln-bench-data-");
    Path console = Files.createTempFile("kiln-bench-console-", ".txt");
    int port = freePort();
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("dev.kiln.server.KilnCli");
    command.addAll(
        List.of(
            "server",
            "--port",
            Integer.toString(port),
            "--data-dir",
            dataDir.toString(),
            "--sandbox",
            sandbox,
            "--keep-alive",
            "3600",
            "--instance-memory",
            Long.toString(UNLIMITED_INSTANCE_MEMORY_MB)));
    command.addAll(extraArgs);
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(console.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    KilnProcess kiln =
        new KilnProcess(process, dataDir, console, URI.create("http://127.0.0.1:" + port));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!kiln.output().contains(" lambda list-functions")) {
      if (!process.isAlive()) {
        throw new IllegalStateException("kiln server exited:\n" + kiln.output());
      }
      if (System.nanoTime() > deadline) {
        kiln.close();
        throw new IllegalStateException("kiln server did not start in 90 s:\n" + kiln.output());
      }
      sleepMillis(50);
    }
    // the admin key Kiln made in its fresh data directory signs every request of the bench
    var admin = dev.kiln.api.auth.AccessKeys.open(dataDir).admin().orElseThrow();
    kiln.credentials = AwsBasicCredentials.create(admin.accessKeyId(), admin.secretAccessKey());
    kiln.lambda = sdkClient(kiln.endpoint, kiln.credentials);
    return kiln;
  }

  static int freePort() {
    return FreePorts.next();
  }

  static LambdaClient sdkClient(URI endpoint, AwsBasicCredentials credentials) {
    return LambdaClient.builder()
        .endpointOverride(endpoint)
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(credentials))
        .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofMinutes(5)).build())
        .overrideConfiguration(
            c -> c.retryPolicy(software.amazon.awssdk.core.retry.RetryPolicy.none()))
        .build();
  }

  URI endpoint() {
    return endpoint;
  }

  /** The invoke endpoint of a function, for raw HTTP clients. */
  URI invokeUri(String functionName) {
    return endpoint.resolve("/2015-03-31/functions/" + functionName + "/invocations");
  }

  LambdaClient lambda() {
    return lambda;
  }

  /** The admin key of this Kiln, with which the bench signs its raw requests. */
  AwsBasicCredentials credentials() {
    return credentials;
  }

  Path dataDir() {
    return dataDir;
  }

  long pid() {
    return process.pid();
  }

  /** Kiln's metrics now, parsed from {@code GET /metrics}. */
  PrometheusText metrics() {
    try {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(endpoint.resolve("/metrics")).build(),
              HttpResponse.BodyHandlers.ofString());
      return PrometheusText.parse(response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  String output() {
    try {
      return Files.readString(console);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void sleepMillis(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    lambda.close();
    if (process.isAlive()) {
      // SIGTERM, and time for Kiln to stop every instance it has (hundreds after a burst): killed
      // with -9, it would leave their cgroups, namespaces and disks behind, and nothing sweeps a
      // scratch data directory that is deleted next
      process.destroy();
      try {
        if (!process.waitFor(5, TimeUnit.MINUTES)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    ScratchFiles.deleteTree(dataDir);
    ScratchFiles.deleteTree(console);
  }
}
