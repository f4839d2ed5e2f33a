package dev.kiln.esm.kafka;

import dev.kiln.esm.source.EventSourceKind;
import dev.kiln.esm.source.EventSourceReader;
import dev.kiln.esm.source.SourceContext;
import dev.kiln.model.EventSourceMapping;
import dev.kiln.model.EventSourceMapping.SourceAccess;
import dev.kiln.model.LambdaError;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Self-managed Apache Kafka as an event source: a mapping with no EventSourceArn whose {@code
 * SelfManagedEventSource.Endpoints} name {@code KAFKA_BOOTSTRAP_SERVERS}, reading one topic with a
 * consumer group of its own.
 *
 * <p>What a mapping may say follows AWS's rules for self-managed Kafka: BatchSize 1 to 10,000
 * (default 100); a batching window up to 300 s whose default on AWS is 500 ms, which the model's
 * whole seconds cannot say, so a stored 0 means "AWS's default, 500 ms" (an explicit 0 too: AWS
 * offers no way back to 0 either once 500 ms is the default); a StartingPosition, TRIM_HORIZON,
 * LATEST or AT_TIMESTAMP (with a StartingPositionTimestamp not in the future); exactly one topic;
 * the consumer group {@code SelfManagedKafkaEventSourceConfig.ConsumerGroupId}, else the mapping's
 * UUID, never changed by an update. ScalingConfig (SQS), ParallelizationFactor and
 * TumblingWindowInSeconds (Kinesis, DynamoDB) and Queues (MQ) are refused. The retry settings
 * (MaximumRetryAttempts, MaximumRecordAgeInSeconds, BisectBatchOnFunctionError), OnFailure and
 * ReportBatchItemFailures are taken: AWS takes them for Kafka (in its provisioned mode, which Kiln
 * does not distinguish).
 *
 * <p>Credentials are SourceAccessConfigurations naming a secret: BASIC_AUTH (SASL/PLAIN),
 * SASL_SCRAM_256_AUTH, SASL_SCRAM_512_AUTH, CLIENT_CERTIFICATE_TLS_AUTH (mutual TLS) and
 * SERVER_ROOT_CA_CERTIFICATE; see {@link KafkaClientConfig}. VPC_SUBNET and VPC_SECURITY_GROUP are
 * accepted and have no effect (Kiln reaches the brokers over its own network).
 *
 * <p>Stateless and thread-safe: everything lives in the mapping, the readers and the broker.
 */
public final class KafkaSource implements EventSourceKind {

  public static final String NAME = "kafka";
  public static final String BOOTSTRAP_SERVERS = "KAFKA_BOOTSTRAP_SERVERS";

  static final int DEFAULT_BATCH_SIZE = 100;
  static final int MAX_BATCH_SIZE = 10_000;
  static final int MAX_WINDOW_SECONDS = 300;

  private static final Pattern ENDPOINT =
      Pattern.compile(
          "(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\\-]*[a-zA-Z0-9])\\.)*"
              + "([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\\-]*[A-Za-z0-9]):[0-9]{1,5}");
  private static final Pattern TOPIC = Pattern.compile("[^.]([a-zA-Z0-9\\-_.]+)");
  private static final Pattern GROUP = Pattern.compile("[ a-zA-Z0-9-\\/*:_+=.@-]*");

  private static final Set<String> ACCESS_TYPES =
      Set.of(
          KafkaClientConfig.BASIC_AUTH,
          KafkaClientConfig.SASL_SCRAM_256_AUTH,
          KafkaClientConfig.SASL_SCRAM_512_AUTH,
          KafkaClientConfig.CLIENT_CERTIFICATE_TLS_AUTH,
          KafkaClientConfig.SERVER_ROOT_CA_CERTIFICATE,
          "VPC_SUBNET",
          "VPC_SECURITY_GROUP");

  private static final List<String> AUTH_TYPES =
      List.of(
          KafkaClientConfig.BASIC_AUTH,
          KafkaClientConfig.SASL_SCRAM_256_AUTH,
          KafkaClientConfig.SASL_SCRAM_512_AUTH,
          KafkaClientConfig.CLIENT_CERTIFICATE_TLS_AUTH);

  private final KafkaClientConfig.Transport saslTransport;

  /** As on AWS: SASL credentials travel over TLS ({@code SASL_SSL}). */
  public KafkaSource() {
    this(KafkaClientConfig.Transport.TLS);
  }

  /**
   * @param saslTransport how SASL credentials travel: {@code TLS} as on AWS, or {@code PLAINTEXT}
   *     for a broker on a trusted network that listens with {@code SASL_PLAINTEXT}
   */
  public KafkaSource(KafkaClientConfig.Transport saslTransport) {
    this.saslTransport = saslTransport;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean claims(String eventSourceArn, Set<String> endpointTypes) {
    return (eventSourceArn == null || eventSourceArn.isEmpty())
        && endpointTypes != null
        && endpointTypes.contains(BOOTSTRAP_SERVERS);
  }

  @Override
  public Semantics semantics() {
    return Semantics.STREAM;
  }

  @Override
  public EventSourceMapping complete(
      EventSourceMapping.Builder requested, Set<String> explicit, boolean creating) {
    EventSourceMapping m = requested.build();
    refuseUnsupported(m, explicit);

    if (explicit.contains("BatchSize")) {
      int size = m.batchSize();
      if (size < 1) {
        throw LambdaError.validation(
            "batchSize", size, "Member must have value greater than or equal to 1");
      }
      if (size > MAX_BATCH_SIZE) {
        throw LambdaError.validation(
            "batchSize", size, "Member must have value less than or equal to 10000");
      }
    } else if (creating) {
      requested.batchSize(DEFAULT_BATCH_SIZE);
    }
    if (explicit.contains("MaximumBatchingWindowInSeconds")) {
      int window = m.maximumBatchingWindowInSeconds();
      if (window < 0) {
        throw LambdaError.validation(
            "maximumBatchingWindowInSeconds",
            window,
            "Member must have value greater than or equal to 0");
      }
      if (window > MAX_WINDOW_SECONDS) {
        throw LambdaError.validation(
            "maximumBatchingWindowInSeconds",
            window,
            "Member must have value less than or equal to 300");
      }
    } else if (creating) {
      requested.maximumBatchingWindowInSeconds(0);
    }

    if (creating) {
      completeSource(requested, m, explicit);
    } else if (explicit.contains("ConsumerGroupId")
        || explicit.contains("SelfManagedKafkaEventSourceConfig")) {
      throw LambdaError.invalidParameter(
          "SelfManagedKafkaEventSourceConfig.ConsumerGroupId cannot be updated. Create a new"
              + " event source mapping to use a different consumer group.");
    }
    checkSourceAccess(m.sourceAccess());
    return requested.build();
  }

  private static void refuseUnsupported(EventSourceMapping m, Set<String> explicit) {
    for (String field :
        List.of("ScalingConfig", "ParallelizationFactor", "TumblingWindowInSeconds", "Queues")) {
      if (explicit.contains(field)) {
        throw LambdaError.invalidParameter(
            "Unsupported " + field + " for self-managed Apache Kafka event sources.");
      }
    }
    if (m.maximumConcurrency().isPresent()) {
      throw LambdaError.invalidParameter(
          "Unsupported ScalingConfig for self-managed Apache Kafka event sources.");
    }
    if (!m.queues().isEmpty()) {
      throw LambdaError.invalidParameter(
          "Unsupported Queues for self-managed Apache Kafka event sources.");
    }
  }

  private static void completeSource(
      EventSourceMapping.Builder requested, EventSourceMapping m, Set<String> explicit) {
    // the source: bootstrap servers and one topic
    List<String> servers = m.endpoints().getOrDefault(BOOTSTRAP_SERVERS, List.of());
    if (servers.isEmpty()) {
      throw LambdaError.invalidParameter(
          "SelfManagedEventSource.Endpoints must include KAFKA_BOOTSTRAP_SERVERS with at least"
              + " one bootstrap server.");
    }
    if (servers.size() > 10) {
      throw LambdaError.validation(
          "selfManagedEventSource.endpoints",
          servers,
          "Map value must satisfy constraint: [Member must have length less than or equal to 10]");
    }
    for (String s : servers) {
      if (s == null || s.length() > 300 || !ENDPOINT.matcher(s).matches()) {
        throw LambdaError.invalidParameter(
            "Invalid bootstrap server: " + s + ". Specify each server as host:port.");
      }
    }
    for (String key : m.endpoints().keySet()) {
      if (!BOOTSTRAP_SERVERS.equals(key)) {
        throw LambdaError.invalidParameter("Unsupported endpoint type: " + key);
      }
    }
    if (m.topics().isEmpty()) {
      throw LambdaError.invalidParameter("Topics must be specified for a Kafka event source.");
    }
    if (m.topics().size() > 1) {
      throw LambdaError.invalidParameter(
          "Only one topic is supported for a Kafka event source; "
              + m.topics().size()
              + " were specified.");
    }
    String topic = m.topics().get(0);
    if (topic == null || topic.length() > 249 || !TOPIC.matcher(topic).matches()) {
      throw LambdaError.validation(
          "topics",
          m.topics(),
          "Member must satisfy constraint: [Member must have length less than or equal to 249,"
              + " Member must have length greater than or equal to 1, Member must satisfy regular"
              + " expression pattern: ^[^.]([a-zA-Z0-9\\-_.]+)]");
    }

    // where a new consumer group starts
    Optional<String> position = m.startingPosition();
    if (position.isEmpty()) {
      throw LambdaError.invalidParameter(
          "StartingPosition must be specified for Kafka event sources.");
    }
    switch (position.get()) {
      case "TRIM_HORIZON", "LATEST" -> {
        if (m.startingPositionTimestamp().isPresent()) {
          throw LambdaError.invalidParameter(
              "StartingPositionTimestamp can only be specified when StartingPosition is"
                  + " AT_TIMESTAMP.");
        }
      }
      case "AT_TIMESTAMP" -> {
        Instant at =
            m.startingPositionTimestamp()
                .orElseThrow(
                    () ->
                        LambdaError.invalidParameter(
                            "StartingPositionTimestamp must be specified when StartingPosition is"
                                + " AT_TIMESTAMP."));
        if (at.isAfter(m.lastModified())) {
          throw LambdaError.invalidParameter("StartingPositionTimestamp cannot be in the future.");
        }
      }
      default ->
          throw LambdaError.validation(
              "startingPosition",
              position.get(),
              "Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]");
    }

    // the consumer group: the user's, else the mapping's UUID, as Lambda does
    Optional<String> group = m.consumerGroupId().filter(g -> !g.isEmpty());
    if (group.isPresent()) {
      String g = group.get();
      if (g.length() > 200 || !GROUP.matcher(g).matches()) {
        throw LambdaError.validation(
            "selfManagedKafkaEventSourceConfig.consumerGroupId",
            g,
            "Member must satisfy regular expression pattern: [ a-zA-Z0-9-\\/*:_+=.@-]*");
      }
    } else {
      requested.consumerGroupId(Optional.of(m.uuid()));
    }
  }

  private static void checkSourceAccess(List<SourceAccess> access) {
    int auth = 0;
    Set<String> seen = new TreeSet<>();
    for (SourceAccess a : access) {
      if (!ACCESS_TYPES.contains(a.type())) {
        throw LambdaError.invalidParameter(
            "Unsupported SourceAccessConfiguration type "
                + a.type()
                + " for self-managed Apache Kafka event sources.");
      }
      if (!seen.add(a.type())) {
        throw LambdaError.invalidParameter(
            "SourceAccessConfigurations must not contain " + a.type() + " more than once.");
      }
      if (AUTH_TYPES.contains(a.type())) {
        auth++;
      }
      if (a.uri().isBlank()) {
        throw LambdaError.invalidParameter(
            "The URI of SourceAccessConfiguration " + a.type() + " must not be empty.");
      }
    }
    if (auth > 1) {
      throw LambdaError.invalidParameter(
          "Only one authentication method can be specified in SourceAccessConfigurations: one of"
              + " BASIC_AUTH, SASL_SCRAM_256_AUTH, SASL_SCRAM_512_AUTH,"
              + " CLIENT_CERTIFICATE_TLS_AUTH.");
    }
  }

  /** The bootstrap servers, sorted, and the topic: two mappings with both read the same source. */
  @Override
  public String sourceKey(EventSourceMapping mapping) {
    List<String> servers =
        mapping.endpoints().getOrDefault(BOOTSTRAP_SERVERS, List.of()).stream()
            .map(s -> s.trim().toLowerCase(java.util.Locale.ROOT))
            .sorted()
            .distinct()
            .toList();
    String topic = mapping.topics().isEmpty() ? "" : mapping.topics().get(0);
    return "kafka:" + String.join(",", servers) + "/" + topic;
  }

  @Override
  public EventSourceReader open(EventSourceMapping mapping, SourceContext context) {
    return new KafkaReader(mapping, context, saslTransport);
  }
}
