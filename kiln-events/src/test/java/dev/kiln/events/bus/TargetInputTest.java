package dev.kiln.events.bus;

import static dev.kiln.events.bus.BusFixture.JSON;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.model.LambdaError;
import dev.kiln.store.EventBusStore.InputTransformer;
import dev.kiln.store.EventBusStore.Target;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TargetInputTest {

  static final String ARN = "arn:aws:events:us-east-1:000000000000:rule/r";
  static final Instant AT = Instant.parse("2026-03-01T09:30:00Z");

  static ObjectNode event() throws Exception {
    return (ObjectNode)
        JSON.readTree(
            """
            {"version": "0", "id": "e1", "detail-type": "T", "source": "s", "account": "000000000000",
             "time": "2026-03-01T09:30:00Z", "region": "us-east-1", "resources": ["r1", "r2"],
             "detail": {"instance": "i-1", "state": "running", "n": 4, "obj": {"a": [1, 2]},
                        "items": [{"id": "x"}, {"id": "y"}]}}
            """);
  }

  static String transform(Map<String, String> paths, String template) throws Exception {
    return TargetInput.transform(new InputTransformer(paths, template), event(), ARN, "r", AT);
  }

  @Test
  void aPlainTextTemplateGetsValuesAsText() throws Exception {
    assertThat(
            transform(
                Map.of("instance", "$.detail.instance", "state", "$.detail.state"),
                "<instance> is in state <state>"))
        .isEqualTo("i-1 is in state running");
    assertThat(
            transform(
                Map.of("instance", "$.detail.instance", "state", "$.detail.state"),
                "\"<instance> is in state \\\"<state>\\\"\""))
        .isEqualTo("\"i-1 is in state \\\"running\\\"\"");
  }

  @Test
  void aJsonTemplateQuotesAsAwsDoes_valuesInQuotesAsText_outsideAsJson() throws Exception {
    String out =
        transform(
            Map.of(
                "state",
                "$.detail.state",
                "n",
                "$.detail.n",
                "obj",
                "$.detail.obj",
                "missing",
                "$.detail.nothing"),
            "{\"s\": <state>, \"sq\": \"<state>!\", \"n\": <n>, \"nq\": \"<n>\", \"o\": <obj>,"
                + " \"oq\": \"<obj>\", \"m\": <missing>, \"mq\": \"<missing>\"}");
    assertThat(JSON.readTree(out))
        .isEqualTo(
            JSON.readTree(
                "{\"s\": \"running\", \"sq\": \"running!\", \"n\": 4, \"nq\": \"4\", \"o\":"
                    + " {\"a\":[1,2]}, \"oq\": \"{\\\"a\\\":[1,2]}\", \"m\": null, \"mq\": \"\"}"));
  }

  @Test
  void predefinedVariablesAndPathsWithIndicesAndWildcards() throws Exception {
    String out =
        transform(
            Map.of("first", "$.resources[0]", "ids", "$.detail.items[*].id"),
            "{\"first\": <first>, \"ids\": <ids>, \"rule\": \"<aws.events.rule-name>\", \"arn\":"
                + " \"<aws.events.rule-arn>\", \"at\": \"<aws.events.event.ingestion-time>\","
                + " \"event\": <aws.events.event>, \"whole\": <aws.events.event.json>,"
                + " \"unknown\": \"<nope>\"}");
    var tree = JSON.readTree(out);
    assertThat(tree.get("first").asText()).isEqualTo("r1");
    assertThat(tree.get("ids")).isEqualTo(JSON.readTree("[\"x\", \"y\"]"));
    assertThat(tree.get("rule").asText()).isEqualTo("r");
    assertThat(tree.get("arn").asText()).isEqualTo(ARN);
    assertThat(tree.get("at").asText()).isEqualTo("2026-03-01T09:30:00Z");
    assertThat(tree.get("event").has("detail")).isFalse();
    assertThat(tree.get("event").get("id").asText()).isEqualTo("e1");
    assertThat(tree.get("whole")).isEqualTo(event());
    assertThat(tree.get("unknown").asText()).isEqualTo("<nope>");
  }

  @Test
  void inputPathSelectsPartOfTheEvent() throws Exception {
    Target t =
        new Target(
            "1",
            "a",
            Optional.empty(),
            Optional.of("$.detail.obj"),
            Optional.empty(),
            Optional.empty(),
            Optional.empty());
    assertThat(new String(TargetInput.render(t, event(), ARN, "r", AT))).isEqualTo("{\"a\":[1,2]}");
  }

  static Target with(
      Optional<String> input, Optional<String> path, Optional<InputTransformer> transformer) {
    return new Target("t1", "a", input, path, transformer, Optional.empty(), Optional.empty());
  }

  static void refused(Target t, String message) {
    assertThatThrownBy(() -> TargetInput.validate(t))
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> {
              assertThat(e.errorType()).isEqualTo("ValidationException");
              assertThat(e.getMessage()).isEqualTo(message);
            });
  }

  @Test
  void badInputSettingsAreRefusedNamingTheTarget() {
    refused(
        with(Optional.of("{}"), Optional.of("$"), Optional.empty()),
        "Only one of Input, InputPath, or InputTransformer can be specified for target t1.");
    refused(
        with(Optional.of("{not json"), Optional.empty(), Optional.empty()),
        "Input for target t1 is not valid JSON.");
    refused(
        with(Optional.empty(), Optional.of("detail"), Optional.empty()),
        "InputPath for target t1 is not a valid JSONPath: detail");
    refused(
        with(
            Optional.empty(),
            Optional.empty(),
            Optional.of(new InputTransformer(Map.of("aws.events.rule-arn", "$.id"), "<x>"))),
        "InputPathsMap for target t1 has an invalid variable name: aws.events.rule-arn.");
    refused(
        with(
            Optional.empty(),
            Optional.empty(),
            Optional.of(new InputTransformer(Map.of("x", "$.detail[[["), "<x>"))),
        "InputPathsMap.x for target t1 is not a valid JSONPath: $.detail[[[");
  }
}
