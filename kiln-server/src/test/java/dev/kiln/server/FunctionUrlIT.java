package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.services.lambda.model.FunctionUrlAuthType;

/**
 * Function URLs as a browser, curl or a webhook calls them: functions written as AWS's function-URL
 * examples write them, reached by host name (curl) and by Kiln's path form (java.net.http, which
 * cannot choose a Host), each authorised as Lambda authorises URLs.
 */
class FunctionUrlIT {

  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();

  static final String ECHO =
      "import json, base64\n"
          + "def handler(event, context):\n"
          + "    if event['rawPath'] == '/redirect':\n"
          + "        return {'statusCode': 302, 'headers': {'Location': '/next'},\n"
          + "                'cookies': ['session=abc; HttpOnly', 'theme=dark'], 'body': ''}\n"
          + "    if event['rawPath'] == '/boom':\n"
          + "        raise ValueError('boom')\n"
          + "    if event['rawPath'] == '/plain':\n"
          + "        return {'hello': 'world'}\n"
          + "    return {'statusCode': 200, 'headers': {'Content-Type': 'application/json'},\n"
          + "            'body': json.dumps({'event': event})}\n";

  /** Creates {@code name} with a URL of {@code auth}, public when NONE; returns the URL. */
  static String withUrl(String name, FunctionUrlAuthType auth) {
    kiln.fixture().python(name, ECHO);
    String url =
        kiln.fixture()
            .lambda
            .createFunctionUrlConfig(b -> b.functionName(name).authType(auth))
            .functionUrl();
    if (auth == FunctionUrlAuthType.NONE) {
      kiln.fixture()
          .lambda
          .addPermission(
              b ->
                  b.functionName(name)
                      .statementId("url")
                      .action("lambda:InvokeFunctionUrl")
                      .principal("*")
                      .functionUrlAuthType(FunctionUrlAuthType.NONE));
      // InvokedViaFunctionUrl is newer than the SDK Kiln builds with: sent as JSON
      try {
        HttpResponse<String> added =
            HTTP.send(
                kiln.fixture()
                    .signed(
                        "POST",
                        "/2015-03-31/functions/" + name + "/policy",
                        Map.of("Content-Type", "application/json"),
                        ("{\"StatementId\":\"invoke\",\"Action\":\"lambda:InvokeFunction\","
                                + "\"Principal\":\"*\",\"InvokedViaFunctionUrl\":true}")
                            .getBytes(StandardCharsets.UTF_8),
                        "lambda"),
                HttpResponse.BodyHandlers.ofString());
        assertThat(added.statusCode()).as(added.body()).isEqualTo(201);
      } catch (java.io.IOException | InterruptedException e) {
        throw new AssertionError(e);
      }
    }
    return url;
  }

  static String urlId(String url) {
    String host = URI.create(url).getHost();
    return host.substring(0, host.indexOf('.'));
  }

  /** The path form of {@code url} on this server, for a client that sends its own Host. */
  static URI pathForm(String url, String pathAndQuery) {
    return URI.create(kiln.server().endpoint() + "/kiln/url/" + urlId(url) + pathAndQuery);
  }

  @Test
  void aPublicUrl_takesGetWithQueryAndCookies_andPostJson_andBinary() throws Exception {
    String url = withUrl("url-echo", FunctionUrlAuthType.NONE);
    assertThat(url).matches("http://[a-z0-9]{32}\\.lambda-url\\.us-east-1\\.localhost:\\d+/");

    HttpResponse<String> get =
        HTTP.send(
            HttpRequest.newBuilder(pathForm(url, "/items/7?color=red&color=blue&q=a%20b"))
                .header("Cookie", "a=1; b=2")
                .header("X-Custom", "yes")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(get.statusCode()).as(get.body()).isEqualTo(200);
    assertThat(get.headers().firstValue("content-type")).contains("application/json");
    JsonNode event = JSON.readTree(get.body()).path("event");
    assertThat(event.path("version").asText()).isEqualTo("2.0");
    assertThat(event.path("rawPath").asText()).isEqualTo("/items/7");
    assertThat(event.path("rawQueryString").asText()).isEqualTo("color=red&color=blue&q=a%20b");
    assertThat(event.at("/queryStringParameters/color").asText()).isEqualTo("red,blue");
    assertThat(event.at("/queryStringParameters/q").asText()).isEqualTo("a b");
    assertThat(event.path("cookies").toString()).isEqualTo("[\"a=1\",\"b=2\"]");
    assertThat(event.at("/headers/x-custom").asText()).isEqualTo("yes");
    assertThat(event.at("/requestContext/apiId").asText()).isEqualTo(urlId(url));
    assertThat(event.at("/requestContext/http/method").asText()).isEqualTo("GET");
    assertThat(event.at("/requestContext/accountId").asText()).isEqualTo("000000000000");
    assertThat(event.has("body")).isFalse();

    HttpResponse<String> post =
        HTTP.send(
            HttpRequest.newBuilder(pathForm(url, "/orders"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"qty\":2}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    JsonNode posted = JSON.readTree(post.body()).path("event");
    assertThat(posted.path("body").asText()).isEqualTo("{\"qty\":2}");
    assertThat(posted.path("isBase64Encoded").asBoolean()).isFalse();

    byte[] png = {(byte) 0x89, 'P', 'N', 'G', 0, 1, 2};
    HttpResponse<String> upload =
        HTTP.send(
            HttpRequest.newBuilder(pathForm(url, "/upload"))
                .header("Content-Type", "image/png")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(png))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    JsonNode uploaded = JSON.readTree(upload.body()).path("event");
    assertThat(uploaded.path("isBase64Encoded").asBoolean()).isTrue();
    assertThat(java.util.Base64.getDecoder().decode(uploaded.path("body").asText())).isEqualTo(png);
  }

  /** What {@code curl -s -i URL} prints, CRLFs made LFs. */
  static String curl(String url) throws Exception {
    return Tools.run(List.of("curl", "-s", "-i", url), kiln.dataDir(), Map.of())
        .output()
        .replace("\r\n", "\n");
  }

  @Test
  void curl_reachesTheUrlByItsHostName_andSeesRedirectsCookiesAndErrors() throws Exception {
    String url = withUrl("url-curl", FunctionUrlAuthType.NONE);
    String redirect = curl(url + "redirect");
    assertThat(redirect).startsWith("HTTP/1.1 302");
    assertThat(redirect).containsIgnoringCase("location: /next");
    assertThat(redirect).containsIgnoringCase("set-cookie: session=abc; HttpOnly");
    assertThat(redirect).containsIgnoringCase("set-cookie: theme=dark");

    String plain = curl(url + "plain");
    assertThat(plain).startsWith("HTTP/1.1 200").endsWith("{\"hello\": \"world\"}");

    String boom = curl(url + "boom");
    assertThat(boom).startsWith("HTTP/1.1 502").endsWith("{\"Message\":\"Internal Server Error\"}");

    String unknown = url.replace(urlId(url), "0".repeat(32));
    String missing = curl(unknown);
    assertThat(missing).startsWith("HTTP/1.1 404");
  }

  @Test
  void aNodeFunction_writtenAsAwsExamplesWriteThem_answersOverItsUrl() throws Exception {
    kiln.fixture()
        .node(
            "url-node",
            "index.mjs",
            "export const handler = async (event) => {\n"
                + "  return {\n"
                + "    statusCode: 200,\n"
                + "    headers: { 'Content-Type': 'text/plain' },\n"
                + "    body: `Hello from Lambda, ${event.queryStringParameters?.name ?? 'stranger'}`,\n"
                + "  };\n"
                + "};\n");
    String url =
        kiln.fixture()
            .lambda
            .createFunctionUrlConfig(
                b -> b.functionName("url-node").authType(FunctionUrlAuthType.AWS_IAM))
            .functionUrl();
    HttpResponse<String> hello =
        HTTP.send(
            kiln.fixture()
                .signed(
                    "GET",
                    "/kiln/url/" + urlId(url) + "/?name=Ada",
                    Map.of(),
                    new byte[0],
                    "lambda"),
            HttpResponse.BodyHandlers.ofString());
    assertThat(hello.statusCode()).as(hello.body()).isEqualTo(200);
    assertThat(hello.headers().firstValue("content-type")).contains("text/plain");
    assertThat(hello.body()).isEqualTo("Hello from Lambda, Ada");
  }

  @Test
  void aMalformedUrlHost_isNotFound_andNeverReachesTheApi() throws Exception {
    String answer =
        Tools.run(
                List.of(
                    "curl",
                    "-s",
                    "-i",
                    "-H",
                    "Host: not-a-url-id.lambda-url.us-east-1.localhost",
                    kiln.server().endpoint() + "/2015-03-31/functions"),
                kiln.dataDir(),
                Map.of())
            .output()
            .replace("\r\n", "\n");
    assertThat(answer).startsWith("HTTP/1.1 404").endsWith("{\"Message\":\"Not Found\"}");
  }

  @Test
  void withoutThePermissions_aPublicUrlIsForbidden_andAnIamUrlWantsASignature() throws Exception {
    kiln.fixture().python("url-closed", ECHO);
    String closed =
        kiln.fixture()
            .lambda
            .createFunctionUrlConfig(
                b -> b.functionName("url-closed").authType(FunctionUrlAuthType.NONE))
            .functionUrl();
    HttpResponse<String> forbidden =
        HTTP.send(
            HttpRequest.newBuilder(pathForm(closed, "/")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(forbidden.statusCode()).isEqualTo(403);
    assertThat(forbidden.body()).isEqualTo("{\"Message\":\"Forbidden\"}");
    // InvokeFunctionUrl alone is not enough since October 2025: InvokeFunction is needed too
    kiln.fixture()
        .lambda
        .addPermission(
            b ->
                b.functionName("url-closed")
                    .statementId("url")
                    .action("lambda:InvokeFunctionUrl")
                    .principal("*")
                    .functionUrlAuthType(FunctionUrlAuthType.NONE));
    assertThat(
            HTTP.send(
                    HttpRequest.newBuilder(pathForm(closed, "/")).build(),
                    HttpResponse.BodyHandlers.ofString())
                .statusCode())
        .isEqualTo(403);

    String iam = withUrl("url-iam", FunctionUrlAuthType.AWS_IAM);
    HttpResponse<String> unsigned =
        HTTP.send(
            HttpRequest.newBuilder(pathForm(iam, "/")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(unsigned.statusCode()).isEqualTo(403);
    assertThat(unsigned.body()).isEqualTo("{\"Message\":\"Forbidden\"}");
    HttpResponse<String> signed =
        HTTP.send(
            kiln.fixture()
                .signed("GET", "/kiln/url/" + urlId(iam) + "/who", Map.of(), new byte[0], "lambda"),
            HttpResponse.BodyHandlers.ofString());
    assertThat(signed.statusCode()).as(signed.body()).isEqualTo(200);
    JsonNode who = JSON.readTree(signed.body()).at("/event/requestContext/authorizer/iam");
    assertThat(who.path("userArn").asText())
        .isEqualTo("arn:aws:iam::000000000000:user/" + kiln.fixture().credentials().accessKeyId());
    assertThat(who.path("accessKey").asText())
        .isEqualTo(kiln.fixture().credentials().accessKeyId());
  }

  @Test
  void corsPreflights_areAnsweredFromTheConfig_withoutInvoking() throws Exception {
    kiln.fixture().python("url-cors", ECHO);
    String url =
        kiln.fixture()
            .lambda
            .createFunctionUrlConfig(
                b ->
                    b.functionName("url-cors")
                        .authType(FunctionUrlAuthType.NONE)
                        .cors(
                            c ->
                                c.allowOrigins("https://app.example.com")
                                    .allowMethods("GET", "POST")
                                    .allowHeaders("content-type")
                                    .exposeHeaders("x-trace")
                                    .maxAge(600)))
            .functionUrl();
    // no permission at all: a preflight never reaches the function, so it needs none
    HttpResponse<String> preflight =
        HTTP.send(
            HttpRequest.newBuilder(pathForm(url, "/api"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", "https://app.example.com")
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "content-type")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(preflight.statusCode()).isEqualTo(200);
    assertThat(preflight.headers().firstValue("access-control-allow-origin"))
        .contains("https://app.example.com");
    assertThat(preflight.headers().firstValue("access-control-allow-methods")).contains("GET,POST");
    assertThat(preflight.headers().firstValue("access-control-max-age")).contains("600");
    HttpResponse<String> foreign =
        HTTP.send(
            HttpRequest.newBuilder(pathForm(url, "/api"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", "https://evil.example.com")
                .header("Access-Control-Request-Method", "POST")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(foreign.headers().firstValue("access-control-allow-origin")).isEmpty();
    assertThat(
            kiln.fixture()
                .lambda
                .getFunction(b -> b.functionName("url-cors"))
                .configuration()
                .state()
                .toString())
        .isEqualTo("Active");
  }

  @Test
  void aStreamingUrl_sendsThePreludesStatusAndHeaders_andItsFirstBytesBeforeTheFunctionEnds()
      throws Exception {
    // the function writes its last chunk only once the signal function exists, which the test
    // creates only after it read the first chunk from the URL: nothing depends on timing
    String role;
    try (var iam = kiln.fixture().iamClient()) {
      role =
          iam.createRole(
                  b ->
                      b.roleName("url-signal-watcher")
                          .assumeRolePolicyDocument(RolesIT.LAMBDA_TRUST))
              .role()
              .arn();
      iam.putRolePolicy(
          b ->
              b.roleName("url-signal-watcher")
                  .policyName("see-the-signal")
                  .policyDocument(
                      "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                          + "\"Action\":\"lambda:GetFunction\",\"Resource\":\"*\"}]}"));
    }
    String code =
        """
        const { LambdaClient, GetFunctionCommand } = require('@aws-sdk/client-lambda');
        exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
          responseStream = awslambda.HttpResponseStream.from(responseStream, {
            statusCode: 201, headers: { 'content-type': 'text/plain', 'x-kind': 'streamed' },
            cookies: ['a=1', 'b=2'] });
          responseStream.write('first\\n');
          const client = new LambdaClient({});
          for (;;) {
            try {
              await client.send(new GetFunctionCommand({ FunctionName: 'url-stream-signal' }));
              break;
            } catch (e) {
              if (e.name !== 'ResourceNotFoundException') throw e;
              await new Promise((r) => setTimeout(r, 100));
            }
          }
          responseStream.write('last\\n');
          responseStream.end();
        });
        """;
    kiln.fixture()
        .lambda
        .createFunction(
            b ->
                b.functionName("url-stream")
                    .runtime(software.amazon.awssdk.services.lambda.model.Runtime.NODEJS20_X)
                    .handler("index.handler")
                    .role(role)
                    .timeout(60)
                    .code(
                        c ->
                            c.zipFile(
                                software.amazon.awssdk.core.SdkBytes.fromByteArray(
                                    Zips.of("index.js", code)))));
    String url =
        kiln.fixture()
            .lambda
            .createFunctionUrlConfig(
                b ->
                    b.functionName("url-stream")
                        .authType(FunctionUrlAuthType.AWS_IAM)
                        .invokeMode(
                            software.amazon.awssdk.services.lambda.model.InvokeMode
                                .RESPONSE_STREAM))
            .functionUrl();
    HttpResponse<java.io.InputStream> streamed =
        HTTP.send(
            kiln.fixture()
                .signed("GET", "/kiln/url/" + urlId(url) + "/", Map.of(), new byte[0], "lambda"),
            HttpResponse.BodyHandlers.ofInputStream());
    assertThat(streamed.statusCode()).isEqualTo(201);
    assertThat(streamed.headers().firstValue("x-kind")).contains("streamed");
    assertThat(streamed.headers().allValues("set-cookie")).containsExactly("a=1", "b=2");
    java.io.InputStream in = streamed.body();
    byte[] first = in.readNBytes("first\n".length());
    assertThat(new String(first, StandardCharsets.UTF_8)).isEqualTo("first\n");
    kiln.fixture().python("url-stream-signal", "def handler(event, context):\n    return 1\n");
    assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("last\n");
  }

  @Test
  void aBodyOverSixMegabytes_isRefusedWith413() throws Exception {
    String url = withUrl("url-big", FunctionUrlAuthType.NONE);
    HttpResponse<String> big =
        HTTP.send(
            HttpRequest.newBuilder(pathForm(url, "/"))
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[6 * 1024 * 1024 + 1]))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(big.statusCode()).isEqualTo(413);
    assertThat(new String(big.body().getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8))
        .isEqualTo("{\"Message\":\"Request Entity Too Large\"}");
  }
}
