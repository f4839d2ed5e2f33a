package dev.kiln.server;

import dev.kiln.api.auth.AccessKeys;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * Requests the client commands ({@code kiln logs}, {@code kiln usage}) and the bench send, signed
 * with Signature Version 4 by the AWS SDK's signer, as the AWS CLI would sign them.
 *
 * <p>The key is the usual one: {@code AWS_ACCESS_KEY_ID} and {@code AWS_SECRET_ACCESS_KEY} (with
 * {@code AWS_SESSION_TOKEN}) from the environment, else the admin key of the local server's data
 * directory ({@code --data-dir}). The region is {@code AWS_REGION}, else {@code
 * AWS_DEFAULT_REGION}, else us-east-1.
 */
public final class SignedRequests {

  private final AwsCredentialsIdentity identity;
  private final String region;

  public SignedRequests(AwsCredentialsIdentity identity, String region) {
    this.identity = identity;
    this.region = region;
  }

  /** The caller's key from the environment, else the admin key kept in {@code dataDir}. */
  static SignedRequests forCaller(Path dataDir) {
    Map<String, String> env = System.getenv();
    String region =
        Optional.ofNullable(env.get("AWS_REGION"))
            .or(() -> Optional.ofNullable(env.get("AWS_DEFAULT_REGION")))
            .filter(r -> !r.isBlank())
            .orElse("us-east-1");
    String id = env.get("AWS_ACCESS_KEY_ID");
    String secret = env.get("AWS_SECRET_ACCESS_KEY");
    if (id != null && !id.isBlank() && secret != null) {
      String token = env.get("AWS_SESSION_TOKEN");
      return new SignedRequests(
          token == null || token.isBlank()
              ? AwsCredentialsIdentity.create(id, secret)
              : software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity.create(
                  id, secret, token),
          region);
    }
    AccessKeys.Key admin =
        AccessKeys.open(dataDir)
            .admin()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "no admin key in " + dataDir.resolve(AccessKeys.FILE)));
    return new SignedRequests(
        AwsCredentialsIdentity.create(admin.accessKeyId(), admin.secretAccessKey()), region);
  }

  /** A request to {@code uri} with these headers and body, signed for {@code service}. */
  public HttpRequest sign(
      String method, URI uri, Map<String, String> headers, byte[] body, String service) {
    SdkHttpRequest.Builder b =
        SdkHttpRequest.builder().uri(uri).method(SdkHttpMethod.fromValue(method));
    headers.forEach((k, v) -> b.putHeader(k, List.of(v)));
    SdkHttpRequest signed =
        AwsV4HttpSigner.create()
            .sign(
                r ->
                    r.identity(identity)
                        .request(b.build())
                        .payload(ContentStreamProvider.fromByteArray(body))
                        .putProperty(AwsV4HttpSigner.REGION_NAME, region)
                        .putProperty(AwsV4FamilyHttpSigner.SERVICE_SIGNING_NAME, service))
            .request();
    HttpRequest.Builder out =
        HttpRequest.newBuilder(uri)
            .method(
                method,
                body.length == 0 && (method.equals("GET") || method.equals("DELETE"))
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(body));
    signed
        .headers()
        .forEach(
            (name, values) -> {
              if (!name.equalsIgnoreCase("Host")) {
                values.forEach(v -> out.header(name, v));
              }
            });
    return out.build();
  }
}
