package dev.kiln.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.invoke.Aliases;
import dev.kiln.invoke.Catalog;
import dev.kiln.invoke.Concurrency;
import dev.kiln.invoke.Functions;
import dev.kiln.model.Account;
import dev.kiln.model.AliasConfig;
import dev.kiln.model.FunctionConfig;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The Lambda API's versions, aliases and concurrency: PublishVersion, ListVersionsByFunction, the
 * five alias operations, Put/Get/DeleteFunctionConcurrency and the provisioned-concurrency
 * operations, in the shapes of the service model.
 */
final class VersionsApi {

  private static final int MAX_BODY = 64 * 1024;

  private final Functions functions;
  private final Aliases aliases;
  private final Concurrency concurrency;
  private final Account account;

  VersionsApi(Catalog catalog) {
    this.functions = catalog.functions();
    this.aliases = catalog.aliases();
    this.concurrency = catalog.concurrency();
    this.account = catalog.account();
  }

  void routes(HttpRouting.Builder r) {
    String function = LambdaApi.FUNCTIONS + "/{name}";
    r.post(function + "/versions", this::publishVersion)
        .get(function + "/versions", this::listVersions)
        .post(function + "/aliases", this::createAlias)
        .get(function + "/aliases", this::listAliases)
        .get(function + "/aliases/{alias}", this::getAlias)
        .put(function + "/aliases/{alias}", this::updateAlias)
        .delete(function + "/aliases/{alias}", this::deleteAlias)
        .put("/2017-10-31/functions/{name}/concurrency", this::putConcurrency)
        .get("/2019-09-30/functions/{name}/concurrency", this::getConcurrency)
        .delete("/2017-10-31/functions/{name}/concurrency", this::deleteConcurrency)
        .put(PROVISIONED, this::putProvisioned)
        .get(PROVISIONED, this::getProvisioned)
        .delete(PROVISIONED, this::deleteProvisioned);
  }

  private static final String PROVISIONED = "/2019-09-30/functions/{name}/provisioned-concurrency";

  private void putProvisioned(ServerRequest req, ServerResponse res) throws IOException {
    FunctionRef ref = LambdaApi.functionRef(req, account);
    RequestBody body =
        RequestBody.parse(LambdaApi.readBody(req, MAX_BODY, "PutProvisionedConcurrencyConfig"));
    int count =
        body.integer("ProvisionedConcurrentExecutions")
            .orElseThrow(
                () ->
                    LambdaError.validation(
                        "provisionedConcurrentExecutions", "null", "Member must not be null"));
    LambdaApi.sendJson(res, req, 202, provisionedJson(concurrency.provision(ref, count), false));
  }

  /**
   * GetProvisionedConcurrencyConfig, or with {@code List=ALL} ListProvisionedConcurrencyConfigs.
   */
  private void getProvisioned(ServerRequest req, ServerResponse res) {
    FunctionRef ref = LambdaApi.functionRef(req, account);
    if (LambdaApi.query(req, "List").isPresent()) {
      ObjectNode out = FunctionJson.JSON.createObjectNode();
      ArrayNode list = out.putArray("ProvisionedConcurrencyConfigs");
      page(req, concurrency.provisionedConfigs(ref), v -> v.config().qualifier(), out)
          .forEach(v -> list.add(provisionedJson(v, true)));
      LambdaApi.sendJson(res, req, 200, out);
      return;
    }
    LambdaApi.sendJson(res, req, 200, provisionedJson(concurrency.provisioned(ref), false));
  }

  private void deleteProvisioned(ServerRequest req, ServerResponse res) {
    concurrency.deprovision(LambdaApi.functionRef(req, account));
    res.status(204).header("x-amzn-RequestId", LambdaApi.requestId(req)).send();
  }

  private ObjectNode provisionedJson(Concurrency.ProvisionedView v, boolean withArn) {
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    if (withArn) {
      out.put(
          "FunctionArn", account.functionArn(v.config().functionName(), v.config().qualifier()));
    }
    out.put("RequestedProvisionedConcurrentExecutions", v.config().requested());
    out.put("AvailableProvisionedConcurrentExecutions", v.ready());
    out.put("AllocatedProvisionedConcurrentExecutions", v.ready());
    out.put("Status", v.status());
    v.failure().ifPresent(f -> out.put("StatusReason", f));
    out.put("LastModified", FunctionJson.timestamp(v.config().lastModified()));
    return out;
  }

  private void putConcurrency(ServerRequest req, ServerResponse res) throws IOException {
    FunctionRef ref = LambdaApi.functionRef(req, account);
    RequestBody body =
        RequestBody.parse(LambdaApi.readBody(req, MAX_BODY, "PutFunctionConcurrency"));
    int count =
        body.integer("ReservedConcurrentExecutions")
            .orElseThrow(
                () ->
                    LambdaError.validation(
                        "reservedConcurrentExecutions", "null", "Member must not be null"));
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    out.put("ReservedConcurrentExecutions", concurrency.reserve(ref, count));
    LambdaApi.sendJson(res, req, 200, out);
  }

  private void getConcurrency(ServerRequest req, ServerResponse res) {
    FunctionRef ref = LambdaApi.functionRef(req, account);
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    concurrency.reserved(ref).ifPresent(n -> out.put("ReservedConcurrentExecutions", n));
    LambdaApi.sendJson(res, req, 200, out);
  }

  private void deleteConcurrency(ServerRequest req, ServerResponse res) {
    concurrency.unreserve(LambdaApi.functionRef(req, account));
    res.status(204).header("x-amzn-RequestId", LambdaApi.requestId(req)).send();
  }

  private void publishVersion(ServerRequest req, ServerResponse res) throws IOException {
    FunctionRef ref = LambdaApi.functionRef(req, account);
    RequestBody body = RequestBody.parse(LambdaApi.readBody(req, MAX_BODY, "PublishVersion"));
    Optional<String> description = body.string("Description");
    description
        .filter(d -> d.length() > 256)
        .ifPresent(
            d -> {
              throw LambdaError.validation(
                  "description", d, "Member must have length less than or equal to 256");
            });
    FunctionConfig published =
        functions.publish(ref, body.string("CodeSha256"), description, body.string("RevisionId"));
    LambdaApi.sendJson(res, req, 201, FunctionJson.configuration(published, account));
  }

  private void listVersions(ServerRequest req, ServerResponse res) {
    FunctionRef ref = LambdaApi.functionRef(req, account);
    List<FunctionConfig> versions = functions.versions(ref);
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    ArrayNode list = out.putArray("Versions");
    page(req, versions, FunctionConfig::version, out)
        .forEach(v -> list.add(FunctionJson.configuration(v, account)));
    LambdaApi.sendJson(res, req, 200, out);
  }

  private void createAlias(ServerRequest req, ServerResponse res) throws IOException {
    FunctionRef ref = LambdaApi.functionRef(req, account);
    RequestBody body = RequestBody.parse(LambdaApi.readBody(req, MAX_BODY, "CreateAlias"));
    AliasConfig alias =
        aliases.create(
            ref,
            body.requiredString("Name"),
            body.requiredString("FunctionVersion"),
            body.string("Description").orElse(""),
            weights(body).orElse(Map.of()));
    LambdaApi.sendJson(res, req, 201, aliasJson(alias));
  }

  private void getAlias(ServerRequest req, ServerResponse res) {
    FunctionRef ref = LambdaApi.functionRef(req, account);
    LambdaApi.sendJson(res, req, 200, aliasJson(aliases.get(ref.name(), aliasName(req))));
  }

  private void updateAlias(ServerRequest req, ServerResponse res) throws IOException {
    FunctionRef ref = LambdaApi.functionRef(req, account);
    RequestBody body = RequestBody.parse(LambdaApi.readBody(req, MAX_BODY, "UpdateAlias"));
    AliasConfig alias =
        aliases.update(
            ref,
            aliasName(req),
            body.string("FunctionVersion"),
            body.string("Description"),
            weights(body),
            body.string("RevisionId"));
    LambdaApi.sendJson(res, req, 200, aliasJson(alias));
  }

  private void deleteAlias(ServerRequest req, ServerResponse res) {
    FunctionRef ref = LambdaApi.functionRef(req, account);
    aliases.delete(ref, aliasName(req));
    res.status(204).header("x-amzn-RequestId", LambdaApi.requestId(req)).send();
  }

  private void listAliases(ServerRequest req, ServerResponse res) {
    FunctionRef ref = LambdaApi.functionRef(req, account);
    List<AliasConfig> found = aliases.list(ref, LambdaApi.query(req, "FunctionVersion"));
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    ArrayNode list = out.putArray("Aliases");
    page(req, found, AliasConfig::name, out).forEach(a -> list.add(aliasJson(a)));
    LambdaApi.sendJson(res, req, 200, out);
  }

  private static String aliasName(ServerRequest req) {
    return req.path().pathParameters().get("alias");
  }

  /** {@code RoutingConfig.AdditionalVersionWeights}, when the request has a routing config. */
  private static Optional<Map<String, Double>> weights(RequestBody body) {
    return body.object("RoutingConfig")
        .map(r -> r.numberMap("AdditionalVersionWeights").orElse(Map.of()));
  }

  /**
   * The page of {@code all} that the request's {@code Marker} and {@code MaxItems} ask for; sets
   * {@code NextMarker} on {@code out} when more follow.
   */
  static <T> List<T> page(ServerRequest req, List<T> all, Function<T, String> key, ObjectNode out) {
    int maxItems = LambdaApi.queryInt(req, "MaxItems").orElse(LambdaApi.DEFAULT_MAX_ITEMS);
    if (maxItems < 1 || maxItems > 10_000) {
      throw LambdaError.validation(
          "maxItems", maxItems, "Member must have value between 1 and 10000");
    }
    int from = 0;
    Optional<String> marker = LambdaApi.query(req, "Marker").map(LambdaApi::decodeMarker);
    if (marker.isPresent()) {
      from = -1;
      for (int i = 0; i < all.size(); i++) {
        if (key.apply(all.get(i)).equals(marker.get())) {
          from = i + 1;
        }
      }
      if (from < 0) {
        throw LambdaError.invalidParameter(
            "Invalid Marker: " + LambdaApi.query(req, "Marker").get() + " was not issued by Kiln");
      }
    }
    int to = Math.min(all.size(), from + maxItems);
    if (to < all.size()) {
      out.put("NextMarker", LambdaApi.encodeMarker(key.apply(all.get(to - 1))));
    }
    return all.subList(from, to);
  }

  private ObjectNode aliasJson(AliasConfig a) {
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    out.put("AliasArn", account.functionArn(a.functionName(), a.name()));
    out.put("Name", a.name());
    out.put("FunctionVersion", a.functionVersion());
    out.put("Description", a.description());
    if (!a.additionalVersionWeights().isEmpty()) {
      ObjectNode weights = out.putObject("RoutingConfig").putObject("AdditionalVersionWeights");
      a.additionalVersionWeights().forEach(weights::put);
    }
    out.put("RevisionId", a.revisionId());
    return out;
  }
}
