package dev.kiln.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.esm.EventSourceMappings;
import dev.kiln.esm.source.EventSourceKind;
import dev.kiln.model.EventSourceMapping;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The event source mapping API: Create (202), Get, Update (202), Delete (202) and List
 * EventSourceMappings, and the answer's shape, {@code EventSourceMappingConfiguration}. Which
 * fields an answer carries depends on the source, as AWS's do: a queue's answer has no
 * StartingPosition and no retry settings; a stream's has them all. Times are epoch seconds.
 */
final class EventSourceMappingsApi {

  private static final int MAX_BODY = 256 * 1024;
  private static final String PATH = "/2015-03-31/event-source-mappings";

  private final EventSourceMappings mappings;

  EventSourceMappingsApi(EventSourceMappings mappings) {
    this.mappings = mappings;
  }

  void routes(HttpRouting.Builder r) {
    r.post(PATH, this::create)
        .post(PATH + "/", this::create)
        .get(PATH, this::list)
        .get(PATH + "/", this::list)
        .get(PATH + "/{uuid}", this::get)
        .put(PATH + "/{uuid}", this::update)
        .delete(PATH + "/{uuid}", this::delete);
  }

  private void create(ServerRequest req, ServerResponse res) throws IOException {
    JsonNode body =
        RequestBody.parse(LambdaApi.readBody(req, MAX_BODY, "CreateEventSourceMapping")).node();
    LambdaApi.sendJson(res, req, 202, json(mappings.create(body)));
  }

  private void get(ServerRequest req, ServerResponse res) {
    LambdaApi.sendJson(res, req, 200, json(mappings.get(uuid(req))));
  }

  private void update(ServerRequest req, ServerResponse res) throws IOException {
    JsonNode body =
        RequestBody.parse(LambdaApi.readBody(req, MAX_BODY, "UpdateEventSourceMapping")).node();
    LambdaApi.sendJson(res, req, 202, json(mappings.update(uuid(req), body)));
  }

  private void delete(ServerRequest req, ServerResponse res) {
    LambdaApi.sendJson(res, req, 202, json(mappings.delete(uuid(req))));
  }

  private void list(ServerRequest req, ServerResponse res) {
    Optional<Integer> maxItems = LambdaApi.queryInt(req, "MaxItems");
    EventSourceMappings.Page page =
        mappings.list(
            LambdaApi.query(req, "FunctionName"),
            LambdaApi.query(req, "EventSourceArn"),
            LambdaApi.query(req, "Marker"),
            maxItems);
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    page.nextMarker().ifPresent(m -> out.put("NextMarker", m));
    ArrayNode list = out.putArray("EventSourceMappings");
    page.mappings().forEach(m -> list.add(json(m)));
    LambdaApi.sendJson(res, req, 200, out);
  }

  private static String uuid(ServerRequest req) {
    return req.path().pathParameters().get("uuid");
  }

  /** AWS's {@code EventSourceMappingConfiguration} for {@code m}. */
  ObjectNode json(EventSourceMapping m) {
    boolean stream = mappings.kindOf(m).semantics() == EventSourceKind.Semantics.STREAM;
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    out.put("UUID", m.uuid());
    m.startingPosition().ifPresent(p -> out.put("StartingPosition", p));
    m.startingPositionTimestamp()
        .ifPresent(t -> out.put("StartingPositionTimestamp", t.toEpochMilli() / 1000.0));
    out.put("BatchSize", m.batchSize());
    out.put("MaximumBatchingWindowInSeconds", m.maximumBatchingWindowInSeconds());
    m.eventSourceArn().ifPresent(a -> out.put("EventSourceArn", a));
    if (!m.filters().isEmpty()) {
      ArrayNode filters = out.putObject("FilterCriteria").putArray("Filters");
      m.filters().forEach(p -> filters.addObject().put("Pattern", p));
    }
    out.put("FunctionArn", mappings.functionArn(m));
    out.put("LastModified", m.lastModified().toEpochMilli() / 1000.0);
    if (stream) {
      out.put("LastProcessingResult", m.lastProcessingResult());
    }
    out.put("State", m.state());
    out.put("StateTransitionReason", m.stateTransitionReason());
    if (stream) {
      ObjectNode onFailure = out.putObject("DestinationConfig").putObject("OnFailure");
      m.onFailureDestination().ifPresent(d -> onFailure.put("Destination", d));
    }
    strings(out, "Topics", m.topics());
    strings(out, "Queues", m.queues());
    if (!m.sourceAccess().isEmpty()) {
      ArrayNode access = out.putArray("SourceAccessConfigurations");
      m.sourceAccess().forEach(a -> access.addObject().put("Type", a.type()).put("URI", a.uri()));
    }
    if (!m.endpoints().isEmpty()) {
      ObjectNode endpoints = out.putObject("SelfManagedEventSource").putObject("Endpoints");
      for (Map.Entry<String, List<String>> e : m.endpoints().entrySet()) {
        strings(endpoints, e.getKey(), e.getValue());
      }
    }
    if (stream) {
      out.put("MaximumRecordAgeInSeconds", m.maximumRecordAgeInSeconds());
      out.put("BisectBatchOnFunctionError", m.bisectBatchOnFunctionError());
      out.put("MaximumRetryAttempts", m.maximumRetryAttempts());
    }
    strings(out, "FunctionResponseTypes", m.functionResponseTypes());
    m.consumerGroupId()
        .ifPresent(
            g -> out.putObject("SelfManagedKafkaEventSourceConfig").put("ConsumerGroupId", g));
    m.maximumConcurrency()
        .ifPresent(c -> out.putObject("ScalingConfig").put("MaximumConcurrency", c));
    out.put("EventSourceMappingArn", mappings.arn(m.uuid()));
    return out;
  }

  private static void strings(ObjectNode out, String field, List<String> values) {
    if (!values.isEmpty()) {
      ArrayNode a = out.putArray(field);
      values.forEach(a::add);
    }
  }
}
