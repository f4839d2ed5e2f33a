package dev.kiln.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Where EventBridge's event buses, their rules and the rules' targets are kept.
 *
 * <h2>Model</h2>
 *
 * A bus has a name and holds rules; the {@code default} bus always exists (a store creates it when
 * it opens) and cannot be deleted. A rule belongs to one bus, has a name unique on that bus, and an
 * event pattern, a schedule expression or both; it holds up to AWS's five targets, each known by
 * its {@code Id} within the rule. Rules and buses carry their tags. A rule is deleted only when it
 * has no targets left and a bus only when it has no rules, as AWS refuses: the store enforces both,
 * so that a delivery never finds a target whose rule is gone.
 *
 * <p>The store validates nothing of AWS's (names, patterns, limits): the catalog above it does, and
 * turns the store's {@link StorageException} outcomes into EventBridge's errors. Lists are in name
 * (buses, rules) or insertion (targets) order, the order AWS lists them in.
 *
 * <p>Implementations are thread-safe, and every method is atomic: a method that throws changes
 * nothing.
 */
public interface EventBusStore extends AutoCloseable {

  /** The bus every account has. */
  String DEFAULT_BUS = "default";

  /** A rule's {@code State}. */
  enum RuleState {
    ENABLED,
    DISABLED
  }

  /** An event bus. */
  record Bus(String name, Optional<String> description, Instant created, Map<String, String> tags) {
    public Bus {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(description, "description");
      Objects.requireNonNull(created, "created");
      tags = Map.copyOf(tags);
    }

    public Bus withTags(Map<String, String> newTags) {
      return new Bus(name, description, created, newTags);
    }
  }

  /**
   * A rule on a bus, as PutRule gives it.
   *
   * @param created when the rule was first put (kept by later PutRules): where a scheduled rule's
   *     rate counts from, and the earliest due time it can have
   */
  record Rule(
      String bus,
      String name,
      Optional<String> eventPattern,
      Optional<String> scheduleExpression,
      RuleState state,
      Optional<String> description,
      Optional<String> roleArn,
      Optional<String> managedBy,
      Map<String, String> tags,
      Instant created) {
    public Rule {
      Objects.requireNonNull(bus, "bus");
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(eventPattern, "eventPattern");
      Objects.requireNonNull(scheduleExpression, "scheduleExpression");
      Objects.requireNonNull(state, "state");
      Objects.requireNonNull(description, "description");
      Objects.requireNonNull(roleArn, "roleArn");
      Objects.requireNonNull(managedBy, "managedBy");
      tags = Map.copyOf(tags);
      Objects.requireNonNull(created, "created");
    }

    public Rule withState(RuleState newState) {
      return new Rule(
          bus,
          name,
          eventPattern,
          scheduleExpression,
          newState,
          description,
          roleArn,
          managedBy,
          tags,
          created);
    }

    public Rule withTags(Map<String, String> newTags) {
      return new Rule(
          bus,
          name,
          eventPattern,
          scheduleExpression,
          state,
          description,
          roleArn,
          managedBy,
          newTags,
          created);
    }
  }

  /** A target's {@code InputTransformer}. */
  record InputTransformer(Map<String, String> inputPathsMap, String inputTemplate) {
    public InputTransformer {
      inputPathsMap = Map.copyOf(inputPathsMap);
      Objects.requireNonNull(inputTemplate, "inputTemplate");
    }
  }

  /** A target's {@code RetryPolicy}; an absent member is AWS's default. */
  record RetryPolicy(
      Optional<Integer> maximumRetryAttempts, Optional<Integer> maximumEventAgeInSeconds) {
    public RetryPolicy {
      Objects.requireNonNull(maximumRetryAttempts, "maximumRetryAttempts");
      Objects.requireNonNull(maximumEventAgeInSeconds, "maximumEventAgeInSeconds");
    }
  }

  /** One target of a rule. */
  record Target(
      String id,
      String arn,
      Optional<String> input,
      Optional<String> inputPath,
      Optional<InputTransformer> inputTransformer,
      Optional<RetryPolicy> retryPolicy,
      Optional<String> deadLetterArn) {
    public Target {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(arn, "arn");
      Objects.requireNonNull(input, "input");
      Objects.requireNonNull(inputPath, "inputPath");
      Objects.requireNonNull(inputTransformer, "inputTransformer");
      Objects.requireNonNull(retryPolicy, "retryPolicy");
      Objects.requireNonNull(deadLetterArn, "deadLetterArn");
    }
  }

  /**
   * Creates a bus.
   *
   * @throws StorageException.AlreadyExists ({@code EVENT_BUS}) when one of that name exists
   */
  void createBus(Bus bus);

  Optional<Bus> bus(String name);

  /** Every bus, by name. */
  List<Bus> buses();

  /**
   * Deletes a bus.
   *
   * @throws StorageException.NotFound ({@code EVENT_BUS}) when there is none of that name
   * @throws StorageException.Rejected ({@code EVENT_BUS}) for the default bus, or a bus with rules
   */
  void deleteBus(String name);

  /**
   * Replaces a bus's tags.
   *
   * @throws StorageException.NotFound ({@code EVENT_BUS}) when there is none of that name
   */
  void setBusTags(String name, Map<String, String> tags);

  /**
   * Creates the rule, or replaces the one of that name on its bus (keeping its targets).
   *
   * @throws StorageException.NotFound ({@code EVENT_BUS}) when its bus does not exist
   */
  void putRule(Rule rule);

  Optional<Rule> rule(String bus, String name);

  /** The rules of one bus, by name. */
  List<Rule> rules(String bus);

  /** Every rule of every bus, by bus and name. */
  List<Rule> allRules();

  /**
   * Deletes a rule.
   *
   * @throws StorageException.NotFound ({@code EVENT_RULE}) when there is none of that name
   * @throws StorageException.Rejected ({@code EVENT_RULE}) when it still has targets
   */
  void deleteRule(String bus, String name);

  /**
   * Adds the targets to the rule, each replacing the one with its id.
   *
   * @throws StorageException.NotFound ({@code EVENT_RULE}) when the rule does not exist
   */
  void putTargets(String bus, String rule, List<Target> targets);

  /**
   * Removes the targets with these ids; ids the rule has no target for are ignored.
   *
   * @return how many were removed
   * @throws StorageException.NotFound ({@code EVENT_RULE}) when the rule does not exist
   */
  int removeTargets(String bus, String rule, List<String> ids);

  /** The rule's targets, in the order they were first put; empty when the rule does not exist. */
  List<Target> targets(String bus, String rule);

  /** Reads the database, which answers at once when healthy: a health check. */
  void check();

  @Override
  void close();
}
