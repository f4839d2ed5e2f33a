package dev.kiln.api.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.api.ServiceRoutes;
import dev.kiln.api.auth.RequestAuthentication;
import dev.kiln.events.bus.EventBuses;
import dev.kiln.events.bus.EventBuses.EntryResult;
import dev.kiln.events.bus.EventBuses.FailedEntry;
import dev.kiln.events.bus.EventBuses.Page;
import dev.kiln.events.bus.EventBuses.RuleRequest;
import dev.kiln.model.LambdaError;
import dev.kiln.store.EventBusStore.Bus;
import dev.kiln.store.EventBusStore.InputTransformer;
import dev.kiln.store.EventBusStore.RetryPolicy;
import dev.kiln.store.EventBusStore.Rule;
import dev.kiln.store.EventBusStore.RuleState;
import dev.kiln.store.EventBusStore.Target;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * EventBridge's API (2015-10-07, JSON 1.1: {@code POST /} with {@code X-Amz-Target:
 * AWSEvents.<Operation>} and {@code application/x-amz-json-1.1}), so that {@code aws events} and
 * the SDKs' EventBridge clients work against Kiln with only an endpoint override: rules (PutRule,
 * DescribeRule, ListRules, EnableRule, DisableRule, DeleteRule), targets (PutTargets,
 * RemoveTargets, ListTargetsByRule, ListRuleNamesByTarget), PutEvents, buses (CreateEventBus,
 * DeleteEventBus, DescribeEventBus, ListEventBuses), TestEventPattern and tags.
 *
 * <p>This class only reads and writes JSON: members as the service model names and types them,
 * errors as JSON 1.1 sends them (the HTTP status, {@code {"__type": ..., "message": ...}}). What is
 * checked and done is {@link EventBuses}'. A {@code POST /} whose target is not {@code AWSEvents.}
 * is passed on to the next service.
 */
public final class EventsApi implements ServiceRoutes {

  private static final Logger LOG = LoggerFactory.getLogger(EventsApi.class);

  static final String TARGET_PREFIX = "AWSEvents.";

  /** The largest body read: PutEvents' 256 KB of entries, escaped in JSON, with room to spare. */
  static final int MAX_BODY = 1024 * 1024;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final EventBuses buses;

  public EventsApi(EventBuses buses) {
    this.buses = buses;
  }

  @Override
  public void routes(HttpRouting.Builder r) {
    r.post("/", this::dispatch);
  }

  private void dispatch(ServerRequest req, ServerResponse res) throws IOException {
    String target = req.headers().first(HeaderNames.create("X-Amz-Target")).orElse("");
    if (!target.startsWith(TARGET_PREFIX)) {
      res.next();
      return;
    }
    String requestId = UUID.randomUUID().toString();
    String operation = target.substring(TARGET_PREFIX.length());
    try {
      JsonNode body = readJson(req);
      ObjectNode out = answer(operation, body);
      send(res, requestId, 200, out);
    } catch (LambdaError e) {
      ObjectNode error = JSON.createObjectNode();
      error.put("__type", e.errorType());
      error.put("message", e.getMessage());
      res.header("x-amzn-ErrorType", e.errorType());
      send(res, requestId, e.status(), error);
    } catch (RuntimeException e) {
      LOG.error("EventBridge {} failed", operation, e);
      ObjectNode error = JSON.createObjectNode();
      error.put("__type", "InternalException");
      error.put("message", "An internal error occurred; see Kiln's log for request " + requestId);
      send(res, requestId, 500, error);
    }
  }

  private static void send(ServerResponse res, String requestId, int status, ObjectNode body) {
    res.status(status)
        .header("x-amzn-RequestId", requestId)
        .header(HeaderNames.CONTENT_TYPE, "application/x-amz-json-1.1")
        .send(body.toString().getBytes(StandardCharsets.UTF_8));
  }

  private ObjectNode answer(String operation, JsonNode b) {
    return switch (operation) {
      case "PutRule" -> putRule(b);
      case "DescribeRule" -> describeRule(b);
      case "ListRules" -> listRules(b);
      case "EnableRule" -> setState(b, RuleState.ENABLED);
      case "DisableRule" -> setState(b, RuleState.DISABLED);
      case "DeleteRule" -> {
        buses.deleteRule(required(b, "Name", "name"), text(b, "EventBusName"));
        yield JSON.createObjectNode();
      }
      case "PutTargets" -> putTargets(b);
      case "RemoveTargets" -> removeTargets(b);
      case "ListTargetsByRule" -> listTargets(b);
      case "ListRuleNamesByTarget" -> listRuleNames(b);
      case "PutEvents" -> putEvents(b);
      case "CreateEventBus" -> createBus(b);
      case "DeleteEventBus" -> {
        buses.deleteBus(required(b, "Name", "name"));
        yield JSON.createObjectNode();
      }
      case "DescribeEventBus" -> busJson(buses.bus(text(b, "Name")));
      case "ListEventBuses" -> listBuses(b);
      case "TestEventPattern" -> {
        ObjectNode out = JSON.createObjectNode();
        out.put(
            "Result",
            buses.testPattern(
                required(b, "EventPattern", "eventPattern"), required(b, "Event", "event")));
        yield out;
      }
      case "TagResource" -> {
        buses.tag(required(b, "ResourceARN", "resourceARN"), tags(b, "Tags"));
        yield JSON.createObjectNode();
      }
      case "UntagResource" -> {
        buses.untag(required(b, "ResourceARN", "resourceARN"), strings(b, "TagKeys"));
        yield JSON.createObjectNode();
      }
      case "ListTagsForResource" -> {
        ObjectNode out = JSON.createObjectNode();
        ArrayNode list = out.putArray("Tags");
        buses
            .tags(required(b, "ResourceARN", "resourceARN"))
            .forEach((k, v) -> list.addObject().put("Key", k).put("Value", v));
        yield out;
      }
      default ->
          throw new LambdaError(
              "UnknownOperationException",
              400,
              "Kiln does not implement the EventBridge operation "
                  + operation
                  + "; it serves PutRule, DescribeRule, ListRules, EnableRule, DisableRule,"
                  + " DeleteRule, PutTargets, RemoveTargets, ListTargetsByRule,"
                  + " ListRuleNamesByTarget, PutEvents, CreateEventBus, DeleteEventBus,"
                  + " DescribeEventBus, ListEventBuses, TestEventPattern, TagResource,"
                  + " UntagResource and ListTagsForResource");
    };
  }

  // ---------------------------------------------------------------- rules

  private ObjectNode putRule(JsonNode b) {
    String arn =
        buses.putRule(
            new RuleRequest(
                required(b, "Name", "name"),
                text(b, "EventBusName"),
                text(b, "EventPattern"),
                text(b, "ScheduleExpression"),
                text(b, "State"),
                text(b, "Description"),
                text(b, "RoleArn"),
                tags(b, "Tags")));
    ObjectNode out = JSON.createObjectNode();
    out.put("RuleArn", arn);
    return out;
  }

  private ObjectNode describeRule(JsonNode b) {
    Rule r = buses.rule(required(b, "Name", "name"), text(b, "EventBusName"));
    ObjectNode out = ruleJson(r);
    out.put("CreatedBy", buses.arns().account().accountId());
    return out;
  }

  private ObjectNode ruleJson(Rule r) {
    ObjectNode n = JSON.createObjectNode();
    n.put("Name", r.name());
    n.put("Arn", buses.arns().rule(r.bus(), r.name()));
    r.eventPattern().ifPresent(p -> n.put("EventPattern", p));
    r.scheduleExpression().ifPresent(s -> n.put("ScheduleExpression", s));
    n.put("State", r.state().name());
    r.description().ifPresent(d -> n.put("Description", d));
    r.roleArn().ifPresent(a -> n.put("RoleArn", a));
    r.managedBy().ifPresent(m -> n.put("ManagedBy", m));
    n.put("EventBusName", r.bus());
    return n;
  }

  private ObjectNode listRules(JsonNode b) {
    Page<Rule> page =
        buses.rules(
            text(b, "NamePrefix"),
            text(b, "EventBusName"),
            integer(b, "Limit"),
            text(b, "NextToken"));
    ObjectNode out = JSON.createObjectNode();
    ArrayNode list = out.putArray("Rules");
    page.items().forEach(r -> list.add(ruleJson(r)));
    page.nextToken().ifPresent(t -> out.put("NextToken", t));
    return out;
  }

  private ObjectNode setState(JsonNode b, RuleState state) {
    buses.setState(required(b, "Name", "name"), text(b, "EventBusName"), state);
    return JSON.createObjectNode();
  }

  // ---------------------------------------------------------------- targets

  private ObjectNode putTargets(JsonNode b) {
    String rule = required(b, "Rule", "rule");
    JsonNode targets = b.get("Targets");
    if (targets == null || targets.isNull()) {
      throw missing("targets");
    }
    if (!targets.isArray()) {
      throw serialization("Targets");
    }
    List<Target> parsed = new ArrayList<>();
    for (JsonNode t : targets) {
      if (!t.isObject()) {
        throw serialization("Targets");
      }
      Optional<InputTransformer> transformer = Optional.empty();
      JsonNode it = t.get("InputTransformer");
      if (it != null && !it.isNull()) {
        if (!it.isObject()) {
          throw serialization("InputTransformer");
        }
        transformer =
            Optional.of(
                new InputTransformer(
                    stringMap(it, "InputPathsMap"),
                    required(
                        it, "InputTemplate", "targets.member.inputTransformer.inputTemplate")));
      }
      Optional<RetryPolicy> retry = Optional.empty();
      JsonNode rp = t.get("RetryPolicy");
      if (rp != null && !rp.isNull()) {
        Optional<Integer> attempts = integer(rp, "MaximumRetryAttempts");
        Optional<Integer> age = integer(rp, "MaximumEventAgeInSeconds");
        attempts
            .filter(a -> a < 0 || a > 185)
            .ifPresent(
                a -> {
                  throw constraint(
                      "targets.member.retryPolicy.maximumRetryAttempts",
                      a,
                      a < 0
                          ? "Member must have value greater than or equal to 0"
                          : "Member must have value less than or equal to 185");
                });
        age.filter(a -> a < 60 || a > 86400)
            .ifPresent(
                a -> {
                  throw constraint(
                      "targets.member.retryPolicy.maximumEventAgeInSeconds",
                      a,
                      a < 60
                          ? "Member must have value greater than or equal to 60"
                          : "Member must have value less than or equal to 86400");
                });
        retry = Optional.of(new RetryPolicy(attempts, age));
      }
      JsonNode dlq = t.get("DeadLetterConfig");
      Optional<String> deadLetter =
          dlq != null && dlq.isObject() ? text(dlq, "Arn") : Optional.empty();
      parsed.add(
          new Target(
              required(t, "Id", "targets.member.id"),
              required(t, "Arn", "targets.member.arn"),
              text(t, "Input"),
              text(t, "InputPath"),
              transformer,
              retry,
              deadLetter));
    }
    return failed(buses.putTargets(rule, text(b, "EventBusName"), parsed));
  }

  private ObjectNode removeTargets(JsonNode b) {
    String rule = required(b, "Rule", "rule");
    if (!b.has("Ids") || b.get("Ids").isNull()) {
      throw missing("ids");
    }
    return failed(buses.removeTargets(rule, text(b, "EventBusName"), strings(b, "Ids")));
  }

  private static ObjectNode failed(List<FailedEntry> failed) {
    ObjectNode out = JSON.createObjectNode();
    out.put("FailedEntryCount", failed.size());
    ArrayNode list = out.putArray("FailedEntries");
    for (FailedEntry f : failed) {
      list.addObject()
          .put("TargetId", f.targetId())
          .put("ErrorCode", f.errorCode())
          .put("ErrorMessage", f.errorMessage());
    }
    return out;
  }

  private ObjectNode listTargets(JsonNode b) {
    Page<Target> page =
        buses.targets(
            required(b, "Rule", "rule"),
            text(b, "EventBusName"),
            integer(b, "Limit"),
            text(b, "NextToken"));
    ObjectNode out = JSON.createObjectNode();
    ArrayNode list = out.putArray("Targets");
    for (Target t : page.items()) {
      ObjectNode n = list.addObject();
      n.put("Id", t.id());
      n.put("Arn", t.arn());
      t.input().ifPresent(i -> n.put("Input", i));
      t.inputPath().ifPresent(p -> n.put("InputPath", p));
      t.inputTransformer()
          .ifPresent(
              it -> {
                ObjectNode tn = n.putObject("InputTransformer");
                if (!it.inputPathsMap().isEmpty()) {
                  ObjectNode paths = tn.putObject("InputPathsMap");
                  new java.util.TreeMap<>(it.inputPathsMap()).forEach(paths::put);
                }
                tn.put("InputTemplate", it.inputTemplate());
              });
      t.retryPolicy()
          .ifPresent(
              rp -> {
                ObjectNode rn = n.putObject("RetryPolicy");
                rp.maximumRetryAttempts().ifPresent(a -> rn.put("MaximumRetryAttempts", a));
                rp.maximumEventAgeInSeconds().ifPresent(a -> rn.put("MaximumEventAgeInSeconds", a));
              });
      t.deadLetterArn().ifPresent(a -> n.putObject("DeadLetterConfig").put("Arn", a));
    }
    page.nextToken().ifPresent(t -> out.put("NextToken", t));
    return out;
  }

  private ObjectNode listRuleNames(JsonNode b) {
    Page<String> page =
        buses.ruleNamesByTarget(
            required(b, "TargetArn", "targetArn"),
            text(b, "EventBusName"),
            integer(b, "Limit"),
            text(b, "NextToken"));
    ObjectNode out = JSON.createObjectNode();
    ArrayNode list = out.putArray("RuleNames");
    page.items().forEach(list::add);
    page.nextToken().ifPresent(t -> out.put("NextToken", t));
    return out;
  }

  // ---------------------------------------------------------------- events

  private ObjectNode putEvents(JsonNode b) {
    JsonNode entries = b.get("Entries");
    if (entries == null || entries.isNull()) {
      throw missing("entries");
    }
    if (!entries.isArray()) {
      throw serialization("Entries");
    }
    List<EventBuses.Entry> parsed = new ArrayList<>();
    for (JsonNode e : entries) {
      if (!e.isObject()) {
        throw serialization("Entries");
      }
      parsed.add(
          new EventBuses.Entry(
              text(e, "Source"),
              text(e, "DetailType"),
              text(e, "Detail"),
              e.has("Resources") ? strings(e, "Resources") : List.of(),
              timestamp(e, "Time"),
              text(e, "EventBusName")));
    }
    List<EntryResult> results = buses.putEvents(parsed);
    ObjectNode out = JSON.createObjectNode();
    out.put("FailedEntryCount", results.stream().filter(EntryResult::failed).count());
    ArrayNode list = out.putArray("Entries");
    for (EntryResult r : results) {
      ObjectNode n = list.addObject();
      r.eventId().ifPresent(id -> n.put("EventId", id));
      r.errorCode().ifPresent(c -> n.put("ErrorCode", c));
      r.errorMessage().ifPresent(m -> n.put("ErrorMessage", m));
    }
    return out;
  }

  // ---------------------------------------------------------------- buses

  private ObjectNode createBus(JsonNode b) {
    if (text(b, "EventSourceName").isPresent()) {
      throw new LambdaError(
          "ValidationException",
          400,
          "Kiln has no partner event sources: create the bus without EventSourceName.");
    }
    String arn =
        buses.createBus(required(b, "Name", "name"), text(b, "Description"), tags(b, "Tags"));
    ObjectNode out = JSON.createObjectNode();
    out.put("EventBusArn", arn);
    text(b, "Description").ifPresent(d -> out.put("Description", d));
    return out;
  }

  private ObjectNode busJson(Bus bus) {
    ObjectNode n = JSON.createObjectNode();
    n.put("Name", bus.name());
    n.put("Arn", buses.arns().bus(bus.name()));
    bus.description().ifPresent(d -> n.put("Description", d));
    n.put("CreationTime", epochSeconds(bus.created()));
    n.put("LastModifiedTime", epochSeconds(bus.created()));
    return n;
  }

  private ObjectNode listBuses(JsonNode b) {
    Page<Bus> page = buses.buses(text(b, "NamePrefix"), integer(b, "Limit"), text(b, "NextToken"));
    ObjectNode out = JSON.createObjectNode();
    ArrayNode list = out.putArray("EventBuses");
    page.items().forEach(bus -> list.add(busJson(bus)));
    page.nextToken().ifPresent(t -> out.put("NextToken", t));
    return out;
  }

  private static BigDecimal epochSeconds(Instant t) {
    return BigDecimal.valueOf(t.toEpochMilli()).movePointLeft(3);
  }

  // ---------------------------------------------------------------- reading members

  private static JsonNode readJson(ServerRequest req) throws IOException {
    byte[] bytes;
    Optional<byte[]> read = RequestAuthentication.body(req);
    if (read.isPresent()) {
      bytes = read.get();
    } else if (!req.content().hasEntity()) {
      bytes = new byte[0];
    } else {
      try (InputStream in = req.content().inputStream()) {
        bytes = in.readNBytes(MAX_BODY + 1);
      }
    }
    if (bytes.length > MAX_BODY) {
      throw new LambdaError(
          "ValidationException",
          413,
          "Request must be smaller than " + MAX_BODY + " bytes for EventBridge operations");
    }
    if (bytes.length == 0) {
      return JSON.createObjectNode();
    }
    JsonNode node;
    try {
      node = JSON.readTree(bytes);
    } catch (IOException e) {
      throw new LambdaError("SerializationException", 400, "The request body is not valid JSON");
    }
    if (node == null || !node.isObject()) {
      throw new LambdaError(
          "SerializationException", 400, "The request body must be a JSON object");
    }
    return node;
  }

  private static Optional<String> text(JsonNode b, String member) {
    JsonNode v = b.get(member);
    if (v == null || v.isNull()) {
      return Optional.empty();
    }
    if (!v.isTextual()) {
      throw serialization(member);
    }
    return Optional.of(v.asText());
  }

  private static String required(JsonNode b, String member, String field) {
    return text(b, member).orElseThrow(() -> missing(field));
  }

  private static Optional<Integer> integer(JsonNode b, String member) {
    JsonNode v = b.get(member);
    if (v == null || v.isNull()) {
      return Optional.empty();
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw serialization(member);
    }
    return Optional.of(v.asInt());
  }

  private static Optional<Instant> timestamp(JsonNode b, String member) {
    JsonNode v = b.get(member);
    if (v == null || v.isNull()) {
      return Optional.empty();
    }
    if (v.isNumber()) {
      BigDecimal seconds = v.decimalValue();
      return Optional.of(
          Instant.ofEpochSecond(
              seconds.longValue(), seconds.remainder(BigDecimal.ONE).movePointRight(9).intValue()));
    }
    if (v.isTextual()) {
      try {
        return Optional.of(Instant.parse(v.asText()));
      } catch (java.time.format.DateTimeParseException e) {
        throw serialization(member);
      }
    }
    throw serialization(member);
  }

  private static List<String> strings(JsonNode b, String member) {
    JsonNode v = b.get(member);
    if (v == null || v.isNull()) {
      return List.of();
    }
    if (!v.isArray()) {
      throw serialization(member);
    }
    List<String> out = new ArrayList<>();
    for (JsonNode s : v) {
      if (!s.isTextual()) {
        throw serialization(member);
      }
      out.add(s.asText());
    }
    return out;
  }

  private static Map<String, String> stringMap(JsonNode b, String member) {
    JsonNode v = b.get(member);
    if (v == null || v.isNull()) {
      return Map.of();
    }
    if (!v.isObject()) {
      throw serialization(member);
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (var e : v.properties()) {
      if (!e.getValue().isTextual()) {
        throw serialization(member);
      }
      out.put(e.getKey(), e.getValue().asText());
    }
    return out;
  }

  private static Map<String, String> tags(JsonNode b, String member) {
    JsonNode v = b.get(member);
    if (v == null || v.isNull()) {
      return Map.of();
    }
    if (!v.isArray()) {
      throw serialization(member);
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (JsonNode t : v) {
      if (!t.isObject()) {
        throw serialization(member);
      }
      out.put(required(t, "Key", "tags.member.key"), required(t, "Value", "tags.member.value"));
    }
    return out;
  }

  private static LambdaError missing(String field) {
    return new LambdaError(
        "ValidationException",
        400,
        "1 validation error detected: Value null at '"
            + field
            + "' failed to satisfy constraint: Member must not be null");
  }

  private static LambdaError constraint(String field, Object value, String constraint) {
    return new LambdaError(
        "ValidationException",
        400,
        "1 validation error detected: Value '"
            + value
            + "' at '"
            + field
            + "' failed to satisfy constraint: "
            + constraint);
  }

  private static LambdaError serialization(String member) {
    return new LambdaError(
        "SerializationException", 400, "Unexpected type for member " + member + " in the request");
  }
}
