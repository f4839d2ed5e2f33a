package dev.kiln.api.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.model.Account;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** {@link ApiOperations} against the AWS service models, and the resources it names. */
class ApiOperationsTest {

  private static final Account ACCOUNT = Account.DEFAULT;
  private static final byte[] NO_BODY = new byte[0];

  /** {@code aws-models/<service>/service-2.json} from the shared reference beside the project. */
  static JsonNode model(String service) throws Exception {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path model = dir.resolve("shared/reference/aws-models/" + service + "/service-2.json");
      if (Files.exists(model)) {
        return new ObjectMapper().readTree(model.toFile());
      }
    }
    Assumptions.abort("no shared/reference/aws-models beside the project");
    return null;
  }

  /** The IAM action of a Lambda operation, from AWS's Service Authorization Reference. */
  static String iamAction(String operation) {
    return switch (operation) {
      case "Invoke", "InvokeWithResponseStream" -> "lambda:InvokeFunction";
      case "GetLayerVersionByArn" -> "lambda:GetLayerVersion";
      default -> "lambda:" + operation;
    };
  }

  @Test
  void everyLambdaOperation_ofTheModel_isFoundByItsRoute_withItsIamAction() throws Exception {
    JsonNode operations = model("lambda").path("operations");
    List<String> wrong = new ArrayList<>();
    int checked = 0;
    for (var entry : operations.properties()) {
      String name = entry.getKey();
      String method = entry.getValue().path("http").path("method").asText();
      String uri = entry.getValue().path("http").path("requestUri").asText();
      String path = uri.replaceAll("\\?.*", "").replaceAll("\\{[A-Za-z]+}", "x1");
      List<Map.Entry<String, String>> query =
          uri.contains("?")
              ? List.of(
                  Map.entry(
                      uri.replaceAll(".*\\?", "").split("=")[0],
                      uri.replaceAll(".*\\?", "").split("=")[1]))
              : List.of();
      Optional<ApiOperations.Operation> found =
          ApiOperations.lambda(method, path, query, NO_BODY, ACCOUNT);
      String got = found.map(o -> o.name() + " " + o.action()).orElse("nothing");
      if (!got.equals(name + " " + iamAction(name))) {
        wrong.add(method + " " + uri + " -> " + got);
      }
      checked++;
    }
    assertThat(wrong).isEmpty();
    assertThat(checked).isGreaterThan(80);
  }

  @Test
  void everyLogsOperation_isTheLogsAction_ofItsName() throws Exception {
    JsonNode model = model("logs");
    assertThat(model.path("metadata").path("targetPrefix").asText()).isEqualTo("Logs_20140328");
    for (var entry : model.path("operations").properties()) {
      assertThat(ApiOperations.logs(entry.getKey(), NO_BODY, ACCOUNT).action())
          .isEqualTo("logs:" + entry.getKey());
    }
  }

  static ApiOperations.Operation call(String method, String path, String... query) {
    List<Map.Entry<String, String>> q = new ArrayList<>();
    for (int i = 0; i < query.length; i += 2) {
      q.add(Map.entry(query[i], query[i + 1]));
    }
    return ApiOperations.lambda(method, path, q, NO_BODY, ACCOUNT).orElseThrow();
  }

  @Test
  void resources_areNamedAsAwsNamesThem() {
    String fn = "arn:aws:lambda:us-east-1:000000000000:function:";
    assertThat(call("GET", "/2015-03-31/functions/").resource()).isEqualTo("*");
    assertThat(call("GET", "/2015-03-31/functions/").action()).isEqualTo("lambda:ListFunctions");
    assertThat(call("GET", "/2015-03-31/functions/my-function").resource())
        .isEqualTo(fn + "my-function");
    assertThat(
            call("POST", "/2015-03-31/functions/my-function/invocations", "Qualifier", "live")
                .resource())
        .isEqualTo(fn + "my-function:live");
    // a function named by its ARN, URL-encoded in the path
    assertThat(
            call("GET", "/2015-03-31/functions/" + fn.replace(":", "%3A") + "f%3A3/configuration")
                .resource())
        .isEqualTo(fn + "f:3");
    assertThat(
            ApiOperations.lambda(
                    "POST",
                    "/2015-03-31/functions",
                    List.of(),
                    "{\"Code\":{\"ZipFile\":\"UEs=\"},\"FunctionName\":\"new-one\"}"
                        .getBytes(StandardCharsets.UTF_8),
                    ACCOUNT)
                .orElseThrow()
                .resource())
        .isEqualTo(fn + "new-one");
    assertThat(call("GET", "/2018-10-31/layers/deps/versions/3").resource())
        .isEqualTo("arn:aws:lambda:us-east-1:000000000000:layer:deps:3");
    assertThat(call("GET", "/2018-10-31/layers", "find", "LayerVersion", "Arn", "arn:x").name())
        .isEqualTo("GetLayerVersionByArn");
    assertThat(call("GET", "/2018-10-31/layers").name()).isEqualTo("ListLayers");
    assertThat(call("GET", "/2017-03-31/tags/" + fn.replace(":", "%3A") + "t").resource())
        .isEqualTo(fn + "t");
    assertThat(call("GET", "/kiln/usage").action()).isEqualTo("kiln:GetUsage");
    assertThat(ApiOperations.lambda("GET", "/nowhere", List.of(), NO_BODY, ACCOUNT)).isEmpty();

    assertThat(
            ApiOperations.logs(
                    "FilterLogEvents",
                    "{\"logGroupName\":\"/aws/lambda/f\"}".getBytes(StandardCharsets.UTF_8),
                    ACCOUNT)
                .resource())
        .isEqualTo("arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/f:*");
    assertThat(ApiOperations.logs("DescribeLogGroups", NO_BODY, ACCOUNT).resource()).isEqualTo("*");
  }

  static ApiOperations.Operation events(String operation, String body) {
    return ApiOperations.events(operation, body.getBytes(StandardCharsets.UTF_8), ACCOUNT);
  }

  @Test
  void everyEventBridgeOperationIsItsIamActionOnTheRuleOrBusItNames() throws Exception {
    JsonNode model = model("events");
    model
        .get("operations")
        .fieldNames()
        .forEachRemaining(op -> assertThat(events(op, "{}").action()).isEqualTo("events:" + op));
    String prefix = "arn:aws:events:us-east-1:000000000000:";
    assertThat(events("PutRule", "{\"Name\":\"r\"}").resource()).isEqualTo(prefix + "rule/r");
    assertThat(events("PutTargets", "{\"Rule\":\"r\",\"EventBusName\":\"shop\"}").resource())
        .isEqualTo(prefix + "rule/shop/r");
    assertThat(
            events(
                    "DescribeRule",
                    "{\"Name\":\"r\",\"EventBusName\":\"" + prefix + "event-bus/shop\"}")
                .resource())
        .isEqualTo(prefix + "rule/shop/r");
    assertThat(events("CreateEventBus", "{\"Name\":\"shop\"}").resource())
        .isEqualTo(prefix + "event-bus/shop");
    assertThat(events("PutEvents", "{\"Entries\":[{\"Source\":\"a\"}]}").resource())
        .isEqualTo(prefix + "event-bus/default");
    assertThat(events("TagResource", "{\"ResourceARN\":\"" + prefix + "rule/r\"}").resource())
        .isEqualTo(prefix + "rule/r");
    assertThat(events("ListRules", "{}").resource()).isEqualTo("*");
    assertThat(events("PutRule", "not json").resource()).isEqualTo(prefix + "rule/");
  }
}
