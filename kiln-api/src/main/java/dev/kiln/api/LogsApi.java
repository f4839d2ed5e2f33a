package dev.kiln.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.model.Account;
import dev.kiln.store.LogStore;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The part of the CloudWatch Logs API (2014-03-28, JSON 1.1: {@code POST /} with {@code
 * X-Amz-Target: Logs_20140328.<Operation>}) that reads and manages function logs, so that the AWS
 * CLI's {@code aws logs}, boto3 and the SDKs work with Kiln's logs with nothing but an endpoint
 * override. Reading: DescribeLogGroups, DescribeLogStreams, GetLogEvents and FilterLogEvents.
 * Managing: CreateLogGroup, CreateLogStream, DeleteLogGroup, DeleteLogStream, PutRetentionPolicy
 * and DeleteRetentionPolicy, which is what a Lambda user does to a function's log group (create it
 * before the first invocation to give it a retention; delete it to start over).
 *
 * <p>Names are checked against the service model's constraints before anything else, with the
 * service's "1 validation error detected" messages. Errors are JSON 1.1's: status 400 and {@code
 * {"__type": ..., "message": ...}}.
 */
final class LogsApi {

  private static final String TARGET_PREFIX = "Logs_20140328.";
  private static final int MAX_BODY = 64 * 1024;
  private static final int DEFAULT_EVENTS = 10_000;
  private static final int MAX_NAME_LENGTH = 512;
  private static final String GROUP_NAME_PATTERN = "[\\.\\-_/#A-Za-z0-9]+";
  private static final String STREAM_NAME_PATTERN = "[^:*]*";

  /** The retentions CloudWatch Logs accepts, in days, as its service model lists them. */
  private static final List<Integer> RETENTION_DAYS =
      List.of(
          1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
          2922, 3288, 3653);

  private final LogStore logs;
  private final Account account;

  LogsApi(LogStore logs, Account account) {
    this.logs = logs;
    this.account = account;
  }

  /** A CloudWatch Logs error, as JSON 1.1 sends it. */
  static final class LogsError extends RuntimeException {
    final String type;

    LogsError(String type, String message) {
      super(message, null, false, false);
      this.type = type;
    }
  }

  void routes(HttpRouting.Builder r) {
    r.post("/", this::dispatch);
  }

  private void dispatch(ServerRequest req, ServerResponse res) throws IOException {
    String target = LambdaApi.header(req, "X-Amz-Target").orElse("");
    try {
      if (!target.startsWith(TARGET_PREFIX)) {
        throw new LogsError(
            "UnknownOperationException",
            "Kiln serves the CloudWatch Logs API at / and needs X-Amz-Target: "
                + TARGET_PREFIX
                + "<Operation>, got '"
                + target
                + "'");
      }
      JsonNode body = readJson(req);
      ObjectNode out =
          switch (target.substring(TARGET_PREFIX.length())) {
            case "DescribeLogGroups" -> describeLogGroups(body);
            case "DescribeLogStreams" -> describeLogStreams(body);
            case "GetLogEvents" -> getLogEvents(body);
            case "FilterLogEvents" -> filterLogEvents(body);
            case "CreateLogGroup" -> createLogGroup(body);
            case "CreateLogStream" -> createLogStream(body);
            case "DeleteLogGroup" -> deleteLogGroup(body);
            case "DeleteLogStream" -> deleteLogStream(body);
            case "PutRetentionPolicy" -> putRetentionPolicy(body);
            case "DeleteRetentionPolicy" -> deleteRetentionPolicy(body);
            default ->
                throw new LogsError(
                    "UnknownOperationException",
                    "Kiln does not implement the CloudWatch Logs operation "
                        + target.substring(TARGET_PREFIX.length())
                        + "; it serves DescribeLogGroups, DescribeLogStreams, GetLogEvents,"
                        + " FilterLogEvents, CreateLogGroup, CreateLogStream, DeleteLogGroup,"
                        + " DeleteLogStream, PutRetentionPolicy and DeleteRetentionPolicy");
          };
      res.status(200)
          .header("x-amzn-RequestId", LambdaApi.requestId(req))
          .header(HeaderNames.CONTENT_TYPE, "application/x-amz-json-1.1")
          .send(out.toString().getBytes(StandardCharsets.UTF_8));
    } catch (LogsError e) {
      ObjectNode error = FunctionJson.JSON.createObjectNode();
      error.put("__type", e.type);
      error.put("message", e.getMessage());
      res.status(400)
          .header("x-amzn-RequestId", LambdaApi.requestId(req))
          .header("x-amzn-ErrorType", e.type)
          .header(HeaderNames.CONTENT_TYPE, "application/x-amz-json-1.1")
          .send(error.toString().getBytes(StandardCharsets.UTF_8));
    }
  }

  private static JsonNode readJson(ServerRequest req) throws IOException {
    byte[] bytes = LambdaApi.readBody(req, MAX_BODY, "CloudWatch Logs");
    if (bytes.length == 0) {
      return FunctionJson.JSON.createObjectNode();
    }
    try {
      JsonNode node = FunctionJson.JSON.readTree(bytes);
      if (node == null || !node.isObject()) {
        throw new LogsError("SerializationException", "The request body must be a JSON object");
      }
      return node;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new LogsError("SerializationException", "The request body is not valid JSON");
    }
  }

  private ObjectNode describeLogGroups(JsonNode body) {
    String prefix = text(body, "logGroupNamePrefix").orElse("");
    List<LogStore.Group> groups = logs.groups(prefix);
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    ArrayNode list = out.putArray("logGroups");
    for (LogStore.Group g : page(body, groups, out)) {
      ObjectNode n = list.addObject();
      n.put("logGroupName", g.name());
      n.put("creationTime", g.creationTime());
      g.retentionInDays().ifPresent(days -> n.put("retentionInDays", days));
      n.put("metricFilterCount", 0);
      n.put("arn", groupArn(g.name()) + ":*");
      n.put("logGroupArn", groupArn(g.name()));
      n.put("storedBytes", g.storedBytes());
    }
    return out;
  }

  private ObjectNode describeLogStreams(JsonNode body) {
    String group = requireGroup(body);
    String orderBy = text(body, "orderBy").orElse("LogStreamName");
    if (!orderBy.equals("LogStreamName") && !orderBy.equals("LastEventTime")) {
      throw new LogsError(
          "InvalidParameterException",
          "orderBy must be LogStreamName or LastEventTime, got " + orderBy);
    }
    String prefix = text(body, "logStreamNamePrefix").orElse("");
    if (!prefix.isEmpty() && orderBy.equals("LastEventTime")) {
      throw new LogsError(
          "InvalidParameterException", "Cannot order by LastEventTime with a logStreamNamePrefix.");
    }
    List<LogStore.Stream> streams =
        logs.streams(
            group, prefix, orderBy.equals("LastEventTime"), body.path("descending").asBoolean());
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    ArrayNode list = out.putArray("logStreams");
    for (LogStore.Stream s : page(body, streams, out)) {
      ObjectNode n = list.addObject();
      n.put("logStreamName", s.name());
      n.put("creationTime", s.creationTime());
      s.firstEventTimestamp().ifPresent(t -> n.put("firstEventTimestamp", t));
      s.lastEventTimestamp().ifPresent(t -> n.put("lastEventTimestamp", t));
      s.lastIngestionTime().ifPresent(t -> n.put("lastIngestionTime", t));
      n.put("arn", groupArn(group) + ":log-stream:" + s.name());
      n.put("storedBytes", s.storedBytes());
    }
    return out;
  }

  private ObjectNode getLogEvents(JsonNode body) {
    String group = requireGroup(body);
    String stream =
        text(body, "logStreamName")
            .orElseThrow(
                () ->
                    new LogsError(
                        "InvalidParameterException", "logStreamName is a required parameter"));
    requireStream(group, stream);
    int limit = limit(body, DEFAULT_EVENTS, DEFAULT_EVENTS);
    long start = body.path("startTime").asLong(0);
    long end = body.has("endTime") ? body.get("endTime").asLong() : Long.MAX_VALUE;
    Optional<String> token = token(body);
    Optional<Long> after = Optional.empty();
    Optional<Long> before = Optional.empty();
    if (token.isPresent()) {
      String t = token.get();
      if (!t.matches("[fb]/[0-9]+")) {
        throw new LogsError("InvalidParameterException", "The specified nextToken is invalid.");
      }
      long id = Long.parseLong(t.substring(2));
      if (t.startsWith("f/")) {
        after = Optional.of(id);
      } else {
        before = Optional.of(id);
      }
    }
    List<LogStore.StoredEvent> events =
        logs.events(
            group,
            stream,
            start,
            end,
            after,
            before,
            limit,
            body.path("startFromHead").asBoolean());
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    ArrayNode list = out.putArray("events");
    for (LogStore.StoredEvent e : events) {
      ObjectNode n = list.addObject();
      n.put("timestamp", e.timestamp());
      n.put("message", e.message());
      n.put("ingestionTime", e.ingestionTime());
    }
    // with nothing new, the tokens stay where they were: the CLI stops paging when they repeat
    long mark = after.isPresent() ? after.get() : before.orElse(0L);
    long first = events.isEmpty() ? mark : events.get(0).id();
    long last = events.isEmpty() ? mark : events.getLast().id();
    out.put("nextForwardToken", "f/" + last);
    out.put("nextBackwardToken", "b/" + first);
    return out;
  }

  private ObjectNode filterLogEvents(JsonNode body) {
    String group = requireGroup(body);
    List<String> streams = new ArrayList<>();
    body.path("logStreamNames").forEach(n -> streams.add(n.asText()));
    String prefix = text(body, "logStreamNamePrefix").orElse("");
    if (!streams.isEmpty() && !prefix.isEmpty()) {
      throw new LogsError(
          "InvalidParameterException",
          "logStreamNames and logStreamNamePrefix are mutually exclusive");
    }
    FilterPattern pattern = FilterPattern.parse(text(body, "filterPattern").orElse(""));
    int limit = limit(body, DEFAULT_EVENTS, DEFAULT_EVENTS);
    long start = body.path("startTime").asLong(0);
    long end = body.has("endTime") ? body.get("endTime").asLong() : Long.MAX_VALUE;
    long after = token(body).map(LogsApi::parseEventToken).orElse(0L);
    List<LogStore.StoredEvent> matched = new ArrayList<>();
    long scannedTo = after;
    boolean more = true;
    // scan in pages until the page is full or the group is exhausted
    while (matched.size() < limit && more) {
      List<LogStore.StoredEvent> page =
          logs.scan(group, streams, prefix, start, end, scannedTo, 5_000);
      more = page.size() == 5_000;
      for (LogStore.StoredEvent e : page) {
        scannedTo = e.id();
        if (pattern.matches(e.message())) {
          matched.add(e);
          if (matched.size() == limit) {
            more = true;
            break;
          }
        }
      }
    }
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    ArrayNode list = out.putArray("events");
    for (LogStore.StoredEvent e : matched) {
      ObjectNode n = list.addObject();
      n.put("logStreamName", e.stream());
      n.put("timestamp", e.timestamp());
      n.put("message", e.message());
      n.put("ingestionTime", e.ingestionTime());
      n.put("eventId", Long.toString(e.id()));
    }
    out.putArray("searchedLogStreams");
    if (more) {
      out.put("nextToken", "e/" + scannedTo);
    }
    return out;
  }

  private ObjectNode createLogGroup(JsonNode body) {
    String group = groupName(body);
    if (!logs.createGroup(group)) {
      throw new LogsError(
          "ResourceAlreadyExistsException", "The specified log group already exists");
    }
    return FunctionJson.JSON.createObjectNode();
  }

  private ObjectNode createLogStream(JsonNode body) {
    String group = groupName(body);
    String stream = streamName(body);
    requireExisting(group);
    if (!logs.createStream(group, stream)) {
      throw new LogsError(
          "ResourceAlreadyExistsException", "The specified log stream already exists");
    }
    return FunctionJson.JSON.createObjectNode();
  }

  private ObjectNode deleteLogGroup(JsonNode body) {
    if (!logs.deleteGroup(groupName(body))) {
      throw groupNotFound();
    }
    return FunctionJson.JSON.createObjectNode();
  }

  private ObjectNode deleteLogStream(JsonNode body) {
    String group = groupName(body);
    String stream = streamName(body);
    requireExisting(group);
    if (!logs.deleteStream(group, stream)) {
      throw streamNotFound();
    }
    return FunctionJson.JSON.createObjectNode();
  }

  private ObjectNode putRetentionPolicy(JsonNode body) {
    String group = groupName(body);
    JsonNode days = body.get("retentionInDays");
    if (days == null || days.isNull()) {
      throw new LogsError("InvalidParameterException", "retentionInDays is a required parameter");
    }
    if (!days.isIntegralNumber()) {
      throw new LogsError("SerializationException", "retentionInDays must be an integer");
    }
    if (!days.canConvertToInt() || !RETENTION_DAYS.contains(days.intValue())) {
      throw validationError(
          "retentionInDays",
          days.asText(),
          "Member must satisfy enum value set: " + RETENTION_DAYS);
    }
    if (!logs.setRetention(group, Optional.of(days.intValue()))) {
      throw groupNotFound();
    }
    return FunctionJson.JSON.createObjectNode();
  }

  private ObjectNode deleteRetentionPolicy(JsonNode body) {
    if (!logs.setRetention(groupName(body), Optional.empty())) {
      throw groupNotFound();
    }
    return FunctionJson.JSON.createObjectNode();
  }

  /** The request's {@code logGroupName}, which must satisfy the model's LogGroupName. */
  private static String groupName(JsonNode body) {
    return validName(body, "logGroupName", GROUP_NAME_PATTERN);
  }

  /** The request's {@code logStreamName}, which must satisfy the model's LogStreamName. */
  private static String streamName(JsonNode body) {
    return validName(body, "logStreamName", STREAM_NAME_PATTERN);
  }

  private static String validName(JsonNode body, String member, String pattern) {
    String name =
        text(body, member)
            .orElseThrow(
                () ->
                    new LogsError(
                        "InvalidParameterException", member + " is a required parameter"));
    if (name.isEmpty()) {
      throw validationError(member, name, "Member must have length greater than or equal to 1");
    }
    if (name.length() > MAX_NAME_LENGTH) {
      throw validationError(
          member, name, "Member must have length less than or equal to " + MAX_NAME_LENGTH);
    }
    if (!name.matches(pattern)) {
      throw validationError(
          member, name, "Member must satisfy regular expression pattern: " + pattern);
    }
    return name;
  }

  /** CloudWatch's message for a value that breaks a constraint of the service model. */
  private static LogsError validationError(String member, String value, String constraint) {
    return new LogsError(
        "InvalidParameterException",
        "1 validation error detected: Value '"
            + value
            + "' at '"
            + member
            + "' failed to satisfy constraint: "
            + constraint);
  }

  private static LogsError groupNotFound() {
    return new LogsError("ResourceNotFoundException", "The specified log group does not exist.");
  }

  private static LogsError streamNotFound() {
    return new LogsError("ResourceNotFoundException", "The specified log stream does not exist.");
  }

  /**
   * The page of {@code all} that the request's {@code nextToken} and {@code limit} (1 to 50) ask
   * for; sets {@code nextToken} on {@code out} when more follow.
   */
  private static <T> List<T> page(JsonNode body, List<T> all, ObjectNode out) {
    int limit = limit(body, 50, 50);
    int from =
        token(body)
            .map(
                t -> {
                  if (!t.matches("[0-9]{1,9}")) {
                    throw new LogsError(
                        "InvalidParameterException", "The specified nextToken is invalid.");
                  }
                  return Integer.parseInt(t);
                })
            .orElse(0);
    int to = Math.min(all.size(), from + limit);
    if (to < all.size()) {
      out.put("nextToken", Integer.toString(to));
    }
    return all.subList(Math.min(from, to), to);
  }

  private static long parseEventToken(String token) {
    if (!token.matches("e/[0-9]+")) {
      throw new LogsError("InvalidParameterException", "The specified nextToken is invalid.");
    }
    return Long.parseLong(token.substring(2));
  }

  private String requireGroup(JsonNode body) {
    String group =
        text(body, "logGroupName")
            .or(() -> text(body, "logGroupIdentifier").map(LogsApi::groupFromIdentifier))
            .orElseThrow(
                () ->
                    new LogsError(
                        "InvalidParameterException", "logGroupName is a required parameter"));
    requireExisting(group);
    return group;
  }

  private void requireExisting(String group) {
    if (logs.groups(group).stream().noneMatch(g -> g.name().equals(group))) {
      throw groupNotFound();
    }
  }

  private void requireStream(String group, String stream) {
    if (logs.streams(group, stream, false, false).stream()
        .noneMatch(s -> s.name().equals(stream))) {
      throw streamNotFound();
    }
  }

  /** A log group ARN (with or without {@code :*}) or a name. */
  private static String groupFromIdentifier(String identifier) {
    int at = identifier.indexOf(":log-group:");
    if (at < 0) {
      return identifier;
    }
    String name = identifier.substring(at + ":log-group:".length());
    return name.endsWith(":*") ? name.substring(0, name.length() - 2) : name;
  }

  private String groupArn(String group) {
    return "arn:aws:logs:" + account.region() + ":" + account.accountId() + ":log-group:" + group;
  }

  private static Optional<String> text(JsonNode body, String member) {
    JsonNode v = body.get(member);
    if (v == null || v.isNull()) {
      return Optional.empty();
    }
    if (!v.isTextual()) {
      throw new LogsError("SerializationException", member + " must be a string");
    }
    return Optional.of(v.asText());
  }

  private static Optional<String> token(JsonNode body) {
    return text(body, "nextToken");
  }

  private static int limit(JsonNode body, int defaultLimit, int max) {
    if (!body.has("limit")) {
      return defaultLimit;
    }
    int limit = body.get("limit").asInt();
    if (limit < 1 || limit > max) {
      throw validationError(
          "limit", Integer.toString(limit), "Member must have value between 1 and " + max);
    }
    return limit;
  }
}
