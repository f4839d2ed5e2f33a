package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;

/**
 * Fuzzing the Lambda API from its service model: for every operation of {@code service-2.json}
 * (botocore's copy, which Debian's python3-botocore installs), requests whose URI parameters,
 * query, headers and JSON body are built from the operation's input shape and then broken: wrong
 * types, lengths just past the model's bounds, values outside enums, unicode and control
 * characters, huge and non-finite numbers, deep nesting, bodies that are not JSON.
 *
 * <p>Every answer must be what AWS gives for bad input: never a 5xx, an {@code x-amzn-ErrorType}
 * header and a JSON body with a message for every 4xx, and nothing stored changed by a request that
 * was refused (a snapshot of the functions, versions, aliases, settings, tags and layers is taken
 * before and after). A request that happens to be valid may succeed and change things; the snapshot
 * is taken again after it.
 *
 * <p>CI runs a bounded number of cases per operation ({@code -Dkiln.fuzz.cases}, 6 by default) from
 * a fixed seed ({@code -Dkiln.fuzz.seed}); a long run by hand: {@code mvn -B verify -pl kiln-server
 * -am -Dtest=ApiFuzzIT -Dsurefire.failIfNoSpecifiedTests=false -Dkiln.fuzz.cases=300
 * -Dkiln.fuzz.seed=$RANDOM}. A failure names the seed, the operation and the request.
 */
class ApiFuzzIT {

  static final ObjectMapper JSON = new ObjectMapper();
  static final JsonNodeFactory F = JsonNodeFactory.instance;
  static final String TARGET = "fuzz-target";

  /** Helidon's default limit on the request line; AWS's front end has one too. */
  static final int MAX_REQUEST_LINE = 2048;

  static final String CODE = "def handler(event, context):\n    return event\n";

  static final List<String> NASTY_STRINGS =
      List.of(
          "",
          " ",
          "\u0000",
          "é漢字🙂",
          "\u202Eevil",
          "../../etc/passwd",
          "a/b",
          "%00",
          "${jndi:ldap://x}",
          "'; DROP TABLE functions; --",
          "\"quoted\"",
          "x".repeat(65),
          "x".repeat(257),
          "y".repeat(10_000),
          "arn:aws:lambda:us-east-1:000000000000:function:" + "z".repeat(200),
          "fuzz-target:$LATEST:extra",
          "\n\r\t");

  static final List<String> NASTY_NUMBERS =
      List.of(
          "-1",
          "0",
          "2147483648",
          "9223372036854775808",
          "1e309",
          "-1e309",
          "1.5",
          "NaN",
          "123456789012345678901234567890");

  final Random random = new Random(Long.getLong("kiln.fuzz.seed", 20261125L));
  final int cases = Integer.getInteger("kiln.fuzz.cases", 6);
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  JsonNode model;
  KilnFixture kiln;

  static JsonNode loadModel() throws Exception {
    Path python = Tools.pythonWithBoto3();
    Tools.Result where =
        Tools.run(
            List.of(
                python.toString(),
                "-c",
                "import botocore, os; print(os.path.dirname(botocore.__file__))"),
            Path.of("."),
            Map.of());
    assertThat(where.exit()).as(where.output()).isZero();
    String[] lines = where.output().strip().split("\n");
    Path data = Path.of(lines[lines.length - 1].strip(), "data", "lambda");
    Path latest;
    try (var versions = Files.list(data)) {
      latest = versions.filter(Files::isDirectory).sorted().reduce((a, b) -> b).orElseThrow();
    }
    Path model = latest.resolve("service-2.json");
    if (Files.exists(model)) {
      return JSON.readTree(model.toFile());
    }
    try (var in =
        new java.util.zip.GZIPInputStream(
            Files.newInputStream(latest.resolve("service-2.json.gz")))) {
      return JSON.readTree(in);
    }
  }

  @Test
  void everyOperation_withBrokenInput_getsAnAws4xx_andChangesNothingStored() throws Exception {
    model = loadModel();
    List<String> failures = new ArrayList<>();
    int requests = 0;
    try (KilnFixture k = new KilnFixture()) {
      kiln = k;
      ensureTarget();
      String before = snapshot();
      Iterator<Map.Entry<String, JsonNode>> ops = model.path("operations").fields();
      while (ops.hasNext()) {
        Map.Entry<String, JsonNode> op = ops.next();
        for (int i = 0; i < cases; i++) {
          FuzzRequest r = request(op.getKey(), op.getValue());
          HttpRequest built;
          try {
            built = r.build(kiln);
          } catch (IllegalArgumentException unsendable) {
            // a header value no HTTP client can send (a control character) is not a case
            continue;
          }
          HttpResponse<String> response;
          try {
            response = http.send(built, HttpResponse.BodyHandlers.ofString());
          } catch (java.io.IOException e) {
            // a request line past the HTTP layer's limit is answered 414 at once and the
            // connection closed, so a client still sending a body sees the reset instead
            if (r.uri().length() <= MAX_REQUEST_LINE || r.body() == null) {
              failures.add(r + " -> no answer: " + e);
            }
            continue;
          }
          requests++;
          String problem = check(response);
          if (problem != null) {
            failures.add(r + " -> " + problem);
            continue;
          }
          if (response.statusCode() >= 400) {
            String after = snapshot();
            if (!after.equals(before)) {
              failures.add(r + " -> refused with " + response.statusCode() + " but changed state");
              before = after;
            }
          } else {
            ensureTarget();
            before = snapshot();
          }
        }
      }
      // still serving
      assertThat(kiln.lambda.listFunctions().functions()).isNotNull();
    }
    assertThat(requests).isGreaterThan(model.path("operations").size() * cases / 2);
    assertThat(failures)
        .as("seed " + Long.getLong("kiln.fuzz.seed", 20261125L) + ", " + requests + " requests")
        .isEmpty();
  }

  /** Whether an answer is one AWS would give to bad (or good) input; null when it is. */
  static String check(HttpResponse<String> response) {
    int status = response.statusCode();
    if (status >= 500) {
      return status + " " + response.body();
    }
    if (status >= 400) {
      String type = response.headers().firstValue("x-amzn-ErrorType").orElse("");
      if (type.isBlank()) {
        return status + " without x-amzn-ErrorType: " + response.body();
      }
      try {
        JsonNode body = JSON.readTree(response.body());
        String message = body.path("message").asText(body.path("Message").asText(""));
        if (!body.isObject() || message.isBlank()) {
          return status + " " + type + " without a message: " + response.body();
        }
      } catch (Exception e) {
        return status + " " + type + " with a body that is not JSON: " + response.body();
      }
    }
    return null;
  }

  void ensureTarget() {
    try {
      kiln.lambda.getFunction(b -> b.functionName(TARGET));
    } catch (ResourceNotFoundException gone) {
      kiln.python(TARGET, CODE);
      kiln.lambda.publishVersion(b -> b.functionName(TARGET));
      kiln.lambda.createAlias(b -> b.functionName(TARGET).name("live").functionVersion("1"));
    }
  }

  /** What is stored, as the read operations give it (without the code's download URL). */
  String snapshot() throws Exception {
    StringBuilder out = new StringBuilder();
    for (String path :
        List.of(
            "/2015-03-31/functions",
            "/2015-03-31/functions/" + TARGET,
            "/2015-03-31/functions/" + TARGET + "/versions",
            "/2015-03-31/functions/" + TARGET + "/aliases",
            "/2019-09-30/functions/" + TARGET + "/concurrency",
            "/2019-09-25/functions/" + TARGET + "/event-invoke-config/list",
            "/2019-09-30/functions/" + TARGET + "/provisioned-concurrency",
            "/2018-10-31/layers",
            "/2016-08-19/account-settings")) {
      HttpResponse<String> r =
          http.send(kiln.signed("GET", path), HttpResponse.BodyHandlers.ofString());
      JsonNode body = r.body().isEmpty() ? F.nullNode() : JSON.readTree(r.body());
      if (body.has("Code")) {
        ((ObjectNode) body).remove("Code");
      }
      if (body.has("AccountUsage")) {
        // counts what is stored, which the other reads already cover
        ((ObjectNode) body).remove("AccountUsage");
      }
      out.append(path).append(' ').append(r.statusCode()).append(' ').append(body).append('\n');
    }
    return out.toString();
  }

  // ---- building requests from the model ----------------------------------------------------

  record FuzzRequest(
      String operation, String method, String uri, Map<String, String> headers, byte[] body) {

    /** The request, signed with the server's admin key as an SDK would sign it. */
    HttpRequest build(KilnFixture kiln) {
      return kiln.signed(method, uri, headers, body == null ? new byte[0] : body, "lambda");
    }

    @Override
    public String toString() {
      String shown = body == null ? "" : new String(body, StandardCharsets.UTF_8);
      return operation
          + " "
          + method
          + " "
          + (uri.length() > 200 ? uri.substring(0, 200) + "…" : uri)
          + " "
          + headers
          + " "
          + (shown.length() > 300 ? shown.substring(0, 300) + "…" : shown);
    }
  }

  FuzzRequest request(String name, JsonNode op) {
    JsonNode http = op.path("http");
    String method = http.path("method").asText();
    String uri = http.path("requestUri").asText();
    String query = "";
    int q = uri.indexOf('?');
    if (q >= 0) {
      query = uri.substring(q + 1);
      uri = uri.substring(0, q);
    }
    JsonNode input = shape(op.path("input").path("shape").asText(""));
    Map<String, String> headers = new TreeMap<>();
    List<String> params = new ArrayList<>();
    if (!query.isEmpty()) {
      params.add(query);
    }
    ObjectNode body = F.objectNode();
    // one thing is broken in each request, the rest is as valid as the model says
    List<String> members = new ArrayList<>();
    input.path("members").fieldNames().forEachRemaining(members::add);
    String broken = members.isEmpty() ? null : members.get(random.nextInt(members.size()));
    boolean rawBody = random.nextInt(8) == 0;
    for (String member : members) {
      JsonNode ref = input.path("members").path(member);
      JsonNode target = shape(ref.path("shape").asText());
      boolean breakIt = member.equals(broken);
      boolean required = contains(input.path("required"), member);
      String location = ref.path("location").asText("body");
      String wire = ref.path("locationName").asText(member);
      switch (location) {
        case "uri" -> {
          String value = breakIt ? nastyString() : validPathValue(member, target);
          uri =
              uri.replace("{" + wire + "+}", encode(value))
                  .replace("{" + wire + "}", encode(value));
        }
        case "querystring" -> {
          if (breakIt || required || random.nextBoolean()) {
            String value = breakIt ? nastyScalar(target) : validScalar(target);
            params.add(encode(wire) + "=" + encode(value));
          }
        }
        case "header" -> {
          if (breakIt || required || random.nextBoolean()) {
            headers.put(wire, breakIt ? nastyScalar(target) : validScalar(target));
          }
        }
        case "statusCode" -> {
          // an output member
        }
        default -> {
          if (breakIt) {
            body.set(member, nastyValue(target));
          } else if (required || random.nextInt(3) == 0) {
            body.set(member, validValue(target, 0));
          }
        }
      }
    }
    byte[] payload = null;
    if (!method.equals("GET") && !method.equals("DELETE") || !body.isEmpty()) {
      payload =
          rawBody
              ? nastyBody().getBytes(StandardCharsets.UTF_8)
              : body.toString().getBytes(StandardCharsets.UTF_8);
      headers.putIfAbsent("Content-Type", "application/json");
    }
    if (input.path("payload").isTextual()) {
      // the body is one member's raw value (Invoke's Payload, a layer's zip)
      payload =
          rawBody
              ? nastyBody().getBytes(StandardCharsets.UTF_8)
              : nastyBody().getBytes(StandardCharsets.UTF_8);
    }
    String full = uri + (params.isEmpty() ? "" : "?" + String.join("&", params));
    return new FuzzRequest(name, method, full, headers, payload);
  }

  JsonNode shape(String name) {
    return name.isEmpty() ? F.objectNode() : model.path("shapes").path(name);
  }

  static boolean contains(JsonNode array, String value) {
    for (JsonNode n : array) {
      if (n.asText().equals(value)) {
        return true;
      }
    }
    return false;
  }

  static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  String validPathValue(String member, JsonNode shape) {
    return switch (member) {
      case "FunctionName" -> random.nextBoolean() ? TARGET : "no-such-function";
      case "Qualifier" -> random.nextBoolean() ? "live" : "1";
      case "Name" -> "live";
      case "LayerName" -> "fuzz-layer";
      case "VersionNumber" -> "1";
      default -> validScalar(shape);
    };
  }

  String validScalar(JsonNode shape) {
    return switch (shape.path("type").asText()) {
      case "integer", "long" -> Long.toString(Math.max(1, shape.path("min").asLong(1)));
      case "boolean" -> "true";
      case "timestamp" -> "2026-11-25T00:00:00Z";
      default ->
          shape.has("enum")
              ? shape.path("enum").get(0).asText()
              : "fuzz" + Integer.toString(random.nextInt(1000));
    };
  }

  JsonNode validValue(JsonNode shape, int depth) {
    switch (shape.path("type").asText()) {
      case "structure" -> {
        ObjectNode o = F.objectNode();
        if (depth < 4) {
          for (JsonNode r : shape.path("required")) {
            o.set(
                r.asText(),
                validValue(
                    shape(shape.path("members").path(r.asText()).path("shape").asText()),
                    depth + 1));
          }
        }
        return o;
      }
      case "list" -> {
        ArrayNode a = F.arrayNode();
        if (depth < 4) {
          a.add(validValue(shape(shape.path("member").path("shape").asText()), depth + 1));
        }
        return a;
      }
      case "map" -> {
        ObjectNode o = F.objectNode();
        o.set("k", validValue(shape(shape.path("value").path("shape").asText()), depth + 1));
        return o;
      }
      case "integer", "long" -> {
        return F.numberNode(Math.max(1, shape.path("min").asLong(1)));
      }
      case "double", "float" -> {
        return F.numberNode(1.0);
      }
      case "boolean" -> {
        return F.booleanNode(true);
      }
      case "blob" -> {
        return F.textNode("UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==");
      }
      case "timestamp" -> {
        return F.numberNode(1764028800);
      }
      default -> {
        return F.textNode(validScalar(shape));
      }
    }
  }

  String nastyString() {
    return NASTY_STRINGS.get(random.nextInt(NASTY_STRINGS.size()));
  }

  String nastyScalar(JsonNode shape) {
    return switch (random.nextInt(3)) {
      case 0 -> NASTY_NUMBERS.get(random.nextInt(NASTY_NUMBERS.size()));
      case 1 ->
          shape.has("max")
              ? "x".repeat(Math.min(shape.path("max").asInt() + 1, 70_000))
              : nastyString();
      default -> nastyString();
    };
  }

  JsonNode nastyValue(JsonNode shape) {
    return switch (random.nextInt(9)) {
      case 0 -> F.nullNode();
      case 1 -> F.arrayNode().add("wrong").add(1);
      case 2 -> F.objectNode().put("wrong", "type");
      case 3 -> F.textNode(nastyString());
      case 4 -> F.numberNode(new java.math.BigDecimal("1e400"));
      case 5 -> F.numberNode(Long.MIN_VALUE);
      case 6 -> F.booleanNode(false);
      case 7 ->
          shape.has("max")
              ? F.textNode("x".repeat(Math.min(shape.path("max").asInt() + 1, 70_000)))
              : F.textNode("NOT_AN_ENUM_VALUE");
      default -> {
        // the right type, with one nested member broken
        JsonNode v = validValue(shape, 0);
        if (v instanceof ObjectNode o) {
          o.set("Unexpected" + random.nextInt(10), F.textNode(nastyString()));
        }
        yield v;
      }
    };
  }

  String nastyBody() {
    return switch (random.nextInt(7)) {
      case 0 -> "not json";
      case 1 -> "{";
      case 2 -> "[".repeat(5000) + "]".repeat(5000);
      case 3 -> "{\"a\": 1e999999}";
      case 4 -> "null";
      case 5 -> "\"\u0000\"";
      default -> "{\"FunctionName\": " + "9".repeat(400) + "}";
    };
  }
}
