package dev.kiln.events.bus;

import static dev.kiln.events.bus.BusFixture.JSON;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.events.BusEvent;
import dev.kiln.events.bus.EventBuses.RuleRequest;
import dev.kiln.model.LambdaError;
import dev.kiln.store.EventBusStore.InputTransformer;
import dev.kiln.store.EventBusStore.RuleState;
import dev.kiln.store.EventBusStore.Target;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class EventRouterTest {

  static final String RULE_ARN = "arn:aws:events:us-east-1:000000000000:rule/orders";

  final BusFixture kiln = new BusFixture();

  String rule(String bus, String name, String pattern) {
    return kiln.buses.putRule(
        new RuleRequest(
            name,
            Optional.of(bus),
            Optional.of(pattern),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Map.of()));
  }

  static BusEvent order(String state, int amount) {
    var detail = JSON.createObjectNode().put("state", state).put("amount", amount);
    return new BusEvent(
        "com.shop", "Order Placed", detail, List.of("arn:aws:shop:::order/1"), Optional.empty());
  }

  @Test
  void aMatchingEventReachesEachTargetInAwsEnvelope() throws Exception {
    String arn = rule("default", "orders", "{\"source\": [\"com.shop\"]}");
    assertThat(arn).isEqualTo(RULE_ARN);
    kiln.function("f", arn);
    kiln.function("g", arn);
    kiln.buses.putTargets(
        "orders",
        Optional.empty(),
        List.of(BusFixture.target("1", "f"), BusFixture.target("2", "g")));

    String id = kiln.router.publish("default", order("Placed", 3));

    List<dev.kiln.store.EventQueue.Event> queued = kiln.queuedEvents();
    assertThat(queued).extracting(e -> e.function()).containsExactly("f", "g");
    JsonNode event = JSON.readTree(queued.get(0).payload());
    assertThat(event.properties().stream().map(Map.Entry::getKey).toList())
        .containsExactly(
            "version",
            "id",
            "detail-type",
            "source",
            "account",
            "time",
            "region",
            "resources",
            "detail");
    assertThat(event.get("version").asText()).isEqualTo("0");
    assertThat(event.get("id").asText()).isEqualTo(id);
    assertThat(event.get("detail-type").asText()).isEqualTo("Order Placed");
    assertThat(event.get("source").asText()).isEqualTo("com.shop");
    assertThat(event.get("account").asText()).isEqualTo("000000000000");
    assertThat(event.get("time").asText()).isEqualTo("2026-03-01T09:30:00Z");
    assertThat(event.get("region").asText()).isEqualTo("us-east-1");
    assertThat(event.get("resources")).hasSize(1);
    assertThat(event.get("resources").get(0).asText()).isEqualTo("arn:aws:shop:::order/1");
    assertThat(event.get("detail")).isEqualTo(JSON.readTree("{\"state\":\"Placed\",\"amount\":3}"));
    assertThat(kiln.count("default/orders", "received")).isEqualTo(1);
    assertThat(kiln.count("default/orders", "delivered")).isEqualTo(2);
  }

  @Test
  void anEventThatMatchesNoRuleIsDeliveredNowhere() throws Exception {
    String arn =
        rule("default", "orders", "{\"detail\": {\"amount\": [{\"numeric\": [\">\", 100]}]}}");
    kiln.function("f", arn);
    kiln.buses.putTargets("orders", Optional.empty(), List.of(BusFixture.target("1", "f")));
    kiln.router.publish("default", order("Placed", 3));
    assertThat(kiln.queued()).isEmpty();
    kiln.router.publish("default", order("Placed", 300));
    assertThat(kiln.queued()).hasSize(1);
  }

  @Test
  void aDisabledRuleDeliversNothing_untilEnabledAgain() throws Exception {
    String arn = rule("default", "orders", "{\"source\": [\"com.shop\"]}");
    kiln.function("f", arn);
    kiln.buses.putTargets("orders", Optional.empty(), List.of(BusFixture.target("1", "f")));
    kiln.buses.setState("orders", Optional.empty(), RuleState.DISABLED);
    kiln.router.publish("default", order("Placed", 3));
    assertThat(kiln.queued()).isEmpty();
    assertThat(kiln.count("default/orders", "received")).isZero();
    kiln.buses.setState("orders", Optional.empty(), RuleState.ENABLED);
    kiln.router.publish("default", order("Placed", 3));
    assertThat(kiln.queued()).hasSize(1);
  }

  @Test
  void withoutEventBridgesPermissionNothingIsInvoked_andTheDeliveryCountsAsFailed()
      throws Exception {
    rule("default", "orders", "{\"source\": [\"com.shop\"]}");
    kiln.function("f", "arn:aws:events:us-east-1:000000000000:rule/another-rule");
    kiln.buses.putTargets("orders", Optional.empty(), List.of(BusFixture.target("1", "f")));
    kiln.router.publish("default", order("Placed", 3));
    assertThat(kiln.queued()).isEmpty();
    assertThat(kiln.count("default/orders", "failed")).isEqualTo(1);
    assertThat(kiln.count("default/orders", "delivered")).isZero();
  }

  @Test
  void aTargetWhoseFunctionWasDeletedFails() throws Exception {
    String arn = rule("default", "orders", "{\"source\": [\"com.shop\"]}");
    kiln.function("f", arn);
    kiln.buses.putTargets("orders", Optional.empty(), List.of(BusFixture.target("1", "f")));
    kiln.functions.remove("f");
    kiln.router.publish("default", order("Placed", 3));
    assertThat(kiln.queued()).isEmpty();
    assertThat(kiln.count("default/orders", "failed")).isEqualTo(1);
  }

  @Test
  void aCustomBusRoutesOnlyItsOwnEvents() throws Exception {
    kiln.buses.createBus("shop", Optional.empty(), Map.of());
    String arn = rule("shop", "orders", "{\"source\": [\"com.shop\"]}");
    assertThat(arn).isEqualTo("arn:aws:events:us-east-1:000000000000:rule/shop/orders");
    kiln.function("f", arn);
    kiln.buses.putTargets("orders", Optional.of("shop"), List.of(BusFixture.target("1", "f")));
    kiln.router.publish("default", order("Placed", 3));
    assertThat(kiln.queued()).isEmpty();
    kiln.router.publish("shop", order("Placed", 3));
    assertThat(kiln.queued()).hasSize(1);
    assertThat(kiln.count("shop/orders", "delivered")).isEqualTo(1);
    assertThatThrownBy(() -> kiln.router.publish("nope", order("Placed", 3)))
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> {
              assertThat(e.errorType()).isEqualTo("ResourceNotFoundException");
              assertThat(e.getMessage()).isEqualTo("Event bus nope does not exist.");
            });
  }

  @Test
  void aRuleChangedAfterRoutingIsSeenAtOnce() throws Exception {
    String arn = rule("default", "orders", "{\"source\": [\"com.other\"]}");
    kiln.function("f", arn);
    kiln.buses.putTargets("orders", Optional.empty(), List.of(BusFixture.target("1", "f")));
    kiln.router.publish("default", order("Placed", 3));
    assertThat(kiln.queued()).isEmpty();
    rule("default", "orders", "{\"source\": [\"com.shop\"]}");
    kiln.router.publish("default", order("Placed", 3));
    assertThat(kiln.queued()).hasSize(1);
    kiln.buses.removeTargets("orders", Optional.empty(), List.of("1"));
    kiln.router.publish("default", order("Placed", 3));
    assertThat(kiln.queued()).isEmpty();
  }

  @Test
  void inputInputPathAndInputTransformerShapeWhatTheTargetGets() throws Exception {
    String arn = rule("default", "orders", "{\"source\": [\"com.shop\"]}");
    kiln.function("f", arn);
    kiln.buses.putTargets(
        "orders",
        Optional.empty(),
        List.of(
            new Target(
                "constant",
                BusFixture.functionArn("f"),
                Optional.of("{\"fixed\": true}"),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty()),
            new Target(
                "path",
                BusFixture.functionArn("f"),
                Optional.empty(),
                Optional.of("$.detail"),
                Optional.empty(),
                Optional.empty(),
                Optional.empty()),
            new Target(
                "transformed",
                BusFixture.functionArn("f"),
                Optional.empty(),
                Optional.empty(),
                Optional.of(
                    new InputTransformer(
                        Map.of("state", "$.detail.state", "amount", "$.detail.amount"),
                        "{\"text\": \"order is <state> for <amount>\", \"state\": <state>,"
                            + " \"rule\": \"<aws.events.rule-name>\", \"arn\":"
                            + " \"<aws.events.rule-arn>\", \"at\":"
                            + " \"<aws.events.event.ingestion-time>\"}")),
                Optional.empty(),
                Optional.empty())));
    kiln.time.advance(Duration.ofSeconds(5));
    kiln.router.publish("default", order("Shipped \"fast\"", 7));
    List<JsonNode> got = kiln.queued();
    assertThat(got.get(0)).isEqualTo(JSON.readTree("{\"fixed\": true}"));
    assertThat(got.get(1))
        .isEqualTo(JSON.readTree("{\"state\":\"Shipped \\\"fast\\\"\",\"amount\":7}"));
    assertThat(got.get(2))
        .isEqualTo(
            JSON.readTree(
                "{\"text\": \"order is Shipped \\\"fast\\\" for 7\", \"state\": \"Shipped"
                    + " \\\"fast\\\"\", \"rule\": \"orders\", \"arn\": \""
                    + RULE_ARN
                    + "\", \"at\": \"2026-03-01T09:30:05Z\"}"));
  }

  @Test
  void aScheduledRuleSendsAwsScheduledEventForItsDueTime() throws Exception {
    String arn =
        kiln.buses.putRule(
            new RuleRequest(
                "every-5",
                Optional.empty(),
                Optional.empty(),
                Optional.of("rate(5 minutes)"),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Map.of()));
    kiln.function("f", arn);
    kiln.buses.putTargets("every-5", Optional.empty(), List.of(BusFixture.target("t1", "f")));
    assertThat(kiln.router.scheduledRules())
        .containsExactly(
            new EventRouter.ScheduledRule(
                "default", "every-5", arn, "rate(5 minutes)", BusFixture.T0));
    // a scheduled rule matches no event
    kiln.router.publish("default", order("Placed", 1));
    assertThat(kiln.queued()).isEmpty();

    Instant due = Instant.parse("2026-03-01T09:35:00Z");
    assertThat(kiln.router.deliverScheduled("default", "every-5", due, "rule/every-5@" + due))
        .isEqualTo(1);
    JsonNode event = kiln.queued().get(0);
    assertThat(event.get("source").asText()).isEqualTo("aws.events");
    assertThat(event.get("detail-type").asText()).isEqualTo("Scheduled Event");
    assertThat(event.get("detail")).isEqualTo(JSON.createObjectNode());
    assertThat(event.get("resources").get(0).asText()).isEqualTo(arn);
    assertThat(event.get("time").asText()).isEqualTo("2026-03-01T09:35:00Z");
    assertThat(kiln.keys).containsExactly(Optional.of("rule/every-5@" + due + "/t1"));

    kiln.buses.setState("every-5", Optional.empty(), RuleState.DISABLED);
    assertThat(kiln.router.scheduledRules()).isEmpty();
    assertThat(kiln.router.deliverScheduled("default", "every-5", due, "k")).isZero();
  }
}
