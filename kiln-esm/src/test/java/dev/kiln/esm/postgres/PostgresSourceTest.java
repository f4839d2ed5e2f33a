package dev.kiln.esm.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.esm.source.EventSourceKind;
import dev.kiln.model.EventSourceMapping;
import dev.kiln.model.EventSourceMapping.SourceAccess;
import dev.kiln.model.LambdaError;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** What a PostgreSQL mapping may say, and what the API answers when it says something else. */
class PostgresSourceTest {

  private static final PostgresSource SOURCE = new PostgresSource();
  private static final String UUID = "a1b2c3d4-0000-4000-8000-00000000abcd";

  private static EventSourceMapping.Builder request() {
    return new EventSourceMapping.Builder(UUID, "postgresql", "etl", Instant.EPOCH)
        .topics(List.of("kiln_orders"))
        .endpoints(Map.of("POSTGRESQL_URL", List.of("postgresql://db.local:5432/shop")))
        .sourceAccess(List.of(new SourceAccess("BASIC_AUTH", "file:///etc/kiln/shop-db.json")))
        .startingPosition(Optional.of("LATEST"));
  }

  private static final Set<String> BASE = Set.of("Topics", "SelfManagedEventSource");

  private static EventSourceMapping create(
      UnaryOperator<EventSourceMapping.Builder> change, String... explicit) {
    Set<String> fields = new HashSet<>(BASE);
    fields.addAll(List.of(explicit));
    return SOURCE.complete(change.apply(request()), fields, true);
  }

  private static void refused(
      UnaryOperator<EventSourceMapping.Builder> change, String message, String... explicit) {
    assertThatThrownBy(() -> create(change, explicit))
        .isInstanceOf(LambdaError.class)
        .hasMessageContaining(message)
        .satisfies(
            e ->
                assertThat(((LambdaError) e).errorType())
                    .isEqualTo("InvalidParameterValueException"));
  }

  @Test
  void claimsRequestsThatNameAPostgresqlUrl() {
    assertThat(SOURCE.claims(null, Set.of("POSTGRESQL_URL"))).isTrue();
    assertThat(SOURCE.claims(null, Set.of("KAFKA_BOOTSTRAP_SERVERS"))).isFalse();
    assertThat(SOURCE.claims("arn:aws:sqs:us-east-1:000000000000:q", Set.of())).isFalse();
    assertThat(SOURCE.name()).isEqualTo("postgresql");
    assertThat(SOURCE.semantics()).isEqualTo(EventSourceKind.Semantics.STREAM);
  }

  @Test
  void fillsInTheDefaultsOfAStream() {
    EventSourceMapping m = create(b -> b.batchSize(0).maximumBatchingWindowInSeconds(0));
    assertThat(m.kind()).isEqualTo("postgresql");
    assertThat(m.batchSize()).isEqualTo(100);
    assertThat(m.maximumBatchingWindowInSeconds()).isZero();
    assertThat(m.startingPosition()).contains("LATEST");

    EventSourceMapping big =
        create(
            b ->
                b.batchSize(10_000)
                    .maximumBatchingWindowInSeconds(300)
                    .startingPosition(Optional.of("TRIM_HORIZON"))
                    .functionResponseTypes(List.of("ReportBatchItemFailures"))
                    .bisectBatchOnFunctionError(true)
                    .maximumRetryAttempts(3)
                    .maximumRecordAgeInSeconds(3600),
            "BatchSize",
            "MaximumBatchingWindowInSeconds");
    assertThat(big.batchSize()).isEqualTo(10_000);
    assertThat(big.maximumBatchingWindowInSeconds()).isEqualTo(300);
    assertThat(big.reportsBatchItemFailures()).isTrue();
  }

  @Test
  void anUpdateKeepsWhatIsStored() {
    EventSourceMapping stored = create(b -> b.batchSize(7), "BatchSize");
    EventSourceMapping updated =
        SOURCE.complete(
            stored.toBuilder().maximumBatchingWindowInSeconds(5),
            Set.of("MaximumBatchingWindowInSeconds"),
            false);
    assertThat(updated.batchSize()).isEqualTo(7);
    assertThat(updated.maximumBatchingWindowInSeconds()).isEqualTo(5);
  }

  @Test
  void refusesBatchSizesAndWindowsOutOfRange() {
    refused(b -> b.batchSize(0), "BatchSize must be between 1 and 10000", "BatchSize");
    refused(b -> b.batchSize(10_001), "BatchSize must be between 1 and 10000", "BatchSize");
    refused(
        b -> b.maximumBatchingWindowInSeconds(301),
        "MaximumBatchingWindowInSeconds must be between 0 and 300",
        "MaximumBatchingWindowInSeconds");
    refused(b -> b.maximumRetryAttempts(10_001), "MaximumRetryAttempts");
    refused(b -> b.maximumRecordAgeInSeconds(59), "MaximumRecordAgeInSeconds");
  }

  @Test
  void refusesStartingPositionsASlotCannotTake() {
    refused(
        b ->
            b.startingPosition(Optional.of("AT_TIMESTAMP"))
                .startingPositionTimestamp(Optional.of(Instant.EPOCH)),
        "AT_TIMESTAMP is not supported");
    refused(b -> b.startingPosition(Optional.empty()), "StartingPosition is required");
    refused(b -> b.startingPosition(Optional.of("EARLIEST")), "LATEST or TRIM_HORIZON");
  }

  @Test
  void refusesAPasswordInTheUrlNamingTheField() {
    refused(
        b -> b.endpoints(Map.of("POSTGRESQL_URL", List.of("postgresql://etl:secret@db/shop"))),
        "SelfManagedEventSource.Endpoints.POSTGRESQL_URL must not contain a password");
    refused(
        b -> b.endpoints(Map.of("POSTGRESQL_URL", List.of("postgresql://db/shop?password=secret"))),
        "not password (give the password as a BASIC_AUTH SourceAccessConfiguration)");
  }

  @Test
  void refusesUrlsThatDoNotNameOneDatabase() {
    refused(
        b -> b.endpoints(Map.of("POSTGRESQL_URL", List.of("mysql://db/shop"))),
        "must be a postgresql://host[:port]/database URL");
    refused(
        b -> b.endpoints(Map.of("POSTGRESQL_URL", List.of("postgresql://db.local:5432"))),
        "must name one database");
    refused(
        b -> b.endpoints(Map.of("POSTGRESQL_URL", List.of("postgresql://a/x", "postgresql://b/x"))),
        "must hold exactly one URL, got 2");
    refused(
        b -> b.endpoints(Map.of("POSTGRESQL_URL", List.of("postgresql://db/shop?sslmode=maybe"))),
        "sslmode must be one of");
    refused(
        b ->
            b.endpoints(
                Map.of(
                    "POSTGRESQL_URL",
                    List.of("postgresql://db/shop"),
                    "KAFKA_BOOTSTRAP_SERVERS",
                    List.of("k:9092"))),
        "takes only POSTGRESQL_URL, not KAFKA_BOOTSTRAP_SERVERS");
    refused(
        b -> b.eventSourceArn(Optional.of("arn:aws:sqs:us-east-1:000000000000:q")),
        "EventSourceArn must not be given");
  }

  @Test
  void refusesAnythingButOnePublication() {
    refused(b -> b.topics(List.of()), "Topics must name exactly one PostgreSQL publication");
    refused(b -> b.topics(List.of("a", "b")), "got 2");
    refused(b -> b.topics(List.of("bad name;")), "is not a publication name");
  }

  @Test
  void refusesWhatAReplicationSlotHasNoUseFor() {
    refused(b -> b.maximumConcurrency(Optional.of(5)), "ScalingConfig is not supported");
    refused(b -> b.queues(List.of("q")), "Queues is not supported");
    refused(b -> b.consumerGroupId(Optional.of("g")), "SelfManagedKafkaEventSourceConfig");
    refused(
        b -> b.sourceAccess(List.of(new SourceAccess("SASL_SCRAM_512_AUTH", "arn:secret"))),
        "takes only BASIC_AUTH, got SASL_SCRAM_512_AUTH");
    refused(
        b ->
            b.sourceAccess(
                List.of(new SourceAccess("BASIC_AUTH", "a"), new SourceAccess("BASIC_AUTH", "b"))),
        "give one BASIC_AUTH secret");
    refused(b -> b.sourceAccess(List.of()), "needs credentials");
  }

  @Test
  void aUserInTheUrlIsEnoughForAServerThatTrustsIt() {
    EventSourceMapping m =
        create(
            b ->
                b.sourceAccess(List.of())
                    .endpoints(Map.of("POSTGRESQL_URL", List.of("postgresql://kiln@db/shop"))));
    assertThat(PostgresSource.endpoint(m).user()).contains("kiln");
  }

  @Test
  void theSourceKeyIsTheNormalizedUrlAndThePublication() {
    EventSourceMapping a =
        create(b -> b.endpoints(Map.of("POSTGRESQL_URL", List.of("postgresql://DB.local/shop"))));
    EventSourceMapping b =
        create(
            x ->
                x.endpoints(
                    Map.of(
                        "POSTGRESQL_URL",
                        List.of("jdbc:postgresql://etl@db.local:5432/shop?sslmode=require"))));
    assertThat(SOURCE.sourceKey(a))
        .isEqualTo(SOURCE.sourceKey(b))
        .isEqualTo("postgresql://db.local:5432/shop#kiln_orders");
    assertThat(PostgresSource.sourceArn(a, "eu-west-1"))
        .isEqualTo("arn:aws:kiln:eu-west-1::postgresql/db.local:5432/shop/kiln_orders");
    assertThat(PostgresEndpoint.parse("postgres://[::1]:6543/my%20db").jdbcUrl())
        .isEqualTo("jdbc:postgresql://[::1]:6543/my%20db");
  }

  @Test
  void theSlotIsNamedAfterTheMapping() {
    assertThat(PostgresSource.slotName(UUID)).isEqualTo("kiln_a1b2c3d400004000800000000000abcd");
    assertThat(PostgresSource.slotName(UUID)).hasSizeLessThanOrEqualTo(63);
  }
}
