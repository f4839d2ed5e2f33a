package dev.kiln.server;

import dev.kiln.model.Account;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.CreateFunctionResponse;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * A real Kiln server on a free port with a scratch data directory, and a real AWS SDK for Java v2
 * {@link LambdaClient} pointed at it: what every integration test drives.
 */
final class KilnFixture implements AutoCloseable {

  static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";

  final Path dataDir;
  final KilnServer server;
  final LambdaClient lambda;

  KilnFixture() {
    this(ServerSettings.DEFAULT_KEEP_ALIVE);
  }

  KilnFixture(Duration keepAlive) {
    this(keepAlive, ServerSettings.SandboxChoice.AUTO);
  }

  KilnFixture(Duration keepAlive, ServerSettings.SandboxChoice sandbox) {
    this(keepAlive, sandbox, ServerSettings.DEFAULT_CONCURRENCY_LIMIT);
  }

  /** A server whose Python instances are forked from zygotes, or started by bubblewrap. */
  KilnFixture(Duration keepAlive, ServerSettings.SandboxChoice sandbox, boolean zygote) {
    this(keepAlive, sandbox, ServerSettings.DEFAULT_CONCURRENCY_LIMIT, s -> s.withZygote(zygote));
  }

  KilnFixture(Duration keepAlive, ServerSettings.SandboxChoice sandbox, int concurrencyLimit) {
    this(keepAlive, sandbox, concurrencyLimit, s -> s);
  }

  /** A server with the default settings as {@code adjust} changes them. */
  KilnFixture(java.util.function.UnaryOperator<ServerSettings> adjust) {
    this(
        ServerSettings.DEFAULT_KEEP_ALIVE,
        ServerSettings.SandboxChoice.AUTO,
        ServerSettings.DEFAULT_CONCURRENCY_LIMIT,
        adjust);
  }

  private KilnFixture(
      Duration keepAlive,
      ServerSettings.SandboxChoice sandbox,
      int concurrencyLimit,
      java.util.function.UnaryOperator<ServerSettings> adjust) {
    dataDir = dev.kiln.testing.TempDirs.create("kiln-test-");
    server =
        KilnServer.start(
            adjust.apply(
                new ServerSettings(
                    "127.0.0.1",
                    0,
                    dataDir,
                    Account.DEFAULT,
                    keepAlive,
                    Duration.ofSeconds(5),
                    Map.of(),
                    sandbox,
                    true,
                    concurrencyLimit,
                    ServerSettings.DEFAULT_SCALE_OUT_RATE,
                    ServerSettings.defaultInstanceMemoryMb(),
                    ServerSettings.DEFAULT_ASYNC_RETRY_DELAY,
                    ServerSettings.DEFAULT_LOG_RETENTION,
                    ServerSettings.DEFAULT_LOG_MAX_BYTES,
                    java.util.Optional.empty(),
                    true,
                    java.util.Optional.empty(),
                    ServerSettings.DEFAULT_INSTANCE_CREDENTIALS_LIFETIME,
                    ServerSettings.DEFAULT_CLIENT_TIMEOUT,
                    dev.kiln.store.Storage.DEFAULT,
                    dev.kiln.api.auth.IdentityPolicies.Mode.COMPAT,
                    java.util.Optional.empty(),
                    ServerSettings.Triggers.NONE,
                    zygote())));
    lambda = client(server);
  }

  /**
   * Whether the fixture's servers fork Python instances from zygotes unless a test says: {@code
   * -Dkiln.zygote=on|off} for a whole run, otherwise the server's default.
   */
  static boolean zygote() {
    String property = System.getProperty("kiln.zygote");
    return property == null || property.isBlank()
        ? ServerSettings.DEFAULT_ZYGOTE
        : ServerSettings.onOff("kiln.zygote", property);
  }

  /** The admin key of the server whose data directory is {@code dataDir}. */
  static AwsBasicCredentials credentials(Path dataDir) {
    var admin = dev.kiln.api.auth.AccessKeys.open(dataDir).admin().orElseThrow();
    return AwsBasicCredentials.create(admin.accessKeyId(), admin.secretAccessKey());
  }

  AwsBasicCredentials credentials() {
    return credentials(dataDir);
  }

  /** A client of {@code server}, signing with its admin key. */
  /**
   * Waits, up to {@code atMost}, until {@code client}'s key is refused with {@code errorCode} when
   * it invokes {@code function} (a key being revoked, or expiring, somewhere else).
   */
  static void awaitRefused(
      LambdaClient client, String function, String errorCode, Duration atMost) {
    org.awaitility.Awaitility.await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(250))
        .ignoreExceptions()
        .untilAsserted(
            () ->
                org.assertj.core.api.Assertions.assertThat(
                        org.assertj.core.api.Assertions.catchThrowableOfType(
                                software.amazon.awssdk.services.lambda.model.LambdaException.class,
                                () -> client.invoke(b -> b.functionName(function)))
                            .awsErrorDetails()
                            .errorCode())
                    .isEqualTo(errorCode));
  }

  static LambdaClient client(KilnServer server) {
    return client(server.endpoint(), server.settings().dataDir());
  }

  /** A client of a server running as its own process. */
  static LambdaClient client(ServerProcess server) {
    return client(server.endpoint(), server.dataDir);
  }

  /** A client of the server at {@code endpoint} whose data directory is {@code dataDir}. */
  static LambdaClient client(URI endpoint, Path dataDir) {
    return client(endpoint, credentials(dataDir));
  }

  static LambdaClient client(URI endpoint, AwsBasicCredentials credentials) {
    return LambdaClient.builder()
        .endpointOverride(endpoint)
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(credentials))
        .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofMinutes(2)).build())
        .overrideConfiguration(
            c -> c.retryPolicy(software.amazon.awssdk.core.retry.RetryPolicy.none()))
        .build();
  }

  CreateFunctionResponse python(String name, String code) {
    return python(lambda, name, code);
  }

  /**
   * A Python function {@code name} whose {@code app.py} is {@code code}, made through {@code
   * lambda}.
   */
  static CreateFunctionResponse python(LambdaClient lambda, String name, String code) {
    return lambda.createFunction(
        b ->
            b.functionName(name)
                .runtime(Runtime.PYTHON3_12)
                .handler("app.handler")
                .role(ROLE)
                .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of("app.py", code)))));
  }

  CreateFunctionResponse node(String name, String fileName, String code) {
    return create(name, Runtime.NODEJS20_X, "index.handler", Zips.of(fileName, code));
  }

  CreateFunctionResponse create(String name, Runtime runtime, String handler, byte[] zip) {
    return lambda.createFunction(
        b ->
            b.functionName(name)
                .runtime(runtime)
                .handler(handler)
                .role(ROLE)
                .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
  }

  CreateFunctionResponse createWithLayers(
      String name, Runtime runtime, String handler, byte[] zip, String... layers) {
    return lambda.createFunction(
        b ->
            b.functionName(name)
                .runtime(runtime)
                .handler(handler)
                .role(ROLE)
                .layers(layers)
                .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
  }

  /** A CloudWatch Logs client of this server, signing with its admin key. */
  software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient logsClient() {
    return software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient.builder()
        .endpointOverride(server.endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(credentials()))
        .build();
  }

  /** An IAM client of this server, signing with {@code key} (IAM is global: us-east-1). */
  software.amazon.awssdk.services.iam.IamClient iamClient(AwsBasicCredentials key) {
    return software.amazon.awssdk.services.iam.IamClient.builder()
        .endpointOverride(server.endpoint())
        .region(Region.AWS_GLOBAL)
        .credentialsProvider(StaticCredentialsProvider.create(key))
        .build();
  }

  /** An IAM client of this server, signing with its admin key. */
  software.amazon.awssdk.services.iam.IamClient iamClient() {
    return iamClient(credentials());
  }

  /** An STS client of this server, signing with {@code key}. */
  software.amazon.awssdk.services.sts.StsClient stsClient(AwsBasicCredentials key) {
    return software.amazon.awssdk.services.sts.StsClient.builder()
        .endpointOverride(server.endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(key))
        .build();
  }

  /** A request signed with the admin key, for tests that need raw HTTP. */
  java.net.http.HttpRequest signed(
      String method,
      String pathAndQuery,
      Map<String, String> headers,
      byte[] body,
      String service) {
    return new SignedRequests(
            software.amazon.awssdk.identity.spi.AwsCredentialsIdentity.create(
                credentials().accessKeyId(), credentials().secretAccessKey()),
            "us-east-1")
        .sign(method, URI.create(server.endpoint() + pathAndQuery), headers, body, service);
  }

  /** A signed Lambda API request without a body. */
  java.net.http.HttpRequest signed(String method, String pathAndQuery) {
    return signed(method, pathAndQuery, Map.of(), new byte[0], "lambda");
  }

  @Override
  public void close() {
    lambda.close();
    server.close();
    // a data directory is 100 MB and more once runtimes are unpacked: not left for the JVM's exit
    dev.kiln.testing.TempDirs.delete(dataDir);
  }
}
