package dev.kiln.server;

import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.CreateFunctionResponse;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * One Kiln server for a whole test class: started before the class's first test (and before its own
 * {@code @BeforeAll} methods, which may create functions on it), closed after its last (and after
 * its {@code @AfterAll} methods). An integration test declares
 *
 * <pre>{@code
 * @RegisterExtension
 * static final KilnServerExtension kiln = KilnServerExtension.withDefaults();
 * // or KilnServerExtension.withSettings(s -> s.withClientTimeout(Duration.ofSeconds(2)))
 * }</pre>
 *
 * and drives the server through {@link #lambda()} and the {@link KilnFixture} helpers repeated
 * here; {@link #fixture()} for anything else. A test that needs a server of its own, or several,
 * makes a {@link KilnFixture} in a try-with-resources instead.
 */
final class KilnServerExtension implements BeforeAllCallback, AfterAllCallback {

  private final UnaryOperator<ServerSettings> adjust;
  private KilnFixture fixture;

  private KilnServerExtension(UnaryOperator<ServerSettings> adjust) {
    this.adjust = adjust;
  }

  /** A server on the default settings (those of {@code new KilnFixture()}). */
  static KilnServerExtension withDefaults() {
    return new KilnServerExtension(s -> s);
  }

  /** A server on the default settings as {@code adjust} changes them. */
  static KilnServerExtension withSettings(UnaryOperator<ServerSettings> adjust) {
    return new KilnServerExtension(adjust);
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    fixture = new KilnFixture(adjust);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (fixture != null) {
      fixture.close();
      fixture = null;
    }
  }

  /** The running server's fixture; only between the class's first and last test. */
  KilnFixture fixture() {
    if (fixture == null) {
      throw new IllegalStateException(
          "the server runs only while the test class does (register the extension on a static"
              + " field)");
    }
    return fixture;
  }

  KilnServer server() {
    return fixture().server;
  }

  Path dataDir() {
    return fixture().dataDir;
  }

  /** The AWS SDK's Lambda client, signing with the server's admin key. */
  LambdaClient lambda() {
    return fixture().lambda;
  }

  AwsBasicCredentials credentials() {
    return fixture().credentials();
  }

  CreateFunctionResponse python(String name, String code) {
    return fixture().python(name, code);
  }

  CreateFunctionResponse node(String name, String fileName, String code) {
    return fixture().node(name, fileName, code);
  }

  CreateFunctionResponse create(String name, Runtime runtime, String handler, byte[] zip) {
    return fixture().create(name, runtime, handler, zip);
  }

  CreateFunctionResponse createWithLayers(
      String name, Runtime runtime, String handler, byte[] zip, String... layers) {
    return fixture().createWithLayers(name, runtime, handler, zip, layers);
  }

  CloudWatchLogsClient logsClient() {
    return fixture().logsClient();
  }

  HttpRequest signed(
      String method,
      String pathAndQuery,
      Map<String, String> headers,
      byte[] body,
      String service) {
    return fixture().signed(method, pathAndQuery, headers, body, service);
  }

  HttpRequest signed(String method, String pathAndQuery) {
    return fixture().signed(method, pathAndQuery);
  }
}
