package dev.kiln.esm.sqs;

import dev.kiln.esm.source.EventSourceKind;
import dev.kiln.esm.source.EventSourceReader;
import dev.kiln.esm.source.SourceContext;
import dev.kiln.model.EventSourceMapping;
import dev.kiln.model.LambdaError;
import java.util.List;
import java.util.Set;

/**
 * SQS queues as an event source: a mapping names a queue by its ARN ({@code
 * arn:aws:sqs:REGION:ACCOUNT:NAME}), and Kiln polls it at the endpoint {@code kiln server
 * --sqs-endpoint} names (an ElasticMQ server, or any service speaking SQS's JSON protocol), at
 * {@code ENDPOINT/ACCOUNT/NAME}.
 *
 * <p>The model is Lambda's for SQS: a queue is unordered (a FIFO queue is ordered per message
 * group), a message is delivered at least once, a delivered message is deleted, and a failed one is
 * left in the queue for its visibility timeout and redrive policy, so {@link #semantics} is {@link
 * Semantics#QUEUE}. {@link #complete} holds AWS's rules for what an SQS mapping may say: BatchSize
 * 1..10000 (default 10; above 10 only with a batching window of at least a second; at most 10 on a
 * FIFO queue, which takes no window), MaximumBatchingWindowInSeconds 0..300, no StartingPosition,
 * and none of the stream settings (retries, record age, bisecting, OnFailure, Topics,
 * SelfManagedEventSource), which SQS's own redrive policy replaces.
 *
 * <p>Credentials: a SourceAccessConfiguration of type {@code BASIC_AUTH} whose secret is {@code
 * {"accessKeyId":"...","secretAccessKey":"..."}} signs the SQS requests; without one Kiln signs
 * with a fixed placeholder key, which ElasticMQ accepts.
 *
 * <p>Threading: stateless, as {@link EventSourceKind} asks; each reader it opens has its own
 * client.
 */
public final class SqsSource implements EventSourceKind {

  public static final String NAME = "sqs";
  static final String ARN_PREFIX = "arn:aws:sqs:";

  static final int DEFAULT_BATCH_SIZE = 10;
  static final int MAX_BATCH_SIZE = 10_000;
  static final int MAX_WINDOW = 300;
  static final int MIN_CONCURRENCY = 2;
  static final int MAX_CONCURRENCY = 1000;

  /** The SourceAccessConfiguration type whose secret holds the SQS access key. */
  public static final String BASIC_AUTH = "BASIC_AUTH";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean claims(String eventSourceArn, Set<String> endpointTypes) {
    return eventSourceArn != null && eventSourceArn.startsWith(ARN_PREFIX);
  }

  /** As AWS's AWSLambdaSQSQueueExecutionRole grants them. */
  @Override
  public List<String> roleActions() {
    return List.of("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes");
  }

  @Override
  public Semantics semantics() {
    return Semantics.QUEUE;
  }

  @Override
  public EventSourceMapping complete(
      EventSourceMapping.Builder requested, Set<String> explicit, boolean creating) {
    EventSourceMapping m = requested.build();
    String arn = m.eventSourceArn().orElse("");
    QueueArn queue = QueueArn.parse(arn);
    boolean fifo = queue.fifo();

    if (m.startingPosition().isPresent() || explicit.contains("StartingPosition")) {
      throw LambdaError.invalidParameter("StartingPosition is not valid for SQS event sources.");
    }
    if (m.startingPositionTimestamp().isPresent()) {
      throw LambdaError.invalidParameter(
          "StartingPositionTimestamp is not valid for SQS event sources.");
    }
    refuseStreamSetting(explicit, m.maximumRetryAttempts() != -1, "MaximumRetryAttempts");
    refuseStreamSetting(explicit, m.maximumRecordAgeInSeconds() != -1, "MaximumRecordAgeInSeconds");
    refuseStreamSetting(explicit, m.bisectBatchOnFunctionError(), "BisectBatchOnFunctionError");
    refuseStreamSetting(explicit, m.onFailureDestination().isPresent(), "DestinationConfig");
    refuseStreamSetting(explicit, !m.topics().isEmpty(), "Topics");
    refuseStreamSetting(explicit, !m.queues().isEmpty(), "Queues");
    refuseStreamSetting(explicit, !m.endpoints().isEmpty(), "SelfManagedEventSource");
    refuseStreamSetting(explicit, m.consumerGroupId().isPresent(), "ConsumerGroupId");
    for (EventSourceMapping.SourceAccess access : m.sourceAccess()) {
      if (!BASIC_AUTH.equals(access.type())) {
        throw LambdaError.invalidParameter(
            "SourceAccessConfigurations of type "
                + access.type()
                + " is not valid for SQS event sources; Kiln takes BASIC_AUTH, a secret holding"
                + " {\"accessKeyId\",\"secretAccessKey\"}.");
      }
    }

    // an update's builder holds the stored values: only a create fills in the defaults
    int batchSize =
        !creating || explicit.contains("BatchSize") ? requested.batchSize() : DEFAULT_BATCH_SIZE;
    int window =
        !creating || explicit.contains("MaximumBatchingWindowInSeconds")
            ? requested.maximumBatchingWindowInSeconds()
            : 0;
    if (batchSize < 1) {
      throw LambdaError.validation(
          "batchSize", batchSize, "Member must have value greater than or equal to 1");
    }
    if (batchSize > MAX_BATCH_SIZE) {
      throw LambdaError.validation(
          "batchSize", batchSize, "Member must have value less than or equal to " + MAX_BATCH_SIZE);
    }
    if (window < 0) {
      throw LambdaError.validation(
          "maximumBatchingWindowInSeconds",
          window,
          "Member must have value greater than or equal to 0");
    }
    if (window > MAX_WINDOW) {
      throw LambdaError.validation(
          "maximumBatchingWindowInSeconds",
          window,
          "Member must have value less than or equal to " + MAX_WINDOW);
    }
    if (fifo && window > 0) {
      throw LambdaError.invalidParameter("Batching window is not supported for FIFO queues");
    }
    // a FIFO queue takes no window, so this also holds its BatchSize to 10, as AWS does
    if (batchSize > DEFAULT_BATCH_SIZE && window < 1) {
      throw LambdaError.invalidParameter(
          "Maximum batch window in seconds must be greater than 0 if maximum batch size is"
              + " greater than 10");
    }
    if (m.maximumConcurrency().isPresent()) {
      int c = m.maximumConcurrency().get();
      if (c < MIN_CONCURRENCY) {
        throw LambdaError.validation(
            "scalingConfig.maximumConcurrency",
            c,
            "Member must have value greater than or equal to " + MIN_CONCURRENCY);
      }
      if (c > MAX_CONCURRENCY) {
        throw LambdaError.validation(
            "scalingConfig.maximumConcurrency",
            c,
            "Member must have value less than or equal to " + MAX_CONCURRENCY);
      }
    }
    return requested.batchSize(batchSize).maximumBatchingWindowInSeconds(window).build();
  }

  private static void refuseStreamSetting(Set<String> explicit, boolean set, String field) {
    if (set || explicit.contains(field)) {
      throw LambdaError.invalidParameter(
          "Unsupported " + field + " parameter for SQS event sources.");
    }
  }

  @Override
  public String sourceKey(EventSourceMapping mapping) {
    return mapping.eventSourceArn().orElseThrow();
  }

  @Override
  public EventSourceReader open(EventSourceMapping mapping, SourceContext context) {
    return new SqsReader(mapping, context);
  }

  /**
   * An SQS queue ARN's parts. {@code arn:aws:sqs:us-east-1:000000000000:orders} names queue {@code
   * orders} of account {@code 000000000000} in {@code us-east-1}.
   */
  record QueueArn(String arn, String region, String account, String name) {

    static QueueArn parse(String arn) {
      String[] parts = arn.split(":", -1);
      if (parts.length != 6
          || !arn.startsWith(ARN_PREFIX)
          || parts[3].isEmpty()
          || parts[4].isEmpty()
          || !parts[5].matches("[A-Za-z0-9_-]{1,75}(\\.fifo)?")
          || parts[5].length() > 80) {
        throw LambdaError.invalidParameter("Invalid queue ARN: " + arn);
      }
      return new QueueArn(arn, parts[3], parts[4], parts[5]);
    }

    boolean fifo() {
      return name.endsWith(".fifo");
    }
  }
}
