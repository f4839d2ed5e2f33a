package dev.kiln.esm.filter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.model.LambdaError;
import dev.kiln.model.pattern.EventPattern;
import dev.kiln.model.pattern.InvalidPatternException;
import dev.kiln.model.pattern.PatternMatcher;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code FilterCriteria} of one event source mapping, compiled: decides for each record whether
 * Lambda would deliver it to the function or drop it.
 *
 * <h2>Model</h2>
 *
 * A mapping has up to {@value #MAX_FILTERS} filters, each a {@code Pattern}: a JSON object in the
 * EventBridge event-pattern language (exact values, {@code null}, {@code ""}, {@code prefix},
 * {@code suffix}, {@code equals-ignore-case}, {@code anything-but}, {@code numeric}, {@code
 * exists}, {@code $or}). A record is delivered when it matches at least one filter (the filters are
 * OR'ed) and always when there is none. Parsing and matching are the platform's one implementation
 * of the pattern language, {@link EventPattern} and {@link PatternMatcher} (AWS's own engine,
 * event-ruler, which EventBridge rules use too), which compiles every filter into one automaton; a
 * record's cost is then independent of the number of filters. What is Lambda's alone lives here:
 * the operators it refuses and the data-key shape rules.
 *
 * <p>What a pattern is matched against is the record's <em>filter view</em>, built by its source:
 * the record's metadata with the payload under its data key, {@code body} (SQS), {@code value}
 * (Kafka) or {@code dynamodb} (PostgreSQL changes), parsed as JSON when it is JSON and left a
 * string when not. Lambda then checks that pattern and payload agree in shape: a pattern that looks
 * inside the payload ({@code "body": {"k": [...]}}) never matches a payload that is a plain string,
 * and a pattern on the payload as a whole ({@code "body": [...]}) never matches a payload that is a
 * JSON object; a pattern that names no data key filters on the metadata alone. Each {@code $or}
 * branch is judged on its own.
 *
 * <p>Refused, with AWS's {@code InvalidParameterValueException} "Invalid filter pattern
 * definition.": a pattern that is not JSON, not an object, empty, or that uses an operator
 * event-ruler rejects, and the EventBridge operators Lambda's filtering does not offer ({@code
 * wildcard}, {@code cidr}, and {@code anything-but} with {@code prefix}, {@code suffix}, {@code
 * equals-ignore-case} or {@code wildcard}), and a pattern on the {@code dynamodb} image as a plain
 * value (Lambda requires stream data patterns to be JSON). A pattern longer than {@value
 * #MAX_PATTERN_LENGTH} characters breaks the service model and is a {@code ValidationException}.
 *
 * <h2>Threading</h2>
 *
 * A {@code RecordFilter} is immutable once {@link #compile} returns, and {@link #matches} may be
 * called by any number of threads at once. The {@link PatternMatcher} is built completely inside
 * {@code compile} and published through a final field; matching only reads it (see its threading
 * notes: no lock is taken). The tests match one filter from several threads at once and check every
 * answer. A mapping whose criteria change gets a new {@code RecordFilter}; an old one is never
 * modified.
 */
public final class RecordFilter {

  /** AWS's default quota of filters per event source mapping (raisable to 10 on request). */
  public static final int MAX_FILTERS = 5;

  /** The {@code Pattern} shape's {@code max} in the service model. */
  public static final int MAX_PATTERN_LENGTH = 4096;

  /** AWS's answer to any pattern it cannot use. */
  public static final String INVALID_PATTERN = "Invalid filter pattern definition.";

  /** The keys under which each source puts the record's payload in its filter view. */
  static final Set<String> DATA_KEYS = Set.of("body", "value", "dynamodb");

  /** Data keys whose payload Lambda requires to be filtered as JSON (stream sources). */
  private static final Set<String> JSON_ONLY_DATA_KEYS = Set.of("dynamodb");

  /** EventBridge operators that Lambda's event filtering does not take. */
  private static final Set<String> REFUSED_OPERATORS = Set.of("wildcard", "cidr");

  private static final Set<String> REFUSED_ANYTHING_BUT_OPERATORS =
      Set.of("prefix", "suffix", "equals-ignore-case", "wildcard");

  private static final RecordFilter NONE = new RecordFilter(null, List.of());

  /** How a rule (one filter, or one {@code $or} branch of it) treats a data key. */
  private enum Shape {
    /** the pattern looks inside the payload: it must be JSON (an object or array) */
    JSON,
    /** the pattern compares the payload as a whole: it must not be a JSON object or array */
    PLAIN
  }

  /** One rule added to the machine, named by its index in {@link #rules}. */
  private record Rule(Map<String, Shape> dataShapes) {}

  private final PatternMatcher<Integer> machine;
  private final List<Rule> rules;

  private RecordFilter(PatternMatcher<Integer> machine, List<Rule> rules) {
    this.machine = machine;
    this.rules = List.copyOf(rules);
  }

  /**
   * Compiles a mapping's filter patterns, refusing the whole list if any is invalid. The API calls
   * this at create and at update, so that a mapping never stores what it cannot use.
   *
   * @param patterns the {@code FilterCriteria.Filters[].Pattern} texts; empty for no filtering
   * @throws LambdaError {@code InvalidParameterValueException} or {@code ValidationException}, as
   *     AWS answers
   */
  public static RecordFilter compile(List<String> patterns) {
    if (patterns == null || patterns.isEmpty()) {
      return NONE;
    }
    if (patterns.size() > MAX_FILTERS) {
      throw LambdaError.invalidParameter(
          "The number of filters in FilterCriteria ("
              + patterns.size()
              + ") exceeds the limit of "
              + MAX_FILTERS
              + " filters for an event source mapping.");
    }
    for (int i = 0; i < patterns.size(); i++) {
      String pattern = patterns.get(i);
      if (pattern != null && pattern.length() > MAX_PATTERN_LENGTH) {
        throw LambdaError.validation(
            "filterCriteria.filters." + (i + 1) + ".member.pattern",
            pattern,
            "Member must have length less than or equal to " + MAX_PATTERN_LENGTH);
      }
    }
    PatternMatcher.Builder<Integer> machine = PatternMatcher.builder();
    List<Rule> rules = new ArrayList<>();
    for (String pattern : patterns) {
      for (EventPattern.Branch branch : compileOne(pattern)) {
        machine.add(rules.size(), branch);
        rules.add(new Rule(dataShapes(branch)));
      }
    }
    return new RecordFilter(machine.build(), rules);
  }

  /**
   * Checks patterns as {@link #compile} does, for callers that only validate.
   *
   * @throws LambdaError as {@link #compile}
   */
  public static void validate(List<String> patterns) {
    compile(patterns);
  }

  /** Whether there are no filters, so that every record is delivered. */
  public boolean isEmpty() {
    return rules.isEmpty();
  }

  /**
   * Whether Lambda would deliver the record whose filter view this is: true when it matches any
   * filter, or when there are none.
   */
  public boolean matches(JsonNode view) {
    if (rules.isEmpty()) {
      return true;
    }
    if (view == null || !view.isObject()) {
      return false;
    }
    for (Integer index : machine.match(view)) {
      if (shapesAgree(rules.get(index), (ObjectNode) view)) {
        return true;
      }
    }
    return false;
  }

  private static List<EventPattern.Branch> compileOne(String text) {
    EventPattern pattern;
    try {
      pattern = EventPattern.parse(text);
    } catch (InvalidPatternException e) {
      throw invalid();
    }
    refuseUnsupported(pattern.tree());
    for (EventPattern.Branch branch : pattern.branches()) {
      for (String key : JSON_ONLY_DATA_KEYS) {
        if (branch.fieldPaths().contains(key)) {
          throw invalid();
        }
      }
    }
    return pattern.branches();
  }

  /** Walks the pattern for operators EventBridge has and Lambda's filtering does not. */
  private static void refuseUnsupported(JsonNode node) {
    if (node.isArray()) {
      for (JsonNode element : node) {
        if (element.isObject()) {
          refuseOperator((ObjectNode) element);
        }
      }
      return;
    }
    if (node.isObject()) {
      node.properties().forEach(e -> refuseUnsupported(e.getValue()));
    }
  }

  private static void refuseOperator(ObjectNode operator) {
    // an object inside a value list is a match operator such as {"prefix": "x"}; an object inside
    // a "$or" list is a sub-pattern, which is walked as a pattern
    boolean subPattern = true;
    for (var entry : operator.properties()) {
      String name = entry.getKey();
      // as an operator its operand is a string; a field of that name would hold a list or object
      if (REFUSED_OPERATORS.contains(name) && !entry.getValue().isContainerNode()) {
        throw invalid();
      }
      if (name.equals("anything-but")) {
        subPattern = false;
        JsonNode value = entry.getValue();
        if (value.isObject()) {
          value
              .fieldNames()
              .forEachRemaining(
                  op -> {
                    if (REFUSED_ANYTHING_BUT_OPERATORS.contains(op)) {
                      throw invalid();
                    }
                  });
        }
      }
    }
    if (subPattern) {
      refuseUnsupported(operator);
    }
  }

  /** For each data key a rule names, whether it looks inside the payload or at it as a whole. */
  private static Map<String, Shape> dataShapes(EventPattern.Branch branch) {
    Map<String, Shape> shapes = new HashMap<>();
    for (String path : branch.fieldPaths()) {
      int dot = path.indexOf('.');
      String top = dot < 0 ? path : path.substring(0, dot);
      if (DATA_KEYS.contains(top)) {
        shapes.put(top, dot < 0 ? Shape.PLAIN : Shape.JSON);
      }
    }
    return Map.copyOf(shapes);
  }

  private static boolean shapesAgree(Rule rule, ObjectNode view) {
    for (var entry : rule.dataShapes().entrySet()) {
      JsonNode payload = view.get(entry.getKey());
      boolean isJson = payload != null && payload.isContainerNode();
      if (entry.getValue() == Shape.JSON && !isJson) {
        return false;
      }
      if (entry.getValue() == Shape.PLAIN && isJson) {
        return false;
      }
    }
    return true;
  }

  private static LambdaError invalid() {
    return LambdaError.invalidParameter(INVALID_PATTERN);
  }

  @Override
  public String toString() {
    return "RecordFilter[" + rules.size() + " rule(s)]";
  }
}
