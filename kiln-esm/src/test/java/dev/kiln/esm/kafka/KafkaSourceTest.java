package dev.kiln.esm.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.esm.source.EventSourceKind;
import dev.kiln.esm.source.SourceContext;
import dev.kiln.esm.source.SourceUnavailableException;
import dev.kiln.model.EventSourceMapping;
import dev.kiln.model.EventSourceMapping.SourceAccess;
import dev.kiln.model.LambdaError;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KafkaSourceTest {

  private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");
  private static final String UUID = "a1b2c3d4-5678-90ab-cdef-000000000001";
  private final KafkaSource source = new KafkaSource();

  private static EventSourceMapping.Builder request() {
    return new EventSourceMapping.Builder(UUID, "kafka", "f", NOW)
        .topics(List.of("orders"))
        .endpoints(Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of("b2.example.com:9092", "b1:9092")))
        .startingPosition(Optional.of("TRIM_HORIZON"));
  }

  private static Set<String> explicit(String... names) {
    Set<String> s = new HashSet<>(Set.of("FunctionName", "Topics", "SelfManagedEventSource"));
    s.addAll(List.of(names));
    if (!s.contains("-StartingPosition")) {
      s.add("StartingPosition");
    }
    return s;
  }

  private EventSourceMapping create(EventSourceMapping.Builder b, String... names) {
    return source.complete(b, explicit(names), true);
  }

  private void refused(EventSourceMapping.Builder b, Set<String> explicit, String message) {
    assertThatThrownBy(() -> source.complete(b, explicit, true))
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> assertThat(e.errorType()).isEqualTo("InvalidParameterValueException"))
        .hasMessage(message);
  }

  @Test
  void claimsOnlyBootstrapServersWithoutAnArn() {
    assertThat(source.claims(null, Set.of("KAFKA_BOOTSTRAP_SERVERS"))).isTrue();
    assertThat(source.claims("", Set.of("KAFKA_BOOTSTRAP_SERVERS"))).isTrue();
    assertThat(source.claims("arn:aws:sqs:us-east-1:123456789012:q", Set.of())).isFalse();
    assertThat(
            source.claims(
                "arn:aws:kafka:us-east-1:123456789012:cluster/c/1",
                Set.of("KAFKA_BOOTSTRAP_SERVERS")))
        .isFalse();
    assertThat(source.claims(null, Set.of())).isFalse();
    assertThat(source.name()).isEqualTo("kafka");
    assertThat(source.semantics()).isEqualTo(EventSourceKind.Semantics.STREAM);
  }

  @Test
  void fillsInAwsDefaults() {
    EventSourceMapping m = create(request().batchSize(0).maximumBatchingWindowInSeconds(7));
    assertThat(m.batchSize()).isEqualTo(100);
    assertThat(m.maximumBatchingWindowInSeconds()).isZero(); // AWS's 500 ms default
    assertThat(m.consumerGroupId()).contains(UUID);
    assertThat(m.startingPosition()).contains("TRIM_HORIZON");
    assertThat(m.maximumRetryAttempts()).isEqualTo(-1);
    assertThat(m.maximumRecordAgeInSeconds()).isEqualTo(-1);
  }

  @Test
  void keepsWhatTheRequestSet() {
    EventSourceMapping m =
        create(
            request()
                .batchSize(10000)
                .maximumBatchingWindowInSeconds(300)
                .consumerGroupId(Optional.of("my-group"))
                .bisectBatchOnFunctionError(true)
                .maximumRetryAttempts(3)
                .functionResponseTypes(List.of("ReportBatchItemFailures")),
            "BatchSize",
            "MaximumBatchingWindowInSeconds",
            "SelfManagedKafkaEventSourceConfig",
            "BisectBatchOnFunctionError",
            "MaximumRetryAttempts",
            "FunctionResponseTypes");
    assertThat(m.batchSize()).isEqualTo(10000);
    assertThat(m.maximumBatchingWindowInSeconds()).isEqualTo(300);
    assertThat(m.consumerGroupId()).contains("my-group");
    assertThat(m.bisectBatchOnFunctionError()).isTrue();
    assertThat(m.maximumRetryAttempts()).isEqualTo(3);
  }

  @Test
  void takesAtTimestampInThePast() {
    EventSourceMapping m =
        create(
            request()
                .startingPosition(Optional.of("AT_TIMESTAMP"))
                .startingPositionTimestamp(Optional.of(NOW.minusSeconds(60))),
            "StartingPositionTimestamp");
    assertThat(m.startingPositionTimestamp()).contains(NOW.minusSeconds(60));
  }

  @Test
  void refusesWhatAwsRefuses() {
    refused(
        request().startingPosition(Optional.empty()),
        explicit("-StartingPosition"),
        "StartingPosition must be specified for Kafka event sources.");
    refused(
        request().startingPosition(Optional.of("AT_TIMESTAMP")),
        explicit(),
        "StartingPositionTimestamp must be specified when StartingPosition is AT_TIMESTAMP.");
    refused(
        request()
            .startingPosition(Optional.of("AT_TIMESTAMP"))
            .startingPositionTimestamp(Optional.of(NOW.plusSeconds(60))),
        explicit("StartingPositionTimestamp"),
        "StartingPositionTimestamp cannot be in the future.");
    refused(
        request()
            .startingPosition(Optional.of("LATEST"))
            .startingPositionTimestamp(Optional.of(NOW)),
        explicit("StartingPositionTimestamp"),
        "StartingPositionTimestamp can only be specified when StartingPosition is AT_TIMESTAMP.");
    refused(
        request().topics(List.of()),
        explicit(),
        "Topics must be specified for a Kafka event source.");
    refused(
        request().topics(List.of("a", "b")),
        explicit(),
        "Only one topic is supported for a Kafka event source; 2 were specified.");
    refused(
        request().endpoints(Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of())),
        explicit(),
        "SelfManagedEventSource.Endpoints must include KAFKA_BOOTSTRAP_SERVERS with at least one"
            + " bootstrap server.");
    refused(
        request().endpoints(Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of("no-port"))),
        explicit(),
        "Invalid bootstrap server: no-port. Specify each server as host:port.");
    refused(
        request().maximumConcurrency(Optional.of(5)),
        explicit("ScalingConfig"),
        "Unsupported ScalingConfig for self-managed Apache Kafka event sources.");
    refused(
        request(),
        explicit("ParallelizationFactor"),
        "Unsupported ParallelizationFactor for self-managed Apache Kafka event sources.");
    refused(
        request(),
        explicit("TumblingWindowInSeconds"),
        "Unsupported TumblingWindowInSeconds for self-managed Apache Kafka event sources.");
    refused(
        request().queues(List.of("q")),
        explicit("Queues"),
        "Unsupported Queues for self-managed Apache Kafka event sources.");
    refused(
        request().sourceAccess(List.of(new SourceAccess("VIRTUAL_HOST", "/"))),
        explicit("SourceAccessConfigurations"),
        "Unsupported SourceAccessConfiguration type VIRTUAL_HOST for self-managed Apache Kafka"
            + " event sources.");
    refused(
        request()
            .sourceAccess(
                List.of(
                    new SourceAccess("BASIC_AUTH", "file:/a"),
                    new SourceAccess("SASL_SCRAM_512_AUTH", "file:/b"))),
        explicit("SourceAccessConfigurations"),
        "Only one authentication method can be specified in SourceAccessConfigurations: one of"
            + " BASIC_AUTH, SASL_SCRAM_256_AUTH, SASL_SCRAM_512_AUTH, CLIENT_CERTIFICATE_TLS_AUTH.");
  }

  @Test
  void refusesSizesOutOfRangeAsTheServiceModelDoes() {
    assertThatThrownBy(() -> create(request().batchSize(10001), "BatchSize"))
        .hasMessage(
            "1 validation error detected: Value '10001' at 'batchSize' failed to satisfy"
                + " constraint: Member must have value less than or equal to 10000");
    assertThatThrownBy(() -> create(request().batchSize(0), "BatchSize"))
        .hasMessageContaining("Member must have value greater than or equal to 1");
    assertThatThrownBy(
            () ->
                create(
                    request().maximumBatchingWindowInSeconds(301),
                    "MaximumBatchingWindowInSeconds"))
        .hasMessageContaining("Member must have value less than or equal to 300");
  }

  @Test
  void anUpdateCannotChangeTheConsumerGroup() {
    EventSourceMapping stored = create(request());
    assertThatThrownBy(
            () ->
                source.complete(
                    stored.toBuilder().consumerGroupId(Optional.of("other")),
                    Set.of("UUID", "SelfManagedKafkaEventSourceConfig"),
                    false))
        .isInstanceOf(LambdaError.class)
        .hasMessageStartingWith(
            "SelfManagedKafkaEventSourceConfig.ConsumerGroupId cannot be updated.");
    EventSourceMapping updated =
        source.complete(stored.toBuilder().batchSize(5), Set.of("UUID", "BatchSize"), false);
    assertThat(updated.batchSize()).isEqualTo(5);
    assertThat(updated.consumerGroupId()).contains(UUID);
  }

  @Test
  void theSourceKeyIsTheSortedServersAndTheTopic() {
    EventSourceMapping a = create(request());
    EventSourceMapping b =
        create(
            request()
                .endpoints(
                    Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of("b1:9092", "B2.example.com:9092"))));
    assertThat(source.sourceKey(a)).isEqualTo(source.sourceKey(b));
    assertThat(source.sourceKey(a)).isEqualTo("kafka:b1:9092,b2.example.com:9092/orders");
    assertThat(source.sourceKey(create(request().topics(List.of("other")))))
        .isNotEqualTo(source.sourceKey(a));
  }

  // ---- the consumer's properties ----

  private static SourceContext secrets(Map<String, String> byUri) {
    return dev.kiln.esm.source.TestSourceContext.of("us-east-1")
        .withClock(InstantSource.fixed(NOW))
        .withSecrets(byUri);
  }

  @Test
  void basicAuthIsSaslPlainOverTlsWithTheSecretsCredentials() throws Exception {
    EventSourceMapping m =
        create(
            request().sourceAccess(List.of(new SourceAccess("BASIC_AUTH", "file:/secrets/kafka"))),
            "SourceAccessConfigurations");
    Properties p =
        KafkaClientConfig.consumer(
            m,
            secrets(
                Map.of(
                    "file:/secrets/kafka",
                    "{\"username\":\"alice\",\"password\":\"s\\\"3cr\\\\t\"}")),
            KafkaClientConfig.Transport.TLS);
    assertThat(p.getProperty("security.protocol")).isEqualTo("SASL_SSL");
    assertThat(p.getProperty("sasl.mechanism")).isEqualTo("PLAIN");
    assertThat(p.getProperty("sasl.jaas.config"))
        .isEqualTo(
            "org.apache.kafka.common.security.plain.PlainLoginModule required"
                + " username=\"alice\" password=\"s\\\"3cr\\\\t\";");
    assertThat(p.getProperty("bootstrap.servers")).isEqualTo("b2.example.com:9092,b1:9092");
    assertThat(p.getProperty("group.id")).isEqualTo(UUID);
    assertThat(p.getProperty("enable.auto.commit")).isEqualTo("false");
    assertThat(p.getProperty("auto.offset.reset")).isEqualTo("earliest");
  }

  @Test
  void scramAndPlaintextTransportAndNoAuth() throws Exception {
    EventSourceMapping scram =
        create(
            request()
                .startingPosition(Optional.of("LATEST"))
                .sourceAccess(List.of(new SourceAccess("SASL_SCRAM_512_AUTH", "file:/s"))),
            "SourceAccessConfigurations");
    Properties p =
        KafkaClientConfig.consumer(
            scram,
            secrets(Map.of("file:/s", "{\"username\":\"u\",\"password\":\"p\"}")),
            KafkaClientConfig.Transport.PLAINTEXT);
    assertThat(p.getProperty("security.protocol")).isEqualTo("SASL_PLAINTEXT");
    assertThat(p.getProperty("sasl.mechanism")).isEqualTo("SCRAM-SHA-512");
    assertThat(p.getProperty("sasl.jaas.config"))
        .startsWith("org.apache.kafka.common.security.scram.ScramLoginModule required");
    assertThat(p.getProperty("auto.offset.reset")).isEqualTo("latest");

    Properties none =
        KafkaClientConfig.consumer(
            create(request()), secrets(Map.of()), KafkaClientConfig.Transport.TLS);
    assertThat(none.getProperty("security.protocol")).isEqualTo("PLAINTEXT");
    assertThat(none.getProperty("sasl.jaas.config")).isNull();
  }

  @Test
  void aBadSecretIsReportedWithoutItsContents() {
    EventSourceMapping m =
        create(
            request().sourceAccess(List.of(new SourceAccess("BASIC_AUTH", "file:/s"))),
            "SourceAccessConfigurations");
    assertThatThrownBy(
            () ->
                KafkaClientConfig.consumer(
                    m,
                    secrets(Map.of("file:/s", "{\"username\":\"u\",\"pass\":\"hunter2\"}")),
                    KafkaClientConfig.Transport.TLS))
        .isInstanceOf(SourceUnavailableException.class)
        .hasMessage("PROBLEM: The secret file:/s for BASIC_AUTH has no password.")
        .message()
        .doesNotContain("hunter2");
    assertThatThrownBy(
            () ->
                KafkaClientConfig.consumer(
                    m,
                    secrets(Map.of("file:/s", "hunter2 not json")),
                    KafkaClientConfig.Transport.TLS))
        .isInstanceOf(SourceUnavailableException.class)
        .message()
        .doesNotContain("hunter2");
  }
}
