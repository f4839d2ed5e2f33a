package dev.kiln.bench;

import dev.kiln.server.SignedRequests;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Supplier;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.regions.Region;

/**
 * Calls made with the JDK's own HTTP client ({@code java.net.http}, HTTP/1.1, connections kept
 * alive and pooled), the same for Kiln and for the baselines. A raw client rather than the AWS SDK,
 * so that the figures measure the platform and not the SDK's own request building, signing and
 * parsing, which a user of another SDK would not pay.
 *
 * <p>Kiln checks a Signature Version 4 on every request, and that check is part of what is
 * measured. The client's side of it is not: an Invoke is signed once and the same signed request
 * sent again (valid, as on AWS, within 15 minutes of its date; it is signed afresh every five), so
 * the load generator does not pay an HMAC chain per call that the baselines do not.
 */
final class HttpCalls {

  private static final byte[] EVENT = "{}".getBytes();

  private HttpCalls() {}

  static HttpClient client() {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10))
        .build();
  }

  /**
   * A POST of an empty JSON event that succeeds on a 2xx answer without {@code
   * X-Amz-Function-Error}.
   */
  static LoadGenerator.Call post(HttpClient client, URI uri) {
    return post(client, uri, "RequestResponse");
  }

  /** The same, as an Invoke of the given {@code X-Amz-Invocation-Type}, unsigned. */
  static LoadGenerator.Call post(HttpClient client, URI uri, String invocationType) {
    HttpRequest request =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofMinutes(2))
            .header("Content-Type", "application/json")
            .header("X-Amz-Invocation-Type", invocationType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(EVENT))
            .build();
    return send(client, uri, () -> request);
  }

  /** An Invoke of Kiln, signed with {@code key}. */
  static LoadGenerator.Call invoke(
      HttpClient client, URI uri, String invocationType, AwsBasicCredentials key) {
    return send(client, uri, new Signed(uri, invocationType, key));
  }

  /** A signed Invoke with {@code headers} added (such as {@code X-Amz-Log-Type}), signed now. */
  static HttpRequest signedInvoke(
      URI uri, AwsBasicCredentials key, java.util.Map<String, String> headers) {
    return signed("POST", uri, EVENT, headers, key);
  }

  /** A signed GET of Kiln's API, signed now. */
  static HttpRequest signedGet(URI uri, AwsBasicCredentials key) {
    return signed("GET", uri, new byte[0], java.util.Map.of(), key);
  }

  /**
   * A request of Kiln's Lambda API with a JSON body, signed now (valid for 15 minutes) by the same
   * code that signs the requests of {@code kiln logs} and {@code kiln usage}.
   */
  static HttpRequest signed(
      String method,
      URI uri,
      byte[] body,
      java.util.Map<String, String> headers,
      AwsBasicCredentials key) {
    java.util.Map<String, String> all = new java.util.LinkedHashMap<>();
    all.put("Content-Type", "application/json");
    all.putAll(headers);
    HttpRequest signed =
        new SignedRequests(key, Region.US_EAST_1.id()).sign(method, uri, all, body, "lambda");
    return HttpRequest.newBuilder(signed, (name, value) -> true)
        .timeout(Duration.ofMinutes(5))
        .build();
  }

  /** A signed Invoke, signed again when it is five minutes old. */
  private static final class Signed implements Supplier<HttpRequest> {
    private final URI uri;
    private final String invocationType;
    private final AwsBasicCredentials key;
    private volatile HttpRequest request;
    private volatile long signedAtNanos;

    Signed(URI uri, String invocationType, AwsBasicCredentials key) {
      this.uri = uri;
      this.invocationType = invocationType;
      this.key = key;
    }

    @Override
    public HttpRequest get() {
      long now = System.nanoTime();
      if (request == null || now - signedAtNanos > Duration.ofMinutes(5).toNanos()) {
        request = signedInvoke(uri, key, java.util.Map.of("X-Amz-Invocation-Type", invocationType));
        signedAtNanos = now;
      }
      return request;
    }
  }

  /** Calls that send the request {@code requests} gives and succeed on a 2xx without error. */
  private static LoadGenerator.Call send(
      HttpClient client, URI uri, Supplier<HttpRequest> requests) {
    return () -> {
      HttpResponse<byte[]> response =
          client.send(requests.get(), HttpResponse.BodyHandlers.ofByteArray());
      if (response.statusCode() / 100 != 2) {
        throw new IllegalStateException(
            "HTTP " + response.statusCode() + " from " + uri + ": " + new String(response.body()));
      }
      if (response.headers().firstValue("X-Amz-Function-Error").isPresent()) {
        throw new IllegalStateException(
            "function error from " + uri + ": " + new String(response.body()));
      }
    };
  }

  /**
   * A GET of the URI the supplier gives for each call (so that successive calls can ask for
   * different resources) that succeeds on a 2xx answer; returns the body for callers that need it.
   */
  static LoadGenerator.Call get(HttpClient client, Supplier<URI> uri) {
    return () -> getBody(client, uri.get());
  }

  /** The same, for requests built (and signed) ahead of the calls. */
  static LoadGenerator.Call send(HttpClient client, Supplier<HttpRequest> requests) {
    return () -> getBody(client, requests.get());
  }

  /** One GET, its body on a 2xx answer, an exception otherwise. */
  static byte[] getBody(HttpClient client, URI uri) throws Exception {
    return getBody(
        client, HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(2)).GET().build());
  }

  /** One request, its body on a 2xx answer, an exception otherwise. */
  static byte[] getBody(HttpClient client, HttpRequest request) throws Exception {
    URI uri = request.uri();
    HttpResponse<byte[]> response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
    if (response.statusCode() / 100 != 2) {
      throw new IllegalStateException(
          "HTTP " + response.statusCode() + " from " + uri + ": " + new String(response.body()));
    }
    return response.body();
  }
}
