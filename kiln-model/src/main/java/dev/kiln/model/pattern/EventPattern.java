package dev.kiln.model.pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.event.ruler.JsonRuleCompiler;
import software.amazon.event.ruler.Patterns;

/**
 * One pattern in AWS's event-pattern language, parsed and checked: the language EventBridge rules
 * match events with and Lambda's event source mapping filters match records with.
 *
 * <h2>Model</h2>
 *
 * A pattern is a JSON object whose leaves are lists of what a field may be: exact values ({@code
 * "a"}, {@code 1}, {@code null}, {@code ""}) or operators ({@code prefix}, {@code suffix}, {@code
 * equals-ignore-case}, {@code anything-but} with a value, a list or {@code prefix}/{@code
 * suffix}/{@code equals-ignore-case}/{@code wildcard}, {@code numeric}, {@code exists}, {@code
 * cidr}, {@code wildcard}); a {@code $or} list gives alternatives. An event matches when every
 * field the pattern names matches one of its values. Parsing and matching are done by AWS's own
 * open-source engine, event-ruler, so that Kiln accepts, refuses and matches exactly as AWS does.
 * event-ruler compiles a pattern into one or more <em>branches</em> (one per {@code $or}
 * alternative), each a conjunction of field conditions; {@link PatternMatcher} compiles many
 * patterns' branches into one automaton.
 *
 * <p>This class accepts every operator event-ruler knows (EventBridge's full set); a service that
 * offers fewer (Lambda's filters refuse {@code wildcard} and {@code cidr}) walks {@link #tree} and
 * refuses them itself.
 *
 * <p>Immutable and thread-safe.
 */
public final class EventPattern {

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One {@code $or} alternative of a pattern: the field paths it tests (dotted, such as {@code
   * detail.state}) and their conditions.
   */
  public static final class Branch {
    final Map<String, List<Patterns>> conditions;

    Branch(Map<String, List<Patterns>> conditions) {
      this.conditions = conditions;
    }

    /** The dotted paths of the fields this branch tests. */
    public Set<String> fieldPaths() {
      return conditions.keySet();
    }
  }

  private final String text;
  private final JsonNode tree;
  private final List<Branch> branches;

  private EventPattern(String text, JsonNode tree, List<Branch> branches) {
    this.text = text;
    this.tree = tree;
    this.branches = branches;
  }

  /**
   * Parses and checks a pattern.
   *
   * @throws InvalidPatternException with event-ruler's reason when it is not a usable pattern
   */
  public static EventPattern parse(String text) {
    if (text == null || text.isBlank()) {
      throw new InvalidPatternException("Empty pattern");
    }
    JsonNode tree;
    try {
      tree = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new InvalidPatternException(e.getOriginalMessage());
    }
    if (tree == null || !tree.isObject()) {
      throw new InvalidPatternException("Filter is not an object");
    }
    if (tree.isEmpty()) {
      throw new InvalidPatternException("Empty objects are not allowed");
    }
    List<Map<String, List<Patterns>>> compiled;
    try {
      compiled = JsonRuleCompiler.compile(text);
    } catch (IOException | RuntimeException e) {
      String reason = e.getMessage();
      throw new InvalidPatternException(reason == null ? e.getClass().getSimpleName() : reason);
    }
    if (compiled.isEmpty()) {
      throw new InvalidPatternException("Empty objects are not allowed");
    }
    return new EventPattern(text, tree, compiled.stream().map(Branch::new).toList());
  }

  /** The pattern as it was given. */
  public String text() {
    return text;
  }

  /** The pattern parsed as JSON, for services that refuse some operators. */
  public JsonNode tree() {
    return tree.deepCopy();
  }

  /** The pattern's {@code $or} alternatives (one when it has no {@code $or}). */
  public List<Branch> branches() {
    return branches;
  }

  /** Whether {@code event} (a JSON object) matches this pattern. */
  public boolean matches(JsonNode event) {
    return !PatternMatcher.<Boolean>builder()
        .add(Boolean.TRUE, this)
        .build()
        .match(event)
        .isEmpty();
  }

  @Override
  public String toString() {
    return text;
  }
}
