package dev.kiln.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.invoke.Catalog;
import dev.kiln.invoke.FunctionUrls;
import dev.kiln.model.Account;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.FunctionUrlConfig;
import dev.kiln.model.FunctionUrlConfig.Cors;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;

/**
 * The function URL API: Create (201), Get, Update, Delete (204) and List FunctionUrlConfig(s), on a
 * function or one of its aliases ({@code Qualifier}). Times are ISO-8601 with microseconds, as AWS
 * writes them ({@code 2021-10-31T17:42:33.123456Z}); {@code Cors} appears only when set, and the
 * create answer has no {@code LastModifiedTime}, as AWS's.
 */
final class FunctionUrlsApi {

  private static final int MAX_BODY = 256 * 1024;

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

  private final FunctionUrls urls;
  private final Account account;

  FunctionUrlsApi(Catalog catalog) {
    this.urls = catalog.urls();
    this.account = catalog.account();
  }

  void routes(HttpRouting.Builder r) {
    String url = "/2021-10-31/functions/{name}/url";
    r.post(url, this::create)
        .get(url, this::get)
        .put(url, this::update)
        .delete(url, this::delete)
        .get("/2021-10-31/functions/{name}/urls", this::list);
  }

  private void create(ServerRequest req, ServerResponse res) throws IOException {
    FunctionRef ref = LambdaApi.functionRef(req, account);
    RequestBody body =
        RequestBody.parse(LambdaApi.readBody(req, MAX_BODY, "CreateFunctionUrlConfig"));
    FunctionUrlConfig config =
        urls.create(ref, body.requiredString("AuthType"), cors(body), body.string("InvokeMode"));
    LambdaApi.sendJson(res, req, 201, json(config, false));
  }

  private void get(ServerRequest req, ServerResponse res) {
    LambdaApi.sendJson(res, req, 200, json(urls.get(LambdaApi.functionRef(req, account)), true));
  }

  private void update(ServerRequest req, ServerResponse res) throws IOException {
    FunctionRef ref = LambdaApi.functionRef(req, account);
    RequestBody body =
        RequestBody.parse(LambdaApi.readBody(req, MAX_BODY, "UpdateFunctionUrlConfig"));
    FunctionUrlConfig config =
        urls.update(ref, body.string("AuthType"), cors(body), body.string("InvokeMode"));
    LambdaApi.sendJson(res, req, 200, json(config, true));
  }

  private void delete(ServerRequest req, ServerResponse res) {
    urls.delete(LambdaApi.functionRef(req, account));
    res.status(204).header("x-amzn-RequestId", LambdaApi.requestId(req)).send();
  }

  private void list(ServerRequest req, ServerResponse res) {
    FunctionRef ref =
        FunctionRef.parseUnqualified(
            req.path().pathParameters().get("name"), "functionName", account);
    int maxItems = LambdaApi.queryInt(req, "MaxItems").orElse(FunctionUrls.MAX_ITEMS);
    FunctionUrls.Page page =
        urls.list(ref, LambdaApi.query(req, "Marker").map(LambdaApi::decodeMarker), maxItems);
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    ArrayNode list = out.putArray("FunctionUrlConfigs");
    page.configs().forEach(c -> list.add(json(c, true)));
    page.nextMarker().ifPresent(m -> out.put("NextMarker", LambdaApi.encodeMarker(m)));
    LambdaApi.sendJson(res, req, 200, out);
  }

  /** The request's {@code Cors}, checked against the model's limits as it is built. */
  private static Optional<Cors> cors(RequestBody body) {
    return body.object("Cors")
        .map(
            c ->
                new Cors(
                    c.bool("AllowCredentials"),
                    c.stringList("AllowHeaders").orElse(List.of()),
                    c.stringList("AllowMethods").orElse(List.of()),
                    c.stringList("AllowOrigins").orElse(List.of()),
                    c.stringList("ExposeHeaders").orElse(List.of()),
                    c.integer("MaxAge")));
  }

  private ObjectNode json(FunctionUrlConfig c, boolean lastModified) {
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    out.put("FunctionUrl", urls.functionUrl(c));
    out.put("FunctionArn", urls.functionArn(c));
    out.put("AuthType", c.authType());
    c.cors()
        .ifPresent(
            cors -> {
              ObjectNode o = out.putObject("Cors");
              cors.allowCredentials().ifPresent(v -> o.put("AllowCredentials", v));
              strings(o, "AllowHeaders", cors.allowHeaders());
              strings(o, "AllowMethods", cors.allowMethods());
              strings(o, "AllowOrigins", cors.allowOrigins());
              strings(o, "ExposeHeaders", cors.exposeHeaders());
              cors.maxAge().ifPresent(v -> o.put("MaxAge", v));
            });
    out.put("CreationTime", time(c.creationTime()));
    if (lastModified) {
      out.put("LastModifiedTime", time(c.lastModifiedTime()));
    }
    out.put("InvokeMode", c.invokeMode());
    return out;
  }

  private static void strings(ObjectNode o, String member, List<String> values) {
    if (!values.isEmpty()) {
      ArrayNode a = o.putArray(member);
      values.forEach(a::add);
    }
  }

  /** {@code 2021-10-31T17:42:33.123456Z}: always six digits of fraction. */
  static String time(Instant t) {
    return TIME.format(t);
  }
}
