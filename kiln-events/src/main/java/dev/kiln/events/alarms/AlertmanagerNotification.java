package dev.kiln.events.alarms;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.model.LambdaError;
import java.io.IOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One call of Alertmanager's webhook receiver, as Alertmanager documents its payload (version
 * {@code "4"}): the group's {@code receiver}, {@code status}, {@code groupKey}, {@code
 * groupLabels}, {@code commonLabels}, {@code commonAnnotations}, {@code externalURL}, and its
 * {@code alerts}, each with its own {@code status}, {@code labels}, {@code annotations}, {@code
 * startsAt}, {@code endsAt}, {@code generatorURL} and {@code fingerprint}. {@link #parse} checks
 * every field Kiln reads and names the first one that is wrong, so that a malformed payload is
 * refused whole, before anything is invoked.
 */
public record AlertmanagerNotification(
    String receiver, String status, String groupKey, String externalUrl, List<Alert> alerts) {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** One alert of the group. {@code endsAt} is empty while Alertmanager gives none (zero time). */
  public record Alert(
      String status,
      ObjectNode labels,
      ObjectNode annotations,
      Instant startsAt,
      Optional<Instant> endsAt,
      String generatorUrl,
      String fingerprint) {

    public boolean firing() {
      return status.equals("firing");
    }

    /** The {@code alertname} label, as Prometheus sets it on every alert of a rule. */
    public String alertName() {
      return labels.path("alertname").asText();
    }
  }

  /**
   * Reads a payload.
   *
   * @throws LambdaError 400 InvalidRequestContentException naming what is wrong
   */
  public static AlertmanagerNotification parse(byte[] body) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw bad("the body is not JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    if (root == null || !root.isObject()) {
      throw bad("the body must be a JSON object, Alertmanager's webhook payload");
    }
    String version = text(root, "version", "");
    if (!version.equals("4")) {
      throw bad(
          "version must be \"4\", the version of Alertmanager's webhook payload, got "
              + root.path("version"));
    }
    String status = status(root, "status", "");
    JsonNode alerts = root.path("alerts");
    if (!alerts.isArray() || alerts.isEmpty()) {
      throw bad("alerts must be a non-empty array");
    }
    List<Alert> parsed = new ArrayList<>();
    for (int i = 0; i < alerts.size(); i++) {
      parsed.add(alert(alerts.get(i), "alerts[" + i + "]."));
    }
    return new AlertmanagerNotification(
        text(root, "receiver", ""),
        status,
        text(root, "groupKey", ""),
        text(root, "externalURL", ""),
        List.copyOf(parsed));
  }

  private static Alert alert(JsonNode a, String where) {
    if (!a.isObject()) {
      throw bad(where.substring(0, where.length() - 1) + " must be an object");
    }
    String status = status(a, "status", where);
    JsonNode labels = a.path("labels");
    if (!labels.isObject() || !labels.path("alertname").isTextual()) {
      throw bad(where + "labels must be an object with an alertname");
    }
    labels
        .fields()
        .forEachRemaining(
            f -> {
              if (!f.getValue().isTextual()) {
                throw bad(where + "labels." + f.getKey() + " must be a string");
              }
            });
    JsonNode annotations = a.path("annotations");
    if (!annotations.isMissingNode() && !annotations.isNull() && !annotations.isObject()) {
      throw bad(where + "annotations must be an object");
    }
    Instant startsAt =
        time(a, "startsAt", where)
            .orElseThrow(() -> bad(where + "startsAt must be an RFC 3339 time"));
    return new Alert(
        status,
        (ObjectNode) labels,
        annotations.isObject() ? (ObjectNode) annotations : JSON.createObjectNode(),
        startsAt,
        time(a, "endsAt", where),
        text(a, "generatorURL", where),
        text(a, "fingerprint", where));
  }

  private static String status(JsonNode node, String field, String where) {
    String status = node.path(field).asText("");
    if (!node.path(field).isTextual() || !(status.equals("firing") || status.equals("resolved"))) {
      throw bad(where + field + " must be \"firing\" or \"resolved\", got " + node.path(field));
    }
    return status;
  }

  private static String text(JsonNode node, String field, String where) {
    JsonNode v = node.path(field);
    if (v.isMissingNode() || v.isNull()) {
      return "";
    }
    if (!v.isTextual()) {
      throw bad(where + field + " must be a string, got " + v);
    }
    return v.asText();
  }

  /** An RFC 3339 time; empty when absent or Go's zero time, which Alertmanager sends for none. */
  private static Optional<Instant> time(JsonNode node, String field, String where) {
    String text = text(node, field, where);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    try {
      Instant t = OffsetDateTime.parse(text).toInstant();
      return t.isBefore(Instant.parse("1970-01-01T00:00:00Z")) ? Optional.empty() : Optional.of(t);
    } catch (DateTimeParseException e) {
      throw bad(where + field + " must be an RFC 3339 time, got \"" + text + "\"");
    }
  }

  private static LambdaError bad(String what) {
    return LambdaError.invalidRequestContent("Malformed Alertmanager webhook payload: " + what);
  }
}
