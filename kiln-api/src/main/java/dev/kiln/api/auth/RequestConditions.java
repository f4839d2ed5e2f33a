package dev.kiln.api.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.model.Account;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The condition keys an operation's request carries, as the Service Authorization Reference lists
 * them for Lambda: {@code aws:RequestTag/KEY} and {@code aws:TagKeys} (CreateFunction's {@code
 * Tags}, TagResource's, UntagResource's {@code tagKeys}), {@code lambda:Principal} and {@code
 * lambda:FunctionUrlAuthType} (AddPermission), {@code lambda:Layer} (CreateFunction and
 * UpdateFunctionConfiguration's {@code Layers}), {@code lambda:FunctionUrlAuthType} (the function
 * URL operations' {@code AuthType}) and {@code lambda:FunctionArn} (the event source mapping
 * operations' {@code FunctionName}). Read from the body the gate already holds; a body that is not
 * JSON carries none (the operation itself then refuses it).
 */
public final class RequestConditions {

  /** Not a condition key: the request's {@code Qualifier}, for the resource-policy check. */
  static final String QUALIFIER = "kiln:Qualifier";

  private static final ObjectMapper JSON = new ObjectMapper();

  private RequestConditions() {}

  public static Map<String, List<String>> of(
      ApiOperations.Operation op,
      List<Map.Entry<String, String>> query,
      byte[] body,
      Account account) {
    Map<String, List<String>> out = new HashMap<>();
    query.stream()
        .filter(e -> e.getKey().equals("Qualifier"))
        .findFirst()
        .ifPresent(e -> out.put(QUALIFIER, List.of(e.getValue())));
    switch (op.name()) {
      case "UntagResource" -> {
        List<String> keys =
            query.stream()
                .filter(e -> e.getKey().equals("tagKeys"))
                .map(Map.Entry::getValue)
                .toList();
        out.put("aws:TagKeys", keys);
      }
      case "CreateFunction", "TagResource" -> requestTags(json(body).path("Tags"), out);
      default -> {}
    }
    JsonNode doc = null;
    switch (op.name()) {
      case "CreateFunction", "UpdateFunctionConfiguration" -> {
        doc = json(body);
        List<String> layers = new ArrayList<>();
        doc.path("Layers").forEach(l -> layers.add(l.asText()));
        if (!layers.isEmpty()) {
          out.put("lambda:Layer", layers);
        }
      }
      case "AddPermission" -> {
        doc = json(body);
        text(doc, "Principal").ifPresent(p -> out.put("lambda:Principal", List.of(p)));
        text(doc, "FunctionUrlAuthType")
            .ifPresent(t -> out.put("lambda:FunctionUrlAuthType", List.of(t)));
      }
      case "CreateFunctionUrlConfig", "UpdateFunctionUrlConfig" ->
          text(json(body), "AuthType")
              .ifPresent(t -> out.put("lambda:FunctionUrlAuthType", List.of(t)));
      case "CreateEventSourceMapping", "UpdateEventSourceMapping" ->
          text(json(body), "FunctionName")
              .map(f -> f.startsWith("arn:") ? f : account.functionArn(f))
              .ifPresent(f -> out.put("lambda:FunctionArn", List.of(f)));
      default -> {}
    }
    return out;
  }

  private static void requestTags(JsonNode tags, Map<String, List<String>> out) {
    if (!tags.isObject() || tags.isEmpty()) {
      return;
    }
    List<String> keys = new ArrayList<>();
    tags.properties()
        .forEach(
            e -> {
              keys.add(e.getKey());
              out.put("aws:RequestTag/" + e.getKey(), List.of(e.getValue().asText()));
            });
    out.put("aws:TagKeys", keys);
  }

  private static java.util.Optional<String> text(JsonNode doc, String member) {
    JsonNode v = doc.path(member);
    return v.isTextual() ? java.util.Optional.of(v.asText()) : java.util.Optional.empty();
  }

  private static JsonNode json(byte[] body) {
    if (body == null || body.length == 0) {
      return JSON.missingNode();
    }
    try {
      return JSON.readTree(body);
    } catch (IOException notJson) {
      return JSON.missingNode();
    }
  }
}
