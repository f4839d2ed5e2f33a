package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The errors of signatures that are not even well formed, of presigned URLs past their time, of
 * code links tampered with, and of {@code kiln credentials} without a data directory: each in its
 * AWS shape, with a message that says what is wrong.
 */
class AuthErrorsIT {

  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();
  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();

  @BeforeAll
  static void start() {
    kiln.python("linked", "def handler(e, c):\n    return 1\n");
  }

  static String[] send(String pathAndQuery, String authorization) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(kiln.server().endpoint() + pathAndQuery));
    if (authorization != null) {
      b.header("Authorization", authorization).header("X-Amz-Date", "20261125T120000Z");
    }
    HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    JsonNode body = JSON.readTree(r.body());
    return new String[] {
      Integer.toString(r.statusCode()),
      r.headers().firstValue("x-amzn-ErrorType").orElse(""),
      body.path("message").asText()
    };
  }

  @Test
  void malformedSignatures_areIncompleteSignatureErrors() throws Exception {
    assertThat(send("/2015-03-31/functions", "Basic a2lsbjpraWxu"))
        .containsExactly(
            "400",
            "IncompleteSignatureException",
            "Authorization header requires the AWS4-HMAC-SHA256 algorithm, got 'Basic'");
    assertThat(send("/2015-03-31/functions", "AWS4-HMAC-SHA256 Credential=x"))
        .containsExactly(
            "400",
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'"
                + " parameters.");
    String key = kiln.credentials().accessKeyId();
    assertThat(
            send(
                "/2015-03-31/functions",
                "AWS4-HMAC-SHA256 Credential="
                    + key
                    + "/20261124/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date,"
                    + " Signature=00"))
        .containsExactly(
            "403",
            "InvalidSignatureException",
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from"
                + " HTTP: '20261124' != '20261125', from '20261125T120000Z'.");
    assertThat(
            send(
                "/2015-03-31/functions",
                "AWS4-HMAC-SHA256 Credential="
                    + key
                    + "/us-east-1, SignedHeaders=host,"
                    + " Signature=00")[2])
        .startsWith(
            "Credential should be scoped to a valid region. Credential must have exactly 5");
  }

  @Test
  void presignedUrls_withABadOrPastExpiry_areRefused() throws Exception {
    String key = kiln.credentials().accessKeyId();
    String base =
        "/2015-03-31/functions?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
            + key
            + "%2F20200101%2Fus-east-1%2Flambda%2Faws4_request&X-Amz-Date=20200101T000000Z"
            + "&X-Amz-SignedHeaders=host&X-Amz-Signature=00&X-Amz-Expires=";
    assertThat(send(base + "0", null))
        .containsExactly(
            "400",
            "AuthorizationQueryParametersError",
            "X-Amz-Expires must be a number of seconds from 1 to 604800, got '0'");
    assertThat(send(base + "60", null))
        .containsExactly(
            "403",
            "AccessDeniedException",
            "Request has expired: signed at 20200101T000000Z for 60 seconds");
  }

  @Test
  void aTamperedCodeLink_isRefused() throws Exception {
    String location = kiln.lambda().getFunction(b -> b.functionName("linked")).code().location();
    HttpResponse<byte[]> ok =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(location)).build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(ok.statusCode()).isEqualTo(200);
    String tampered = location.replaceAll("X-Kiln-Expires=(\\d+)", "X-Kiln-Expires=9$1");
    HttpResponse<String> refused =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(tampered)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.headers().firstValue("x-amzn-ErrorType")).hasValue("AccessDeniedException");
    assertThat(JSON.readTree(refused.body()).path("message").asText())
        .startsWith("This code link is not valid, or it expired (links last ten minutes)");
  }

  @Test
  void kilnCredentials_withoutADataDirectory_saysHowToMakeOne() throws Exception {
    var empty = dev.kiln.testing.TempDirs.create("kiln-no-credentials-");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream stderr = System.err;
    System.setErr(new PrintStream(err, true));
    try {
      assertThat(
              new picocli.CommandLine(new CredentialsCommand())
                  .execute("--data-dir", empty.toString()))
          .isEqualTo(1);
    } finally {
      System.setErr(stderr);
    }
    assertThat(err.toString())
        .contains(
            "no credentials.json in "
                + empty
                + ": start Kiln once with this --data-dir to make one");
  }
}
