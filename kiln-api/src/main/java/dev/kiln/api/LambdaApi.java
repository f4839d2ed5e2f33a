package dev.kiln.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.api.auth.CodeLinks;
import dev.kiln.api.auth.RequestAuthentication;
import dev.kiln.api.auth.SigV4Verifier;
import dev.kiln.invoke.AsyncInvocations;
import dev.kiln.invoke.Catalog;
import dev.kiln.invoke.ConcurrencyBudget;
import dev.kiln.invoke.FunctionTags;
import dev.kiln.invoke.Functions;
import dev.kiln.invoke.InvocationResult;
import dev.kiln.invoke.Invocations;
import dev.kiln.invoke.InvokeRequest;
import dev.kiln.model.Account;
import dev.kiln.model.ConfigPatch;
import dev.kiln.model.FunctionConfig;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import dev.kiln.store.MetadataStore;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Lambda REST API 2015-03-31 as the service model defines it: one handler per operation, each
 * reading its members from where the model says they travel (path, query string, headers, JSON
 * body), calling the {@link Catalog}'s parts or {@link Invocations}, and answering with the model's
 * status code and member names. Errors travel as {@link LambdaError} and are written by {@link
 * AwsErrors}.
 */
public final class LambdaApi {

  private static final Logger LOG = LoggerFactory.getLogger(LambdaApi.class);

  /** Lambda's limit on a synchronous invoke's request payload. */
  static final int MAX_INVOKE_PAYLOAD = 6 * 1024 * 1024;

  /** A 50 MB zip, base64-encoded in a JSON body, with room for the other members. */
  static final int MAX_CONTROL_PLANE_BODY = 70_167_211;

  static final int DEFAULT_MAX_ITEMS = 50;

  /** The X-Ray trace header an invocation joins, as API Gateway and the AWS SDKs send it. */
  static final io.helidon.http.HeaderName TRACE_HEADER = HeaderNames.create("X-Amzn-Trace-Id");

  static final String FUNCTIONS = "/2015-03-31/functions";
  private static final String CODE_DOWNLOAD = "/kiln/code";

  private final Catalog catalog;
  private final Functions functions;
  private final FunctionTags functionTags;
  private final Invocations invocations;
  private final ConcurrencyBudget budget;
  private final Account account;

  private final dev.kiln.store.LogStore logs;
  private final dev.kiln.store.UsageStore usage;

  public LambdaApi(
      Catalog catalog,
      Invocations invocations,
      ConcurrencyBudget budget,
      AsyncInvocations async,
      dev.kiln.store.LogStore logs,
      dev.kiln.store.UsageStore usage,
      Optional<SigV4Verifier> verifier,
      CodeLinks codeLinks,
      dev.kiln.api.auth.IdentityPolicies identities,
      dev.kiln.api.iam.IamApi iam,
      Optional<dev.kiln.esm.EventSourceMappings> mappings,
      java.time.InstantSource clock) {
    this.mappings = mappings;
    this.identities = identities;
    this.iam = iam;
    this.clock = clock;
    this.verifier = verifier;
    this.codeLinks = codeLinks;
    this.logs = logs;
    this.usage = usage;
    this.catalog = catalog;
    this.functions = catalog.functions();
    this.functionTags = catalog.tags();
    this.invocations = invocations;
    this.budget = budget;
    this.async = async;
    this.account = catalog.account();
    this.access =
        new dev.kiln.api.auth.AccessControl(
            identities,
            (principal, action, function, qualifier) -> {
              try {
                FunctionRef ref =
                    FunctionRef.parse(function, "functionName", account).withQualifier(qualifier);
                return catalog.policies().allows(ref, principal, action);
              } catch (LambdaError unknown) {
                return false;
              }
            },
            function -> {
              try {
                return functionTags.list(
                    FunctionRef.parse(function, "functionName", account)
                        .withQualifier(Optional.empty()));
              } catch (LambdaError unknown) {
                return Map.of();
              }
            },
            account,
            clock);
  }

  private final AsyncInvocations async;
  private List<ServiceRoutes> services = List.of();
  private final Optional<dev.kiln.esm.EventSourceMappings> mappings;
  private final dev.kiln.api.auth.IdentityPolicies identities;
  private final dev.kiln.api.iam.IamApi iam;
  private final dev.kiln.api.auth.AccessControl access;
  private final java.time.InstantSource clock;
  private final Optional<SigV4Verifier> verifier;
  private final CodeLinks codeLinks;

  /** Lambda's limit on an asynchronous invocation's payload. */
  static final int MAX_EVENT_PAYLOAD = 256 * 1024;

  /**
   * The function URLs' route, which must come before every other route of the server (the health
   * check's too): a URL's paths are its function's, whatever they look like.
   */
  public void urlRoutes(HttpRouting.Builder r) {
    r.any(
        new dev.kiln.api.url.FunctionUrlGateway(
            id -> catalog.urls().byUrlId(id),
            invocations,
            verifier,
            access,
            (function, principal, authType) -> {
              try {
                return catalog.policies().allowsFunctionUrl(function, principal, authType);
              } catch (LambdaError gone) {
                return false;
              }
            },
            account,
            clock));
  }

  /**
   * The other services this endpoint serves beside Lambda, Logs, IAM and STS, each behind the same
   * authentication gate; set before {@link #routes} is called.
   */
  public LambdaApi withServices(List<ServiceRoutes> services) {
    this.services = List.copyOf(services);
    return this;
  }

  public void routes(HttpRouting.Builder r) {
    r.addFilter(
        new RequestAuthentication(
            verifier,
            MAX_CONTROL_PLANE_BODY,
            account,
            (res, e) -> AwsErrors.sendFromGate(res, e),
            access));
    r.post(FUNCTIONS, this::createFunction)
        .post(FUNCTIONS + "/", this::createFunction)
        .get(FUNCTIONS, this::listFunctions)
        .get(FUNCTIONS + "/", this::listFunctions)
        .get(FUNCTIONS + "/{name}", this::getFunction)
        .delete(FUNCTIONS + "/{name}", this::deleteFunction)
        .get(FUNCTIONS + "/{name}/configuration", this::getFunctionConfiguration)
        .put(FUNCTIONS + "/{name}/configuration", this::updateFunctionConfiguration)
        .put(FUNCTIONS + "/{name}/code", this::updateFunctionCode)
        .post(FUNCTIONS + "/{name}/invocations", this::invoke)
        .get("/2016-08-19/account-settings", this::getAccountSettings)
        .get("/2016-08-19/account-settings/", this::getAccountSettings)
        .post("/2017-03-31/tags/{arn}", this::tagResource)
        .delete("/2017-03-31/tags/{arn}", this::untagResource)
        .get("/2017-03-31/tags/{arn}", this::listTags)
        .get(CODE_DOWNLOAD + "/{file}", this::downloadCode);
    new VersionsApi(catalog).routes(r);
    new AsyncApi(catalog, async).routes(r);
    new LayersApi(catalog.layers(), codeLinks).routes(r);
    new PermissionsApi(catalog).routes(r);
    new FunctionUrlsApi(catalog).routes(r);
    mappings.ifPresent(m -> new EventSourceMappingsApi(m).routes(r));
    new StreamingInvokeApi(invocations, account).routes(r);
    // the other services at this endpoint (Scheduler, EventBridge, the push sources' receivers):
    // before CloudWatch Logs, which answers every JSON POST / that no one before it took
    services.forEach(s -> s.routes(r));
    // IAM and STS (form-encoded POST /) before CloudWatch Logs (JSON POST /)
    new QueryApis(iam, new dev.kiln.api.iam.StsApi(account)).routes(r);
    new LogsApi(logs, account).routes(r);
    new UsageApi(usage).routes(r);
    r.post("/2014-11-13/functions/{name}/invoke-async", this::invokeAsync)
        .post("/2014-11-13/functions/{name}/invoke-async/", this::invokeAsync);
    r.any(this::unknownOperation)
        .error(LambdaError.class, (req, res, e) -> AwsErrors.send(res, requestId(req), e))
        .error(
            Exception.class,
            (req, res, e) -> {
              LOG.error(
                  "unexpected failure in {} {}", req.prologue().method(), req.path().path(), e);
              AwsErrors.send(
                  res,
                  requestId(req),
                  LambdaError.service("Kiln failed to process the request; see the server log"));
            });
  }

  // ---- functions ----------------------------------------------------------------------------

  private void createFunction(ServerRequest req, ServerResponse res) throws IOException {
    RequestBody body = RequestBody.parse(readBody(req, MAX_CONTROL_PLANE_BODY, "CreateFunction"));
    String nameText = body.requiredString("FunctionName");
    FunctionRef ref = FunctionRef.parseUnqualified(nameText, "functionName", account);
    body.requiredString("Role");
    RequestBody code =
        body.object("Code")
            .orElseThrow(() -> LambdaError.validation("code", "null", "Member must not be null"));
    byte[] zip = zipFrom(code, "Code.");
    rejectUnsupported(body);
    ConfigPatch settings = settings(req, body, ref.name(), true);
    Map<String, String> tags = body.stringMap("Tags").orElse(Map.of());
    checkTags(tags);
    FunctionConfig created =
        functions.create(ref.name(), zip, settings, tags, body.bool("Publish").orElse(false));
    sendJson(res, req, 201, FunctionJson.configuration(created, account));
  }

  private void listFunctions(ServerRequest req, ServerResponse res) {
    int maxItems = queryInt(req, "MaxItems").orElse(DEFAULT_MAX_ITEMS);
    if (maxItems < 1 || maxItems > 10_000) {
      throw LambdaError.validation(
          "maxItems", maxItems, "Member must have value between 1 and 10000");
    }
    maxItems = Math.min(maxItems, DEFAULT_MAX_ITEMS);
    Optional<String> marker = query(req, "Marker").map(LambdaApi::decodeMarker);
    Optional<String> functionVersion = query(req, "FunctionVersion");
    functionVersion
        .filter(v -> !v.equals("ALL"))
        .ifPresent(
            v -> {
              throw LambdaError.validation(
                  "functionVersion", v, "Member must satisfy enum value set: [ALL]");
            });
    MetadataStore.FunctionPage page = functions.list(marker, maxItems, functionVersion.isPresent());
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    page.nextMarker().ifPresent(m -> out.put("NextMarker", encodeMarker(m)));
    ArrayNode list = out.putArray("Functions");
    page.functions().forEach(f -> list.add(FunctionJson.configuration(f, account)));
    sendJson(res, req, 200, out);
  }

  private void getFunction(ServerRequest req, ServerResponse res) {
    FunctionRef ref = functionRef(req);
    FunctionConfig config = functions.get(ref);
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    out.set("Configuration", FunctionJson.configuration(config, account));
    ObjectNode code = out.putObject("Code");
    code.put("RepositoryType", "S3");
    code.put(
        "Location",
        codeLocation(req, dev.kiln.model.CodeDigest.hexFromBase64(config.codeSha256()), codeLinks));
    Map<String, String> tags = functionTags.list(ref);
    if (!tags.isEmpty()) {
      ObjectNode t = out.putObject("Tags");
      tags.forEach(t::put);
    }
    catalog
        .concurrency()
        .reserved(ref)
        .ifPresent(n -> out.putObject("Concurrency").put("ReservedConcurrentExecutions", n));
    sendJson(res, req, 200, out);
  }

  private void getFunctionConfiguration(ServerRequest req, ServerResponse res) {
    sendJson(res, req, 200, FunctionJson.configuration(functions.get(functionRef(req)), account));
  }

  private void updateFunctionConfiguration(ServerRequest req, ServerResponse res)
      throws IOException {
    FunctionRef ref = functionRef(req);
    RequestBody body =
        RequestBody.parse(readBody(req, MAX_CONTROL_PLANE_BODY, "UpdateFunctionConfiguration"));
    rejectUnsupported(body);
    FunctionConfig updated =
        functions.updateConfiguration(
            ref, settings(req, body, ref.name(), false), body.string("RevisionId"));
    sendJson(res, req, 200, FunctionJson.configuration(updated, account));
  }

  private void updateFunctionCode(ServerRequest req, ServerResponse res) throws IOException {
    FunctionRef ref = functionRef(req);
    RequestBody body =
        RequestBody.parse(readBody(req, MAX_CONTROL_PLANE_BODY, "UpdateFunctionCode"));
    byte[] zip = zipFrom(body, "");
    FunctionConfig updated =
        functions.updateCode(
            ref,
            zip,
            body.stringList("Architectures"),
            body.bool("Publish").orElse(false),
            body.string("RevisionId"),
            body.bool("DryRun").orElse(false));
    sendJson(res, req, 200, FunctionJson.configuration(updated, account));
  }

  private void deleteFunction(ServerRequest req, ServerResponse res) {
    FunctionRef ref = functionRef(req);
    functions.delete(ref);
    if (ref.qualifier().isEmpty()) {
      async.functionDeleted(ref.name());
    }
    res.status(204).header("x-amzn-RequestId", requestId(req)).send();
  }

  // ---- invoke -------------------------------------------------------------------------------

  private void invoke(ServerRequest req, ServerResponse res) throws IOException {
    FunctionRef ref = functionRef(req);
    String type = header(req, "X-Amz-Invocation-Type").orElse("RequestResponse");
    String logType = header(req, "X-Amz-Log-Type").orElse("None");
    if (!logType.equals("None") && !logType.equals("Tail")) {
      throw LambdaError.validation(
          "logType", logType, "Member must satisfy enum value set: [None, Tail]");
    }
    Optional<String> clientContext =
        header(req, "X-Amz-Client-Context").map(LambdaApi::clientContext);
    switch (type) {
      case "RequestResponse", "DryRun", "Event" -> {}
      default ->
          throw LambdaError.validation(
              "invocationType",
              type,
              "Member must satisfy enum value set: [Event, RequestResponse, DryRun]");
    }
    byte[] payload =
        InvokePayload.check(
            readBody(
                req,
                type.equals("Event") ? MAX_EVENT_PAYLOAD : MAX_INVOKE_PAYLOAD,
                "InvokeFunction"));
    invocations.resolve(ref); // an unknown function or qualifier is refused before anything runs
    if (type.equals("Event")) {
      // 202 only once the event is on disk
      String requestId = async.accept(ref, payload, req.headers().first(TRACE_HEADER));
      res.status(202).header("x-amzn-RequestId", requestId).send();
      return;
    }
    if (type.equals("DryRun")) {
      res.status(204).header("x-amzn-RequestId", requestId(req)).send();
      return;
    }
    InvocationResult result =
        invocations.run(
            InvokeRequest.sync(ref, payload)
                .withClientContext(clientContext)
                .withTailLog(logType.equals("Tail"))
                .withTraceHeader(req.headers().first(TRACE_HEADER)));
    res.status(200)
        .header("x-amzn-RequestId", result.requestId())
        .header("X-Amz-Executed-Version", result.executedVersion())
        .header(HeaderNames.CONTENT_TYPE, "application/json");
    if (result instanceof InvocationResult.FunctionError) {
      res.header("X-Amz-Function-Error", "Unhandled");
    }
    result.logTail().ifPresent(t -> res.header("X-Amz-Log-Result", t));
    res.send(result.payload());
  }

  /** The deprecated InvokeAsync: an asynchronous invocation answering {@code {"Status": 202}}. */
  private void invokeAsync(ServerRequest req, ServerResponse res) throws IOException {
    FunctionRef ref = functionRef(req);
    byte[] payload = InvokePayload.check(readBody(req, MAX_EVENT_PAYLOAD, "InvokeAsync"));
    invocations.resolve(ref);
    String requestId = async.accept(ref, payload, req.headers().first(TRACE_HEADER));
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    out.put("Status", 202);
    res.status(202)
        .header("x-amzn-RequestId", requestId)
        .header(HeaderNames.CONTENT_TYPE, "application/json")
        .send(out.toString().getBytes(StandardCharsets.UTF_8));
  }

  static String clientContext(String base64) {
    try {
      String json = new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
      if (json.length() > 3583 || !FunctionJson.JSON.readTree(json).isObject()) {
        throw new IllegalArgumentException("not a JSON object");
      }
      return json;
    } catch (IllegalArgumentException | JsonProcessingException e) {
      throw LambdaError.invalidParameter(
          "Client context must be a valid Base64-encoded JSON object.");
    }
  }

  // ---- account and tags ---------------------------------------------------------------------

  private void getAccountSettings(ServerRequest req, ServerResponse res) {
    MetadataStore.Usage usage = functions.usage();
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    ObjectNode limit = out.putObject("AccountLimit");
    limit.put("TotalCodeSize", 80_530_636_800L);
    limit.put("CodeSizeUnzipped", 262_144_000L);
    limit.put("CodeSizeZipped", 52_428_800L);
    limit.put("ConcurrentExecutions", budget.accountLimit());
    limit.put("UnreservedConcurrentExecutions", budget.unreserved());
    ObjectNode used = out.putObject("AccountUsage");
    used.put("TotalCodeSize", usage.totalCodeSize());
    used.put("FunctionCount", usage.functionCount());
    sendJson(res, req, 200, out);
  }

  private void tagResource(ServerRequest req, ServerResponse res) throws IOException {
    Optional<String> mapping = taggedMapping(req);
    RequestBody body = RequestBody.parse(readBody(req, 1024 * 1024, "TagResource"));
    Map<String, String> tags =
        body.stringMap("Tags")
            .orElseThrow(() -> LambdaError.validation("tags", "null", "Member must not be null"));
    checkTags(tags);
    if (mapping.isPresent()) {
      mappingsApi().tag(mapping.get(), tags);
      res.status(204).header("x-amzn-RequestId", requestId(req)).send();
      return;
    }
    FunctionRef ref = taggable(req);
    Map<String, String> existing = functionTags.list(ref);
    Set<String> all = new HashSet<>(existing.keySet());
    all.addAll(tags.keySet());
    if (all.size() > 50) {
      throw LambdaError.invalidParameter(
          "A function can have at most 50 tags; this would make " + all.size());
    }
    functionTags.tag(ref, tags);
    res.status(204).header("x-amzn-RequestId", requestId(req)).send();
  }

  private void untagResource(ServerRequest req, ServerResponse res) {
    Optional<String> mapping = taggedMapping(req);
    List<String> keys = req.query().contains("tagKeys") ? req.query().all("tagKeys") : List.of();
    if (keys.isEmpty()) {
      throw LambdaError.validation("tagKeys", "null", "Member must not be null");
    }
    if (mapping.isPresent()) {
      mappingsApi().untag(mapping.get(), keys);
      res.status(204).header("x-amzn-RequestId", requestId(req)).send();
      return;
    }
    FunctionRef ref = taggable(req);
    functionTags.list(ref); // 404 for an unknown function
    functionTags.untag(ref, Set.copyOf(keys));
    res.status(204).header("x-amzn-RequestId", requestId(req)).send();
  }

  private void listTags(ServerRequest req, ServerResponse res) {
    Optional<String> mapping = taggedMapping(req);
    Map<String, String> tags =
        mapping.isPresent() ? mappingsApi().tags(mapping.get()) : functionTags.list(taggable(req));
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    ObjectNode t = out.putObject("Tags");
    tags.forEach(t::put);
    sendJson(res, req, 200, out);
  }

  /** The mapping a tag operation's ARN names, when it names an event source mapping. */
  private Optional<String> taggedMapping(ServerRequest req) {
    return dev.kiln.esm.EventSourceMappings.uuidOf(req.path().pathParameters().get("arn"));
  }

  private dev.kiln.esm.EventSourceMappings mappingsApi() {
    return mappings.orElseThrow(
        () -> LambdaError.notFound("The resource you requested does not exist."));
  }

  private FunctionRef taggable(ServerRequest req) {
    String arn = req.path().pathParameters().get("arn");
    if (!arn.startsWith("arn:")) {
      throw LambdaError.validation(
          "resource",
          arn,
          "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z0-9-]+:\\d{12}:function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?");
    }
    FunctionRef ref = FunctionRef.parse(arn, "resource", account);
    if (ref.qualifier().isPresent()) {
      throw LambdaError.invalidParameter(
          "Tags apply to a function, not to one of its versions or aliases: use the unqualified"
              + " function ARN");
    }
    return ref;
  }

  private static void checkTags(Map<String, String> tags) {
    if (tags.size() > 50) {
      throw LambdaError.invalidParameter("A function can have at most 50 tags; got " + tags.size());
    }
    for (var e : tags.entrySet()) {
      if (e.getKey().isEmpty() || e.getKey().length() > 128) {
        throw LambdaError.invalidParameter(
            "Tag key '" + e.getKey() + "' must be between 1 and 128 characters long");
      }
      if (e.getKey().toLowerCase(java.util.Locale.ROOT).startsWith("aws:")) {
        throw LambdaError.invalidParameter(
            "Tag key '" + e.getKey() + "' uses the prefix aws:, which is reserved for AWS use");
      }
      if (e.getValue().length() > 256) {
        throw LambdaError.invalidParameter(
            "Tag value for key '" + e.getKey() + "' must be at most 256 characters long");
      }
    }
  }

  // ---- code download ------------------------------------------------------------------------

  private void downloadCode(ServerRequest req, ServerResponse res) throws IOException {
    String file = req.path().pathParameters().get("file");
    if (!codeLinks.valid(
        file,
        query(req, "X-Kiln-Expires").orElse(""),
        query(req, "X-Kiln-Signature").orElse(null))) {
      throw new LambdaError(
          "AccessDeniedException",
          403,
          "This code link is not valid, or it expired (links last ten minutes): call GetFunction"
              + " for a new one");
    }
    String hex = file.endsWith(".zip") ? file.substring(0, file.length() - 4) : file;
    Path zip =
        functions
            .codeZip(hex)
            .orElseThrow(() -> LambdaError.notFound("No deployment package " + file));
    res.status(200)
        .header(HeaderNames.CONTENT_TYPE, "application/zip")
        .header("x-amzn-RequestId", requestId(req));
    res.contentLength(Files.size(zip));
    try (InputStream in = Files.newInputStream(zip);
        OutputStream out = res.outputStream()) {
      in.transferTo(out);
    }
  }

  private void unknownOperation(ServerRequest req, ServerResponse res) {
    AwsErrors.send(
        res,
        requestId(req),
        new LambdaError(
            "UnknownOperationException",
            404,
            "Kiln does not implement "
                + req.prologue().method().text()
                + " "
                + req.path().path()
                + " (yet)"));
  }

  /**
   * Giving a function a role is passing the role to Lambda: as on AWS, the caller needs {@code
   * iam:PassRole} on the role (with {@code iam:PassedToService} {@code lambda.amazonaws.com}), as
   * AWSLambda_FullAccess and AdministratorAccess grant it. Only a role Kiln's IAM knows is checked:
   * one it does not know is compat mode's invoke-only role, which nobody could have been granted.
   */
  private void passRole(ServerRequest req, String role) {
    Optional<dev.kiln.api.auth.Caller> caller = dev.kiln.api.auth.RequestAuthentication.caller(req);
    if (caller.isEmpty() || identities.role(role).isEmpty()) {
      return;
    }
    dev.kiln.api.auth.ApiOperations.Operation pass =
        new dev.kiln.api.auth.ApiOperations.Operation(
            "PassRole", "iam:PassRole", role, Optional.empty());
    access
        .denial(caller.get(), pass, Map.of("iam:PassedToService", List.of("lambda.amazonaws.com")))
        .ifPresent(
            message -> {
              throw new LambdaError("AccessDeniedException", 403, message);
            });
  }

  // ---- reading requests ---------------------------------------------------------------------

  private ConfigPatch settings(
      ServerRequest req, RequestBody body, String function, boolean creating) {
    Optional<ConfigPatch.LoggingPatch> logging =
        body.object("LoggingConfig")
            .map(
                l ->
                    new ConfigPatch.LoggingPatch(
                        l.string("LogFormat"),
                        l.string("ApplicationLogLevel"),
                        l.string("SystemLogLevel"),
                        l.string("LogGroup")));
    Optional<Map<String, String>> environment =
        body.object("Environment").map(e -> e.stringMap("Variables").orElse(Map.of()));
    Optional<Integer> ephemeral =
        body.object("EphemeralStorage")
            .map(
                e ->
                    e.integer("Size")
                        .orElseThrow(
                            () ->
                                LambdaError.validation(
                                    "ephemeralStorage.size", "null", "Member must not be null")));
    body.string("Role")
        .ifPresent(
            role -> {
              ConfigPatch.checkRole(role);
              identities
                  .refusal(role, function)
                  .ifPresent(
                      refused -> {
                        throw LambdaError.invalidParameter(refused);
                      });
              passRole(req, role);
            });
    return new ConfigPatch(
        body.string("Runtime"),
        body.string("Handler"),
        body.string("Role"),
        body.string("Description"),
        body.integer("MemorySize"),
        body.integer("Timeout"),
        environment,
        ephemeral,
        creating ? body.stringList("Architectures") : Optional.empty(),
        creating ? body.string("PackageType") : Optional.empty(),
        body.object("TracingConfig").flatMap(t -> t.string("Mode")),
        logging,
        body.object("DeadLetterConfig").map(d -> d.string("TargetArn").orElse("")),
        body.stringList("Layers"));
  }

  /** Members of the model that Kiln cannot honour yet: refused by name rather than ignored. */
  private static void rejectUnsupported(RequestBody body) {
    for (String member :
        List.of(
            "VpcConfig",
            "KMSKeyArn",
            "FileSystemConfigs",
            "ImageConfig",
            "CodeSigningConfigArn",
            "CapacityProviderConfig",
            "DurableConfig",
            "TenancyConfig")) {
      if (body.hasContent(member)) {
        throw LambdaError.invalidParameter(
            member + " is not supported by this Kiln release; remove it from the request");
      }
    }
    body.object("SnapStart")
        .flatMap(s -> s.string("ApplyOn"))
        .filter(a -> !a.equals("None"))
        .ifPresent(
            a -> {
              throw LambdaError.invalidParameter(
                  "SnapStart ApplyOn " + a + " is not supported by this Kiln release");
            });
  }

  /**
   * The zip a request uploads as {@code ZipFile}.
   *
   * @param prefix how error messages name the members ({@code "Code."}, {@code "Content."}, or
   *     nothing for members at the top)
   */
  static byte[] zipFrom(RequestBody code, String prefix) {
    for (String member : List.of("S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri")) {
      if (code.has(member)) {
        throw LambdaError.invalidParameter(
            prefix
                + member
                + " is not supported by Kiln, which has no S3: upload the .zip"
                + " file itself as ZipFile (aws lambda ... --zip-file fileb://function.zip)");
      }
    }
    return code.blob("ZipFile")
        .orElseThrow(
            () ->
                LambdaError.invalidParameter(
                    "Please provide a source for function code: ZipFile is required"));
  }

  private FunctionRef functionRef(ServerRequest req) {
    return functionRef(req, account);
  }

  /** The function a request's path names, with the {@code Qualifier} of its query if any. */
  static FunctionRef functionRef(ServerRequest req, Account account) {
    FunctionRef ref =
        FunctionRef.parse(req.path().pathParameters().get("name"), "functionName", account);
    return ref.withQualifier(query(req, "Qualifier"));
  }

  static byte[] readBody(ServerRequest req, int limit, String operation) throws IOException {
    if (req.headers().contentLength().orElse(0) > limit) {
      throw tooLarge(limit, operation);
    }
    Optional<byte[]> read = RequestAuthentication.body(req);
    if (read.isPresent()) {
      // the signature check read it already
      if (read.get().length > limit) {
        throw tooLarge(limit, operation);
      }
      return read.get();
    }
    if (!req.content().hasEntity()) {
      return new byte[0];
    }
    try (InputStream in = req.content().inputStream()) {
      byte[] bytes = in.readNBytes(limit + 1);
      if (bytes.length > limit) {
        throw tooLarge(limit, operation);
      }
      return bytes;
    }
  }

  private static LambdaError tooLarge(int limit, String operation) {
    String message =
        "Request must be smaller than " + limit + " bytes for the " + operation + " operation";
    return operation.equals("InvokeFunction")
        ? LambdaError.requestTooLarge(message)
        : LambdaError.requestEntityTooLarge(message);
  }

  static Optional<String> header(ServerRequest req, String name) {
    return req.headers().first(HeaderNames.create(name));
  }

  static Optional<String> query(ServerRequest req, String name) {
    return req.query().contains(name) ? Optional.of(req.query().get(name)) : Optional.empty();
  }

  static Optional<Integer> queryInt(ServerRequest req, String name) {
    return query(req, name)
        .map(
            v -> {
              try {
                return Integer.parseInt(v);
              } catch (NumberFormatException e) {
                throw LambdaError.serialization(name + " must be an integer, got '" + v + "'");
              }
            });
  }

  static String encodeMarker(String name) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(name.getBytes(StandardCharsets.UTF_8));
  }

  static String decodeMarker(String marker) {
    try {
      return new String(Base64.getUrlDecoder().decode(marker), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw LambdaError.invalidParameter("Invalid Marker: " + marker + " was not issued by Kiln");
    }
  }

  /** Where the stored zip with this digest can be downloaded, for {@code Location} members. */
  static String codeLocation(ServerRequest req, String sha256Hex, CodeLinks links) {
    String file = sha256Hex + ".zip";
    return "http://" + req.authority() + CODE_DOWNLOAD + "/" + file + "?" + links.query(file);
  }

  static String requestId(ServerRequest req) {
    return req.context()
        .get("kiln.requestId", String.class)
        .orElseGet(
            () -> {
              String id = UUID.randomUUID().toString();
              req.context().register("kiln.requestId", id);
              return id;
            });
  }

  static void sendJson(ServerResponse res, ServerRequest req, int status, ObjectNode body) {
    res.status(status)
        .header("x-amzn-RequestId", requestId(req))
        .header(HeaderNames.CONTENT_TYPE, "application/json")
        .send(body.toString().getBytes(StandardCharsets.UTF_8));
  }
}
