package dev.kiln.model;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An event source mapping, as AWS's {@code EventSourceMappingConfiguration}: which source a poller
 * reads (a Kafka topic, an SQS queue, a PostgreSQL publication), which function (and qualifier) it
 * invokes with the batches, and how: batch size and window, starting position, filters, partial
 * batch responses, retries and the failure destination. Stored as one document per mapping; every
 * default is resolved when the mapping is created, so that what is stored is what GetEventSource
 * Mapping answers.
 *
 * @param kind the source's kind: {@code kafka}, {@code sqs} or {@code postgresql}
 * @param qualifier the alias or version the mapping invokes; empty for {@code $LATEST}
 * @param enabled whether the user wants it polling ({@code Enabled}); {@code state} is where it is
 * @param state AWS's words: Creating, Enabling, Enabled, Disabling, Disabled, Updating, Deleting
 * @param filters the {@code FilterCriteria} patterns, each a JSON text
 * @param maximumRetryAttempts -1 for as many as the record's age allows
 * @param maximumRecordAgeInSeconds -1 for no limit
 * @param endpoints {@code SelfManagedEventSource.Endpoints}, e.g. {@code KAFKA_BOOTSTRAP_SERVERS}
 * @param revision bumped by every stored change, so that a poller knows its copy is stale
 */
public record EventSourceMapping(
    String uuid,
    String kind,
    String functionName,
    Optional<String> qualifier,
    Optional<String> eventSourceArn,
    boolean enabled,
    String state,
    String stateTransitionReason,
    int batchSize,
    int maximumBatchingWindowInSeconds,
    Optional<String> startingPosition,
    Optional<Instant> startingPositionTimestamp,
    List<String> filters,
    List<String> functionResponseTypes,
    Optional<String> onFailureDestination,
    int maximumRetryAttempts,
    int maximumRecordAgeInSeconds,
    boolean bisectBatchOnFunctionError,
    Optional<Integer> maximumConcurrency,
    List<String> topics,
    List<String> queues,
    Map<String, List<String>> endpoints,
    Optional<String> consumerGroupId,
    List<SourceAccess> sourceAccess,
    Instant lastModified,
    String lastProcessingResult,
    Map<String, String> tags,
    long revision) {

  public static final String CREATING = "Creating";
  public static final String ENABLING = "Enabling";
  public static final String ENABLED = "Enabled";
  public static final String DISABLING = "Disabling";
  public static final String DISABLED = "Disabled";
  public static final String UPDATING = "Updating";
  public static final String DELETING = "Deleting";

  /**
   * {@code FunctionResponseTypes}' one value: the function may answer {@code batchItemFailures}.
   */
  public static final String REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures";

  /** A {@code SourceAccessConfiguration}: a credential or setting the source needs. */
  public record SourceAccess(String type, String uri) {
    public SourceAccess {
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(uri, "uri");
    }
  }

  public EventSourceMapping {
    Objects.requireNonNull(uuid, "uuid");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(functionName, "functionName");
    qualifier = Objects.requireNonNullElse(qualifier, Optional.empty());
    eventSourceArn = Objects.requireNonNullElse(eventSourceArn, Optional.empty());
    startingPosition = Objects.requireNonNullElse(startingPosition, Optional.empty());
    startingPositionTimestamp =
        Objects.requireNonNullElse(startingPositionTimestamp, Optional.empty());
    onFailureDestination = Objects.requireNonNullElse(onFailureDestination, Optional.empty());
    maximumConcurrency = Objects.requireNonNullElse(maximumConcurrency, Optional.empty());
    consumerGroupId = Objects.requireNonNullElse(consumerGroupId, Optional.empty());
    filters = List.copyOf(Objects.requireNonNullElse(filters, List.of()));
    functionResponseTypes =
        List.copyOf(Objects.requireNonNullElse(functionResponseTypes, List.of()));
    topics = List.copyOf(Objects.requireNonNullElse(topics, List.of()));
    queues = List.copyOf(Objects.requireNonNullElse(queues, List.of()));
    endpoints = Map.copyOf(Objects.requireNonNullElse(endpoints, Map.of()));
    sourceAccess = List.copyOf(Objects.requireNonNullElse(sourceAccess, List.of()));
    tags = Map.copyOf(Objects.requireNonNullElse(tags, Map.of()));
    stateTransitionReason = Objects.requireNonNullElse(stateTransitionReason, "");
    lastProcessingResult = Objects.requireNonNullElse(lastProcessingResult, "No records processed");
  }

  /** The function the mapping invokes, qualified when it names an alias or version. */
  public FunctionRef function() {
    return new FunctionRef(functionName, qualifier);
  }

  /** Whether the function may answer with {@code batchItemFailures}. */
  public boolean reportsBatchItemFailures() {
    return functionResponseTypes.contains(REPORT_BATCH_ITEM_FAILURES);
  }

  /** This mapping in a new state, for a reason (AWS's {@code StateTransitionReason}). */
  public EventSourceMapping withState(String newState, String reason, Instant now) {
    return new Builder(this)
        .state(newState)
        .stateTransitionReason(reason)
        .lastModified(now)
        .build();
  }

  /** This mapping with its {@code LastProcessingResult} changed. */
  public EventSourceMapping withLastProcessingResult(String result) {
    return new Builder(this).lastProcessingResult(result).build();
  }

  public Builder toBuilder() {
    return new Builder(this);
  }

  /** A copy-with for the many fields an update may change. */
  public static final class Builder {
    private String uuid;
    private String kind;
    private String functionName;
    private Optional<String> qualifier;
    private Optional<String> eventSourceArn;
    private boolean enabled;
    private String state;
    private String stateTransitionReason;
    private int batchSize;
    private int maximumBatchingWindowInSeconds;
    private Optional<String> startingPosition;
    private Optional<Instant> startingPositionTimestamp;
    private List<String> filters;
    private List<String> functionResponseTypes;
    private Optional<String> onFailureDestination;
    private int maximumRetryAttempts;
    private int maximumRecordAgeInSeconds;
    private boolean bisectBatchOnFunctionError;
    private Optional<Integer> maximumConcurrency;
    private List<String> topics;
    private List<String> queues;
    private Map<String, List<String>> endpoints;
    private Optional<String> consumerGroupId;
    private List<SourceAccess> sourceAccess;
    private Instant lastModified;
    private String lastProcessingResult;
    private Map<String, String> tags;
    private long revision;

    Builder(EventSourceMapping m) {
      uuid = m.uuid;
      kind = m.kind;
      functionName = m.functionName;
      qualifier = m.qualifier;
      eventSourceArn = m.eventSourceArn;
      enabled = m.enabled;
      state = m.state;
      stateTransitionReason = m.stateTransitionReason;
      batchSize = m.batchSize;
      maximumBatchingWindowInSeconds = m.maximumBatchingWindowInSeconds;
      startingPosition = m.startingPosition;
      startingPositionTimestamp = m.startingPositionTimestamp;
      filters = m.filters;
      functionResponseTypes = m.functionResponseTypes;
      onFailureDestination = m.onFailureDestination;
      maximumRetryAttempts = m.maximumRetryAttempts;
      maximumRecordAgeInSeconds = m.maximumRecordAgeInSeconds;
      bisectBatchOnFunctionError = m.bisectBatchOnFunctionError;
      maximumConcurrency = m.maximumConcurrency;
      topics = m.topics;
      queues = m.queues;
      endpoints = m.endpoints;
      consumerGroupId = m.consumerGroupId;
      sourceAccess = m.sourceAccess;
      lastModified = m.lastModified;
      lastProcessingResult = m.lastProcessingResult;
      tags = m.tags;
      revision = m.revision;
    }

    /** A new mapping's fields, before the defaults of its source are filled in. */
    public Builder(String uuid, String kind, String functionName, Instant now) {
      this.uuid = uuid;
      this.kind = kind;
      this.functionName = functionName;
      qualifier = Optional.empty();
      eventSourceArn = Optional.empty();
      enabled = true;
      state = CREATING;
      stateTransitionReason = "USER_INITIATED";
      batchSize = 100;
      maximumBatchingWindowInSeconds = 0;
      startingPosition = Optional.empty();
      startingPositionTimestamp = Optional.empty();
      filters = List.of();
      functionResponseTypes = List.of();
      onFailureDestination = Optional.empty();
      maximumRetryAttempts = -1;
      maximumRecordAgeInSeconds = -1;
      bisectBatchOnFunctionError = false;
      maximumConcurrency = Optional.empty();
      topics = List.of();
      queues = List.of();
      endpoints = Map.of();
      consumerGroupId = Optional.empty();
      sourceAccess = List.of();
      lastModified = now;
      lastProcessingResult = "No records processed";
      tags = Map.of();
      revision = 0;
    }

    public Builder kind(String v) {
      kind = v;
      return this;
    }

    public Builder functionName(String v) {
      functionName = v;
      return this;
    }

    public Builder qualifier(Optional<String> v) {
      qualifier = v;
      return this;
    }

    public Builder eventSourceArn(Optional<String> v) {
      eventSourceArn = v;
      return this;
    }

    public Builder enabled(boolean v) {
      enabled = v;
      return this;
    }

    public Builder state(String v) {
      state = v;
      return this;
    }

    public Builder stateTransitionReason(String v) {
      stateTransitionReason = v;
      return this;
    }

    public Builder batchSize(int v) {
      batchSize = v;
      return this;
    }

    public Builder maximumBatchingWindowInSeconds(int v) {
      maximumBatchingWindowInSeconds = v;
      return this;
    }

    public Builder startingPosition(Optional<String> v) {
      startingPosition = v;
      return this;
    }

    public Builder startingPositionTimestamp(Optional<Instant> v) {
      startingPositionTimestamp = v;
      return this;
    }

    public Builder filters(List<String> v) {
      filters = v;
      return this;
    }

    public Builder functionResponseTypes(List<String> v) {
      functionResponseTypes = v;
      return this;
    }

    public Builder onFailureDestination(Optional<String> v) {
      onFailureDestination = v;
      return this;
    }

    public Builder maximumRetryAttempts(int v) {
      maximumRetryAttempts = v;
      return this;
    }

    public Builder maximumRecordAgeInSeconds(int v) {
      maximumRecordAgeInSeconds = v;
      return this;
    }

    public Builder bisectBatchOnFunctionError(boolean v) {
      bisectBatchOnFunctionError = v;
      return this;
    }

    public Builder maximumConcurrency(Optional<Integer> v) {
      maximumConcurrency = v;
      return this;
    }

    public Builder topics(List<String> v) {
      topics = v;
      return this;
    }

    public Builder queues(List<String> v) {
      queues = v;
      return this;
    }

    public Builder endpoints(Map<String, List<String>> v) {
      endpoints = v;
      return this;
    }

    public Builder consumerGroupId(Optional<String> v) {
      consumerGroupId = v;
      return this;
    }

    public Builder sourceAccess(List<SourceAccess> v) {
      sourceAccess = v;
      return this;
    }

    public Builder lastModified(Instant v) {
      lastModified = v;
      return this;
    }

    public Builder lastProcessingResult(String v) {
      lastProcessingResult = v;
      return this;
    }

    public Builder tags(Map<String, String> v) {
      tags = v;
      return this;
    }

    public Builder revision(long v) {
      revision = v;
      return this;
    }

    public int batchSize() {
      return batchSize;
    }

    public int maximumBatchingWindowInSeconds() {
      return maximumBatchingWindowInSeconds;
    }

    public Optional<String> startingPosition() {
      return startingPosition;
    }

    public EventSourceMapping build() {
      return new EventSourceMapping(
          uuid,
          kind,
          functionName,
          qualifier,
          eventSourceArn,
          enabled,
          state,
          stateTransitionReason,
          batchSize,
          maximumBatchingWindowInSeconds,
          startingPosition,
          startingPositionTimestamp,
          filters,
          functionResponseTypes,
          onFailureDestination,
          maximumRetryAttempts,
          maximumRecordAgeInSeconds,
          bisectBatchOnFunctionError,
          maximumConcurrency,
          topics,
          queues,
          endpoints,
          consumerGroupId,
          sourceAccess,
          lastModified,
          lastProcessingResult,
          tags,
          revision);
    }
  }
}
