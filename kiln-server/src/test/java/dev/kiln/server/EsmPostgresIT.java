package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.testing.brokers.PostgresServer;
import java.math.BigInteger;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.services.lambda.model.CreateEventSourceMappingRequest;
import software.amazon.awssdk.services.lambda.model.EventSourcePosition;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.SourceAccessType;

/**
 * PostgreSQL table changes as a user triggers functions from them: a real PostgreSQL with {@code
 * wal_level=logical}, rows changed with JDBC, a publication on two tables, mappings made with the
 * Lambda client and a BASIC_AUTH secret file, functions in Python and Node that print what they
 * receive. Checks that INSERT, MODIFY and REMOVE arrive once and in commit order with their keys,
 * images and JSON types, filters on the new image, retries ending in OnFailure, disabling and
 * re-enabling resuming where it stopped, deletion dropping the replication slot, the secret staying
 * out of every answer, and the PostgreSQL-specific refusals.
 */
class EsmPostgresIT {

  static final PostgresForEsm DATABASE = PostgresForEsm.start();
  static final PostgresServer PG = DATABASE.server();
  static final String URL = DATABASE.url();
  static final String SECRET = DATABASE.secretUri();
  static final String PASSWORD = DATABASE.password();

  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();

  @AfterAll
  static void stopPostgres() {
    PG.close();
  }

  /** One line per record: what a user checks of a change. */
  static final String RECORDER =
      "import json\n"
          + "def handler(event, context):\n"
          + "    for r in event['Records']:\n"
          + "        d = r['dynamodb']\n"
          + "        print('CHG ' + json.dumps({'name': r['eventName'], 'table': r['table'],\n"
          + "            'seq': d['SequenceNumber'], 'keys': d.get('Keys'),\n"
          + "            'new': d.get('NewImage'), 'old': d.get('OldImage'),\n"
          + "            'view': d['StreamViewType'], 'source': r['eventSource'],\n"
          + "            'arn': r['eventSourceARN'], 'lsn': r['commitLsn'], 'xid': r['xid']}))\n";

  /**
   * Two tables of prefix {@code p} and a publication on both: {@code p_orders} (REPLICA IDENTITY
   * FULL, a column of each type the test checks) and {@code p_lines} (default identity, a
   * two-column key).
   */
  static String publication(String p) throws SQLException {
    DATABASE.execute(
        "CREATE TABLE "
            + p
            + "_orders (id int PRIMARY KEY, status text, total numeric(10,2), meta jsonb,"
            + " created timestamptz, tags text[], paid boolean, big bigint)",
        "ALTER TABLE " + p + "_orders REPLICA IDENTITY FULL",
        "CREATE TABLE "
            + p
            + "_lines (order_id int, line int, sku text, PRIMARY KEY (order_id, line))",
        "CREATE PUBLICATION " + p + "_pub FOR TABLE " + p + "_orders, " + p + "_lines");
    return p + "_pub";
  }

  /** Runs {@code statements} as one transaction. */
  static void transaction(String... statements) throws SQLException {
    try (Connection c = PG.connect(PostgresForEsm.DB);
        Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      for (String sql : statements) {
        s.execute(sql);
      }
      c.commit();
    }
  }

  static List<JsonNode> changes(String function) {
    return Deliveries.read(kiln.fixture().logsClient(), function, "CHG");
  }

  static String slotOf(String uuid) {
    return PostgresForEsm.slotOf(uuid);
  }

  static boolean slotExists(String slot) throws SQLException {
    return DATABASE.slotExists(slot);
  }

  static int slotCount() throws SQLException {
    try (Connection c = PG.connect(PostgresForEsm.DB);
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT count(*) FROM pg_replication_slots")) {
      r.next();
      return r.getInt(1);
    }
  }

  static CreateEventSourceMappingRequest.Builder mapping(
      CreateEventSourceMappingRequest.Builder b, String function, String publication) {
    return b.functionName(function)
        .topics(publication)
        .startingPosition(EventSourcePosition.LATEST)
        .selfManagedEventSource(s -> s.endpointsWithStrings(Map.of("POSTGRESQL_URL", List.of(URL))))
        .sourceAccessConfigurations(c -> c.type(SourceAccessType.BASIC_AUTH).uri(SECRET));
  }

  /**
   * Creates a mapping and waits for its replication slot: with LATEST a slot sees only what is
   * committed after it exists, so a user, as this test, changes rows once it does.
   */
  static String map(
      String function, String publication, Consumer<CreateEventSourceMappingRequest.Builder> more) {
    String uuid =
        kiln.fixture()
            .lambda
            .createEventSourceMapping(
                b -> {
                  mapping(b, function, publication);
                  more.accept(b);
                })
            .uuid();
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> slotExists(slotOf(uuid)));
    return uuid;
  }

  static void awaitState(String uuid, String state) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> kiln.fixture().lambda.getEventSourceMapping(b -> b.uuid(uuid)).state(),
            state::equals);
  }

  @Test
  void insertsUpdatesAndDeletes_arriveOnceInCommitOrder_withTheirKeysImagesAndTypes()
      throws Exception {
    String pub = publication("t1");
    kiln.fixture().python("t1-fn", RECORDER);
    String uuid = map("t1-fn", pub, b -> b.batchSize(100));
    transaction(
        "INSERT INTO t1_orders VALUES (1, 'new', 12.50, '{\"a\": [1, 2]}',"
            + " '2024-05-01 10:15:30.25+02', '{x,\"y z\"}', false, 9007199254740993)",
        "INSERT INTO t1_lines VALUES (1, 1, 'sku-1')",
        "INSERT INTO t1_lines VALUES (1, 2, 'sku-2')");
    transaction("UPDATE t1_orders SET status = 'paid', paid = true WHERE id = 1");
    transaction("DELETE FROM t1_lines WHERE order_id = 1 AND line = 2");
    transaction("DELETE FROM t1_orders WHERE id = 1");

    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> changes("t1-fn").size() >= 6);
    List<JsonNode> got = changes("t1-fn");
    assertThat(got)
        .extracting(c -> c.get("name").asText() + " " + c.get("table").asText())
        .containsExactly(
            "INSERT public.t1_orders",
            "INSERT public.t1_lines",
            "INSERT public.t1_lines",
            "MODIFY public.t1_orders",
            "REMOVE public.t1_lines",
            "REMOVE public.t1_orders");
    for (int i = 1; i < got.size(); i++) {
      assertThat(new BigInteger(got.get(i).get("seq").asText()))
          .as("sequence numbers grow in commit order")
          .isGreaterThan(new BigInteger(got.get(i - 1).get("seq").asText()));
    }
    // the first transaction's three records share its commit LSN and xid, the next differs
    assertThat(got.subList(0, 3))
        .extracting(c -> c.get("lsn").asText())
        .containsOnly(got.get(0).get("lsn").asText());
    assertThat(got.subList(0, 3))
        .extracting(c -> c.get("xid").asLong())
        .containsOnly(got.get(0).get("xid").asLong());
    assertThat(got.get(3).get("xid").asLong()).isNotEqualTo(got.get(0).get("xid").asLong());

    JsonNode insert = got.get(0);
    assertThat(insert.get("source").asText()).isEqualTo("kiln:postgresql");
    assertThat(insert.get("arn").asText())
        .isEqualTo("arn:aws:kiln:us-east-1::postgresql/127.0.0.1:" + PG.port() + "/shop/t1_pub");
    assertThat(insert.get("view").asText()).isEqualTo("NEW_AND_OLD_IMAGES");
    assertThat(insert.get("keys")).isEqualTo(Deliveries.JSON.readTree("{\"id\": 1}"));
    assertThat(insert.get("old").isNull()).as("an INSERT has no old image").isTrue();
    JsonNode row = insert.get("new");
    assertThat(row.get("id").isInt()).isTrue();
    assertThat(row.get("status").asText()).isEqualTo("new");
    assertThat(row.get("total").isTextual()).as("numeric keeps its digits as a string").isTrue();
    assertThat(row.get("total").asText()).isEqualTo("12.50");
    assertThat(row.get("meta")).isEqualTo(Deliveries.JSON.readTree("{\"a\": [1, 2]}"));
    assertThat(row.get("created").asText()).isEqualTo("2024-05-01T08:15:30.250Z");
    assertThat(row.get("tags")).isEqualTo(Deliveries.JSON.readTree("[\"x\", \"y z\"]"));
    assertThat(row.get("paid").isBoolean()).isTrue();
    assertThat(row.get("paid").asBoolean()).isFalse();
    assertThat(row.get("big").bigIntegerValue()).isEqualTo(new BigInteger("9007199254740993"));

    assertThat(got.get(1).get("keys"))
        .isEqualTo(Deliveries.JSON.readTree("{\"order_id\": 1, \"line\": 1}"));
    assertThat(got.get(1).get("view").asText()).isEqualTo("NEW_IMAGE");
    assertThat(got.get(1).get("new").get("sku").asText()).isEqualTo("sku-1");

    JsonNode modify = got.get(3);
    assertThat(modify.get("old").get("status").asText()).isEqualTo("new");
    assertThat(modify.get("old").get("paid").asBoolean()).isFalse();
    assertThat(modify.get("new").get("status").asText()).isEqualTo("paid");
    assertThat(modify.get("new").get("paid").asBoolean()).isTrue();

    // a default-identity table's DELETE tells only the key; a FULL table's, the whole row
    JsonNode removeLine = got.get(4);
    assertThat(removeLine.get("new").isNull()).isTrue();
    assertThat(removeLine.get("keys"))
        .isEqualTo(Deliveries.JSON.readTree("{\"order_id\": 1, \"line\": 2}"));
    assertThat(removeLine.get("old"))
        .isEqualTo(Deliveries.JSON.readTree("{\"order_id\": 1, \"line\": 2}"));
    JsonNode removeOrder = got.get(5);
    assertThat(removeOrder.get("new").isNull()).isTrue();
    assertThat(removeOrder.get("old").get("status").asText()).isEqualTo("paid");
    assertThat(removeOrder.get("old").get("total").asText()).isEqualTo("12.50");

    awaitState(uuid, "Enabled");
    assertThat(changes("t1-fn")).as("nothing delivered twice").hasSize(6);
  }

  @Test
  void aFilterOnTheNewImage_deliversOnlyMatchingChanges_toANodeFunction() throws Exception {
    String pub = publication("t2");
    kiln.fixture()
        .node(
            "t2-fn",
            "index.mjs",
            "export const handler = async (event) => {\n"
                + "  for (const r of event.Records)\n"
                + "    console.log('CHG ' + JSON.stringify({name: r.eventName, table: r.table,\n"
                + "      id: r.dynamodb.Keys.id ?? null, status: r.dynamodb.NewImage?.status ?? null}));\n"
                + "};\n");
    map(
        "t2-fn",
        pub,
        b ->
            b.filterCriteria(
                f ->
                    f.filters(
                        p -> p.pattern("{\"dynamodb\":{\"NewImage\":{\"status\":[\"paid\"]}}}"))));
    transaction("INSERT INTO t2_orders (id, status) VALUES (1, 'new')");
    transaction("INSERT INTO t2_orders (id, status) VALUES (2, 'paid')");
    transaction("INSERT INTO t2_lines VALUES (2, 1, 'paid')");
    transaction("UPDATE t2_orders SET status = 'paid' WHERE id = 1");
    transaction("DELETE FROM t2_orders WHERE id = 2");
    transaction("UPDATE t2_orders SET status = 'shipped' WHERE id = 1");
    transaction("INSERT INTO t2_orders (id, status) VALUES (3, 'paid')");

    // changes arrive in commit order, so once the last one is there every earlier one was decided
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> changes("t2-fn").stream().anyMatch(c -> c.get("id").asInt() == 3));
    assertThat(changes("t2-fn"))
        .extracting(
            c ->
                c.get("name").asText() + " " + c.get("id").asInt() + " " + c.get("status").asText())
        .containsExactly("INSERT 2 paid", "MODIFY 1 paid", "INSERT 3 paid");
  }

  @Test
  void aChangeThatKeepsFailing_goesToOnFailureAfterItsRetries_andTheNextOneFollows()
      throws Exception {
    String pub = publication("t3");
    kiln.fixture()
        .python(
            "t3-fn",
            "import json\n"
                + "def handler(event, context):\n"
                + "    for r in event['Records']:\n"
                + "        status = r['dynamodb']['NewImage']['status']\n"
                + "        print('CHG ' + json.dumps({'status': status,\n"
                + "            'seq': r['dynamodb']['SequenceNumber']}))\n"
                + "        if status == 'poison':\n"
                + "            raise Exception('poison')\n");
    kiln.fixture()
        .python(
            "t3-dlq",
            "import json\n"
                + "def handler(event, context):\n"
                + "    print('FAILED ' + json.dumps(event))\n");
    String uuid =
        map(
            "t3-fn",
            pub,
            b ->
                b.batchSize(1)
                    .maximumRetryAttempts(1)
                    .destinationConfig(
                        d ->
                            d.onFailure(
                                f ->
                                    f.destination(
                                        "arn:aws:lambda:us-east-1:000000000000:function:t3-dlq"))));
    transaction("INSERT INTO t3_orders (id, status) VALUES (1, 'poison')");
    transaction("INSERT INTO t3_orders (id, status) VALUES (2, 'fine')");

    Awaitility.await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () -> changes("t3-fn").stream().anyMatch(c -> c.get("status").asText().equals("fine")));
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> !Deliveries.read(kiln.fixture().logsClient(), "t3-dlq", "FAILED").isEmpty());
    List<JsonNode> attempts = changes("t3-fn");
    assertThat(attempts)
        .extracting(c -> c.get("status").asText())
        .as("tried once and retried once, then the next change")
        .containsExactly("poison", "poison", "fine");
    String poisonSeq = attempts.get(0).get("seq").asText();

    JsonNode failure = Deliveries.read(kiln.fixture().logsClient(), "t3-dlq", "FAILED").get(0);
    assertThat(failure.at("/requestContext/condition").asText())
        .isEqualTo("RetryAttemptsExhausted");
    assertThat(failure.at("/requestContext/approximateInvokeCount").asInt()).isEqualTo(2);
    assertThat(failure.at("/requestContext/functionArn").asText())
        .isEqualTo("arn:aws:lambda:us-east-1:000000000000:function:t3-fn");
    JsonNode info = failure.get("DDBStreamBatchInfo");
    assertThat(info).as("DDBStreamBatchInfo in %s", failure).isNotNull();
    assertThat(info.get("shardId").asText()).isEqualTo(slotOf(uuid));
    assertThat(info.get("startSequenceNumber").asText()).isEqualTo(poisonSeq);
    assertThat(info.get("endSequenceNumber").asText()).isEqualTo(poisonSeq);
    assertThat(info.get("batchSize").asInt()).isEqualTo(1);
    assertThat(info.get("publication").asText()).isEqualTo(pub);
    assertThat(Deliveries.read(kiln.fixture().logsClient(), "t3-dlq", "FAILED")).hasSize(1);
  }

  @Test
  void disablingAndReEnabling_resumesWhereItStopped() throws Exception {
    String pub = publication("t4");
    kiln.fixture().python("t4-fn", RECORDER);
    String uuid = map("t4-fn", pub, b -> {});
    for (int i = 1; i <= 3; i++) {
      transaction("INSERT INTO t4_orders (id, status) VALUES (" + i + ", 'new')");
    }
    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> changes("t4-fn").size() == 3);
    assertThat(
            kiln.fixture()
                .lambda
                .updateEventSourceMapping(b -> b.uuid(uuid).enabled(false))
                .state())
        .isEqualTo("Disabling");
    awaitState(uuid, "Disabled");
    for (int i = 4; i <= 6; i++) {
      transaction("INSERT INTO t4_orders (id, status) VALUES (" + i + ", 'new')");
    }
    Awaitility.await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(10))
        .until(() -> changes("t4-fn").size() == 3);
    assertThat(slotExists(slotOf(uuid))).as("a disabled mapping keeps its slot").isTrue();

    kiln.fixture().lambda.updateEventSourceMapping(b -> b.uuid(uuid).enabled(true));
    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> changes("t4-fn").size() >= 6);
    assertThat(changes("t4-fn"))
        .extracting(c -> c.get("keys").get("id").asInt())
        .containsExactly(1, 2, 3, 4, 5, 6);
  }

  @Test
  void answersShowTheSecretsUriOnly_andDeletingTheMappingDropsItsSlot() throws Exception {
    String pub = publication("t5");
    kiln.fixture().python("t5-fn", RECORDER);
    String uuid = map("t5-fn", pub, b -> {});
    var got = kiln.fixture().lambda.getEventSourceMapping(b -> b.uuid(uuid));
    assertThat(got.sourceAccessConfigurations())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.type()).isEqualTo(SourceAccessType.BASIC_AUTH);
              assertThat(a.uri()).isEqualTo(SECRET);
            });
    assertThat(got.selfManagedEventSource().endpointsAsStrings())
        .containsEntry("POSTGRESQL_URL", List.of(URL));
    assertThat(got.topics()).containsExactly(pub);
    assertThat(got.startingPosition()).isEqualTo(EventSourcePosition.LATEST);
    HttpClient http = HttpClient.newHttpClient();
    for (String path :
        List.of(
            "/2015-03-31/event-source-mappings/" + uuid,
            "/2015-03-31/event-source-mappings/?FunctionName=t5-fn",
            "/2015-03-31/event-source-mappings/")) {
      HttpResponse<String> raw =
          http.send(kiln.fixture().signed("GET", path), HttpResponse.BodyHandlers.ofString());
      assertThat(raw.statusCode()).as(path).isEqualTo(200);
      assertThat(raw.body()).as(path).contains(uuid).doesNotContain(PASSWORD);
    }

    var deleting = kiln.fixture().lambda.deleteEventSourceMapping(b -> b.uuid(uuid));
    assertThat(deleting.state()).isEqualTo("Deleting");
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                catchThrowableOfType(
                        LambdaException.class,
                        () -> kiln.fixture().lambda.getEventSourceMapping(b -> b.uuid(uuid)))
                    != null);
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !slotExists(slotOf(uuid)));
  }

  @Test
  void postgresSpecificRefusals_sayWhatIsWrong_andStoreNothing() throws Exception {
    String pub = publication("t6");
    kiln.fixture().python("t6-fn", RECORDER);
    int slots = slotCount();
    String withPassword =
        "postgresql://"
            + PostgresForEsm.USER
            + ":"
            + PASSWORD
            + "@127.0.0.1:"
            + PG.port()
            + "/shop";
    LambdaException e =
        refused(
            b ->
                mapping(b, "t6-fn", pub)
                    .selfManagedEventSource(
                        s ->
                            s.endpointsWithStrings(
                                Map.of("POSTGRESQL_URL", List.of(withPassword)))));
    assertThat(e.awsErrorDetails().errorMessage())
        .contains("must not contain a password")
        .doesNotContain(PASSWORD);
    e = refused(b -> mapping(b, "t6-fn", pub).topics(List.of()));
    assertThat(e.awsErrorDetails().errorMessage()).contains("Topics").contains("publication");
    e =
        refused(
            b ->
                mapping(b, "t6-fn", pub)
                    .startingPosition(EventSourcePosition.AT_TIMESTAMP)
                    .startingPositionTimestamp(java.time.Instant.now()));
    assertThat(e.awsErrorDetails().errorMessage()).contains("AT_TIMESTAMP");
    assertThat(slotCount()).as("no replication slot made").isEqualTo(slots);
  }

  static LambdaException refused(Consumer<CreateEventSourceMappingRequest.Builder> request) {
    int before =
        kiln.fixture().lambda.listEventSourceMappings(b -> {}).eventSourceMappings().size();
    LambdaException e =
        catchThrowableOfType(
            LambdaException.class, () -> kiln.fixture().lambda.createEventSourceMapping(request));
    assertThat(e).as("refused").isNotNull();
    assertThat(e.statusCode()).isEqualTo(400);
    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidParameterValueException");
    assertThat(kiln.fixture().lambda.listEventSourceMappings(b -> {}).eventSourceMappings())
        .as("nothing stored")
        .hasSize(before);
    return e;
  }
}
