package dev.kiln.events.bus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.events.BusEvent;
import dev.kiln.model.Account;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import dev.kiln.model.pattern.EventPattern;
import dev.kiln.model.pattern.InvalidPatternException;
import dev.kiln.store.EventBusStore;
import dev.kiln.store.EventBusStore.Bus;
import dev.kiln.store.EventBusStore.Rule;
import dev.kiln.store.EventBusStore.RuleState;
import dev.kiln.store.EventBusStore.Target;
import dev.kiln.store.StorageException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * EventBridge's control plane over the {@link EventBusStore}: buses, rules, targets and tags, and
 * the PutEvents front of the {@link EventRouter}, each checked as EventBridge checks it and refused
 * with EventBridge's errors before anything is stored.
 *
 * <h2>Model</h2>
 *
 * Names and limits are the service model's ({@code RuleName} and {@code TargetId} 1 to 64 of {@code
 * [.\-_A-Za-z0-9]}, five targets per rule, ten PutEvents entries of at most 256 KB together). A
 * rule has an event pattern (checked by the one pattern engine, {@link EventPattern}), a schedule
 * expression (checked by the {@link ScheduleExpressionValidator} the schedule engine supplies, and
 * only on the default bus, as AWS allows), or both. A target must be a function of this Kiln: an
 * ARN Kiln cannot deliver to is refused in PutTargets' {@code FailedEntries}, the rest stored.
 *
 * <h2>Threading</h2>
 *
 * {@code writeLock} is held around every read-check-write of the store (so that two PutTargets
 * never both pass the five-target limit) and around telling the router that a bus's rules changed,
 * which happens after the store's commit. Reads take no lock.
 */
public final class EventBuses {

  /** AWS's quota of targets per rule. */
  public static final int MAX_TARGETS = 5;

  /** PutEvents' most entries per request. */
  public static final int MAX_ENTRIES = 10;

  /** PutEvents' most bytes per request, as AWS counts them. */
  public static final int MAX_ENTRIES_SIZE = 256 * 1024;

  private static final Pattern NAME = Pattern.compile("[\\.\\-_A-Za-z0-9]+");
  private static final String NAME_PATTERN = "[\\.\\-_A-Za-z0-9]+";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final EventBusStore store;
  private final EventRouter router;
  private final EventBusArns arns;
  private final FunctionTargets functions;
  private final ScheduleExpressionValidator schedules;
  private final InstantSource clock;
  private final Object writeLock = new Object();

  public EventBuses(
      EventBusStore store,
      EventRouter router,
      Account account,
      FunctionTargets functions,
      ScheduleExpressionValidator schedules,
      InstantSource clock) {
    this.store = store;
    this.router = router;
    this.arns = new EventBusArns(account);
    this.functions = functions;
    this.schedules = schedules;
    this.clock = clock;
  }

  public EventBusArns arns() {
    return arns;
  }

  // ---------------------------------------------------------------- buses

  /** CreateEventBus; returns its ARN. */
  public String createBus(String name, Optional<String> description, Map<String, String> tags) {
    checkBusName("name", name);
    description.ifPresent(d -> maxLength("description", d, 512));
    checkTags(tags);
    synchronized (writeLock) {
      try {
        store.createBus(new Bus(name, description, clock.instant(), tags));
      } catch (StorageException.AlreadyExists e) {
        throw EventsErrors.busExists(name);
      }
    }
    return arns.bus(name);
  }

  /** DeleteEventBus: a bus that does not exist is no error, as on AWS. */
  public void deleteBus(String name) {
    checkBusName("name", name);
    if (name.equals(EventBusStore.DEFAULT_BUS)) {
      throw EventsErrors.validation("Cannot delete event bus default.");
    }
    synchronized (writeLock) {
      try {
        store.deleteBus(name);
      } catch (StorageException.NotFound e) {
        return;
      } catch (StorageException.Rejected e) {
        throw EventsErrors.validation("EventBus can't be deleted since it has rules.");
      }
      router.rulesChanged(name);
    }
  }

  /** DescribeEventBus. */
  public Bus bus(Optional<String> nameOrArn) {
    String name = arns.busName(nameOrArn);
    return store.bus(name).orElseThrow(() -> EventsErrors.busNotFound(name));
  }

  /** ListEventBuses. */
  public Page<Bus> buses(Optional<String> prefix, Optional<Integer> limit, Optional<String> token) {
    List<Bus> all =
        store.buses().stream().filter(b -> b.name().startsWith(prefix.orElse(""))).toList();
    return page(all, Bus::name, limit, token);
  }

  // ---------------------------------------------------------------- rules

  /** What PutRule is given. */
  public record RuleRequest(
      String name,
      Optional<String> bus,
      Optional<String> eventPattern,
      Optional<String> scheduleExpression,
      Optional<String> state,
      Optional<String> description,
      Optional<String> roleArn,
      Map<String, String> tags) {}

  /** PutRule: creates or replaces the rule (keeping its targets and tags); returns its ARN. */
  public String putRule(RuleRequest r) {
    checkRuleName("name", r.name());
    String bus = arns.busName(r.bus());
    r.eventPattern().ifPresent(p -> maxLength("eventPattern", p, 4096));
    r.scheduleExpression().ifPresent(s -> maxLength("scheduleExpression", s, 256));
    r.description().ifPresent(d -> maxLength("description", d, 512));
    checkTags(r.tags());
    RuleState state =
        r.state()
            .map(
                s ->
                    switch (s) {
                      case "ENABLED" -> RuleState.ENABLED;
                      case "DISABLED" -> RuleState.DISABLED;
                      case "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" ->
                          throw EventsErrors.validation(
                              "State ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS needs"
                                  + " CloudTrail, which Kiln does not have; use ENABLED.");
                      default ->
                          throw EventsErrors.constraint(
                              "state",
                              s,
                              "Member must satisfy enum value set: [ENABLED, DISABLED,"
                                  + " ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]");
                    })
            .orElse(RuleState.ENABLED);
    Optional<String> pattern = r.eventPattern().filter(p -> !p.isEmpty());
    Optional<String> schedule = r.scheduleExpression().filter(s -> !s.isEmpty());
    if (pattern.isEmpty() && schedule.isEmpty()) {
      throw EventsErrors.validation(
          "Parameter(s) EventPattern or ScheduleExpression must be specified.");
    }
    pattern.ifPresent(EventBuses::parsePattern);
    if (schedule.isPresent()) {
      if (!bus.equals(EventBusStore.DEFAULT_BUS)) {
        throw EventsErrors.validation(
            "ScheduleExpression is supported only on the default event bus.");
      }
      schedules.validate(schedule.get());
    }
    synchronized (writeLock) {
      if (store.bus(bus).isEmpty()) {
        throw EventsErrors.busNotFound(bus);
      }
      Map<String, String> tags = new HashMap<>();
      Optional<Rule> old = store.rule(bus, r.name());
      old.ifPresent(o -> tags.putAll(o.tags()));
      tags.putAll(r.tags());
      store.putRule(
          new Rule(
              bus,
              r.name(),
              pattern,
              schedule,
              state,
              r.description(),
              r.roleArn(),
              Optional.empty(),
              tags,
              old.map(Rule::created)
                  .orElseGet(
                      () -> clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS))));
      router.rulesChanged(bus);
    }
    return arns.rule(bus, r.name());
  }

  /** DescribeRule. */
  public Rule rule(String name, Optional<String> busNameOrArn) {
    checkRuleName("name", name);
    String bus = arns.busName(busNameOrArn);
    return store.rule(bus, name).orElseThrow(() -> EventsErrors.ruleNotFound(name, bus));
  }

  /** ListRules. */
  public Page<Rule> rules(
      Optional<String> prefix,
      Optional<String> busNameOrArn,
      Optional<Integer> limit,
      Optional<String> token) {
    String bus = arns.busName(busNameOrArn);
    if (store.bus(bus).isEmpty()) {
      throw EventsErrors.busNotFound(bus);
    }
    List<Rule> all =
        store.rules(bus).stream().filter(r -> r.name().startsWith(prefix.orElse(""))).toList();
    return page(all, Rule::name, limit, token);
  }

  /** EnableRule and DisableRule. */
  public void setState(String name, Optional<String> busNameOrArn, RuleState state) {
    synchronized (writeLock) {
      Rule rule = rule(name, busNameOrArn);
      store.putRule(rule.withState(state));
      router.rulesChanged(rule.bus());
    }
  }

  /** DeleteRule: refused while the rule has targets; a rule that does not exist is no error. */
  public void deleteRule(String name, Optional<String> busNameOrArn) {
    checkRuleName("name", name);
    String bus = arns.busName(busNameOrArn);
    synchronized (writeLock) {
      try {
        store.deleteRule(bus, name);
      } catch (StorageException.NotFound e) {
        return;
      } catch (StorageException.Rejected e) {
        throw EventsErrors.validation("Rule can't be deleted since it has targets.");
      }
      router.rulesChanged(bus);
    }
  }

  // ---------------------------------------------------------------- targets

  /** One entry of PutTargets' or RemoveTargets' {@code FailedEntries}. */
  public record FailedEntry(String targetId, String errorCode, String errorMessage) {}

  /** PutTargets: stores the targets Kiln can deliver to; returns the ones it refused. */
  public List<FailedEntry> putTargets(
      String ruleName, Optional<String> busNameOrArn, List<Target> targets) {
    checkRuleName("rule", ruleName);
    if (targets.isEmpty() || targets.size() > 100) {
      throw EventsErrors.constraint(
          "targets",
          "[" + targets.size() + " targets]",
          targets.isEmpty()
              ? "Member must have length greater than or equal to 1"
              : "Member must have length less than or equal to 100");
    }
    for (Target t : targets) {
      checkName("targets.member.id", t.id(), 64);
      if (t.arn().isEmpty() || t.arn().length() > 1600) {
        throw EventsErrors.constraint(
            "targets.member.arn", t.arn(), "Member must have length less than or equal to 1600");
      }
      TargetInput.validate(t);
    }
    String bus = arns.busName(busNameOrArn);
    List<FailedEntry> failed = new ArrayList<>();
    List<Target> accepted = new ArrayList<>();
    for (Target t : targets) {
      Optional<String> why = undeliverable(t.arn());
      if (why.isPresent()) {
        failed.add(new FailedEntry(t.id(), "ValidationException", why.get()));
      } else {
        accepted.add(t);
      }
    }
    synchronized (writeLock) {
      rule(ruleName, Optional.of(bus));
      Set<String> ids = new LinkedHashSet<>();
      store.targets(bus, ruleName).forEach(t -> ids.add(t.id()));
      accepted.forEach(t -> ids.add(t.id()));
      if (ids.size() > MAX_TARGETS) {
        throw EventsErrors.limitExceeded();
      }
      if (!accepted.isEmpty()) {
        store.putTargets(bus, ruleName, accepted);
        router.rulesChanged(bus);
      }
    }
    return failed;
  }

  /** Why Kiln cannot deliver to {@code arn}, or empty when it can. */
  private Optional<String> undeliverable(String arn) {
    if (!arn.startsWith("arn:aws:lambda:") || !arn.contains(":function:")) {
      return Optional.of(
          "Target Arn "
              + arn
              + " is not a Lambda function's ARN: Kiln delivers events to its own functions"
              + " only.");
    }
    FunctionRef ref;
    try {
      ref = FunctionRef.parse(arn, "Arn", arns.account());
    } catch (LambdaError e) {
      return Optional.of("Target Arn " + arn + " is not valid: " + e.getMessage());
    }
    if (!functions.exists(ref)) {
      return Optional.of("Target Arn " + arn + " names a function this Kiln does not have.");
    }
    return Optional.empty();
  }

  /** RemoveTargets; ids the rule has no target for are no error. */
  public List<FailedEntry> removeTargets(
      String ruleName, Optional<String> busNameOrArn, List<String> ids) {
    checkRuleName("rule", ruleName);
    if (ids.isEmpty() || ids.size() > 100) {
      throw EventsErrors.constraint(
          "ids",
          ids,
          ids.isEmpty()
              ? "Member must have length greater than or equal to 1"
              : "Member must have length less than or equal to 100");
    }
    ids.forEach(id -> checkName("ids.member", id, 64));
    String bus = arns.busName(busNameOrArn);
    synchronized (writeLock) {
      rule(ruleName, Optional.of(bus));
      store.removeTargets(bus, ruleName, ids);
      router.rulesChanged(bus);
    }
    return List.of();
  }

  /** ListTargetsByRule. */
  public Page<Target> targets(
      String ruleName,
      Optional<String> busNameOrArn,
      Optional<Integer> limit,
      Optional<String> token) {
    Rule rule = rule(ruleName, busNameOrArn);
    return page(store.targets(rule.bus(), rule.name()), Target::id, limit, token);
  }

  /** ListRuleNamesByTarget. */
  public Page<String> ruleNamesByTarget(
      String targetArn,
      Optional<String> busNameOrArn,
      Optional<Integer> limit,
      Optional<String> token) {
    String bus = arns.busName(busNameOrArn);
    if (store.bus(bus).isEmpty()) {
      throw EventsErrors.busNotFound(bus);
    }
    List<String> names = new ArrayList<>();
    for (Rule r : store.rules(bus)) {
      if (store.targets(bus, r.name()).stream().anyMatch(t -> t.arn().equals(targetArn))) {
        names.add(r.name());
      }
    }
    return page(names, Function.identity(), limit, token);
  }

  // ---------------------------------------------------------------- tags

  /** The tags of a rule or bus, by ARN. */
  public Map<String, String> tags(String arn) {
    return resource(arn).tags();
  }

  public void tag(String arn, Map<String, String> tags) {
    checkTags(tags);
    synchronized (writeLock) {
      Tagged r = resource(arn);
      Map<String, String> merged = new HashMap<>(r.tags());
      merged.putAll(tags);
      r.set(merged);
    }
  }

  public void untag(String arn, List<String> keys) {
    synchronized (writeLock) {
      Tagged r = resource(arn);
      Map<String, String> kept = new HashMap<>(r.tags());
      keys.forEach(kept::remove);
      r.set(kept);
    }
  }

  private interface Tagged {
    Map<String, String> tags();

    void set(Map<String, String> tags);
  }

  private Tagged resource(String arn) {
    Optional<EventBusArns.RuleKey> rule = arns.parseRule(arn);
    if (rule.isPresent()) {
      Rule found =
          store
              .rule(rule.get().bus(), rule.get().name())
              .orElseThrow(() -> EventsErrors.ruleNotFound(rule.get().name(), rule.get().bus()));
      return new Tagged() {
        public Map<String, String> tags() {
          return found.tags();
        }

        public void set(Map<String, String> tags) {
          store.putRule(found.withTags(tags));
        }
      };
    }
    Optional<String> bus = arns.parseBus(arn);
    if (bus.isPresent()) {
      Bus found = store.bus(bus.get()).orElseThrow(() -> EventsErrors.busNotFound(bus.get()));
      return new Tagged() {
        public Map<String, String> tags() {
          return found.tags();
        }

        public void set(Map<String, String> tags) {
          store.setBusTags(found.name(), tags);
        }
      };
    }
    throw EventsErrors.resourceNotFound("Resource " + arn + " does not exist.");
  }

  // ---------------------------------------------------------------- events

  /** One PutEvents entry, as sent. */
  public record Entry(
      Optional<String> source,
      Optional<String> detailType,
      Optional<String> detail,
      List<String> resources,
      Optional<Instant> time,
      Optional<String> bus) {}

  /** One PutEvents result: the event's id, or why the entry was refused. */
  public record EntryResult(
      Optional<String> eventId, Optional<String> errorCode, Optional<String> errorMessage) {
    static EntryResult put(String id) {
      return new EntryResult(Optional.of(id), Optional.empty(), Optional.empty());
    }

    static EntryResult refused(String code, String message) {
      return new EntryResult(Optional.empty(), Optional.of(code), Optional.of(message));
    }

    public boolean failed() {
      return errorCode.isPresent();
    }
  }

  /**
   * PutEvents: each valid entry is put on its bus (and its deliveries queued) before this returns;
   * each invalid one gets its error in its place of the answer.
   *
   * @throws LambdaError {@code ValidationException} for no entries, more than ten, or more than 256
   *     KB together, and then nothing is put
   */
  public List<EntryResult> putEvents(List<Entry> entries) {
    if (entries.isEmpty() || entries.size() > MAX_ENTRIES) {
      throw EventsErrors.constraint(
          "entries",
          "[" + entries.size() + " entries]",
          entries.isEmpty()
              ? "Member must have length greater than or equal to 1"
              : "Member must have length less than or equal to " + MAX_ENTRIES);
    }
    long size = 0;
    for (Entry e : entries) {
      size += entrySize(e);
    }
    if (size > MAX_ENTRIES_SIZE) {
      throw EventsErrors.validation("Total size of the entries in the request is over the limit.");
    }
    List<EntryResult> results = new ArrayList<>();
    for (Entry e : entries) {
      results.add(putEvent(e));
    }
    return results;
  }

  /**
   * An entry's size as AWS documents it ("Calculating PutEvents event entry size"): 14 bytes for a
   * {@code Time}, and the UTF-8 bytes of {@code Source}, {@code DetailType}, {@code Detail} and
   * each of {@code Resources}.
   */
  static long entrySize(Entry e) {
    long size = e.time().isPresent() ? 14 : 0;
    size += utf8(e.source().orElse(""));
    size += utf8(e.detailType().orElse(""));
    size += utf8(e.detail().orElse(""));
    for (String r : e.resources()) {
      size += utf8(r);
    }
    return size;
  }

  private static int utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }

  private EntryResult putEvent(Entry e) {
    if (e.source().filter(s -> !s.isEmpty()).isEmpty()) {
      return EntryResult.refused(
          "InvalidArgument",
          "Parameter Source is not valid. Reason: Source is a required argument.");
    }
    if (e.detailType().filter(s -> !s.isEmpty()).isEmpty()) {
      return EntryResult.refused(
          "InvalidArgument",
          "Parameter DetailType is not valid. Reason: DetailType is a required argument.");
    }
    if (e.detail().filter(s -> !s.isEmpty()).isEmpty()) {
      return EntryResult.refused(
          "InvalidArgument",
          "Parameter Detail is not valid. Reason: Detail is a required argument.");
    }
    JsonNode detail;
    try {
      detail = JSON.readTree(e.detail().get());
    } catch (java.io.IOException x) {
      detail = null;
    }
    if (detail == null || !detail.isObject()) {
      return EntryResult.refused("MalformedDetail", "Detail is malformed.");
    }
    String bus = arns.busName(e.bus());
    try {
      return EntryResult.put(
          router.publish(
              bus,
              new BusEvent(
                  e.source().get(), e.detailType().get(), detail, e.resources(), e.time())));
    } catch (LambdaError x) {
      return EntryResult.refused(x.errorType(), x.getMessage());
    }
  }

  /** TestEventPattern: whether {@code event} (an envelope) matches {@code pattern}. */
  public boolean testPattern(String pattern, String event) {
    maxLength("eventPattern", pattern, 4096);
    EventPattern parsed = parsePattern(pattern);
    JsonNode tree;
    try {
      tree = JSON.readTree(event);
    } catch (java.io.IOException x) {
      throw EventsErrors.validation("Parameter Event is not valid.");
    }
    if (tree == null || !tree.isObject()) {
      throw EventsErrors.validation("Parameter Event is not valid.");
    }
    for (String required : List.of("id", "account", "source", "time", "region", "detail-type")) {
      if (!tree.hasNonNull(required)) {
        throw EventsErrors.validation(
            "Parameter Event is not valid. Reason: Provided Event is missing required field "
                + required
                + ".");
      }
    }
    return parsed.matches(tree);
  }

  // ---------------------------------------------------------------- checks and paging

  static EventPattern parsePattern(String pattern) {
    try {
      return EventPattern.parse(pattern);
    } catch (InvalidPatternException e) {
      throw EventsErrors.invalidPattern(e.reason());
    }
  }

  private static void checkRuleName(String field, String name) {
    checkName(field, name, 64);
  }

  private static void checkName(String field, String name, int max) {
    if (name == null || name.isEmpty()) {
      throw EventsErrors.constraint(
          field, "", "Member must have length greater than or equal to 1");
    }
    if (name.length() > max) {
      throw EventsErrors.constraint(
          field, name, "Member must have length less than or equal to " + max);
    }
    if (!NAME.matcher(name).matches()) {
      throw EventsErrors.constraint(
          field, name, "Member must satisfy regular expression pattern: " + NAME_PATTERN);
    }
  }

  private static void checkBusName(String field, String name) {
    checkName(field, name, 256);
  }

  private static void maxLength(String field, String value, int max) {
    if (value.length() > max) {
      throw EventsErrors.constraint(
          field, value, "Member must have length less than or equal to " + max);
    }
  }

  private static void checkTags(Map<String, String> tags) {
    tags.forEach(
        (k, v) -> {
          if (k.isEmpty() || k.length() > 128) {
            throw EventsErrors.constraint(
                "tags.member.key",
                k,
                k.isEmpty()
                    ? "Member must have length greater than or equal to 1"
                    : "Member must have length less than or equal to 128");
          }
          if (v.length() > 256) {
            throw EventsErrors.constraint(
                "tags.member.value", v, "Member must have length less than or equal to 256");
          }
        });
  }

  /** One page of a list, and the token of the next when there is one. */
  public record Page<T>(List<T> items, Optional<String> nextToken) {}

  /** Pages a list sorted by {@code key}; a token is the key of the last item given, encoded. */
  private static <T> Page<T> page(
      List<T> all, Function<T, String> key, Optional<Integer> limit, Optional<String> token) {
    int max = limit.orElse(100);
    if (max < 1 || max > 100) {
      throw EventsErrors.constraint(
          "limit",
          max,
          max < 1
              ? "Member must have value greater than or equal to 1"
              : "Member must have value less than or equal to 100");
    }
    int start = 0;
    if (token.isPresent()) {
      String after;
      try {
        after = new String(Base64.getUrlDecoder().decode(token.get()), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        throw EventsErrors.validation("The NextToken provided is not valid.");
      }
      if (!after.startsWith("after:")) {
        throw EventsErrors.validation("The NextToken provided is not valid.");
      }
      String last = after.substring("after:".length());
      start = all.size();
      for (int i = 0; i < all.size(); i++) {
        if (key.apply(all.get(i)).equals(last)) {
          start = i + 1;
          break;
        }
      }
    }
    int end = Math.min(all.size(), start + max);
    List<T> items = all.subList(start, end);
    Optional<String> next =
        end < all.size()
            ? Optional.of(
                Base64.getUrlEncoder()
                    .encodeToString(
                        ("after:" + key.apply(all.get(end - 1))).getBytes(StandardCharsets.UTF_8)))
            : Optional.empty();
    return new Page<>(List.copyOf(items), next);
  }
}
