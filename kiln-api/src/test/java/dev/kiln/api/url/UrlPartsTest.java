package dev.kiln.api.url;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The pieces of a function URL request: its address, its event, its answer and its CORS. */
class UrlPartsTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final String ID = "abcdefghijklmnopqrstuvwxyz012345";

  @Test
  void addresses_byHostOrByPath() {
    assertThat(UrlAddress.parse(ID + ".lambda-url.us-east-1.localhost:9000", "/a/b"))
        .contains(new UrlAddress.Parsed(ID, "/a/b", ID + ".lambda-url.us-east-1.localhost"));
    assertThat(UrlAddress.parse("127.0.0.1:9000", "/kiln/url/" + ID + "/x?y"))
        .map(UrlAddress.Parsed::path)
        .contains("/x?y");
    assertThat(UrlAddress.parse("127.0.0.1:9000", "/kiln/url/" + ID))
        .map(UrlAddress.Parsed::path)
        .contains("/");
    assertThat(UrlAddress.parse("127.0.0.1:9000", "/2015-03-31/functions")).isEmpty();
    // a malformed URL host is still a URL request, whose id no URL has
    assertThat(UrlAddress.parse("nope.lambda-url.us-east-1.localhost", "/"))
        .map(UrlAddress.Parsed::urlId)
        .contains("nope");
  }

  @Test
  void theEvent_isPayloadFormat2() throws Exception {
    UrlEvent.Request request =
        new UrlEvent.Request(
            "POST",
            "/my/path",
            "a=1&a=2&b=x%20y",
            List.of(
                Map.entry("Content-Type", "application/json"),
                Map.entry("X-Many", "one"),
                Map.entry("X-Many", "two"),
                Map.entry("Cookie", "c1=v1; c2=v2"),
                Map.entry("User-Agent", "curl/8")),
            "{\"hello\":1}".getBytes(StandardCharsets.UTF_8),
            "HTTP/1.1",
            "10.0.0.1",
            ID + ".lambda-url.us-east-1.localhost",
            Instant.parse("2026-12-06T19:03:58.390Z"));
    JsonNode e = JSON.readTree(UrlEvent.of(request, ID, "000000000000", "req-1", Optional.empty()));
    assertThat(e.path("version").asText()).isEqualTo("2.0");
    assertThat(e.path("routeKey").asText()).isEqualTo("$default");
    assertThat(e.path("rawPath").asText()).isEqualTo("/my/path");
    assertThat(e.path("rawQueryString").asText()).isEqualTo("a=1&a=2&b=x%20y");
    assertThat(e.path("cookies").toString()).isEqualTo("[\"c1=v1\",\"c2=v2\"]");
    assertThat(e.path("headers").path("x-many").asText()).isEqualTo("one,two");
    assertThat(e.path("headers").has("cookie")).isFalse();
    assertThat(e.path("queryStringParameters").path("a").asText()).isEqualTo("1,2");
    assertThat(e.path("queryStringParameters").path("b").asText()).isEqualTo("x y");
    JsonNode c = e.path("requestContext");
    assertThat(c.path("accountId").asText()).isEqualTo("000000000000");
    assertThat(c.path("apiId").asText()).isEqualTo(ID);
    assertThat(c.path("domainPrefix").asText()).isEqualTo(ID);
    assertThat(c.path("http").path("method").asText()).isEqualTo("POST");
    assertThat(c.path("http").path("sourceIp").asText()).isEqualTo("10.0.0.1");
    assertThat(c.path("http").path("userAgent").asText()).isEqualTo("curl/8");
    assertThat(c.path("time").asText()).isEqualTo("06/Dec/2026:19:03:58 +0000");
    assertThat(c.path("timeEpoch").asLong())
        .isEqualTo(Instant.parse("2026-12-06T19:03:58.390Z").toEpochMilli());
    assertThat(c.path("stage").asText()).isEqualTo("$default");
    assertThat(c.has("authorizer")).isFalse();
    assertThat(e.path("body").asText()).isEqualTo("{\"hello\":1}");
    assertThat(e.path("isBase64Encoded").asBoolean()).isFalse();

    UrlEvent.Request binary =
        new UrlEvent.Request(
            "PUT",
            "/",
            "",
            List.of(Map.entry("Content-Type", "image/png")),
            new byte[] {(byte) 0x89, 'P', 'N', 'G'},
            "HTTP/1.1",
            "10.0.0.1",
            "d",
            Instant.EPOCH);
    JsonNode b =
        JSON.readTree(
            UrlEvent.of(
                binary,
                ID,
                "000000000000",
                "r",
                Optional.of(
                    new UrlEvent.Iam(
                        "AKIA1",
                        "000000000000",
                        "AKIA1",
                        "arn:aws:iam::000000000000:user/AKIA1",
                        "AKIA1"))));
    assertThat(b.path("isBase64Encoded").asBoolean()).isTrue();
    assertThat(b.path("body").asText()).isEqualTo("iVBORw==");
    assertThat(b.has("queryStringParameters")).isFalse();
    assertThat(b.has("cookies")).isFalse();
    assertThat(b.at("/requestContext/authorizer/iam/userArn").asText())
        .isEqualTo("arn:aws:iam::000000000000:user/AKIA1");
  }

  @Test
  void answers_mapAResultAsLambdaDoes() {
    UrlAnswer.Http full =
        UrlAnswer.ofResult(
            ("{\"statusCode\":302,\"headers\":{\"Location\":\"/next\"},\"cookies\":[\"a=1\",\"b=2;"
                    + " Secure\"],\"body\":\"moved\"}")
                .getBytes(StandardCharsets.UTF_8));
    assertThat(full.status()).isEqualTo(302);
    assertThat(full.headers())
        .contains(
            Map.entry("Location", "/next"),
            Map.entry("Set-Cookie", "a=1"),
            Map.entry("Set-Cookie", "b=2; Secure"));
    assertThat(new String(full.body(), StandardCharsets.UTF_8)).isEqualTo("moved");

    UrlAnswer.Http bytes =
        UrlAnswer.ofResult(
            "{\"statusCode\":200,\"headers\":{\"content-type\":\"image/png\"},\"body\":\"iVBORw==\",\"isBase64Encoded\":true}"
                .getBytes(StandardCharsets.UTF_8));
    assertThat(bytes.body()).containsExactly(0x89, 'P', 'N', 'G');
    assertThat(bytes.headers()).containsExactly(Map.entry("content-type", "image/png"));

    UrlAnswer.Http json =
        UrlAnswer.ofResult("{\"message\":\"hi\"}".getBytes(StandardCharsets.UTF_8));
    assertThat(json.status()).isEqualTo(200);
    assertThat(json.headers()).containsExactly(Map.entry("Content-Type", "application/json"));
    assertThat(new String(json.body(), StandardCharsets.UTF_8)).isEqualTo("{\"message\":\"hi\"}");

    UrlAnswer.Http text = UrlAnswer.ofResult("\"Hello\"".getBytes(StandardCharsets.UTF_8));
    assertThat(new String(text.body(), StandardCharsets.UTF_8)).isEqualTo("Hello");

    assertThat(UrlAnswer.ofResult("{\"statusCode\":99}".getBytes(StandardCharsets.UTF_8)).status())
        .isEqualTo(502);
  }

  @Test
  void cors_answersPreflightsAndMarksAnswers_forAllowedOriginsOnly() {
    dev.kiln.model.FunctionUrlConfig.Cors cors =
        new dev.kiln.model.FunctionUrlConfig.Cors(
            Optional.of(true),
            List.of("content-type", "x-custom"),
            List.of("GET", "POST"),
            List.of("https://app.example.com"),
            List.of("x-request-id"),
            Optional.of(300));
    assertThat(
            UrlCors.preflight(cors, "https://app.example.com", "POST", Optional.of("content-type")))
        .contains(
            Map.entry("Access-Control-Allow-Origin", "https://app.example.com"),
            Map.entry("Access-Control-Allow-Methods", "GET,POST"),
            Map.entry("Access-Control-Allow-Headers", "content-type,x-custom"),
            Map.entry("Access-Control-Max-Age", "300"),
            Map.entry("Access-Control-Allow-Credentials", "true"));
    assertThat(UrlCors.preflight(cors, "https://evil.example.com", "POST", Optional.empty()))
        .isEmpty();
    assertThat(UrlCors.preflight(cors, "https://app.example.com", "DELETE", Optional.empty()))
        .isEmpty();
    assertThat(UrlCors.response(cors, "https://app.example.com"))
        .contains(Map.entry("Access-Control-Expose-Headers", "x-request-id"));
    dev.kiln.model.FunctionUrlConfig.Cors any =
        new dev.kiln.model.FunctionUrlConfig.Cors(
            Optional.empty(), List.of(), List.of("*"), List.of("*"), List.of(), Optional.empty());
    assertThat(UrlCors.response(any, "https://whoever.example"))
        .containsExactly(Map.entry("Access-Control-Allow-Origin", "*"));
  }
}
