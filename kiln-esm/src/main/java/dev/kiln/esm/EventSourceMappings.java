package dev.kiln.esm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.esm.filter.RecordFilter;
import dev.kiln.esm.source.EventSourceKind;
import dev.kiln.invoke.Functions;
import dev.kiln.model.Account;
import dev.kiln.model.EventSourceMapping;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.StorageException;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The event source mappings API (Create, Get, Update, Delete, List EventSourceMapping, and the tags
 * of a mapping's ARN), over the store, telling the {@link MappingPollers} after every change.
 *
 * <p>A request is read here from its JSON document, field by field as the service model names them,
 * because what a field means (and whether it is allowed at all) depends on the source: the common
 * checks (the model's ranges, the function, the filters, the destination) are made here, and the
 * source's own by its {@link EventSourceKind#complete}. A change is stored first and the pollers
 * are woken after, so what runs always follows what is stored.
 *
 * <p>States move as AWS moves them: a new mapping is {@code Creating}, an update {@code Updating}
 * (or {@code Enabling}/{@code Disabling} when it flips Enabled), a delete {@code Deleting}; the
 * pollers' reconciliation settles each (Enabled, Disabled, gone) a moment later.
 *
 * <p>Thread safety: no state but the store's; each change is one store transaction.
 */
public final class EventSourceMappings {

  /** ListEventSourceMappings' largest and default page. */
  public static final int MAX_ITEMS = 10000;

  public static final int DEFAULT_ITEMS = 100;

  private final MetadataStore store;
  private final Functions functions;
  private final EventSourceKinds kinds;
  private final MappingPollers pollers;
  private final Account account;
  private final InstantSource clock;
  private final RolePermissions roles;

  /**
   * Whether an execution role allows an action on a resource, as IAM decides it; a role IAM does
   * not know allows it (Kiln's {@code --iam compat}).
   */
  @FunctionalInterface
  public interface RolePermissions {
    boolean allows(String roleArn, String action, String resource);
  }

  public EventSourceMappings(
      MetadataStore store,
      Functions functions,
      EventSourceKinds kinds,
      MappingPollers pollers,
      Account account,
      InstantSource clock,
      RolePermissions roles) {
    this.roles = roles;
    this.store = store;
    this.functions = functions;
    this.kinds = kinds;
    this.pollers = pollers;
    this.account = account;
    this.clock = clock;
  }

  /** The source kind of a stored mapping (for how its answer is shaped). */
  public EventSourceKind kindOf(EventSourceMapping m) {
    return kinds
        .named(m.kind())
        .orElseThrow(() -> LambdaError.service("unknown event source kind " + m.kind()));
  }

  /** The ARN of a mapping, which TagResource and the answers name. */
  public String arn(String uuid) {
    return "arn:aws:lambda:"
        + account.region()
        + ":"
        + account.accountId()
        + ":event-source-mapping:"
        + uuid;
  }

  /** The function's ARN, qualified as the mapping names it. */
  public String functionArn(EventSourceMapping m) {
    return account.functionArn(m.functionName()) + m.qualifier().map(q -> ":" + q).orElse("");
  }

  // ---- Create ----------------------------------------------------------------------------------

  public EventSourceMapping create(JsonNode body) {
    Request r = new Request(body);
    FunctionRef function = function(r.text("FunctionName").orElse(null));
    Optional<String> arn = r.text("EventSourceArn");
    Map<String, List<String>> endpoints = endpoints(r);
    EventSourceKind kind = kinds.forRequest(arn.orElse(null), endpoints.keySet());
    Instant now = now();
    EventSourceMapping.Builder b =
        new EventSourceMapping.Builder(
                UUID.randomUUID().toString(), kind.name(), function.name(), now)
            .qualifier(function.qualifier().filter(q -> !q.equals(FunctionRef.LATEST)))
            .eventSourceArn(arn)
            .endpoints(endpoints)
            .topics(r.texts("Topics").orElse(List.of()))
            .queues(r.texts("Queues").orElse(List.of()))
            .startingPosition(
                r.enumText("StartingPosition", "startingPosition", STARTING_POSITIONS))
            .startingPositionTimestamp(r.timestamp("StartingPositionTimestamp"))
            .consumerGroupId(
                r.object("SelfManagedKafkaEventSourceConfig")
                    .flatMap(c -> Request.textOf(c, "ConsumerGroupId")))
            .tags(tags(r));
    common(r, b, true);
    EventSourceMapping mapping = kind.complete(b, r.present(), true);
    checkRole(kind, function, mapping);
    try {
      store.createEventSourceMapping(mapping, kind.sourceKey(mapping));
    } catch (StorageException.AlreadyExists e) {
      throw duplicate(mapping, e.key());
    } catch (StorageException.NotFound e) {
      throw functionNotFound(function);
    }
    pollers.wake();
    return mapping;
  }

  /** AWS's refusal of a second mapping of one function on one source. */
  private static LambdaError duplicate(EventSourceMapping m, String existingUuid) {
    return LambdaError.conflict(
        "An event source mapping with "
            + describeSource(m)
            + " and function (\" "
            + m.functionName()
            + " \") already exists. Please update or delete the existing mapping with UUID "
            + existingUuid);
  }

  private static String describeSource(EventSourceMapping m) {
    if (m.eventSourceArn().isPresent()) {
      String service = m.kind().equals("sqs") ? "SQS" : "event source";
      return service + " arn (\" " + m.eventSourceArn().get() + " \")";
    }
    return "event source (\" "
        + String.join(",", m.endpoints().values().stream().flatMap(List::stream).toList())
        + " \") and topics (\" "
        + String.join(",", m.topics())
        + " \")";
  }

  /** AWS checks at create that the function's role may read the source; so does Kiln. */
  private void checkRole(EventSourceKind kind, FunctionRef function, EventSourceMapping mapping) {
    if (kind.roleActions().isEmpty() || mapping.eventSourceArn().isEmpty()) {
      return;
    }
    String role = functions.get(function).role();
    for (String action : kind.roleActions()) {
      if (!roles.allows(role, action, mapping.eventSourceArn().get())) {
        String service =
            action.substring(0, action.indexOf(':')).toUpperCase(java.util.Locale.ROOT);
        throw LambdaError.invalidParameter(
            "The provided execution role does not have permissions to call "
                + action.substring(action.indexOf(':') + 1)
                + " on "
                + service);
      }
    }
  }

  // ---- Get, List ------------------------------------------------------------------------------

  public EventSourceMapping get(String uuid) {
    return store.eventSourceMapping(uuid).orElseThrow(EventSourceMappings::mappingNotFound);
  }

  private static LambdaError mappingNotFound() {
    return LambdaError.notFound("The resource you requested does not exist.");
  }

  /** One page of {@link #list}. */
  public record Page(List<EventSourceMapping> mappings, Optional<String> nextMarker) {}

  public Page list(
      Optional<String> functionName,
      Optional<String> eventSourceArn,
      Optional<String> marker,
      Optional<Integer> maxItems) {
    int max = maxItems.orElse(DEFAULT_ITEMS);
    if (max < 1 || max > MAX_ITEMS) {
      throw LambdaError.validation(
          "maxItems",
          max,
          max < 1
              ? "Member must have value greater than or equal to 1"
              : "Member must have value less than or equal to " + MAX_ITEMS);
    }
    Optional<FunctionRef> function =
        functionName.map(n -> FunctionRef.parse(n, "functionName", account));
    try {
      if (function.isEmpty()) {
        MetadataStore.MappingPage p =
            store.eventSourceMappings(Optional.empty(), eventSourceArn, marker, max);
        return new Page(p.mappings(), p.nextMarker());
      }
      // a qualified name lists only that qualifier's mappings: filtered here, paged by the store
      List<EventSourceMapping> out = new ArrayList<>();
      Optional<String> next = marker;
      Optional<String> wanted =
          function.get().qualifier().filter(q -> !q.equals(FunctionRef.LATEST));
      boolean qualified = function.get().qualifier().isPresent();
      do {
        MetadataStore.MappingPage p =
            store.eventSourceMappings(
                Optional.of(function.get().name()), eventSourceArn, next, max);
        for (EventSourceMapping m : p.mappings()) {
          if (!qualified || m.qualifier().equals(wanted)) {
            out.add(m);
          }
        }
        next = p.nextMarker();
        if (out.size() >= max) {
          break;
        }
      } while (next.isPresent());
      if (out.size() > max) {
        out = out.subList(0, max);
      }
      return new Page(List.copyOf(out), next);
    } catch (StorageException.InvalidMarker e) {
      throw LambdaError.invalidParameter("Invalid pagination token: " + e.key());
    }
  }

  // ---- Update ---------------------------------------------------------------------------------

  public EventSourceMapping update(String uuid, JsonNode body) {
    Request r = new Request(body);
    EventSourceMapping current = get(uuid);
    if (current.state().equals(EventSourceMapping.DELETING)) {
      throw LambdaError.inUse(
          "Cannot update the event source mapping because it is in use (State: Deleting).");
    }
    EventSourceKind kind = kindOf(current);
    EventSourceMapping.Builder b = current.toBuilder();
    if (r.has("FunctionName")) {
      FunctionRef function = function(r.text("FunctionName").orElse(null));
      b.functionName(function.name())
          .qualifier(function.qualifier().filter(q -> !q.equals(FunctionRef.LATEST)));
    }
    r.object("SelfManagedKafkaEventSourceConfig")
        .flatMap(c -> Request.textOf(c, "ConsumerGroupId"))
        .filter(g -> !Optional.of(g).equals(current.consumerGroupId()))
        .ifPresent(
            g -> {
              throw LambdaError.invalidParameter(
                  "ConsumerGroupId cannot be updated: it is fixed when the mapping is created.");
            });
    common(r, b, false);
    Optional<Boolean> enabled = r.bool("Enabled");
    String state =
        enabled.isPresent() && enabled.get() != current.enabled()
            ? (enabled.get() ? EventSourceMapping.ENABLING : EventSourceMapping.DISABLING)
            : EventSourceMapping.UPDATING;
    b.state(state).stateTransitionReason("USER_INITIATED").lastModified(now());
    EventSourceMapping wanted = kind.complete(b, r.present(), false);
    EventSourceMapping stored;
    try {
      stored =
          store
              .updateEventSourceMapping(
                  uuid,
                  m -> wanted.toBuilder().lastProcessingResult(m.lastProcessingResult()).build())
              .orElseThrow(EventSourceMappings::mappingNotFound);
    } catch (StorageException.AlreadyExists e) {
      throw duplicate(wanted, e.key());
    } catch (StorageException.NotFound e) {
      throw functionNotFound(FunctionRef.of(wanted.functionName()));
    }
    pollers.wake();
    return stored;
  }

  // ---- Delete ---------------------------------------------------------------------------------

  public EventSourceMapping delete(String uuid) {
    get(uuid);
    EventSourceMapping deleting =
        store
            .updateEventSourceMapping(
                uuid,
                m ->
                    m.toBuilder()
                        .state(EventSourceMapping.DELETING)
                        .stateTransitionReason("USER_INITIATED")
                        .lastModified(now())
                        .build())
            .orElseThrow(EventSourceMappings::mappingNotFound);
    pollers.wake();
    return deleting;
  }

  // ---- Tags -----------------------------------------------------------------------------------

  /** The UUID an ARN of a mapping names, if it names one this Kiln has. */
  public static Optional<String> uuidOf(String arn) {
    int at = arn.indexOf(":event-source-mapping:");
    return at < 0
        ? Optional.empty()
        : Optional.of(arn.substring(at + ":event-source-mapping:".length()));
  }

  public Map<String, String> tags(String uuid) {
    return get(uuid).tags();
  }

  public void tag(String uuid, Map<String, String> add) {
    get(uuid);
    store.updateEventSourceMapping(
        uuid,
        m -> {
          Map<String, String> merged = new LinkedHashMap<>(m.tags());
          merged.putAll(add);
          if (merged.size() > 50) {
            throw LambdaError.invalidParameter(
                "Number of tags exceeds resource tag limit. A resource can have up to 50 tags.");
          }
          return m.toBuilder().tags(merged).build();
        });
  }

  public void untag(String uuid, List<String> keys) {
    get(uuid);
    store.updateEventSourceMapping(
        uuid,
        m -> {
          Map<String, String> kept = new LinkedHashMap<>(m.tags());
          keys.forEach(kept::remove);
          return m.toBuilder().tags(kept).build();
        });
  }

  // ---- the fields every source shares ---------------------------------------------------------

  private static final Set<String> STARTING_POSITIONS =
      Set.of("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP");

  private void common(Request r, EventSourceMapping.Builder b, boolean creating) {
    r.bool("Enabled").ifPresent(b::enabled);
    r.integer("BatchSize", "batchSize", 1, 10000).ifPresent(b::batchSize);
    r.integer("MaximumBatchingWindowInSeconds", "maximumBatchingWindowInSeconds", 0, 300)
        .ifPresent(b::maximumBatchingWindowInSeconds);
    r.integer("MaximumRetryAttempts", "maximumRetryAttempts", -1, 10000)
        .ifPresent(b::maximumRetryAttempts);
    r.integer("MaximumRecordAgeInSeconds", "maximumRecordAgeInSeconds", -1, 604800)
        .ifPresent(
            age -> {
              if (age >= 0 && age < 60) {
                throw LambdaError.invalidParameter(
                    "MaximumRecordAgeInSeconds must be -1 (no limit) or between 60 and 604800.");
              }
              b.maximumRecordAgeInSeconds(age);
            });
    r.bool("BisectBatchOnFunctionError").ifPresent(b::bisectBatchOnFunctionError);
    r.object("ScalingConfig")
        .ifPresent(
            s -> {
              Request scaling = new Request(s);
              b.maximumConcurrency(
                  scaling.integer(
                      "MaximumConcurrency", "scalingConfig.maximumConcurrency", 2, 1000));
            });
    r.texts("FunctionResponseTypes")
        .ifPresent(
            types -> {
              for (String t : types) {
                if (!t.equals(EventSourceMapping.REPORT_BATCH_ITEM_FAILURES)) {
                  throw LambdaError.validation(
                      "functionResponseTypes",
                      types,
                      "Member must satisfy constraint: [Member must satisfy enum value set:"
                          + " [ReportBatchItemFailures]]");
                }
              }
              b.functionResponseTypes(List.copyOf(new java.util.LinkedHashSet<>(types)));
            });
    r.object("FilterCriteria")
        .ifPresent(
            f -> {
              List<String> patterns = new ArrayList<>();
              JsonNode filters = f.get("Filters");
              if (filters != null && filters.isArray()) {
                for (JsonNode filter : filters) {
                  JsonNode pattern = filter.get("Pattern");
                  patterns.add(pattern == null || pattern.isNull() ? null : pattern.asText());
                }
              }
              RecordFilter.validate(patterns);
              b.filters(patterns);
            });
    r.object("DestinationConfig")
        .ifPresent(
            d -> {
              if (d.has("OnSuccess") && !d.get("OnSuccess").isEmpty()) {
                throw LambdaError.invalidParameter(
                    "Unsupported DestinationConfig parameter: OnSuccess destinations are not"
                        + " supported for event source mappings.");
              }
              JsonNode onFailure = d.get("OnFailure");
              Optional<String> destination =
                  onFailure == null ? Optional.empty() : Request.textOf(onFailure, "Destination");
              destination.ifPresent(this::checkDestination);
              b.onFailureDestination(destination);
            });
    r.array("SourceAccessConfigurations")
        .ifPresent(
            list -> {
              List<EventSourceMapping.SourceAccess> access = new ArrayList<>();
              for (JsonNode a : list) {
                String type = Request.textOf(a, "Type").orElse("");
                String uri = Request.textOf(a, "URI").orElse("");
                if (type.isEmpty() || uri.isEmpty()) {
                  throw LambdaError.invalidParameter(
                      "SourceAccessConfigurations: each item needs a Type and a URI.");
                }
                access.add(new EventSourceMapping.SourceAccess(type, uri));
              }
              b.sourceAccess(access);
            });
    r.object("SelfManagedKafkaEventSourceConfig")
        .filter(c -> c.hasNonNull("SchemaRegistryConfig"))
        .ifPresent(
            c -> {
              throw LambdaError.invalidParameter(
                  "Unsupported parameter SelfManagedKafkaEventSourceConfig.SchemaRegistryConfig:"
                      + " Kiln delivers Kafka records as they are, without a schema registry.");
            });
    for (String unsupported :
        List.of(
            "TumblingWindowInSeconds",
            "ParallelizationFactor",
            "KMSKeyArn",
            "MetricsConfig",
            "LoggingConfig",
            "ProvisionedPollerConfig",
            "AmazonManagedKafkaEventSourceConfig",
            "DocumentDBEventSourceConfig")) {
      if (r.has(unsupported) && !r.body.get(unsupported).isNull()) {
        throw LambdaError.invalidParameter(
            "Unsupported parameter "
                + unsupported
                + ": Kiln's event source mappings (SQS, self-managed Kafka, PostgreSQL) do not take"
                + " it.");
      }
    }
  }

  /** An OnFailure destination must be a function of this Kiln. */
  private void checkDestination(String arn) {
    if (!arn.startsWith("arn:aws:lambda:")) {
      throw LambdaError.invalidParameter(
          "The destination ARN "
              + arn
              + " is invalid: Kiln delivers OnFailure records to functions only"
              + " (arn:aws:lambda:<region>:<account>:function:<name>).");
    }
    FunctionRef.parse(arn, "destinationConfig.onFailure.destination", account);
  }

  private FunctionRef function(String name) {
    if (name == null) {
      throw LambdaError.validation("functionName", null, "Member must not be null");
    }
    FunctionRef ref = FunctionRef.parse(name, "functionName", account);
    try {
      functions.get(ref);
    } catch (LambdaError.NotFound e) {
      throw functionNotFound(ref);
    }
    return ref;
  }

  private LambdaError functionNotFound(FunctionRef ref) {
    return LambdaError.notFound("Function not found: " + account.functionArn(ref));
  }

  private Map<String, List<String>> endpoints(Request r) {
    Optional<JsonNode> source = r.object("SelfManagedEventSource");
    if (source.isEmpty()) {
      return Map.of();
    }
    JsonNode endpoints = source.get().get("Endpoints");
    if (endpoints == null || !endpoints.isObject() || endpoints.isEmpty()) {
      throw LambdaError.invalidParameter(
          "SelfManagedEventSource.Endpoints must name at least one endpoint type, such as"
              + " KAFKA_BOOTSTRAP_SERVERS.");
    }
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = endpoints.fields(); it.hasNext(); ) {
      var e = it.next();
      List<String> values = new ArrayList<>();
      if (e.getValue().isArray()) {
        e.getValue().forEach(v -> values.add(v.asText()));
      }
      out.put(e.getKey(), List.copyOf(values));
    }
    return out;
  }

  private static Map<String, String> tags(Request r) {
    Optional<JsonNode> tags = r.object("Tags");
    if (tags.isEmpty()) {
      return Map.of();
    }
    Map<String, String> out = new LinkedHashMap<>();
    tags.get().fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
    return out;
  }

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MILLIS);
  }

  /** A request document, read field by field with the model's checks. */
  private static final class Request {
    final JsonNode body;
    private final Set<String> present = new HashSet<>();

    Request(JsonNode body) {
      this.body = body == null ? com.fasterxml.jackson.databind.node.NullNode.getInstance() : body;
      this.body.fieldNames().forEachRemaining(present::add);
    }

    Set<String> present() {
      return Set.copyOf(present);
    }

    boolean has(String field) {
      return present.contains(field);
    }

    static Optional<String> textOf(JsonNode node, String field) {
      JsonNode v = node.get(field);
      return v == null || v.isNull() ? Optional.empty() : Optional.of(v.asText());
    }

    Optional<String> text(String field) {
      JsonNode v = body.get(field);
      if (v == null || v.isNull()) {
        return Optional.empty();
      }
      if (!v.isTextual()) {
        throw LambdaError.serialization(
            "Could not read " + field + ": expected a string, got " + v.getNodeType());
      }
      return Optional.of(v.asText());
    }

    Optional<String> enumText(String field, String member, Set<String> allowed) {
      Optional<String> v = text(field);
      v.ifPresent(
          t -> {
            if (!allowed.contains(t)) {
              throw LambdaError.validation(
                  member,
                  t,
                  "Member must satisfy enum value set: " + new java.util.TreeSet<>(allowed));
            }
          });
      return v;
    }

    Optional<Boolean> bool(String field) {
      JsonNode v = body.get(field);
      if (v == null || v.isNull()) {
        return Optional.empty();
      }
      if (!v.isBoolean()) {
        throw LambdaError.serialization(
            "Could not read " + field + ": expected true or false, got " + v);
      }
      return Optional.of(v.booleanValue());
    }

    Optional<Integer> integer(String field, String member, int min, int max) {
      JsonNode v = body.get(field);
      if (v == null || v.isNull()) {
        return Optional.empty();
      }
      if (!v.isIntegralNumber()) {
        throw LambdaError.serialization(
            "Could not read " + field + ": expected an integer, got " + v);
      }
      long n = v.longValue();
      if (n < min) {
        throw LambdaError.validation(
            member, n, "Member must have value greater than or equal to " + min);
      }
      if (n > max) {
        throw LambdaError.validation(
            member, n, "Member must have value less than or equal to " + max);
      }
      return Optional.of((int) n);
    }

    Optional<Instant> timestamp(String field) {
      JsonNode v = body.get(field);
      if (v == null || v.isNull()) {
        return Optional.empty();
      }
      if (v.isNumber()) {
        return Optional.of(Instant.ofEpochMilli(Math.round(v.doubleValue() * 1000)));
      }
      try {
        return Optional.of(Instant.parse(v.asText()));
      } catch (java.time.format.DateTimeParseException e) {
        throw LambdaError.serialization("Could not read " + field + ": not a timestamp: " + v);
      }
    }

    Optional<JsonNode> object(String field) {
      JsonNode v = body.get(field);
      if (v == null || v.isNull()) {
        return Optional.empty();
      }
      if (!v.isObject()) {
        throw LambdaError.serialization("Could not read " + field + ": expected an object");
      }
      return Optional.of(v);
    }

    Optional<JsonNode> array(String field) {
      JsonNode v = body.get(field);
      if (v == null || v.isNull()) {
        return Optional.empty();
      }
      if (!v.isArray()) {
        throw LambdaError.serialization("Could not read " + field + ": expected a list");
      }
      return Optional.of(v);
    }

    Optional<List<String>> texts(String field) {
      return array(field)
          .map(
              a -> {
                List<String> out = new ArrayList<>();
                a.forEach(x -> out.add(x.asText()));
                return List.copyOf(out);
              });
    }
  }
}
