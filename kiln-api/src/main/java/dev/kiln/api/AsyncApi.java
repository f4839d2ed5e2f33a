package dev.kiln.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.invoke.AsyncInvocations;
import dev.kiln.invoke.Catalog;
import dev.kiln.invoke.EventInvokeConfigs;
import dev.kiln.invoke.Functions;
import dev.kiln.model.Account;
import dev.kiln.model.EventInvokeConfig;
import dev.kiln.model.FunctionRef;
import dev.kiln.store.EventQueue;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * The Lambda API's settings for asynchronous invocation ({@code FunctionEventInvokeConfig}: Put,
 * Update, Get, Delete, List), and Kiln's own view of a function's events: how many are queued, in
 * flight, delivered and failed ({@code GET /kiln/functions/{name}/async-events}).
 */
final class AsyncApi {

  private static final String CONFIG = "/2019-09-25/functions/{name}/event-invoke-config";
  private static final int MAX_BODY = 64 * 1024;

  private final EventInvokeConfigs configs;
  private final Functions functions;
  private final AsyncInvocations async;
  private final Account account;

  AsyncApi(Catalog catalog, AsyncInvocations async) {
    this.configs = catalog.eventInvokeConfigs();
    this.functions = catalog.functions();
    this.async = async;
    this.account = catalog.account();
  }

  void routes(HttpRouting.Builder r) {
    r.put(CONFIG, (req, res) -> put(req, res, true))
        .post(CONFIG, (req, res) -> put(req, res, false))
        .get(CONFIG, this::get)
        .delete(CONFIG, this::delete)
        .get(CONFIG + "/list", this::list)
        .get("/kiln/functions/{name}/async-events", this::counts);
  }

  private void put(ServerRequest req, ServerResponse res, boolean replace) throws IOException {
    FunctionRef ref = LambdaApi.functionRef(req, account);
    RequestBody body =
        RequestBody.parse(
            LambdaApi.readBody(
                req,
                MAX_BODY,
                replace ? "PutFunctionEventInvokeConfig" : "UpdateFunctionEventInvokeConfig"));
    Optional<RequestBody> destinations = body.object("DestinationConfig");
    EventInvokeConfig config =
        configs.put(
            ref,
            body.integer("MaximumRetryAttempts"),
            body.integer("MaximumEventAgeInSeconds"),
            destinations.map(d -> destination(d, "OnSuccess")),
            destinations.map(d -> destination(d, "OnFailure")),
            replace);
    LambdaApi.sendJson(res, req, 200, json(config));
  }

  /** A destination given in the request: present and empty clears it. */
  private static Optional<String> destination(RequestBody destinations, String which) {
    return destinations.object(which).flatMap(d -> d.string("Destination"));
  }

  private void get(ServerRequest req, ServerResponse res) {
    LambdaApi.sendJson(res, req, 200, json(configs.get(LambdaApi.functionRef(req, account))));
  }

  private void delete(ServerRequest req, ServerResponse res) {
    configs.delete(LambdaApi.functionRef(req, account));
    res.status(204).header("x-amzn-RequestId", LambdaApi.requestId(req)).send();
  }

  private void list(ServerRequest req, ServerResponse res) {
    List<EventInvokeConfig> found = configs.list(LambdaApi.functionRef(req, account));
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    ArrayNode list = out.putArray("FunctionEventInvokeConfigs");
    found.forEach(c -> list.add(json(c)));
    LambdaApi.sendJson(res, req, 200, out);
  }

  private void counts(ServerRequest req, ServerResponse res) {
    FunctionRef ref = LambdaApi.functionRef(req, account);
    functions.get(new FunctionRef(ref.name(), Optional.empty()));
    EventQueue.Counts c = async.counts(ref.name());
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    out.put("FunctionName", ref.name());
    out.put("Queued", c.queued());
    out.put("InFlight", c.inFlight());
    out.put("Succeeded", c.succeeded());
    out.put("Failed", c.failed());
    LambdaApi.sendJson(res, req, 200, out);
  }

  private ObjectNode json(EventInvokeConfig c) {
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    out.put("LastModified", c.lastModified().toEpochMilli() / 1000.0);
    out.put(
        "FunctionArn",
        c.qualifier().equals(FunctionRef.LATEST)
            ? account.functionArn(c.functionName(), FunctionRef.LATEST)
            : account.functionArn(c.functionName(), c.qualifier()));
    out.put("MaximumRetryAttempts", c.maxRetryAttempts());
    out.put("MaximumEventAgeInSeconds", c.maxEventAgeSeconds());
    ObjectNode destinations = out.putObject("DestinationConfig");
    ObjectNode success = destinations.putObject("OnSuccess");
    c.onSuccess().ifPresent(d -> success.put("Destination", d));
    ObjectNode failure = destinations.putObject("OnFailure");
    c.onFailure().ifPresent(d -> failure.put("Destination", d));
    return out;
  }
}
