package dev.kiln.events.bus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.jayway.jsonpath.Configuration;
import com.jayway.jsonpath.InvalidPathException;
import com.jayway.jsonpath.JsonPath;
import com.jayway.jsonpath.Option;
import com.jayway.jsonpath.spi.json.JacksonJsonNodeJsonProvider;
import com.jayway.jsonpath.spi.mapper.JacksonMappingProvider;
import dev.kiln.store.EventBusStore.InputTransformer;
import dev.kiln.store.EventBusStore.Target;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a rule's target is sent for an event, as EventBridge decides it.
 *
 * <h2>Model</h2>
 *
 * A target has at most one of three ways to shape its input; with none it gets the whole event (the
 * envelope).
 *
 * <ul>
 *   <li>{@code Input}: a constant JSON text, sent as it is, whatever the event.
 *   <li>{@code InputPath}: a JSONPath into the event ({@code $.detail}, {@code $.resources[0]},
 *       {@code $.detail.items[*].id}); the part it selects is sent as JSON ({@code null} when it
 *       selects nothing).
 *   <li>{@code InputTransformer}: {@code InputPathsMap} names parts of the event (up to 100
 *       variables, each a JSONPath), and {@code InputTemplate} is the text sent, each {@code
 *       <name>} in it replaced by its part. The predefined {@code <aws.events.rule-arn>}, {@code
 *       <aws.events.rule-name>}, {@code <aws.events.event.ingestion-time>}, {@code
 *       <aws.events.event>} (the event without {@code detail}) and {@code <aws.events.event.json>}
 *       (the whole event) need no path. A placeholder naming no variable stays as it is.
 * </ul>
 *
 * <p>Quoting follows AWS's rules so that a JSON template stays JSON: inside a quoted string of the
 * template a value goes in as text, escaped for JSON (a string without its quotes, anything else as
 * its JSON text), and nothing when the path selects nothing; outside quotes in a template that is a
 * JSON object or array ({@code {"state": <state>}}), a value goes in as JSON (a string with its
 * quotes), {@code null} when the path selects nothing. A template that is plain text ({@code
 * <instance> is in state <state>}) gets values as text.
 *
 * <p>Stateless and thread-safe: JSONPaths are compiled per call (rules are few, events small).
 */
final class TargetInput {

  static final String RULE_ARN = "aws.events.rule-arn";
  static final String RULE_NAME = "aws.events.rule-name";
  static final String INGESTION_TIME = "aws.events.event.ingestion-time";
  static final String EVENT = "aws.events.event";
  static final String EVENT_JSON = "aws.events.event.json";

  static final Set<String> PREDEFINED =
      Set.of(RULE_ARN, RULE_NAME, INGESTION_TIME, EVENT, EVENT_JSON);

  static final int MAX_VARIABLES = 100;

  private static final Pattern VARIABLE_NAME = Pattern.compile("[A-Za-z0-9_\\-]+");
  private static final Pattern PLACEHOLDER = Pattern.compile("<([A-Za-z0-9_\\-.]+)>");

  private static final ObjectMapper JSON = new ObjectMapper();

  private static final Configuration PATHS =
      Configuration.builder()
          .jsonProvider(new JacksonJsonNodeJsonProvider(JSON))
          .mappingProvider(new JacksonMappingProvider(JSON))
          .options(Option.SUPPRESS_EXCEPTIONS)
          .build();

  private TargetInput() {}

  /**
   * Checks a target's input settings as PutTargets does.
   *
   * @throws dev.kiln.model.LambdaError {@code ValidationException} naming what is wrong
   */
  static void validate(Target target) {
    int ways =
        (target.input().isPresent() ? 1 : 0)
            + (target.inputPath().isPresent() ? 1 : 0)
            + (target.inputTransformer().isPresent() ? 1 : 0);
    if (ways > 1) {
      throw EventsErrors.validation(
          "Only one of Input, InputPath, or InputTransformer can be specified for target "
              + target.id()
              + ".");
    }
    target
        .input()
        .ifPresent(
            input -> {
              try {
                JSON.readTree(input);
              } catch (java.io.IOException e) {
                throw EventsErrors.validation(
                    "Input for target " + target.id() + " is not valid JSON.");
              }
            });
    target.inputPath().ifPresent(path -> checkPath(target.id(), "InputPath", path));
    target
        .inputTransformer()
        .ifPresent(
            t -> {
              if (t.inputPathsMap().size() > MAX_VARIABLES) {
                throw EventsErrors.validation(
                    "InputPathsMap for target "
                        + target.id()
                        + " has more than "
                        + MAX_VARIABLES
                        + " variables.");
              }
              t.inputPathsMap()
                  .forEach(
                      (name, path) -> {
                        if (!VARIABLE_NAME.matcher(name).matches() || PREDEFINED.contains(name)) {
                          throw EventsErrors.validation(
                              "InputPathsMap for target "
                                  + target.id()
                                  + " has an invalid variable name: "
                                  + name
                                  + ".");
                        }
                        checkPath(target.id(), "InputPathsMap." + name, path);
                      });
              if (t.inputTemplate().isEmpty()) {
                throw EventsErrors.constraint(
                    "targets.member.inputTransformer.inputTemplate",
                    "",
                    "Member must have length greater than or equal to 1");
              }
            });
  }

  private static void checkPath(String target, String field, String path) {
    if (!path.startsWith("$")) {
      throw EventsErrors.validation(
          field + " for target " + target + " is not a valid JSONPath: " + path);
    }
    try {
      JsonPath.compile(path);
    } catch (InvalidPathException | IllegalArgumentException e) {
      throw EventsErrors.validation(
          field + " for target " + target + " is not a valid JSONPath: " + path);
    }
  }

  /** The bytes {@code target} is sent for {@code event} matched by the rule. */
  static byte[] render(
      Target target, ObjectNode event, String ruleArn, String ruleName, Instant ingestion) {
    String text;
    if (target.input().isPresent()) {
      text = target.input().get();
    } else if (target.inputPath().isPresent()) {
      JsonNode selected = select(event, target.inputPath().get());
      text = selected.isMissingNode() ? "null" : selected.toString();
    } else if (target.inputTransformer().isPresent()) {
      text = transform(target.inputTransformer().get(), event, ruleArn, ruleName, ingestion);
    } else {
      text = event.toString();
    }
    return text.getBytes(StandardCharsets.UTF_8);
  }

  static String transform(
      InputTransformer transformer,
      ObjectNode event,
      String ruleArn,
      String ruleName,
      Instant ingestion) {
    Map<String, String> paths = transformer.inputPathsMap();
    String template = transformer.inputTemplate();
    String trimmed = template.strip();
    boolean jsonTemplate = trimmed.startsWith("{") || trimmed.startsWith("[");
    StringBuilder out = new StringBuilder(template.length() * 2);
    boolean inString = false;
    int i = 0;
    while (i < template.length()) {
      char c = template.charAt(i);
      if (c == '\\' && inString && i + 1 < template.length()) {
        out.append(c).append(template.charAt(i + 1));
        i += 2;
        continue;
      }
      if (c == '"') {
        inString = !inString;
        out.append(c);
        i++;
        continue;
      }
      if (c == '<') {
        var m = PLACEHOLDER.matcher(template).region(i, template.length());
        if (m.lookingAt()) {
          String name = m.group(1);
          JsonNode value = null;
          if (paths.containsKey(name)) {
            value = select(event, paths.get(name));
          } else if (PREDEFINED.contains(name)) {
            value = predefined(name, event, ruleArn, ruleName, ingestion);
          }
          if (value != null) {
            out.append(insert(value, inString, jsonTemplate));
            i = m.end();
            continue;
          }
        }
      }
      out.append(c);
      i++;
    }
    return out.toString();
  }

  private static JsonNode predefined(
      String name, ObjectNode event, String ruleArn, String ruleName, Instant ingestion) {
    return switch (name) {
      case RULE_ARN -> JSON.getNodeFactory().textNode(ruleArn);
      case RULE_NAME -> JSON.getNodeFactory().textNode(ruleName);
      case INGESTION_TIME -> JSON.getNodeFactory().textNode(EventEnvelope.TIME.format(ingestion));
      case EVENT -> {
        ObjectNode withoutDetail = event.deepCopy();
        withoutDetail.remove("detail");
        yield withoutDetail;
      }
      case EVENT_JSON -> event;
      default -> throw new AssertionError(name);
    };
  }

  private static String insert(JsonNode value, boolean inString, boolean jsonTemplate) {
    if (inString) {
      if (value.isMissingNode() || value.isNull()) {
        return value.isNull() ? "null" : "";
      }
      String raw = value.isTextual() ? value.asText() : value.toString();
      String quoted = JSON.getNodeFactory().textNode(raw).toString();
      return quoted.substring(1, quoted.length() - 1);
    }
    if (jsonTemplate) {
      return value.isMissingNode() ? "null" : value.toString();
    }
    if (value.isMissingNode()) {
      return "";
    }
    return value.isTextual() ? value.asText() : value.toString();
  }

  /** What a JSONPath selects in the event; {@link MissingNode} when nothing. */
  static JsonNode select(ObjectNode event, String path) {
    JsonNode selected;
    try {
      selected = JsonPath.using(PATHS).parse(event).read(path);
    } catch (RuntimeException e) {
      return MissingNode.getInstance();
    }
    return selected == null ? MissingNode.getInstance() : selected;
  }
}
