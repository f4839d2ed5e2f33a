package dev.kiln.api.auth;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.kiln.model.Account;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which operation a request calls, which IAM action that is, and on which resource: the one place
 * that maps the Lambda API's routes (and the CloudWatch Logs API's {@code X-Amz-Target}s) to what
 * AWS names in its answers, such as {@code AccessDeniedException}'s "User: ... is not authorized to
 * perform: lambda:GetFunction on resource: arn:aws:lambda:...:function:my-function".
 *
 * <p>The Lambda table holds every operation of the service model ({@code lambda/service-2.json}),
 * served by Kiln or not, with the HTTP method and URI the model gives it; {@code ApiOperationsTest}
 * checks it against the model. The IAM action is the operation's name but for three: {@code Invoke}
 * and {@code InvokeWithResponseStream} are {@code lambda:InvokeFunction}, {@code
 * GetLayerVersionByArn} is {@code lambda:GetLayerVersion}. The resource is the function's ARN (with
 * the qualifier the request names), the layer's, the mapping's, or the ARN the route carries;
 * {@code *} for operations IAM grants on no particular resource (ListFunctions, ListLayers,
 * GetAccountSettings, ...), as AWS writes it. A Logs operation {@code Logs_20140328.X} is {@code
 * logs:X} on its log group ({@code arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*}) when the request
 * names one.
 *
 * <p>Stateless: the table is built once and only read.
 */
public final class ApiOperations {

  private ApiOperations() {}

  /**
   * An operation as a request calls it.
   *
   * @param name the operation's name in the service model ({@code GetFunction})
   * @param action the IAM action ({@code lambda:GetFunction})
   * @param resource the ARN the action applies to, or {@code *}
   * @param function the {@code FunctionName} the route carries, decoded, for operations on one
   */
  public record Operation(String name, String action, String resource, Optional<String> function) {}

  /** What an operation's resource is and where the request carries it. */
  enum Resource {
    /** The {@code FunctionName} in the path, and the {@code Qualifier} query parameter if sent. */
    FUNCTION,
    /** CreateFunction's: the {@code FunctionName} member of the JSON body. */
    FUNCTION_IN_BODY,
    LAYER,
    LAYER_VERSION,
    EVENT_SOURCE_MAPPING,
    CAPACITY_PROVIDER,
    /** An ARN in the path (tags, code-signing configs, durable executions). */
    ARN,
    /** The {@code Arn} query parameter (GetLayerVersionByArn). */
    ARN_IN_QUERY,
    /** None in particular: {@code *}. */
    ANY
  }

  private record Route(
      String method,
      Pattern path,
      List<String> variables,
      Optional<Map.Entry<String, String>> query,
      String name,
      String action,
      Resource resource) {}

  private static final Pattern VARIABLE = Pattern.compile("\\{([A-Za-z]+)}");

  /** A route of the model's form: {@code /2015-03-31/functions/{FunctionName}?List=ALL}. */
  private static Route route(
      String method, String uri, String name, String action, Resource resource) {
    int q = uri.indexOf('?');
    String path = q < 0 ? uri : uri.substring(0, q);
    Optional<Map.Entry<String, String>> query = Optional.empty();
    if (q >= 0) {
      String[] pair = uri.substring(q + 1).split("=", 2);
      query = Optional.of(Map.entry(pair[0], pair[1]));
    }
    StringBuilder regex = new StringBuilder();
    List<String> variables = new java.util.ArrayList<>();
    Matcher m = VARIABLE.matcher(path);
    int at = 0;
    while (m.find()) {
      variables.add(m.group(1));
      regex.append(Pattern.quote(path.substring(at, m.start())));
      regex.append("(?<").append(m.group(1)).append(">[^/]+)");
      at = m.end();
    }
    regex.append(Pattern.quote(path.substring(at))).append("/?");
    return new Route(
        method,
        Pattern.compile(regex.toString()),
        List.copyOf(variables),
        query,
        name,
        action,
        resource);
  }

  /**
   * The Lambda API's operations as the service model routes them, one a line: method, URI (a {@code
   * ?name=value} must be in the query too), operation, where its resource is, and the IAM action
   * when it is not {@code lambda:} and the operation's name. Narrower routes come first.
   */
  private static final String LAMBDA_ROUTES =
      """
      POST   /2014-11-13/functions/{FunctionName}/invoke-async                            InvokeAsync                            FUNCTION
      GET    /2015-03-31/event-source-mappings                                            ListEventSourceMappings                ANY
      POST   /2015-03-31/event-source-mappings                                            CreateEventSourceMapping               ANY
      DELETE /2015-03-31/event-source-mappings/{UUID}                                     DeleteEventSourceMapping               EVENT_SOURCE_MAPPING
      GET    /2015-03-31/event-source-mappings/{UUID}                                     GetEventSourceMapping                  EVENT_SOURCE_MAPPING
      PUT    /2015-03-31/event-source-mappings/{UUID}                                     UpdateEventSourceMapping               EVENT_SOURCE_MAPPING
      GET    /2015-03-31/functions                                                        ListFunctions                          ANY
      POST   /2015-03-31/functions                                                        CreateFunction                         FUNCTION_IN_BODY
      DELETE /2015-03-31/functions/{FunctionName}                                         DeleteFunction                         FUNCTION
      GET    /2015-03-31/functions/{FunctionName}                                         GetFunction                            FUNCTION
      GET    /2015-03-31/functions/{FunctionName}/aliases                                 ListAliases                            FUNCTION
      POST   /2015-03-31/functions/{FunctionName}/aliases                                 CreateAlias                            FUNCTION
      DELETE /2015-03-31/functions/{FunctionName}/aliases/{Name}                          DeleteAlias                            FUNCTION
      GET    /2015-03-31/functions/{FunctionName}/aliases/{Name}                          GetAlias                               FUNCTION
      PUT    /2015-03-31/functions/{FunctionName}/aliases/{Name}                          UpdateAlias                            FUNCTION
      PUT    /2015-03-31/functions/{FunctionName}/code                                    UpdateFunctionCode                     FUNCTION
      GET    /2015-03-31/functions/{FunctionName}/configuration                           GetFunctionConfiguration               FUNCTION
      PUT    /2015-03-31/functions/{FunctionName}/configuration                           UpdateFunctionConfiguration            FUNCTION
      POST   /2015-03-31/functions/{FunctionName}/invocations                             Invoke                                 FUNCTION             lambda:InvokeFunction
      GET    /2015-03-31/functions/{FunctionName}/policy                                  GetPolicy                              FUNCTION
      POST   /2015-03-31/functions/{FunctionName}/policy                                  AddPermission                          FUNCTION
      DELETE /2015-03-31/functions/{FunctionName}/policy/{StatementId}                    RemovePermission                       FUNCTION
      GET    /2015-03-31/functions/{FunctionName}/versions                                ListVersionsByFunction                 FUNCTION
      POST   /2015-03-31/functions/{FunctionName}/versions                                PublishVersion                         FUNCTION
      GET    /2016-08-19/account-settings                                                 GetAccountSettings                     ANY
      DELETE /2017-03-31/tags/{Resource}                                                  UntagResource                          ARN
      GET    /2017-03-31/tags/{Resource}                                                  ListTags                               ARN
      POST   /2017-03-31/tags/{Resource}                                                  TagResource                            ARN
      DELETE /2017-10-31/functions/{FunctionName}/concurrency                             DeleteFunctionConcurrency              FUNCTION
      PUT    /2017-10-31/functions/{FunctionName}/concurrency                             PutFunctionConcurrency                 FUNCTION
      GET    /2018-10-31/layers?find=LayerVersion                                         GetLayerVersionByArn                   ARN_IN_QUERY         lambda:GetLayerVersion
      GET    /2018-10-31/layers                                                           ListLayers                             ANY
      GET    /2018-10-31/layers/{LayerName}/versions                                      ListLayerVersions                      LAYER
      POST   /2018-10-31/layers/{LayerName}/versions                                      PublishLayerVersion                    LAYER
      DELETE /2018-10-31/layers/{LayerName}/versions/{VersionNumber}                      DeleteLayerVersion                     LAYER_VERSION
      GET    /2018-10-31/layers/{LayerName}/versions/{VersionNumber}                      GetLayerVersion                        LAYER_VERSION
      GET    /2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy               GetLayerVersionPolicy                  LAYER_VERSION
      POST   /2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy               AddLayerVersionPermission              LAYER_VERSION
      DELETE /2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy/{StatementId} RemoveLayerVersionPermission           LAYER_VERSION
      DELETE /2019-09-25/functions/{FunctionName}/event-invoke-config                     DeleteFunctionEventInvokeConfig        FUNCTION
      GET    /2019-09-25/functions/{FunctionName}/event-invoke-config                     GetFunctionEventInvokeConfig           FUNCTION
      POST   /2019-09-25/functions/{FunctionName}/event-invoke-config                     UpdateFunctionEventInvokeConfig        FUNCTION
      PUT    /2019-09-25/functions/{FunctionName}/event-invoke-config                     PutFunctionEventInvokeConfig           FUNCTION
      GET    /2019-09-25/functions/{FunctionName}/event-invoke-config/list                ListFunctionEventInvokeConfigs         FUNCTION
      GET    /2019-09-30/functions/{FunctionName}/concurrency                             GetFunctionConcurrency                 FUNCTION
      GET    /2019-09-30/functions/{FunctionName}/provisioned-concurrency?List=ALL        ListProvisionedConcurrencyConfigs      FUNCTION
      DELETE /2019-09-30/functions/{FunctionName}/provisioned-concurrency                 DeleteProvisionedConcurrencyConfig     FUNCTION
      GET    /2019-09-30/functions/{FunctionName}/provisioned-concurrency                 GetProvisionedConcurrencyConfig        FUNCTION
      PUT    /2019-09-30/functions/{FunctionName}/provisioned-concurrency                 PutProvisionedConcurrencyConfig        FUNCTION
      GET    /2020-04-22/code-signing-configs                                             ListCodeSigningConfigs                 ANY
      POST   /2020-04-22/code-signing-configs                                             CreateCodeSigningConfig                ANY
      DELETE /2020-04-22/code-signing-configs/{CodeSigningConfigArn}                      DeleteCodeSigningConfig                ARN
      GET    /2020-04-22/code-signing-configs/{CodeSigningConfigArn}                      GetCodeSigningConfig                   ARN
      PUT    /2020-04-22/code-signing-configs/{CodeSigningConfigArn}                      UpdateCodeSigningConfig                ARN
      GET    /2020-04-22/code-signing-configs/{CodeSigningConfigArn}/functions            ListFunctionsByCodeSigningConfig       ARN
      DELETE /2020-06-30/functions/{FunctionName}/code-signing-config                     DeleteFunctionCodeSigningConfig        FUNCTION
      GET    /2020-06-30/functions/{FunctionName}/code-signing-config                     GetFunctionCodeSigningConfig           FUNCTION
      PUT    /2020-06-30/functions/{FunctionName}/code-signing-config                     PutFunctionCodeSigningConfig           FUNCTION
      GET    /2021-07-20/functions/{FunctionName}/runtime-management-config               GetRuntimeManagementConfig             FUNCTION
      PUT    /2021-07-20/functions/{FunctionName}/runtime-management-config               PutRuntimeManagementConfig             FUNCTION
      DELETE /2021-10-31/functions/{FunctionName}/url                                     DeleteFunctionUrlConfig                FUNCTION
      GET    /2021-10-31/functions/{FunctionName}/url                                     GetFunctionUrlConfig                   FUNCTION
      POST   /2021-10-31/functions/{FunctionName}/url                                     CreateFunctionUrlConfig                FUNCTION
      PUT    /2021-10-31/functions/{FunctionName}/url                                     UpdateFunctionUrlConfig                FUNCTION
      GET    /2021-10-31/functions/{FunctionName}/urls                                    ListFunctionUrlConfigs                 FUNCTION
      POST   /2021-11-15/functions/{FunctionName}/response-streaming-invocations          InvokeWithResponseStream               FUNCTION             lambda:InvokeFunction
      GET    /2024-08-31/functions/{FunctionName}/recursion-config                        GetFunctionRecursionConfig             FUNCTION
      PUT    /2024-08-31/functions/{FunctionName}/recursion-config                        PutFunctionRecursionConfig             FUNCTION
      GET    /2025-11-30/capacity-providers                                               ListCapacityProviders                  ANY
      POST   /2025-11-30/capacity-providers                                               CreateCapacityProvider                 ANY
      DELETE /2025-11-30/capacity-providers/{CapacityProviderName}                        DeleteCapacityProvider                 CAPACITY_PROVIDER
      GET    /2025-11-30/capacity-providers/{CapacityProviderName}                        GetCapacityProvider                    CAPACITY_PROVIDER
      PUT    /2025-11-30/capacity-providers/{CapacityProviderName}                        UpdateCapacityProvider                 CAPACITY_PROVIDER
      GET    /2025-11-30/capacity-providers/{CapacityProviderName}/function-versions      ListFunctionVersionsByCapacityProvider CAPACITY_PROVIDER
      GET    /2025-11-30/functions/{FunctionName}/function-scaling-config                 GetFunctionScalingConfig               FUNCTION
      PUT    /2025-11-30/functions/{FunctionName}/function-scaling-config                 PutFunctionScalingConfig               FUNCTION
      POST   /2025-12-01/durable-execution-callbacks/{CallbackId}/fail                    SendDurableExecutionCallbackFailure    ANY
      POST   /2025-12-01/durable-execution-callbacks/{CallbackId}/heartbeat               SendDurableExecutionCallbackHeartbeat  ANY
      POST   /2025-12-01/durable-execution-callbacks/{CallbackId}/succeed                 SendDurableExecutionCallbackSuccess    ANY
      GET    /2025-12-01/durable-executions/{DurableExecutionArn}                         GetDurableExecution                    ARN
      POST   /2025-12-01/durable-executions/{DurableExecutionArn}/checkpoint              CheckpointDurableExecution             ARN
      GET    /2025-12-01/durable-executions/{DurableExecutionArn}/history                 GetDurableExecutionHistory             ARN
      GET    /2025-12-01/durable-executions/{DurableExecutionArn}/state                   GetDurableExecutionState               ARN
      POST   /2025-12-01/durable-executions/{DurableExecutionArn}/stop                    StopDurableExecution                   ARN
      GET    /2025-12-01/functions/{FunctionName}/durable-executions                      ListDurableExecutionsByFunction        FUNCTION
      GET    /kiln/functions/{FunctionName}/async-events                                  GetAsyncEventCounts                    FUNCTION             kiln:GetAsyncEventCounts
      GET    /kiln/usage                                                                  GetUsage                               ANY                  kiln:GetUsage
      """;

  private static final List<Route> LAMBDA =
      LAMBDA_ROUTES
          .lines()
          .map(String::strip)
          .filter(line -> !line.isEmpty())
          .map(
              line -> {
                String[] c = line.split("\\s+");
                return route(
                    c[0],
                    c[1],
                    c[2],
                    c.length > 4 ? c[4] : "lambda:" + c[2],
                    Resource.valueOf(c[3]));
              })
          .toList();

  /**
   * The Lambda API operation that {@code method} and {@code rawPath} (still URL-encoded) call;
   * empty for a route no operation has.
   */
  /**
   * The S3 operation a request to Kiln's S3 endpoint is ({@code PUT|GET /{bucket}?notification}),
   * with IAM's action for it and the bucket's ARN; empty for any other.
   */
  public static Optional<Operation> s3(String method, String rawPath) {
    String bucket = decode(rawPath.replaceAll("^/|/$", ""));
    return switch (method) {
      case "PUT" ->
          Optional.of(
              new Operation(
                  "PutBucketNotificationConfiguration",
                  "s3:PutBucketNotification",
                  "arn:aws:s3:::" + bucket,
                  Optional.empty()));
      case "GET" ->
          Optional.of(
              new Operation(
                  "GetBucketNotificationConfiguration",
                  "s3:GetBucketNotification",
                  "arn:aws:s3:::" + bucket,
                  Optional.empty()));
      default -> Optional.empty();
    };
  }

  public static Optional<Operation> lambda(
      String method,
      String rawPath,
      List<Map.Entry<String, String>> query,
      byte[] body,
      Account account) {
    for (Route route : LAMBDA) {
      if (!route.method().equals(method)) {
        continue;
      }
      Matcher m = route.path().matcher(rawPath);
      if (!m.matches() || (route.query().isPresent() && !query.contains(route.query().get()))) {
        continue;
      }
      Map<String, String> vars = new HashMap<>();
      for (String variable : route.variables()) {
        vars.put(variable, decode(m.group(variable)));
      }
      Optional<String> qualifier = first(query, "Qualifier");
      Optional<String> function =
          route.resource() == Resource.FUNCTION
              ? Optional.of(vars.get("FunctionName"))
              : Optional.empty();
      String resource =
          switch (route.resource()) {
            case FUNCTION -> functionArn(vars.get("FunctionName"), qualifier, account);
            case FUNCTION_IN_BODY ->
                jsonMember(body, "FunctionName")
                    .map(name -> functionArn(name, Optional.empty(), account))
                    .orElse("*");
            case LAYER -> account.layerArn(vars.get("LayerName"));
            case LAYER_VERSION ->
                account.layerArn(vars.get("LayerName")) + ":" + vars.get("VersionNumber");
            case EVENT_SOURCE_MAPPING ->
                "arn:aws:lambda:"
                    + account.region()
                    + ":"
                    + account.accountId()
                    + ":event-source-mapping:"
                    + vars.get("UUID");
            case CAPACITY_PROVIDER ->
                "arn:aws:lambda:"
                    + account.region()
                    + ":"
                    + account.accountId()
                    + ":capacity-provider:"
                    + vars.get("CapacityProviderName");
            case ARN -> vars.get(route.variables().get(0));
            case ARN_IN_QUERY -> first(query, "Arn").orElse("*");
            case ANY -> "*";
          };
      return Optional.of(new Operation(route.name(), route.action(), resource, function));
    }
    return Optional.empty();
  }

  /** The Logs operation {@code operation} (from {@code X-Amz-Target: Logs_20140328.<op>}). */
  public static Operation logs(String operation, byte[] body, Account account) {
    Optional<String> group = jsonMember(body, "logGroupName");
    Optional<String> stream = jsonMember(body, "logStreamName");
    String resource =
        group
            .map(
                g ->
                    "arn:aws:logs:"
                        + account.region()
                        + ":"
                        + account.accountId()
                        + ":log-group:"
                        + g
                        + stream.map(s -> ":log-stream:" + s).orElse(":*"))
            .orElse("*");
    return new Operation(operation, "logs:" + operation, resource, Optional.empty());
  }

  /** The {@code X-Amz-Target} prefix of EventBridge's operations. */
  public static final String EVENTS_TARGET = "AWSEvents.";

  /**
   * The EventBridge operation {@code operation} (from {@code X-Amz-Target: AWSEvents.<op>}): {@code
   * events:<op>} on the rule the request names ({@code
   * arn:aws:events:REGION:ACCOUNT:rule/[BUS/]NAME}, from {@code Name} or {@code Rule} and {@code
   * EventBusName}), the bus (bus operations and PutEvents, whose first entry names it), the {@code
   * ResourceARN} of the tag operations, or {@code *} for the lists and TestEventPattern.
   */
  public static Operation events(String operation, byte[] body, Account account) {
    String prefix = "arn:aws:events:" + account.region() + ":" + account.accountId() + ":";
    com.fasterxml.jackson.databind.JsonNode json;
    try {
      json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(body);
    } catch (java.io.IOException e) {
      json = null;
    }
    com.fasterxml.jackson.databind.JsonNode b =
        json == null ? com.fasterxml.jackson.databind.node.MissingNode.getInstance() : json;
    String bus = b.path("EventBusName").asText("default");
    if (bus.startsWith("arn:")) {
      bus = bus.substring(bus.indexOf("event-bus/") + "event-bus/".length());
    }
    String ruleName = b.path(b.has("Rule") ? "Rule" : "Name").asText("");
    String rule = prefix + "rule/" + (bus.equals("default") ? "" : bus + "/") + ruleName;
    String resource =
        switch (operation) {
          case "PutRule",
              "DescribeRule",
              "EnableRule",
              "DisableRule",
              "DeleteRule",
              "PutTargets",
              "RemoveTargets",
              "ListTargetsByRule" ->
              rule;
          case "CreateEventBus", "DeleteEventBus", "DescribeEventBus" ->
              prefix + "event-bus/" + b.path("Name").asText("default");
          case "PutEvents" -> {
            String named = b.path("Entries").path(0).path("EventBusName").asText("default");
            yield named.startsWith("arn:") ? named : prefix + "event-bus/" + named;
          }
          case "TagResource", "UntagResource", "ListTagsForResource" ->
              b.path("ResourceARN").asText("*");
          default -> "*";
        };
    return new Operation(operation, "events:" + operation, resource, Optional.empty());
  }

  /**
   * Whether a request is EventBridge Scheduler's (signed for service {@code scheduler}): its paths
   * are {@code /schedules}, {@code /schedule-groups} and {@code /tags/} with a Scheduler ARN.
   */
  public static boolean isScheduler(String rawPath) {
    return rawPath.equals("/schedules")
        || rawPath.startsWith("/schedules/")
        || rawPath.equals("/schedule-groups")
        || rawPath.startsWith("/schedule-groups/")
        || rawPath.startsWith("/tags/")
            && decode(rawPath.substring(6)).startsWith("arn:aws:scheduler:");
  }

  private static final Pattern SCHEDULER_PATH =
      Pattern.compile("/(?<kind>schedules|schedule-groups|tags)(/(?<name>[^/]+))?/?");

  /**
   * An operation of EventBridge Scheduler: {@code scheduler:ACTION} on the schedule ({@code
   * arn:aws:scheduler:REGION:ACCOUNT:schedule/GROUP/NAME}, the group from the body's {@code
   * GroupName} or the {@code groupName} query parameter, {@code default} when neither), the group
   * ({@code schedule-group/NAME}) or the ARN a tags route carries; {@code *} for the lists. Empty
   * for a route Scheduler does not have.
   */
  public static Optional<Operation> scheduler(
      String method,
      String rawPath,
      List<Map.Entry<String, String>> query,
      byte[] body,
      Account account) {
    Matcher m = SCHEDULER_PATH.matcher(rawPath);
    if (!m.matches()) {
      return Optional.empty();
    }
    String prefix = "arn:aws:scheduler:" + account.region() + ":" + account.accountId() + ":";
    Optional<String> name = Optional.ofNullable(m.group("name")).map(ApiOperations::decode);
    String kind = m.group("kind");
    String operation;
    String resource;
    if (kind.equals("tags")) {
      if (name.isEmpty()) {
        return Optional.empty();
      }
      operation =
          switch (method) {
            case "POST" -> "TagResource";
            case "DELETE" -> "UntagResource";
            case "GET" -> "ListTagsForResource";
            default -> null;
          };
      resource = name.get();
    } else if (name.isEmpty()) {
      if (!method.equals("GET")) {
        return Optional.empty();
      }
      operation = kind.equals("schedules") ? "ListSchedules" : "ListScheduleGroups";
      resource = "*";
    } else {
      String noun = kind.equals("schedules") ? "Schedule" : "ScheduleGroup";
      operation =
          switch (method) {
            case "POST" -> "Create" + noun;
            case "GET" -> "Get" + noun;
            case "PUT" -> noun.equals("Schedule") ? "UpdateSchedule" : null;
            case "DELETE" -> "Delete" + noun;
            default -> null;
          };
      String group =
          first(query, "groupName").or(() -> jsonMember(body, "GroupName")).orElse("default");
      resource =
          kind.equals("schedules")
              ? prefix + "schedule/" + group + "/" + name.get()
              : prefix + "schedule-group/" + name.get();
    }
    if (operation == null) {
      return Optional.empty();
    }
    return Optional.of(
        new Operation(operation, "scheduler:" + operation, resource, Optional.empty()));
  }

  /**
   * An operation of a Query protocol service ({@code iam} or {@code sts}): {@code iam:ACTION} on
   * the role or policy the request names ({@code arn:aws:iam::ACCOUNT:role/NAME}, the {@code
   * PolicyArn}), {@code *} for the lists. Empty for an action the service does not have; {@code
   * sts:GetCallerIdentity} is an operation every caller may perform, as on AWS.
   */
  public static Optional<Operation> query(
      String service,
      String action,
      java.util.function.Function<String, Optional<String>> param,
      Account account) {
    if (service.equals("sts")) {
      return dev.kiln.api.iam.StsApi.ACTIONS.contains(action)
          ? Optional.of(new Operation(action, "sts:" + action, "*", Optional.empty()))
          : Optional.empty();
    }
    if (!dev.kiln.api.iam.IamApi.ACTIONS.contains(action)) {
      return Optional.empty();
    }
    String resource =
        param
            .apply("PolicyArn")
            .or(
                () ->
                    param
                        .apply("RoleName")
                        .map(
                            role ->
                                dev.kiln.api.iam.PolicyArns.role(
                                    account,
                                    action.equals("CreateRole")
                                        ? param.apply("Path").orElse("/")
                                        : "/",
                                    role)))
            .or(
                () ->
                    param
                        .apply("PolicyName")
                        .filter(n -> action.equals("CreatePolicy"))
                        .map(
                            name ->
                                dev.kiln.api.iam.PolicyArns.policy(
                                    account, param.apply("Path").orElse("/"), name)))
            .orElse("*");
    return Optional.of(new Operation(action, "iam:" + action, resource, Optional.empty()));
  }

  /** A function's ARN as AWS names it in a denial; the name as sent when it is not one. */
  private static String functionArn(String name, Optional<String> qualifier, Account account) {
    try {
      FunctionRef ref = FunctionRef.parse(name, "functionName", account).withQualifier(qualifier);
      return ref.qualifier()
          .map(q -> account.functionArn(ref.name(), q))
          .orElseGet(() -> account.functionArn(ref.name()));
    } catch (LambdaError notAName) {
      return name;
    }
  }

  private static Optional<String> first(List<Map.Entry<String, String>> query, String name) {
    return query.stream().filter(e -> e.getKey().equals(name)).map(Map.Entry::getValue).findFirst();
  }

  private static final JsonFactory JSON = new JsonFactory();

  /** A top-level string member of a JSON body, read without building the document. */
  static Optional<String> jsonMember(byte[] body, String member) {
    if (body == null || body.length == 0) {
      return Optional.empty();
    }
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return Optional.empty();
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if (field.equals(member) && value == JsonToken.VALUE_STRING) {
          return Optional.of(p.getText());
        }
        p.skipChildren();
      }
      return Optional.empty();
    } catch (IOException notJson) {
      return Optional.empty();
    }
  }

  /** A path segment, decoded ({@code %3A} to {@code :}); a '+' in a path is a plus. */
  private static String decode(String segment) {
    try {
      return URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException malformed) {
      return segment;
    }
  }
}
