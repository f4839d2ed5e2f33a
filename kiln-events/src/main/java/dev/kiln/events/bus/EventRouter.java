package dev.kiln.events.bus;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.events.BusEvent;
import dev.kiln.events.EventPublisher;
import dev.kiln.events.RouterMetrics;
import dev.kiln.model.Account;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import dev.kiln.model.pattern.EventPattern;
import dev.kiln.model.pattern.PatternMatcher;
import dev.kiln.store.EventBusStore;
import dev.kiln.store.EventBusStore.Rule;
import dev.kiln.store.EventBusStore.RuleState;
import dev.kiln.store.EventBusStore.Target;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event buses at work: puts an event on a bus, matches it against the bus's enabled rules and
 * queues a delivery for each target of each rule it matches, as EventBridge does.
 *
 * <h2>Model</h2>
 *
 * An event gets AWS's envelope ({@link EventEnvelope}) with a new id, and the envelope is what
 * patterns are matched against and what a target gets unless its input is shaped ({@link
 * TargetInput}). Each bus's enabled rules that have a pattern are compiled into one event-ruler
 * automaton ({@link PatternMatcher}), so an event's cost does not grow with the number of rules;
 * the compiled form of a bus, {@code CompiledBus}, also holds each rule's targets, so that routing
 * an event reads nothing from the store. A rule with only a schedule matches no event: the schedule
 * engine fires it through {@link #deliverScheduled}.
 *
 * <p>A delivery is one async invocation of the target's function, queued durably through the {@link
 * TargetQueue} before {@link #publish} returns. Before queueing, the function must exist and its
 * resource-based policy must let {@code events.amazonaws.com} invoke it for the rule (with the
 * statement's {@code SourceArn} condition, if any, matching the rule's ARN), exactly what Lambda
 * checks when EventBridge invokes it; otherwise the delivery fails: it is counted as {@code failed}
 * in {@link RouterMetrics} (kind {@code rule}, name {@code bus/rule}), logged, and nothing is
 * invoked. From the queue on, the async queue's retries, maximum event age and destinations apply.
 *
 * <h2>Threading</h2>
 *
 * {@code compiled} maps a bus name to its immutable {@code CompiledBus}; {@link #publish} reads it
 * without a lock, and many threads route at once (event-ruler's matching is thread-safe). {@code
 * compileLock} guards building and dropping entries: a missing bus is compiled under it from the
 * store, and {@link #rulesChanged} drops a bus's entry under it. The catalog ({@link EventBuses})
 * calls {@code rulesChanged} after each change has committed, so a compilation either ran before
 * the commit (and is dropped by it) or after (and sees it): a stale entry never survives a change.
 */
public final class EventRouter implements EventPublisher {

  private static final Logger LOG = LoggerFactory.getLogger(EventRouter.class);

  static final String KIND = "rule";

  private static final ObjectMapper JSON = new ObjectMapper();

  /** One enabled rule, ready to deliver. */
  record CompiledRule(Rule rule, String arn, List<Target> targets) {}

  /** A bus's enabled rules compiled: immutable. */
  record CompiledBus(PatternMatcher<CompiledRule> matcher) {}

  private final EventBusStore store;
  private final Account account;
  private final EventBusArns arns;
  private final FunctionTargets functions;
  private final TargetQueue queue;
  private final RouterMetrics metrics;
  private final InstantSource clock;

  private final Map<String, CompiledBus> compiled = new ConcurrentHashMap<>();
  private final Object compileLock = new Object();

  public EventRouter(
      EventBusStore store,
      Account account,
      FunctionTargets functions,
      TargetQueue queue,
      RouterMetrics metrics,
      InstantSource clock) {
    this.store = store;
    this.account = account;
    this.arns = new EventBusArns(account);
    this.functions = functions;
    this.queue = queue;
    this.metrics = metrics;
    this.clock = clock;
  }

  /**
   * Puts an event on a bus and queues its deliveries.
   *
   * @throws LambdaError {@code ResourceNotFoundException} when the bus does not exist
   */
  @Override
  public String publish(String bus, BusEvent event) {
    CompiledBus rules = compiled(bus);
    Instant received = clock.instant();
    String id = UUID.randomUUID().toString();
    ObjectNode envelope = EventEnvelope.of(id, event, account, received);
    for (CompiledRule rule : rules.matcher().match(envelope)) {
      deliver(rule, envelope, received, Optional.empty());
    }
    return id;
  }

  /**
   * Delivers AWS's "Scheduled Event" of a scheduled rule for its due time to each of the rule's
   * targets: {@code source} {@code aws.events}, {@code detail-type} {@code Scheduled Event}, {@code
   * detail} {@code {}}, {@code resources} the rule's ARN, {@code time} the due time. Each target's
   * delivery is queued with the deduplication key {@code deduplicationKeyBase + "/" + targetId}, so
   * that the schedule engine's firing it again for the same due time queues nothing new. Nothing
   * happens when the rule is gone or disabled.
   *
   * @return how many deliveries were queued
   */
  public int deliverScheduled(
      String bus, String ruleName, Instant due, String deduplicationKeyBase) {
    Optional<Rule> found = store.rule(bus, ruleName).filter(r -> r.state() == RuleState.ENABLED);
    if (found.isEmpty()) {
      return 0;
    }
    String arn = arns.rule(bus, ruleName);
    CompiledRule rule = new CompiledRule(found.get(), arn, store.targets(bus, ruleName));
    BusEvent scheduled =
        new BusEvent(
            "aws.events",
            "Scheduled Event",
            JSON.createObjectNode(),
            List.of(arn),
            Optional.of(due));
    ObjectNode envelope =
        EventEnvelope.of(UUID.randomUUID().toString(), scheduled, account, clock.instant());
    return deliver(rule, envelope, due, Optional.of(deduplicationKeyBase));
  }

  /** An enabled rule with a schedule, for the schedule engine. */
  public record ScheduledRule(
      String bus, String name, String arn, String scheduleExpression, Instant created) {}

  /** Every enabled rule that has a schedule expression, on every bus. */
  public List<ScheduledRule> scheduledRules() {
    List<ScheduledRule> out = new ArrayList<>();
    for (Rule r : store.allRules()) {
      if (r.state() == RuleState.ENABLED && r.scheduleExpression().isPresent()) {
        out.add(
            new ScheduledRule(
                r.bus(),
                r.name(),
                arns.rule(r.bus(), r.name()),
                r.scheduleExpression().get(),
                r.created()));
      }
    }
    return out;
  }

  /** Drops what was compiled of {@code bus}; called after every committed change to its rules. */
  void rulesChanged(String bus) {
    synchronized (compileLock) {
      compiled.remove(bus);
    }
  }

  private CompiledBus compiled(String bus) {
    CompiledBus found = compiled.get(bus);
    if (found != null) {
      return found;
    }
    synchronized (compileLock) {
      found = compiled.get(bus);
      if (found != null) {
        return found;
      }
      if (store.bus(bus).isEmpty()) {
        throw EventsErrors.busNotFound(bus);
      }
      PatternMatcher.Builder<CompiledRule> matcher = PatternMatcher.builder();
      for (Rule r : store.rules(bus)) {
        if (r.state() != RuleState.ENABLED || r.eventPattern().isEmpty()) {
          continue;
        }
        CompiledRule rule =
            new CompiledRule(r, arns.rule(bus, r.name()), store.targets(bus, r.name()));
        // stored patterns were checked when they were put
        matcher.add(rule, EventPattern.parse(r.eventPattern().get()));
      }
      CompiledBus built = new CompiledBus(matcher.build());
      compiled.put(bus, built);
      return built;
    }
  }

  private int deliver(
      CompiledRule rule, ObjectNode envelope, Instant since, Optional<String> keyBase) {
    String name = rule.rule().bus() + "/" + rule.rule().name();
    metrics.received(KIND, name);
    int queued = 0;
    for (Target target : rule.targets()) {
      String eventId = envelope.path("id").asText();
      FunctionRef function;
      try {
        function = FunctionRef.parse(target.arn(), "Arn", account);
      } catch (LambdaError e) {
        fail(name, target, eventId, "its ARN names no function of this Kiln");
        continue;
      }
      if (!functions.exists(function)) {
        fail(name, target, eventId, "the function does not exist");
        continue;
      }
      if (!functions.allowsRule(function, rule.arn())) {
        fail(
            name,
            target,
            eventId,
            "the function's resource-based policy does not allow "
                + FunctionTargets.EVENTS_PRINCIPAL
                + " to invoke it for "
                + rule.arn()
                + " (aws lambda add-permission --principal "
                + FunctionTargets.EVENTS_PRINCIPAL
                + " --source-arn "
                + rule.arn()
                + ")");
        continue;
      }
      byte[] payload = TargetInput.render(target, envelope, rule.arn(), rule.rule().name(), since);
      queue.enqueue(function, payload, keyBase.map(k -> k + "/" + target.id()));
      metrics.delivered(KIND, name, Duration.between(since, clock.instant()));
      queued++;
    }
    return queued;
  }

  private void fail(String rule, Target target, String eventId, String why) {
    metrics.failed(KIND, rule);
    LOG.warn(
        "rule {}: event {} not delivered to target {} ({}): {}",
        rule,
        eventId,
        target.id(),
        target.arn(),
        why);
  }
}
