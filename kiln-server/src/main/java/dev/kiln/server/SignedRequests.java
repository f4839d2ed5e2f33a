package dev.kiln.server;

import java.net.URI;
import java.net.http.HttpRequest;
import java.util.List;
import java.util.Map;
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
 * <p>Which key and region the client commands sign with is {@link ClientEndpoint}'s choice.
 */
public final class SignedRequests {

  private final AwsCredentialsIdentity identity;
  private final String region;

  public SignedRequests(AwsCredentialsIdentity identity, String region) {
    this.identity = identity;
    this.region = region;
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
