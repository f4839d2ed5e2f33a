package dev.kiln.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.store.EventBusStore;
import dev.kiln.store.EventBusStore.Bus;
import dev.kiln.store.EventBusStore.InputTransformer;
import dev.kiln.store.EventBusStore.RetryPolicy;
import dev.kiln.store.EventBusStore.Rule;
import dev.kiln.store.EventBusStore.RuleState;
import dev.kiln.store.EventBusStore.Target;
import dev.kiln.store.StorageException;
import dev.kiln.store.StorageException.Entity;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link EventBusStore} promises, as tests: extend this class with {@link #newStore}
 * returning a new store of your implementation (holding only the default bus).
 */
public abstract class EventBusStoreContract {

  protected static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  protected EventBusStore store;

  protected abstract EventBusStore newStore();

  @BeforeEach
  void openStore() {
    store = newStore();
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  protected static Bus bus(String name) {
    return new Bus(name, Optional.of("for " + name), T0, Map.of("team", "a"));
  }

  protected static Rule rule(String bus, String name) {
    return new Rule(
        bus,
        name,
        Optional.of("{\"source\": [\"com.shop\"]}"),
        Optional.empty(),
        RuleState.ENABLED,
        Optional.of("d"),
        Optional.empty(),
        Optional.empty(),
        Map.of("k", "v"),
        T0);
  }

  protected static Target target(String id) {
    return new Target(
        id,
        "arn:aws:lambda:us-east-1:000000000000:function:f",
        Optional.empty(),
        Optional.of("$.detail"),
        Optional.of(new InputTransformer(Map.of("s", "$.source"), "\"<s>\"")),
        Optional.of(new RetryPolicy(Optional.of(3), Optional.empty())),
        Optional.of("arn:aws:sqs:us-east-1:000000000000:dlq"));
  }

  @Test
  void theDefaultBusIsThereAndCannotBeDeleted() {
    assertThat(store.buses()).extracting(Bus::name).containsExactly("default");
    assertThatThrownBy(() -> store.deleteBus("default"))
        .isInstanceOf(StorageException.Rejected.class);
    assertThat(store.bus("default")).isPresent();
  }

  @Test
  void busesAreCreatedListedByNameTaggedAndDeleted() {
    store.createBus(bus("orders"));
    store.createBus(bus("audit"));
    assertThat(store.buses()).extracting(Bus::name).containsExactly("audit", "default", "orders");
    assertThat(store.bus("orders")).hasValue(bus("orders"));
    assertThatThrownBy(() -> store.createBus(bus("orders")))
        .isInstanceOfSatisfying(
            StorageException.AlreadyExists.class,
            e -> assertThat(e.entity()).isEqualTo(Entity.EVENT_BUS));
    store.setBusTags("orders", Map.of("x", "y"));
    assertThat(store.bus("orders").orElseThrow().tags()).containsExactly(Map.entry("x", "y"));
    store.deleteBus("orders");
    assertThat(store.bus("orders")).isEmpty();
    assertThatThrownBy(() -> store.deleteBus("orders"))
        .isInstanceOf(StorageException.NotFound.class);
    assertThatThrownBy(() -> store.setBusTags("orders", Map.of()))
        .isInstanceOf(StorageException.NotFound.class);
  }

  @Test
  void aBusWithRulesIsNotDeleted() {
    store.createBus(bus("orders"));
    store.putRule(rule("orders", "r"));
    assertThatThrownBy(() -> store.deleteBus("orders"))
        .isInstanceOf(StorageException.Rejected.class);
    assertThat(store.rule("orders", "r")).isPresent();
  }

  @Test
  void rulesArePutReplacedListedPerBusAndDeleted() {
    store.createBus(bus("orders"));
    store.putRule(rule("default", "b"));
    store.putRule(rule("default", "a"));
    store.putRule(rule("orders", "a"));
    assertThat(store.rules("default")).extracting(Rule::name).containsExactly("a", "b");
    assertThat(store.rules("orders")).extracting(Rule::name).containsExactly("a");
    assertThat(store.allRules())
        .extracting(r -> r.bus() + "/" + r.name())
        .containsExactly("default/a", "default/b", "orders/a");
    store.putRule(rule("default", "a").withState(RuleState.DISABLED));
    assertThat(store.rule("default", "a").orElseThrow().state()).isEqualTo(RuleState.DISABLED);
    assertThat(store.rule("default", "a").orElseThrow())
        .isEqualTo(rule("default", "a").withState(RuleState.DISABLED));
    store.deleteRule("default", "a");
    assertThat(store.rule("default", "a")).isEmpty();
    assertThat(store.rule("orders", "a")).isPresent();
    assertThatThrownBy(() -> store.deleteRule("default", "a"))
        .isInstanceOfSatisfying(
            StorageException.NotFound.class,
            e -> assertThat(e.entity()).isEqualTo(Entity.EVENT_RULE));
    assertThatThrownBy(() -> store.putRule(rule("nope", "a")))
        .isInstanceOfSatisfying(
            StorageException.NotFound.class,
            e -> assertThat(e.entity()).isEqualTo(Entity.EVENT_BUS));
  }

  @Test
  void targetsAreUpsertedByIdKeptInOrderAndRemoved() {
    store.putRule(rule("default", "r"));
    store.putTargets("default", "r", List.of(target("2"), target("1")));
    Target replaced =
        new Target(
            "2",
            "arn:aws:lambda:us-east-1:000000000000:function:g",
            Optional.of("{}"),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty());
    store.putTargets("default", "r", List.of(replaced, target("3")));
    assertThat(store.targets("default", "r")).containsExactly(replaced, target("1"), target("3"));
    assertThat(store.removeTargets("default", "r", List.of("1", "nope"))).isEqualTo(1);
    assertThat(store.targets("default", "r")).extracting(Target::id).containsExactly("2", "3");
    assertThatThrownBy(() -> store.putTargets("default", "nope", List.of(target("1"))))
        .isInstanceOf(StorageException.NotFound.class);
    assertThatThrownBy(() -> store.removeTargets("default", "nope", List.of("1")))
        .isInstanceOf(StorageException.NotFound.class);
    assertThat(store.targets("default", "nope")).isEmpty();
  }

  @Test
  void aRuleWithTargetsIsNotDeleted() {
    store.putRule(rule("default", "r"));
    store.putTargets("default", "r", List.of(target("1")));
    assertThatThrownBy(() -> store.deleteRule("default", "r"))
        .isInstanceOf(StorageException.Rejected.class);
    assertThat(store.targets("default", "r")).hasSize(1);
    store.removeTargets("default", "r", List.of("1"));
    store.deleteRule("default", "r");
    store.putRule(rule("default", "r"));
    assertThat(store.targets("default", "r")).isEmpty();
  }
}
