package dev.kiln.model.pattern;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import software.amazon.event.ruler.GenericMachine;

/**
 * Many event patterns compiled into one automaton: given an event, says which patterns (by the key
 * each was added under) it matches. An event's cost is then independent of the number of patterns,
 * which is how EventBridge matches a bus's rules and Lambda a mapping's filters.
 *
 * <h2>Threading</h2>
 *
 * A matcher is immutable once {@link Builder#build} returns, and {@link #match} may be called by
 * any number of threads at once. The automaton is built completely inside the builder (the only
 * place patterns are added) and published through a final field; matching only reads it.
 * event-ruler's matching is itself meant to run concurrently (its automaton states and its matcher
 * are annotated {@code ThreadSafe}, and each match keeps its progress in objects of its own); no
 * lock is taken here. When patterns change, build a new matcher; an old one is never modified.
 *
 * @param <K> what a pattern is known by (a rule, a filter's branch)
 */
public final class PatternMatcher<K> {

  /** Collects patterns; not thread-safe (one thread builds). */
  public static final class Builder<K> {
    private final List<K> keys = new ArrayList<>();
    private final GenericMachine<Integer> machine = GenericMachine.<Integer>builder().build();
    private boolean built;

    private Builder() {}

    /** Adds every branch of {@code pattern} under {@code key}. */
    public Builder<K> add(K key, EventPattern pattern) {
      for (EventPattern.Branch branch : pattern.branches()) {
        add(key, branch);
      }
      return this;
    }

    /** Adds one branch under {@code key}. */
    public Builder<K> add(K key, EventPattern.Branch branch) {
      if (built) {
        throw new IllegalStateException("already built");
      }
      int index = keys.size();
      keys.add(key);
      machine.addPatternRule(index, branch.conditions);
      return this;
    }

    public PatternMatcher<K> build() {
      built = true;
      return new PatternMatcher<>(machine, keys);
    }
  }

  private final GenericMachine<Integer> machine;
  private final List<K> keys;

  private PatternMatcher(GenericMachine<Integer> machine, List<K> keys) {
    this.machine = machine;
    this.keys = List.copyOf(keys);
  }

  public static <K> Builder<K> builder() {
    return new Builder<>();
  }

  /** Whether no pattern was added. */
  public boolean isEmpty() {
    return keys.isEmpty();
  }

  /**
   * The keys of the patterns {@code event} matches, each once, in the order they were added; empty
   * when the event is not a JSON object.
   */
  public Set<K> match(JsonNode event) {
    Set<K> matched = new LinkedHashSet<>();
    if (event == null || !event.isObject() || keys.isEmpty()) {
      return matched;
    }
    List<Integer> hits = new ArrayList<>(machine.rulesForJSONEvent(event));
    hits.sort(null);
    for (Integer index : hits) {
      matched.add(keys.get(index));
    }
    return matched;
  }
}
