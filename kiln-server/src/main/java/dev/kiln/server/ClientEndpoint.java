package dev.kiln.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.api.auth.AccessKeys;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;

/**
 * Where a client command ({@code kiln logs}, {@code kiln usage}) finds Kiln and which key it signs
 * with; both come from the same place, so that a request never carries one server's key to another:
 *
 * <ol>
 *   <li>{@code --data-dir D} given: the endpoint and region D's server recorded at its start
 *       ({@link EndpointRecord}) and D's admin key (unless {@code --endpoint} names the endpoint);
 *   <li>otherwise the AWS variables, as the SDKs read them: the service's own {@code
 *       AWS_ENDPOINT_URL_<SERVICE>} (which {@code kiln credentials} exports), then {@code
 *       AWS_ENDPOINT_URL}, and {@code AWS_ACCESS_KEY_ID}/{@code AWS_SECRET_ACCESS_KEY} with {@code
 *       AWS_REGION} or {@code AWS_DEFAULT_REGION};
 *   <li>what is missing comes from the default data directory {@code ~/.kiln}: its recorded
 *       endpoint (else the default port) and its admin key.
 * </ol>
 *
 * A failure (nothing listening, a key file missing, an answer that is not Kiln's) is a {@link
 * Failure} with one line to print, never a stack trace.
 */
final class ClientEndpoint {

  /** The services Kiln serves, by the names the AWS SDKs give their endpoint settings. */
  enum Service {
    LAMBDA("AWS_ENDPOINT_URL_LAMBDA", "lambda", "lambda"),
    CLOUDWATCH_LOGS("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "cloudwatch_logs", "logs"),
    IAM("AWS_ENDPOINT_URL_IAM", "iam", "iam"),
    STS("AWS_ENDPOINT_URL_STS", "sts", "sts"),
    SCHEDULER("AWS_ENDPOINT_URL_SCHEDULER", "scheduler", "scheduler"),
    EVENTBRIDGE("AWS_ENDPOINT_URL_EVENTBRIDGE", "eventbridge", "events");

    /** The SDKs' environment variable for this service's endpoint. */
    final String variable;

    /** The key of this service in a {@code [services]} section of {@code ~/.aws/config}. */
    final String configKey;

    /** The name requests to it are signed for. */
    final String signingName;

    Service(String variable, String configKey, String signingName) {
      this.variable = variable;
      this.configKey = configKey;
      this.signingName = signingName;
    }
  }

  /** What a client command prints when it cannot go on: one line, after {@code kiln <command>:}. */
  static final class Failure extends RuntimeException {
    Failure(String message) {
      super(message, null, false, false);
    }
  }

  static final String DEFAULT_ENDPOINT = "http://127.0.0.1:" + ServerSettings.DEFAULT_PORT;
  private static final ObjectMapper JSON = new ObjectMapper();

  final String endpoint;
  final SignedRequests signer;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private ClientEndpoint(String endpoint, SignedRequests signer) {
    this.endpoint = endpoint.replaceAll("/+$", "");
    this.signer = signer;
  }

  /**
   * @param givenEndpoint {@code --endpoint}, or null
   * @param givenDataDir {@code --data-dir}, or null when the command line has none
   */
  static ClientEndpoint resolve(
      Service service, String givenEndpoint, Path givenDataDir, Map<String, String> env) {
    Path dataDir = givenDataDir == null ? KilnCli.DEFAULT_DATA_DIR : givenDataDir;
    Optional<EndpointRecord> recorded = EndpointRecord.read(dataDir);
    String endpoint = givenEndpoint;
    if (endpoint == null && givenDataDir != null) {
      endpoint =
          recorded
              .map(r -> r.endpoint().toString())
              .orElseThrow(
                  () ->
                      new Failure(
                          "no Kiln has started with the data directory "
                              + dataDir
                              + " (it has no "
                              + EndpointRecord.FILE
                              + "): start one with ./kiln server --data-dir "
                              + dataDir
                              + ", or give --endpoint"));
    }
    if (endpoint == null) {
      endpoint =
          present(env, service.variable)
              .or(() -> present(env, "AWS_ENDPOINT_URL"))
              .or(() -> recorded.map(r -> r.endpoint().toString()))
              .orElse(DEFAULT_ENDPOINT);
    }
    String recordedRegion = recorded.map(EndpointRecord::region).orElse("us-east-1");
    Optional<String> id = present(env, "AWS_ACCESS_KEY_ID");
    Optional<String> secret = present(env, "AWS_SECRET_ACCESS_KEY");
    if (givenDataDir == null && id.isPresent() && secret.isPresent()) {
      String region =
          present(env, "AWS_REGION")
              .or(() -> present(env, "AWS_DEFAULT_REGION"))
              .orElse(recordedRegion);
      AwsCredentialsIdentity identity =
          present(env, "AWS_SESSION_TOKEN")
              .<AwsCredentialsIdentity>map(
                  token -> AwsSessionCredentialsIdentity.create(id.get(), secret.get(), token))
              .orElseGet(() -> AwsCredentialsIdentity.create(id.get(), secret.get()));
      return new ClientEndpoint(endpoint, new SignedRequests(identity, region));
    }
    AccessKeys.Key admin;
    try {
      admin =
          AccessKeys.open(dataDir)
              .admin()
              .orElseThrow(
                  () ->
                      new Failure(
                          "no admin key in "
                              + dataDir.resolve(AccessKeys.FILE)
                              + "; add one with: kiln credentials add --role admin"));
    } catch (IllegalStateException | java.io.UncheckedIOException e) {
      throw new Failure(
          e.getMessage()
              + (givenDataDir == null
                  ? " (or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: eval \"$(./kiln"
                      + " credentials --data-dir D)\")"
                  : ""));
    }
    return new ClientEndpoint(
        endpoint,
        new SignedRequests(
            AwsCredentialsIdentity.create(admin.accessKeyId(), admin.secretAccessKey()),
            recordedRegion));
  }

  /** An answer: its status and its JSON body. */
  record Answer(int status, JsonNode body) {
    /** The error's message, as AWS's JSON errors carry it. */
    String message() {
      String m = body.path("message").asText(body.path("Message").asText(""));
      return m.isEmpty() ? "HTTP " + status + " " + body : m;
    }

    String errorType() {
      return body.path("__type").asText("");
    }
  }

  /** Sends a signed request to {@code path} on Kiln and reads its JSON answer. */
  Answer send(String method, String path, Map<String, String> headers, byte[] body, Service service)
      throws InterruptedException {
    URI uri;
    try {
      uri = URI.create(endpoint + path);
    } catch (IllegalArgumentException e) {
      throw new Failure("the endpoint " + endpoint + " is not a URL: " + e.getMessage());
    }
    if (uri.getScheme() == null || uri.getHost() == null) {
      throw new Failure("the endpoint " + endpoint + " is not a URL such as " + DEFAULT_ENDPOINT);
    }
    HttpRequest request = signer.sign(method, uri, headers, body, service.signingName);
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (java.net.ConnectException e) {
      throw new Failure("no Kiln answers at " + endpoint + " (start one with ./kiln server)");
    } catch (IOException e) {
      throw new Failure(
          "no answer from "
              + endpoint
              + ": "
              + Optional.ofNullable(e.getMessage()).orElse(e.toString()));
    }
    try {
      return new Answer(response.statusCode(), JSON.readTree(response.body()));
    } catch (JsonProcessingException e) {
      throw new Failure(
          endpoint
              + " answered HTTP "
              + response.statusCode()
              + " with something that is not Kiln's JSON: is it a Kiln server?");
    }
  }

  private static Optional<String> present(Map<String, String> env, String name) {
    return Optional.ofNullable(env.get(name)).filter(v -> !v.isBlank());
  }
}
