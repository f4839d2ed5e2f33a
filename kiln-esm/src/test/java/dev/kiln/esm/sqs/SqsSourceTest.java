package dev.kiln.esm.sqs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.esm.source.EventSourceKind;
import dev.kiln.model.EventSourceMapping;
import dev.kiln.model.LambdaError;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** SqsSource's defaults and refusals, each with AWS's error type and message. */
class SqsSourceTest {

  private static final String QUEUE = "arn:aws:sqs:us-east-1:000000000000:orders";
  private static final String FIFO = "arn:aws:sqs:us-east-1:000000000000:orders.fifo";

  private final SqsSource source = new SqsSource();

  private static EventSourceMapping.Builder request(String arn) {
    return new EventSourceMapping.Builder("u-1", "sqs", "f", Instant.EPOCH)
        .eventSourceArn(Optional.of(arn));
  }

  private EventSourceMapping complete(
      String arn, UnaryOperator<EventSourceMapping.Builder> set, String... explicit) {
    return source.complete(set.apply(request(arn)), Set.of(explicit), true);
  }

  @Test
  void claimsSqsArnsOnly() {
    assertThat(source.name()).isEqualTo("sqs");
    assertThat(source.semantics()).isEqualTo(EventSourceKind.Semantics.QUEUE);
    assertThat(source.claims(QUEUE, Set.of())).isTrue();
    assertThat(source.claims("arn:aws:kinesis:us-east-1:000000000000:stream/s", Set.of()))
        .isFalse();
    assertThat(source.claims(null, Set.of("KAFKA_BOOTSTRAP_SERVERS"))).isFalse();
  }

  @Test
  void defaultsAreAwsDefaults() {
    EventSourceMapping m = complete(QUEUE, b -> b);
    assertThat(m.batchSize()).isEqualTo(10);
    assertThat(m.maximumBatchingWindowInSeconds()).isZero();
    assertThat(m.startingPosition()).isEmpty();
    assertThat(source.sourceKey(m)).isEqualTo(QUEUE);
  }

  @Test
  void anUpdateKeepsTheStoredBatchingAndChecksItAgain() {
    EventSourceMapping stored =
        complete(
            QUEUE,
            b -> b.batchSize(50).maximumBatchingWindowInSeconds(5),
            "BatchSize",
            "MaximumBatchingWindowInSeconds");
    EventSourceMapping updated =
        source.complete(stored.toBuilder().enabled(false), Set.of("Enabled"), false);
    assertThat(updated.batchSize()).isEqualTo(50);
    assertThat(updated.maximumBatchingWindowInSeconds()).isEqualTo(5);
    assertRefused(
        () ->
            source.complete(
                stored.toBuilder().maximumBatchingWindowInSeconds(0),
                Set.of("MaximumBatchingWindowInSeconds"),
                false),
        "InvalidParameterValueException",
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater"
            + " than 10");
  }

  @Test
  void takesLargeBatchesWithAWindowAndConcurrencyAndPartialResponses() {
    EventSourceMapping m =
        complete(
            QUEUE,
            b ->
                b.batchSize(10_000)
                    .maximumBatchingWindowInSeconds(300)
                    .maximumConcurrency(Optional.of(1000))
                    .functionResponseTypes(List.of("ReportBatchItemFailures")),
            "BatchSize",
            "MaximumBatchingWindowInSeconds");
    assertThat(m.batchSize()).isEqualTo(10_000);
    assertThat(m.maximumBatchingWindowInSeconds()).isEqualTo(300);
    assertThat(m.maximumConcurrency()).contains(1000);
    assertThat(m.reportsBatchItemFailures()).isTrue();
    assertThat(complete(FIFO, b -> b.batchSize(10), "BatchSize").batchSize()).isEqualTo(10);
    assertThat(
            complete(
                    QUEUE,
                    b ->
                        b.sourceAccess(
                            List.of(
                                new EventSourceMapping.SourceAccess(
                                    "BASIC_AUTH", "file:///etc/kiln/sqs.json"))))
                .sourceAccess())
        .hasSize(1);
  }

  @Test
  void refusesABatchAboveTenWithoutAWindow() {
    assertRefused(
        () -> complete(QUEUE, b -> b.batchSize(11), "BatchSize"),
        "InvalidParameterValueException",
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater"
            + " than 10");
    assertRefused(
        () -> complete(FIFO, b -> b.batchSize(11), "BatchSize"),
        "InvalidParameterValueException",
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater"
            + " than 10");
  }

  @Test
  void refusesBatchSizesAndWindowsOutOfRange() {
    assertRefused(
        () ->
            complete(
                QUEUE,
                b -> b.batchSize(10_001).maximumBatchingWindowInSeconds(1),
                "BatchSize",
                "MaximumBatchingWindowInSeconds"),
        "ValidationException",
        "1 validation error detected: Value '10001' at 'batchSize' failed to satisfy constraint:"
            + " Member must have value less than or equal to 10000");
    assertRefused(
        () -> complete(QUEUE, b -> b.batchSize(0), "BatchSize"),
        "ValidationException",
        "1 validation error detected: Value '0' at 'batchSize' failed to satisfy constraint:"
            + " Member must have value greater than or equal to 1");
    assertRefused(
        () ->
            complete(
                QUEUE,
                b -> b.maximumBatchingWindowInSeconds(301),
                "MaximumBatchingWindowInSeconds"),
        "ValidationException",
        "1 validation error detected: Value '301' at 'maximumBatchingWindowInSeconds' failed to"
            + " satisfy constraint: Member must have value less than or equal to 300");
  }

  @Test
  void refusesAWindowOnAFifoQueue() {
    assertRefused(
        () ->
            complete(
                FIFO, b -> b.maximumBatchingWindowInSeconds(5), "MaximumBatchingWindowInSeconds"),
        "InvalidParameterValueException",
        "Batching window is not supported for FIFO queues");
  }

  @Test
  void refusesAStartingPosition() {
    assertRefused(
        () -> complete(QUEUE, b -> b.startingPosition(Optional.of("LATEST")), "StartingPosition"),
        "InvalidParameterValueException",
        "StartingPosition is not valid for SQS event sources.");
    assertRefused(
        () ->
            complete(
                QUEUE,
                b ->
                    b.startingPosition(Optional.of("AT_TIMESTAMP"))
                        .startingPositionTimestamp(Optional.of(Instant.EPOCH)),
                "StartingPosition"),
        "InvalidParameterValueException",
        "StartingPosition is not valid for SQS event sources.");
  }

  @Test
  void refusesEveryStreamSetting() {
    Map<String, UnaryOperator<EventSourceMapping.Builder>> settings =
        Map.of(
            "MaximumRetryAttempts", b -> b.maximumRetryAttempts(2),
            "MaximumRecordAgeInSeconds", b -> b.maximumRecordAgeInSeconds(60),
            "BisectBatchOnFunctionError", b -> b.bisectBatchOnFunctionError(true),
            "DestinationConfig",
                b -> b.onFailureDestination(Optional.of("arn:aws:lambda:us-east-1:0:function:d")),
            "Topics", b -> b.topics(List.of("t")),
            "SelfManagedEventSource",
                b -> b.endpoints(Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of("h:9092"))));
    settings.forEach(
        (field, set) ->
            assertRefused(
                () -> complete(QUEUE, set, field),
                "InvalidParameterValueException",
                "Unsupported " + field + " parameter for SQS event sources."));
  }

  @Test
  void refusesConcurrencyOutOfRange() {
    assertRefused(
        () -> complete(QUEUE, b -> b.maximumConcurrency(Optional.of(1))),
        "ValidationException",
        "1 validation error detected: Value '1' at 'scalingConfig.maximumConcurrency' failed to"
            + " satisfy constraint: Member must have value greater than or equal to 2");
    assertRefused(
        () -> complete(QUEUE, b -> b.maximumConcurrency(Optional.of(1001))),
        "ValidationException",
        "1 validation error detected: Value '1001' at 'scalingConfig.maximumConcurrency' failed to"
            + " satisfy constraint: Member must have value less than or equal to 1000");
  }

  @Test
  void refusesCredentialsOtherThanBasicAuthAndMalformedArns() {
    assertRefused(
        () ->
            complete(
                QUEUE,
                b ->
                    b.sourceAccess(
                        List.of(new EventSourceMapping.SourceAccess("SASL_SCRAM_512_AUTH", "x")))),
        "InvalidParameterValueException",
        "SourceAccessConfigurations of type SASL_SCRAM_512_AUTH is not valid for SQS event"
            + " sources; Kiln takes BASIC_AUTH, a secret holding"
            + " {\"accessKeyId\",\"secretAccessKey\"}.");
    assertRefused(
        () -> complete("arn:aws:sqs:us-east-1:orders", b -> b),
        "InvalidParameterValueException",
        "Invalid queue ARN: arn:aws:sqs:us-east-1:orders");
  }

  private static void assertRefused(Runnable call, String type, String message) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> {
              assertThat(e.getMessage()).isEqualTo(message);
              assertThat(e.errorType()).isEqualTo(type);
              assertThat(e.status()).isEqualTo(400);
            });
  }
}
