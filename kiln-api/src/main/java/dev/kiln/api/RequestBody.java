package dev.kiln.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.model.LambdaError;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A JSON request body, read member by member with the types the service model gives them. A member
 * of the wrong type is refused with a {@code SerializationException} naming it, never coerced and
 * never a 500.
 */
final class RequestBody {

  /** A CreateFunction body carries the whole zip as one base64 string of up to ~70 MB. */
  private static final ObjectMapper JSON =
      new ObjectMapper(
          JsonFactory.builder()
              .streamReadConstraints(
                  StreamReadConstraints.builder()
                      .maxStringLength(LambdaApi.MAX_CONTROL_PLANE_BODY)
                      .build())
              .build());

  private final ObjectNode node;
  private final String path;

  private RequestBody(ObjectNode node, String path) {
    this.node = node;
    this.path = path;
  }

  /** The document itself, for a reader that goes through it field by field on its own. */
  ObjectNode node() {
    return node;
  }

  static RequestBody parse(byte[] bytes) {
    if (bytes.length == 0) {
      return new RequestBody(JSON.createObjectNode(), "");
    }
    JsonNode tree;
    try {
      tree = JSON.readTree(bytes);
    } catch (JsonProcessingException e) {
      throw LambdaError.serialization(
          "The request body is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw LambdaError.serialization("The request body could not be read: " + e.getMessage());
    }
    if (tree == null || tree.isMissingNode()) {
      return new RequestBody(JSON.createObjectNode(), "");
    }
    if (!tree.isObject()) {
      throw LambdaError.serialization("The request body must be a JSON object");
    }
    return new RequestBody((ObjectNode) tree, "");
  }

  boolean has(String member) {
    JsonNode v = node.get(member);
    return v != null && !v.isNull();
  }

  Optional<String> string(String member) {
    JsonNode v = present(member);
    if (v == null) {
      return Optional.empty();
    }
    if (!v.isTextual()) {
      throw wrongType(member, "a string");
    }
    return Optional.of(v.asText());
  }

  String requiredString(String member) {
    return string(member)
        .orElseThrow(
            () ->
                LambdaError.validation(
                    lowerFirst(path + member), "null", "Member must not be null"));
  }

  Optional<Integer> integer(String member) {
    JsonNode v = present(member);
    if (v == null) {
      return Optional.empty();
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw wrongType(member, "an integer");
    }
    return Optional.of(v.intValue());
  }

  Optional<Boolean> bool(String member) {
    JsonNode v = present(member);
    if (v == null) {
      return Optional.empty();
    }
    if (!v.isBoolean()) {
      throw wrongType(member, "a boolean");
    }
    return Optional.of(v.booleanValue());
  }

  Optional<byte[]> blob(String member) {
    return string(member)
        .map(
            s -> {
              try {
                return Base64.getMimeDecoder().decode(s);
              } catch (IllegalArgumentException e) {
                throw LambdaError.serialization(
                    "Member " + path + member + " is not valid base64: " + e.getMessage());
              }
            });
  }

  Optional<Map<String, String>> stringMap(String member) {
    JsonNode v = present(member);
    if (v == null) {
      return Optional.empty();
    }
    if (!v.isObject()) {
      throw wrongType(member, "an object of strings");
    }
    Map<String, String> map = new LinkedHashMap<>();
    for (var it = v.fields(); it.hasNext(); ) {
      var e = it.next();
      if (!e.getValue().isTextual()) {
        throw LambdaError.serialization(
            "Member " + path + member + "." + e.getKey() + " must be a string");
      }
      map.put(e.getKey(), e.getValue().asText());
    }
    return Optional.of(map);
  }

  Optional<Map<String, Double>> numberMap(String member) {
    JsonNode v = present(member);
    if (v == null) {
      return Optional.empty();
    }
    if (!v.isObject()) {
      throw wrongType(member, "an object of numbers");
    }
    Map<String, Double> map = new LinkedHashMap<>();
    for (var it = v.fields(); it.hasNext(); ) {
      var e = it.next();
      if (!e.getValue().isNumber()) {
        throw LambdaError.serialization(
            "Member " + path + member + "." + e.getKey() + " must be a number");
      }
      map.put(e.getKey(), e.getValue().asDouble());
    }
    return Optional.of(map);
  }

  Optional<List<String>> stringList(String member) {
    JsonNode v = present(member);
    if (v == null) {
      return Optional.empty();
    }
    if (!v.isArray()) {
      throw wrongType(member, "a list of strings");
    }
    List<String> list = new ArrayList<>();
    for (JsonNode item : v) {
      if (!item.isTextual()) {
        throw LambdaError.serialization("Member " + path + member + " must hold strings only");
      }
      list.add(item.asText());
    }
    return Optional.of(list);
  }

  Optional<RequestBody> object(String member) {
    JsonNode v = present(member);
    if (v == null) {
      return Optional.empty();
    }
    if (!v.isObject()) {
      throw wrongType(member, "an object");
    }
    return Optional.of(new RequestBody((ObjectNode) v, path + member + "."));
  }

  /** True if {@code member} carries something: a non-empty object, list or string. */
  boolean hasContent(String member) {
    JsonNode v = present(member);
    if (v == null) {
      return false;
    }
    if (v.isContainerNode()) {
      if (v.isObject()) {
        for (JsonNode child : v) {
          if (!child.isNull() && !(child.isContainerNode() && child.isEmpty())) {
            return true;
          }
        }
        return false;
      }
      return !v.isEmpty();
    }
    return !v.asText().isEmpty();
  }

  private JsonNode present(String member) {
    JsonNode v = node.get(member);
    return v == null || v.isNull() ? null : v;
  }

  private LambdaError wrongType(String member, String expected) {
    return LambdaError.serialization("Member " + path + member + " must be " + expected);
  }

  private static String lowerFirst(String s) {
    return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
  }
}
