package dev.kiln.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Calls made with the JDK's own HTTP client ({@code java.net.http}, HTTP/1.1, connections kept
 * alive and pooled), the same for Kiln and for the baselines. A raw client rather than the AWS SDK,
 * so that the figures measure the platform and not the SDK's own request building, signing and
 * parsing, which a user of another SDK would not pay. Kiln does not check signatures, so an
 * unsigned request is a valid Invoke.
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

  /** The same, as an Invoke of the given {@code X-Amz-Invocation-Type}. */
  static LoadGenerator.Call post(HttpClient client, URI uri, String invocationType) {
    HttpRequest request =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofMinutes(2))
            .header("Content-Type", "application/json")
            .header("X-Amz-Invocation-Type", invocationType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(EVENT))
            .build();
    return () -> {
      HttpResponse<byte[]> response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
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

  /** One GET, its body on a 2xx answer, an exception otherwise. */
  static byte[] getBody(HttpClient client, URI uri) throws Exception {
    HttpResponse<byte[]> response =
        client.send(
            HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(2)).GET().build(),
            HttpResponse.BodyHandlers.ofByteArray());
    if (response.statusCode() / 100 != 2) {
      throw new IllegalStateException(
          "HTTP " + response.statusCode() + " from " + uri + ": " + new String(response.body()));
    }
    return response.body();
  }
}
