package dev.kiln.api.scheduler;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.api.ServiceRoutes;
import dev.kiln.api.auth.RequestAuthentication;
import dev.kiln.events.schedule.LambdaTarget;
import dev.kiln.events.schedule.ScheduleExpression;
import dev.kiln.events.schedule.Schedules;
import dev.kiln.model.Schedule;
import dev.kiln.model.ScheduleGroup;
import dev.kiln.store.ScheduleStore;
import dev.kiln.store.StorageException;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Amazon EventBridge Scheduler's API (REST-JSON, 2021-06-30) as its service model ({@code
 * reference/aws-models/scheduler/service-2.json}) defines it: schedules, schedule groups and the
 * groups' tags, at Kiln's endpoint, so {@code aws scheduler ... --endpoint-url} and the SDKs'
 * Scheduler clients work. Each handler reads its members where the model says they travel, checks
 * them as the model's constraints and Scheduler's rules say (the expression in its time zone, the
 * end after the start, the target a Kiln function), and only then stores anything; errors are
 * Scheduler's shapes: {@code x-amzn-ErrorType} and a body with {@code Message}.
 *
 * <p>UpdateSchedule replaces every member, as AWS's does: what the request leaves out takes its
 * default. ClientToken makes CreateSchedule idempotent: the same token again answers with the
 * schedule it made. Stateless; {@link Schedules} does the storing.
 */
public final class SchedulerApi implements ServiceRoutes {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BODY = 1024 * 1024;
  private static final int MAX_RESULTS = 100;

  private static final Pattern NAME = Pattern.compile("^[0-9a-zA-Z-_.]+$");
  private static final Pattern ROLE_ARN =
      Pattern.compile("^arn:aws(-[a-z]+)?:iam::\\d{12}:role\\/[\\w+=,.@\\/-]+$");
  private static final Pattern KMS_ARN =
      Pattern.compile("^arn:aws(-[a-z]+)?:kms:[a-z0-9\\-]+:\\d{12}:(key|alias)\\/[0-9a-zA-Z-_]*$");
  private static final Pattern CLIENT_TOKEN = Pattern.compile("^[a-zA-Z0-9-_]+$");
  private static final Pattern GROUP_ARN =
      Pattern.compile(
          "^arn:aws(-[a-z]+)?:scheduler:[a-z0-9\\-]+:\\d{12}:schedule-group\\/([0-9a-zA-Z-_.]+)$");

  private final Schedules schedules;

  public SchedulerApi(Schedules schedules) {
    this.schedules = schedules;
  }

  /** An error in Scheduler's shape. */
  static final class SchedulerError extends RuntimeException {
    final String type;
    final int status;

    SchedulerError(String type, int status, String message) {
      super(message, null, false, false);
      this.type = type;
      this.status = status;
    }

    static SchedulerError validation(String message) {
      return new SchedulerError("ValidationException", 400, message);
    }

    static SchedulerError notFound(String message) {
      return new SchedulerError("ResourceNotFoundException", 404, message);
    }

    static SchedulerError conflict(String message) {
      return new SchedulerError("ConflictException", 409, message);
    }
  }

  @Override
  public void routes(HttpRouting.Builder r) {
    r.post("/schedules/{name}", this::createSchedule)
        .get("/schedules/{name}", this::getSchedule)
        .put("/schedules/{name}", this::updateSchedule)
        .delete("/schedules/{name}", this::deleteSchedule)
        .get("/schedules", this::listSchedules)
        .post("/schedule-groups/{name}", this::createGroup)
        .get("/schedule-groups/{name}", this::getGroup)
        .delete("/schedule-groups/{name}", this::deleteGroup)
        .get("/schedule-groups", this::listGroups)
        .post("/tags/*", this::tagResource)
        .delete("/tags/*", this::untagResource)
        .get("/tags/*", this::listTags)
        .error(SchedulerError.class, (req, res, e) -> send(res, e));
  }

  // ---- schedules --------------------------------------------------------------------------

  private void createSchedule(ServerRequest req, ServerResponse res) throws IOException {
    String name = pathName(req);
    JsonNode body = body(req);
    Schedule s = schedule(name, body, now(), Optional.empty());
    try {
      schedules.create(s);
    } catch (StorageException.AlreadyExists e) {
      Schedule existing = schedules.get(s.groupName(), name).orElseThrow().schedule();
      if (s.clientToken().isEmpty() || !existing.clientToken().equals(s.clientToken())) {
        throw SchedulerError.conflict("Schedule " + name + " already exists.");
      }
      // the same request again: idempotent
    } catch (StorageException.NotFound e) {
      throw SchedulerError.notFound("Schedule group " + s.groupName() + " does not exist.");
    }
    sendJson(res, JSON.createObjectNode().put("ScheduleArn", s.arn()));
  }

  private void updateSchedule(ServerRequest req, ServerResponse res) throws IOException {
    String name = pathName(req);
    JsonNode body = body(req);
    String group = groupName(optionalText(body, "GroupName"));
    ScheduleStore.Stored existing =
        schedules.get(group, name).orElseThrow(() -> scheduleNotFound(name));
    Schedule s =
        schedule(name, body, existing.schedule().creationDate(), Optional.of(existing.schedule()));
    try {
      schedules.update(s);
    } catch (StorageException.NotFound e) {
      throw scheduleNotFound(name);
    }
    sendJson(res, JSON.createObjectNode().put("ScheduleArn", s.arn()));
  }

  private void getSchedule(ServerRequest req, ServerResponse res) {
    String name = pathName(req);
    String group = groupName(query(req, "groupName"));
    Schedule s = schedules.get(group, name).orElseThrow(() -> scheduleNotFound(name)).schedule();
    sendJson(res, scheduleJson(s));
  }

  private void deleteSchedule(ServerRequest req, ServerResponse res) {
    String name = pathName(req);
    String group = groupName(query(req, "groupName"));
    query(req, "clientToken").ifPresent(t -> pattern("clientToken", t, CLIENT_TOKEN, 64));
    if (!schedules.delete(group, name)) {
      throw scheduleNotFound(name);
    }
    sendJson(res, JSON.createObjectNode());
  }

  private void listSchedules(ServerRequest req, ServerResponse res) {
    Optional<String> group = query(req, "ScheduleGroup");
    group.ifPresent(g -> pattern("groupName", g, NAME, 64));
    Optional<String> prefix = query(req, "NamePrefix");
    prefix.ifPresent(p -> pattern("namePrefix", p, NAME, 64));
    Optional<String> state = query(req, "State");
    state.ifPresent(v -> oneOf("state", v, List.of("ENABLED", "DISABLED")));
    int max = maxResults(req);
    Optional<String> after = query(req, "NextToken").map(SchedulerApi::decodeToken);
    if (group.isPresent() && schedules.group(group.get()).isEmpty()) {
      throw SchedulerError.notFound("Schedule group " + group.get() + " does not exist.");
    }
    List<Schedule> page = schedules.list(group, prefix, state, after, max + 1);
    ObjectNode out = JSON.createObjectNode();
    ArrayNode list = out.putArray("Schedules");
    page.stream()
        .limit(max)
        .forEach(
            s -> {
              ObjectNode summary = list.addObject();
              summary.put("Arn", s.arn());
              summary.put("CreationDate", seconds(s.creationDate()));
              summary.put("GroupName", s.groupName());
              summary.put("LastModificationDate", seconds(s.lastModificationDate()));
              summary.put("Name", s.name());
              summary.put("State", s.state());
              summary.putObject("Target").put("Arn", s.target().arn());
            });
    if (page.size() > max) {
      out.put("NextToken", encodeToken(page.get(max - 1).key()));
    }
    sendJson(res, out);
  }

  // ---- schedule groups --------------------------------------------------------------------

  private void createGroup(ServerRequest req, ServerResponse res) throws IOException {
    String name = pathName(req);
    JsonNode body = body(req);
    optionalText(body, "ClientToken").ifPresent(t -> pattern("clientToken", t, CLIENT_TOKEN, 64));
    Map<String, String> tags = tags(body);
    try {
      schedules.createGroup(name, tags);
    } catch (StorageException.AlreadyExists e) {
      throw SchedulerError.conflict("Schedule group " + name + " already exists.");
    }
    sendJson(res, JSON.createObjectNode().put("ScheduleGroupArn", schedules.groupArn(name)));
  }

  private void getGroup(ServerRequest req, ServerResponse res) {
    String name = pathName(req);
    ScheduleGroup g = schedules.group(name).orElseThrow(() -> groupNotFound(name));
    sendJson(res, groupJson(g, JSON.createObjectNode()));
  }

  private void deleteGroup(ServerRequest req, ServerResponse res) {
    String name = pathName(req);
    query(req, "clientToken").ifPresent(t -> pattern("clientToken", t, CLIENT_TOKEN, 64));
    if (name.equals(Schedule.DEFAULT_GROUP)) {
      throw SchedulerError.validation("The default schedule group cannot be deleted.");
    }
    if (!schedules.deleteGroup(name)) {
      throw groupNotFound(name);
    }
    sendJson(res, JSON.createObjectNode());
  }

  private void listGroups(ServerRequest req, ServerResponse res) {
    Optional<String> prefix = query(req, "NamePrefix");
    prefix.ifPresent(p -> pattern("namePrefix", p, NAME, 64));
    int max = maxResults(req);
    Optional<String> after = query(req, "NextToken").map(SchedulerApi::decodeToken);
    List<ScheduleGroup> page =
        schedules.groups().stream()
            .filter(g -> prefix.map(g.name()::startsWith).orElse(true))
            .filter(g -> after.map(a -> g.name().compareTo(a) > 0).orElse(true))
            .limit(max + 1L)
            .toList();
    ObjectNode out = JSON.createObjectNode();
    ArrayNode list = out.putArray("ScheduleGroups");
    page.stream().limit(max).forEach(g -> groupJson(g, list.addObject()));
    if (page.size() > max) {
      out.put("NextToken", encodeToken(page.get(max - 1).name()));
    }
    sendJson(res, out);
  }

  // ---- tags -------------------------------------------------------------------------------

  private void tagResource(ServerRequest req, ServerResponse res) throws IOException {
    String group = taggedGroup(req);
    JsonNode body = body(req);
    if (!body.has("Tags")) {
      throw SchedulerError.validation(
          "1 validation error detected: Value null at 'tags' failed to satisfy constraint:"
              + " Member must not be null");
    }
    Map<String, String> tags =
        new LinkedHashMap<>(schedules.group(group).orElseThrow(() -> groupNotFound(group)).tags());
    tags.putAll(tags(body));
    checkTagCount(tags);
    schedules.setGroupTags(group, tags);
    sendJson(res, JSON.createObjectNode());
  }

  private void untagResource(ServerRequest req, ServerResponse res) {
    String group = taggedGroup(req);
    List<String> keys = req.query().all("TagKeys", List::of);
    if (keys.isEmpty()) {
      throw SchedulerError.validation(
          "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint:"
              + " Member must not be null");
    }
    Map<String, String> tags =
        new LinkedHashMap<>(schedules.group(group).orElseThrow(() -> groupNotFound(group)).tags());
    keys.forEach(tags::remove);
    schedules.setGroupTags(group, tags);
    sendJson(res, JSON.createObjectNode());
  }

  private void listTags(ServerRequest req, ServerResponse res) {
    String group = taggedGroup(req);
    ScheduleGroup g = schedules.group(group).orElseThrow(() -> groupNotFound(group));
    ObjectNode out = JSON.createObjectNode();
    ArrayNode list = out.putArray("Tags");
    g.tags().forEach((k, v) -> list.addObject().put("Key", k).put("Value", v));
    sendJson(res, out);
  }

  /** The group a {@code /tags/ARN} path names; the ARN is one path segment, percent-encoded. */
  private String taggedGroup(ServerRequest req) {
    String raw = req.path().rawPath();
    String arn =
        URLDecoder.decode(raw.substring(raw.indexOf("/tags/") + 6), StandardCharsets.UTF_8);
    var m = GROUP_ARN.matcher(arn);
    if (arn.length() > 1011 || !m.matches()) {
      throw SchedulerError.validation(
          "1 validation error detected: Value '"
              + arn
              + "' at 'resourceArn' failed to satisfy constraint: Member must satisfy regular"
              + " expression pattern: "
              + GROUP_ARN.pattern().replace("([0-9a-zA-Z-_.]+)", "[0-9a-zA-Z-_.]+"));
    }
    if (!arn.equals(schedules.groupArn(m.group(2)))) {
      throw groupNotFound(m.group(2));
    }
    return m.group(2);
  }

  // ---- reading a schedule -----------------------------------------------------------------

  /**
   * The schedule a Create or Update request describes, checked; {@code created} is its creation
   * time ({@code previous}'s, for an update).
   */
  private Schedule schedule(
      String name, JsonNode body, Instant created, Optional<Schedule> previous) {
    String group = groupName(optionalText(body, "GroupName"));
    Optional<String> clientToken = optionalText(body, "ClientToken");
    clientToken.ifPresent(t -> pattern("clientToken", t, CLIENT_TOKEN, 64));
    String expression = requiredText(body, "ScheduleExpression", "scheduleExpression");
    length("scheduleExpression", expression, 1, 256);
    String timezone = optionalText(body, "ScheduleExpressionTimezone").orElse("UTC");
    length("scheduleExpressionTimezone", timezone, 1, 50);
    Optional<String> description = optionalText(body, "Description");
    description.ifPresent(d -> length("description", d, 0, 512));
    String state = optionalText(body, "State").orElse(Schedule.ENABLED);
    oneOf("state", state, List.of("ENABLED", "DISABLED"));
    String afterCompletion = optionalText(body, "ActionAfterCompletion").orElse("NONE");
    oneOf("actionAfterCompletion", afterCompletion, List.of("NONE", "DELETE"));
    Optional<String> kms = optionalText(body, "KmsKeyArn");
    kms.ifPresent(k -> pattern("kmsKeyArn", k, KMS_ARN, 2048));
    Optional<Instant> start = timestamp(body, "StartDate");
    Optional<Instant> end = timestamp(body, "EndDate");
    Schedule.FlexibleTimeWindow window = flexibleTimeWindow(body);
    Schedule.Target target = target(body);

    ScheduleExpression parsed;
    try {
      parsed =
          ScheduleExpression.parse(
              expression, ScheduleExpression.zone(timezone), ScheduleExpression.Kinds.ALL);
    } catch (ScheduleExpression.InvalidTimeZone e) {
      throw SchedulerError.validation("Invalid Schedule Expression Timezone " + timezone + ".");
    } catch (ScheduleExpression.InvalidScheduleExpression e) {
      throw SchedulerError.validation("Invalid Schedule Expression " + expression + ".");
    }
    if (!parsed.oneTime()
        && start.isPresent()
        && end.isPresent()
        && !end.get().isAfter(start.get())) {
      throw SchedulerError.validation("The EndDate must be after the StartDate.");
    }
    // a new schedule was last modified when it was created; an update, now
    Instant now = previous.isPresent() ? now() : created;
    if (!parsed.oneTime() && end.isPresent() && !end.get().isAfter(now)) {
      throw SchedulerError.validation("The EndDate must be in the future.");
    }
    return new Schedule(
        group,
        name,
        schedules.scheduleArn(group, name),
        expression,
        timezone,
        start,
        end,
        description,
        state,
        kms,
        target,
        window,
        afterCompletion,
        created,
        now,
        clientToken.or(() -> previous.flatMap(Schedule::clientToken)));
  }

  private Schedule.FlexibleTimeWindow flexibleTimeWindow(JsonNode body) {
    JsonNode w = body.get("FlexibleTimeWindow");
    if (w == null || w.isNull()) {
      throw nullMember("flexibleTimeWindow");
    }
    String mode = requiredText(w, "Mode", "flexibleTimeWindow.mode");
    oneOf("flexibleTimeWindow.mode", mode, List.of("OFF", "FLEXIBLE"));
    Optional<Integer> minutes = optionalInt(w, "MaximumWindowInMinutes");
    minutes.ifPresent(m -> range("flexibleTimeWindow.maximumWindowInMinutes", m, 1, 1440));
    if (mode.equals("FLEXIBLE") && minutes.isEmpty()) {
      throw SchedulerError.validation(
          "MaximumWindowInMinutes must be provided when the FlexibleTimeWindow's Mode is"
              + " FLEXIBLE.");
    }
    if (mode.equals("OFF") && minutes.isPresent()) {
      throw SchedulerError.validation(
          "MaximumWindowInMinutes must not be provided when the FlexibleTimeWindow's Mode is"
              + " OFF.");
    }
    return new Schedule.FlexibleTimeWindow(mode, minutes);
  }

  private Schedule.Target target(JsonNode body) {
    JsonNode t = body.get("Target");
    if (t == null || t.isNull()) {
      throw nullMember("target");
    }
    String arn = requiredText(t, "Arn", "target.arn");
    length("target.arn", arn, 1, 1600);
    String role = requiredText(t, "RoleArn", "target.roleArn");
    pattern("target.roleArn", role, ROLE_ARN, 1600);
    for (String unsupported :
        List.of(
            "EcsParameters",
            "EventBridgeParameters",
            "KinesisParameters",
            "SageMakerPipelineParameters",
            "SqsParameters")) {
      if (t.has(unsupported) && !t.get(unsupported).isNull()) {
        throw SchedulerError.validation(
            "Target "
                + unsupported
                + " is not supported by Kiln: a schedule's target is a Lambda function.");
      }
    }
    if (LambdaTarget.function(arn, schedules.account()).isEmpty()) {
      throw SchedulerError.validation(notAFunction("Target Arn", arn));
    }
    Optional<String> input = optionalText(t, "Input");
    input.ifPresent(
        i -> {
          length("target.input", i, 1, Integer.MAX_VALUE);
          try {
            JSON.readTree(i);
          } catch (JsonProcessingException e) {
            throw SchedulerError.validation(
                "Target Input must be well-formed JSON for a Lambda function target.");
          }
        });
    Schedule.RetryPolicy retry = Schedule.RetryPolicy.DEFAULT;
    JsonNode r = t.get("RetryPolicy");
    if (r != null && !r.isNull()) {
      int age =
          optionalInt(r, "MaximumEventAgeInSeconds")
              .orElse(Schedule.RetryPolicy.DEFAULT.maximumEventAgeInSeconds());
      range("target.retryPolicy.maximumEventAgeInSeconds", age, 60, 86_400);
      int attempts =
          optionalInt(r, "MaximumRetryAttempts")
              .orElse(Schedule.RetryPolicy.DEFAULT.maximumRetryAttempts());
      range("target.retryPolicy.maximumRetryAttempts", attempts, 0, 185);
      retry = new Schedule.RetryPolicy(age, attempts);
    }
    Optional<String> dlq = Optional.empty();
    JsonNode d = t.get("DeadLetterConfig");
    if (d != null && !d.isNull()) {
      dlq = optionalText(d, "Arn");
      dlq.ifPresent(
          a -> {
            if (LambdaTarget.function(a, schedules.account()).isEmpty()) {
              throw SchedulerError.validation(notAFunction("DeadLetterConfig Arn", a));
            }
          });
    }
    return new Schedule.Target(arn, role, input, retry, dlq);
  }

  /** The time a change is stamped with: milliseconds, as the answers' timestamps carry. */
  private Instant now() {
    return schedules.clock().instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
  }

  private String notAFunction(String member, String arn) {
    return "Invalid "
        + member
        + " "
        + arn
        + ": Kiln delivers to Lambda functions only; give a function ARN of this Kiln"
        + " (arn:aws:lambda:"
        + schedules.account().region()
        + ":"
        + schedules.account().accountId()
        + ":function:NAME).";
  }

  // ---- answers ----------------------------------------------------------------------------

  private static ObjectNode scheduleJson(Schedule s) {
    ObjectNode out = JSON.createObjectNode();
    out.put("ActionAfterCompletion", s.actionAfterCompletion());
    out.put("Arn", s.arn());
    out.put("CreationDate", seconds(s.creationDate()));
    s.description().ifPresent(d -> out.put("Description", d));
    s.endDate().ifPresent(d -> out.put("EndDate", seconds(d)));
    ObjectNode window = out.putObject("FlexibleTimeWindow");
    s.flexibleTimeWindow()
        .maximumWindowInMinutes()
        .ifPresent(m -> window.put("MaximumWindowInMinutes", m));
    window.put("Mode", s.flexibleTimeWindow().mode());
    out.put("GroupName", s.groupName());
    s.kmsKeyArn().ifPresent(k -> out.put("KmsKeyArn", k));
    out.put("LastModificationDate", seconds(s.lastModificationDate()));
    out.put("Name", s.name());
    out.put("ScheduleExpression", s.scheduleExpression());
    out.put("ScheduleExpressionTimezone", s.timezone());
    s.startDate().ifPresent(d -> out.put("StartDate", seconds(d)));
    out.put("State", s.state());
    ObjectNode target = out.putObject("Target");
    target.put("Arn", s.target().arn());
    s.target().deadLetterArn().ifPresent(a -> target.putObject("DeadLetterConfig").put("Arn", a));
    s.target().input().ifPresent(i -> target.put("Input", i));
    target
        .putObject("RetryPolicy")
        .put("MaximumEventAgeInSeconds", s.target().retryPolicy().maximumEventAgeInSeconds())
        .put("MaximumRetryAttempts", s.target().retryPolicy().maximumRetryAttempts());
    target.put("RoleArn", s.target().roleArn());
    return out;
  }

  private static ObjectNode groupJson(ScheduleGroup g, ObjectNode out) {
    out.put("Arn", g.arn());
    out.put("CreationDate", seconds(g.creationDate()));
    out.put("LastModificationDate", seconds(g.lastModificationDate()));
    out.put("Name", g.name());
    out.put("State", g.state());
    return out;
  }

  /** A timestamp as the REST-JSON protocol writes one: epoch seconds. */
  private static BigDecimal seconds(Instant t) {
    return BigDecimal.valueOf(t.toEpochMilli(), 3);
  }

  private static void sendJson(ServerResponse res, ObjectNode body) {
    res.status(200)
        .header("x-amzn-RequestId", UUID.randomUUID().toString())
        .header(HeaderNames.CONTENT_TYPE, "application/json")
        .send(body.toString().getBytes(StandardCharsets.UTF_8));
  }

  static void send(ServerResponse res, SchedulerError e) {
    ObjectNode body = JSON.createObjectNode().put("Message", e.getMessage());
    res.status(e.status)
        .header("x-amzn-ErrorType", e.type)
        .header("x-amzn-RequestId", UUID.randomUUID().toString())
        .header(HeaderNames.CONTENT_TYPE, "application/json")
        .send(body.toString().getBytes(StandardCharsets.UTF_8));
  }

  // ---- reading a request ------------------------------------------------------------------

  private static SchedulerError scheduleNotFound(String name) {
    return SchedulerError.notFound("Schedule " + name + " does not exist.");
  }

  private static SchedulerError groupNotFound(String name) {
    return SchedulerError.notFound("Schedule group " + name + " does not exist.");
  }

  private static String pathName(ServerRequest req) {
    String name = req.path().pathParameters().get("name");
    pattern("name", name, NAME, 64);
    return name;
  }

  private static String groupName(Optional<String> given) {
    String group = given.orElse(Schedule.DEFAULT_GROUP);
    pattern("groupName", group, NAME, 64);
    return group;
  }

  private static JsonNode body(ServerRequest req) throws IOException {
    byte[] bytes = RequestAuthentication.body(req).orElse(null);
    if (bytes == null) {
      if (!req.content().hasEntity()) {
        bytes = new byte[0];
      } else {
        try (InputStream in = req.content().inputStream()) {
          bytes = in.readNBytes(MAX_BODY + 1);
        }
      }
    }
    if (bytes.length > MAX_BODY) {
      throw SchedulerError.validation("Request must be smaller than " + MAX_BODY + " bytes.");
    }
    if (bytes.length == 0) {
      return JSON.createObjectNode();
    }
    try {
      JsonNode node = JSON.readTree(bytes);
      if (node == null || !node.isObject()) {
        throw SchedulerError.validation("The request body must be a JSON object.");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw SchedulerError.validation("The request body is not valid JSON.");
    }
  }

  private static Optional<String> query(ServerRequest req, String name) {
    return req.query().contains(name) ? Optional.of(req.query().get(name)) : Optional.empty();
  }

  private static int maxResults(ServerRequest req) {
    Optional<String> text = query(req, "MaxResults");
    if (text.isEmpty()) {
      return MAX_RESULTS;
    }
    int max;
    try {
      max = Integer.parseInt(text.get());
    } catch (NumberFormatException e) {
      throw SchedulerError.validation("MaxResults must be an integer, got '" + text.get() + "'.");
    }
    range("maxResults", max, 1, 100);
    return max;
  }

  private static Optional<String> optionalText(JsonNode node, String member) {
    JsonNode v = node.get(member);
    if (v == null || v.isNull()) {
      return Optional.empty();
    }
    if (!v.isTextual()) {
      throw SchedulerError.validation(member + " must be a string.");
    }
    return Optional.of(v.asText());
  }

  private static String requiredText(JsonNode node, String member, String field) {
    return optionalText(node, member).orElseThrow(() -> nullMember(field));
  }

  private static Optional<Integer> optionalInt(JsonNode node, String member) {
    JsonNode v = node.get(member);
    if (v == null || v.isNull()) {
      return Optional.empty();
    }
    if (!v.canConvertToInt() || !v.isIntegralNumber()) {
      throw SchedulerError.validation(member + " must be an integer.");
    }
    return Optional.of(v.asInt());
  }

  private static Optional<Instant> timestamp(JsonNode node, String member) {
    JsonNode v = node.get(member);
    if (v == null || v.isNull()) {
      return Optional.empty();
    }
    if (v.isNumber()) {
      return Optional.of(Instant.ofEpochMilli(v.decimalValue().movePointRight(3).longValue()));
    }
    try {
      return Optional.of(Instant.parse(v.asText()));
    } catch (DateTimeParseException e) {
      throw SchedulerError.validation(member + " must be a timestamp.");
    }
  }

  private static Map<String, String> tags(JsonNode body) {
    Map<String, String> tags = new LinkedHashMap<>();
    JsonNode list = body.get("Tags");
    if (list == null || list.isNull()) {
      return tags;
    }
    if (!list.isArray()) {
      throw SchedulerError.validation("Tags must be a list of Key and Value.");
    }
    for (JsonNode t : list) {
      String key = requiredText(t, "Key", "tags.member.key");
      String value = requiredText(t, "Value", "tags.member.value");
      length("tags.member.key", key, 1, 128);
      length("tags.member.value", value, 1, 256);
      tags.put(key, value);
    }
    checkTagCount(tags);
    return tags;
  }

  private static void checkTagCount(Map<String, String> tags) {
    if (tags.size() > 200) {
      throw SchedulerError.validation(
          "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member"
              + " must have length less than or equal to 200");
    }
  }

  private static SchedulerError nullMember(String field) {
    return SchedulerError.validation(
        "1 validation error detected: Value null at '"
            + field
            + "' failed to satisfy constraint: Member must not be null");
  }

  private static void length(String field, String value, int min, int max) {
    if (value.length() < min) {
      throw constraint(field, value, "Member must have length greater than or equal to " + min);
    }
    if (value.length() > max) {
      throw constraint(field, value, "Member must have length less than or equal to " + max);
    }
  }

  private static void pattern(String field, String value, Pattern pattern, int max) {
    length(field, value, 1, max);
    if (!pattern.matcher(value).matches()) {
      throw constraint(
          field, value, "Member must satisfy regular expression pattern: " + pattern.pattern());
    }
  }

  private static void oneOf(String field, String value, List<String> values) {
    if (!values.contains(value)) {
      throw constraint(field, value, "Member must satisfy enum value set: " + values);
    }
  }

  private static void range(String field, int value, int min, int max) {
    if (value < min) {
      throw constraint(field, value, "Member must have value greater than or equal to " + min);
    }
    if (value > max) {
      throw constraint(field, value, "Member must have value less than or equal to " + max);
    }
  }

  private static SchedulerError constraint(String field, Object value, String rule) {
    return SchedulerError.validation(
        "1 validation error detected: Value '"
            + value
            + "' at '"
            + field
            + "' failed to satisfy constraint: "
            + rule);
  }

  private static String encodeToken(String key) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(key.getBytes(StandardCharsets.UTF_8));
  }

  private static String decodeToken(String token) {
    try {
      String key = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      if (key.isEmpty()) {
        throw new IllegalArgumentException();
      }
      return key;
    } catch (IllegalArgumentException e) {
      throw SchedulerError.validation("Invalid NextToken: " + token + " was not issued by Kiln.");
    }
  }
}
