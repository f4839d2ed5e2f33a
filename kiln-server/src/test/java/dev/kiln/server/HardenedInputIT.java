package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the HTTP layer refuses before any route runs (a request line or headers too long, a request
 * that is not HTTP), still in AWS's error shape. The service-model fuzzing is {@link ApiFuzzIT}.
 */
class HardenedInputIT {

  static final ObjectMapper JSON = new ObjectMapper();
  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();

  static HttpResponse<String> get(HttpRequest.Builder request) throws Exception {
    return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aRequestLineTooLong_isA414_inAwsShape() throws Exception {
    HttpResponse<String> r =
        get(
            HttpRequest.newBuilder(
                URI.create(
                    kiln.server().endpoint() + "/2015-03-31/functions/" + "x".repeat(9000))));
    assertThat(r.statusCode()).isEqualTo(414);
    assertThat(r.headers().firstValue("x-amzn-ErrorType")).hasValue("ValidationException");
    JsonNode body = JSON.readTree(r.body());
    assertThat(body.path("message").asText()).startsWith("The request line is too long");
  }

  @Test
  void headersTooLarge_areA431_inAwsShape() throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(kiln.server().endpoint() + "/2015-03-31/functions"));
    for (int i = 0; i < 40; i++) {
      b.header("X-Padding-" + i, "p".repeat(1000));
    }
    HttpResponse<String> r = get(b);
    assertThat(r.statusCode()).as(r.body()).isIn(400, 431);
    assertThat(r.headers().firstValue("x-amzn-ErrorType")).hasValue("ValidationException");
    assertThat(JSON.readTree(r.body()).path("message").asText()).containsIgnoringCase("header");
  }

  @Test
  void aMalformedRequest_isA400_inAwsShape() throws Exception {
    try (Socket s = new Socket("127.0.0.1", kiln.server().endpoint().getPort())) {
      s.getOutputStream()
          .write("GET /\u0001 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      String answer = new String(s.getInputStream().readNBytes(400), StandardCharsets.ISO_8859_1);
      assertThat(answer)
          .startsWith("HTTP/1.1 400")
          .contains("x-amzn-ErrorType: ValidationException");
    }
  }
}
