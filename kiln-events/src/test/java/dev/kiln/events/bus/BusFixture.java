package dev.kiln.events.bus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.events.RouterMetrics;
import dev.kiln.model.Account;
import dev.kiln.model.FunctionRef;
import dev.kiln.store.EventBusStore.Target;
import dev.kiln.store.EventQueue;
import dev.kiln.testing.InMemoryEventBusStore;
import dev.kiln.testing.InMemoryEventQueue;
import dev.kiln.testing.ManualTime;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * A bus over an in-memory store, delivering into a real in-memory async queue, with functions that
 * exist and permissions that are granted as the test says.
 */
final class BusFixture {

  static final ObjectMapper JSON = new ObjectMapper();
  static final Account ACCOUNT = Account.DEFAULT;
  static final Instant T0 = Instant.parse("2026-03-01T09:30:00.250Z");

  final ManualTime time = new ManualTime(T0);
  final InMemoryEventBusStore store = new InMemoryEventBusStore(T0);
  final InMemoryEventQueue queue = new InMemoryEventQueue(time);
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final Set<String> functions = new HashSet<>();

  /** "function|ruleArn" pairs the functions' policies allow. */
  final Set<String> grants = new HashSet<>();

  final List<Optional<String>> keys = new ArrayList<>();

  final FunctionTargets targets =
      new FunctionTargets() {
        @Override
        public boolean exists(FunctionRef function) {
          return functions.contains(function.name());
        }

        @Override
        public boolean allowsRule(FunctionRef function, String ruleArn) {
          return grants.contains(function.name() + "|" + ruleArn);
        }
      };

  final TargetQueue targetQueue =
      (function, payload, key) -> {
        String id = UUID.randomUUID().toString();
        keys.add(key);
        queue.enqueue(
            EventQueue.Event.accepted(
                id,
                function.name(),
                function.qualifierOrLatest(),
                payload,
                time.instant(),
                Optional.empty()));
        return id;
      };

  final EventRouter router =
      new EventRouter(store, ACCOUNT, targets, targetQueue, new RouterMetrics(registry), time);
  final EventBuses buses =
      new EventBuses(store, router, ACCOUNT, targets, ScheduleExpressionValidator.OUTER_FORM, time);

  /** A function that exists and lets EventBridge invoke it for {@code ruleArn}. */
  void function(String name, String... allowedRuleArns) {
    functions.add(name);
    for (String arn : allowedRuleArns) {
      grants.add(name + "|" + arn);
    }
  }

  static String functionArn(String name) {
    return ACCOUNT.functionArn(name);
  }

  static Target target(String id, String function) {
    return new Target(
        id,
        functionArn(function),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty());
  }

  /** What was queued, oldest first, as JSON. */
  List<JsonNode> queued() {
    List<JsonNode> out = new ArrayList<>();
    for (EventQueue.Event e : queue.claim("test", 1000, Duration.ofMinutes(5))) {
      try {
        out.add(JSON.readTree(new String(e.payload(), StandardCharsets.UTF_8)));
      } catch (Exception x) {
        throw new AssertionError(x);
      }
    }
    return out;
  }

  List<EventQueue.Event> queuedEvents() {
    return queue.claim("test", 1000, Duration.ofMinutes(5));
  }

  double count(String rule, String outcome) {
    var c =
        registry
            .find("kiln_router_events")
            .tags("kind", "rule", "name", rule, "outcome", outcome)
            .counter();
    return c == null ? 0 : c.count();
  }
}
