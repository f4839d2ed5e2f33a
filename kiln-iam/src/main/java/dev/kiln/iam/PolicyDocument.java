package dev.kiln.iam;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.policybuilder.iam.IamCondition;
import software.amazon.awssdk.policybuilder.iam.IamPolicy;
import software.amazon.awssdk.policybuilder.iam.IamPrincipal;
import software.amazon.awssdk.policybuilder.iam.IamStatement;

/**
 * One IAM policy document, parsed and checked as IAM checks it before it stores one.
 *
 * <p>The document is read by AWS's own reader of the policy language, the SDK's {@code
 * iam-policy-builder} ({@link IamPolicy#fromJson}), into its statements; before that, the JSON tree
 * is checked for what that reader lets through and IAM does not: elements IAM does not know, a
 * {@code Version} other than {@code 2012-10-17} or {@code 2008-10-17}, a statement without an
 * {@code Effect} or actions, actions without a service prefix, resources that are neither ARNs nor
 * {@code *}, unknown condition operators, and the rules of the document's {@link Kind}: an
 * identity-based policy names no {@code Principal} and must name resources; a trust policy (a
 * role's {@code AssumeRolePolicyDocument}) must name a principal and names no resource; a
 * resource-based policy names both. Each refusal is a {@link MalformedPolicyException} with IAM's
 * message.
 *
 * <p>Immutable, and safe to share between threads once parsed.
 */
public final class PolicyDocument {

  /** The three places a policy document can stand, each with its own rules. */
  public enum Kind {
    IDENTITY,
    RESOURCE,
    TRUST
  }

  /** A statement's {@code Principal} (or {@code NotPrincipal}): type to ids; {@code *} is all. */
  public record Principals(boolean everyone, Map<String, List<String>> ids) {}

  /** One condition: an operator (with its qualifier and suffix), a context key, the values. */
  public record Condition(String operator, String key, List<String> values) {}

  /**
   * One statement. Exactly one of {@code actions}/{@code notActions} is non-null, at most one of
   * {@code resources}/{@code notResources} and of {@code principals}/{@code notPrincipals}.
   */
  public record Statement(
      String sid,
      boolean allow,
      Principals principals,
      Principals notPrincipals,
      List<String> actions,
      List<String> notActions,
      List<String> resources,
      List<String> notResources,
      List<Condition> conditions) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> DOCUMENT_ELEMENTS = Set.of("Version", "Id", "Statement");
  private static final Set<String> STATEMENT_ELEMENTS =
      Set.of(
          "Sid",
          "Effect",
          "Principal",
          "NotPrincipal",
          "Action",
          "NotAction",
          "Resource",
          "NotResource",
          "Condition");
  private static final String SYNTAX = "Syntax errors in policy.";

  private final String json;
  private final Kind kind;
  private final String version;
  private final List<Statement> statements;
  private final Set<String> keysRead;

  private PolicyDocument(String json, Kind kind, String version, List<Statement> statements) {
    this.json = json;
    this.kind = kind;
    this.version = version;
    this.statements = statements;
    this.keysRead = keysRead(statements);
  }

  /** The context keys the document reads, lowercased: its conditions' and its variables'. */
  private static Set<String> keysRead(List<Statement> statements) {
    java.util.Set<String> out = new java.util.HashSet<>();
    for (Statement s : statements) {
      List<String> texts = new ArrayList<>();
      if (s.resources() != null) {
        texts.addAll(s.resources());
      }
      if (s.notResources() != null) {
        texts.addAll(s.notResources());
      }
      for (Condition c : s.conditions()) {
        out.add(c.key().toLowerCase(java.util.Locale.ROOT));
        texts.addAll(c.values());
      }
      for (String t : texts) {
        for (int at = t.indexOf("${"); at >= 0; at = t.indexOf("${", at + 2)) {
          int end = t.indexOf('}', at);
          if (end > at) {
            out.add(t.substring(at + 2, end).toLowerCase(java.util.Locale.ROOT));
          }
        }
      }
    }
    return Set.copyOf(out);
  }

  /**
   * Whether a condition or a policy variable of the document reads a context key starting with
   * {@code prefix} (ignoring case): so a caller gathers costly keys, such as a resource's tags,
   * only for documents that ask for them.
   */
  public boolean readsKeyStartingWith(String prefix) {
    String p = prefix.toLowerCase(java.util.Locale.ROOT);
    for (String k : keysRead) {
      if (k.startsWith(p)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Parses and checks {@code json} as a policy of {@code kind}.
   *
   * @throws MalformedPolicyException with IAM's message for a document IAM would refuse
   */
  public static PolicyDocument parse(String json, Kind kind) throws MalformedPolicyException {
    JsonNode tree;
    try {
      tree = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new MalformedPolicyException(SYNTAX);
    }
    if (tree == null || !tree.isObject()) {
      throw new MalformedPolicyException(SYNTAX);
    }
    check(tree, kind);
    IamPolicy policy;
    try {
      policy = IamPolicy.fromJson(JSON.writeValueAsString(conditionValuesAsText(tree.deepCopy())));
    } catch (RuntimeException | JsonProcessingException e) {
      throw new MalformedPolicyException(SYNTAX);
    }
    List<Statement> statements = new ArrayList<>();
    for (IamStatement s : policy.statements()) {
      statements.add(statement(s));
    }
    String version = tree.path("Version").asText("2008-10-17");
    return new PolicyDocument(json, kind, version, List.copyOf(statements));
  }

  /** The document as it was given. */
  public String json() {
    return json;
  }

  public Kind kind() {
    return kind;
  }

  /** {@code 2012-10-17}, or {@code 2008-10-17} (also for a document without a Version). */
  public String version() {
    return version;
  }

  public List<Statement> statements() {
    return statements;
  }

  /** A document's size as IAM counts it against its quotas: white space does not count. */
  public static int sizeWithoutWhitespace(String json) {
    int n = 0;
    for (int i = 0; i < json.length(); i++) {
      if (!Character.isWhitespace(json.charAt(i))) {
        n++;
      }
    }
    return n;
  }

  // ---- checks the reader does not make --------------------------------------------------------

  private static void check(JsonNode doc, Kind kind) throws MalformedPolicyException {
    for (var names = doc.fieldNames(); names.hasNext(); ) {
      if (!DOCUMENT_ELEMENTS.contains(names.next())) {
        throw new MalformedPolicyException(SYNTAX);
      }
    }
    JsonNode version = doc.get("Version");
    if (version != null
        && !(version.isTextual()
            && (version.asText().equals("2012-10-17") || version.asText().equals("2008-10-17")))) {
      throw new MalformedPolicyException("The policy failed legacy parsing");
    }
    JsonNode statement = doc.get("Statement");
    if (statement == null) {
      throw new MalformedPolicyException("Missing required field Statement");
    }
    List<JsonNode> statements = new ArrayList<>();
    if (statement.isObject()) {
      statements.add(statement);
    } else if (statement.isArray() && !statement.isEmpty()) {
      statement.forEach(statements::add);
    } else {
      throw new MalformedPolicyException(SYNTAX);
    }
    for (JsonNode s : statements) {
      checkStatement(s, kind);
    }
  }

  private static void checkStatement(JsonNode s, Kind kind) throws MalformedPolicyException {
    if (!s.isObject()) {
      throw new MalformedPolicyException(SYNTAX);
    }
    for (var names = s.fieldNames(); names.hasNext(); ) {
      if (!STATEMENT_ELEMENTS.contains(names.next())) {
        throw new MalformedPolicyException(SYNTAX);
      }
    }
    JsonNode effect = s.get("Effect");
    if (effect == null) {
      throw new MalformedPolicyException("Missing required field Effect");
    }
    if (!effect.isTextual()
        || !(effect.asText().equals("Allow") || effect.asText().equals("Deny"))) {
      throw new MalformedPolicyException("Invalid effect: " + effect.asText());
    }
    if (s.has("Sid") && !s.get("Sid").isTextual()) {
      throw new MalformedPolicyException(SYNTAX);
    }
    if (s.has("Action") && s.has("NotAction")
        || s.has("Resource") && s.has("NotResource")
        || s.has("Principal") && s.has("NotPrincipal")) {
      throw new MalformedPolicyException(SYNTAX);
    }
    JsonNode actions = s.has("Action") ? s.get("Action") : s.get("NotAction");
    if (actions == null) {
      throw new MalformedPolicyException("Policy statement must contain actions.");
    }
    for (String action : strings(actions)) {
      if (!action.equals("*") && !action.matches("[A-Za-z0-9-]+:[A-Za-z0-9*?_\\-]*")) {
        throw new MalformedPolicyException(
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
      }
    }
    boolean namesPrincipal = s.has("Principal") || s.has("NotPrincipal");
    boolean namesResource = s.has("Resource") || s.has("NotResource");
    switch (kind) {
      case IDENTITY -> {
        if (namesPrincipal) {
          throw new MalformedPolicyException(
              "Has prohibited field " + (s.has("Principal") ? "Principal" : "NotPrincipal"));
        }
        requireResources(s, namesResource);
      }
      case TRUST -> {
        if (namesResource) {
          throw new MalformedPolicyException(
              "Has prohibited field " + (s.has("Resource") ? "Resource" : "NotResource"));
        }
        requirePrincipal(s, namesPrincipal);
      }
      case RESOURCE -> {
        requirePrincipal(s, namesPrincipal);
        requireResources(s, namesResource);
      }
    }
    JsonNode condition = s.get("Condition");
    if (condition != null) {
      checkCondition(condition);
    }
  }

  private static void requireResources(JsonNode s, boolean namesResource)
      throws MalformedPolicyException {
    if (!namesResource) {
      throw new MalformedPolicyException("Policy statement must contain resources.");
    }
    for (String resource : strings(s.has("Resource") ? s.get("Resource") : s.get("NotResource"))) {
      if (!resource.equals("*") && !resource.startsWith("arn:")) {
        throw new MalformedPolicyException(
            "Resource " + resource + " must be in ARN format or \"*\".");
      }
    }
  }

  private static void requirePrincipal(JsonNode s, boolean namesPrincipal)
      throws MalformedPolicyException {
    if (!namesPrincipal) {
      throw new MalformedPolicyException("Missing required field Principal");
    }
    JsonNode p = s.has("Principal") ? s.get("Principal") : s.get("NotPrincipal");
    if (p.isTextual()) {
      if (!p.asText().equals("*")) {
        throw new MalformedPolicyException("Invalid principal in policy: " + p.asText());
      }
      return;
    }
    if (!p.isObject() || p.isEmpty()) {
      throw new MalformedPolicyException(SYNTAX);
    }
    for (var e : (Iterable<Map.Entry<String, JsonNode>>) p::fields) {
      if (!Set.of("AWS", "Service", "Federated", "CanonicalUser").contains(e.getKey())) {
        throw new MalformedPolicyException("Invalid principal in policy: " + e.getKey());
      }
      strings(e.getValue());
    }
  }

  private static void checkCondition(JsonNode condition) throws MalformedPolicyException {
    if (!condition.isObject()) {
      throw new MalformedPolicyException(SYNTAX);
    }
    for (var e : (Iterable<Map.Entry<String, JsonNode>>) condition::fields) {
      if (!Conditions.isOperator(e.getKey())) {
        throw new MalformedPolicyException("Invalid Condition type : " + e.getKey());
      }
      if (!e.getValue().isObject() || e.getValue().isEmpty()) {
        throw new MalformedPolicyException(SYNTAX);
      }
      for (var k : (Iterable<Map.Entry<String, JsonNode>>) e.getValue()::fields) {
        if (!k.getKey().contains(":")) {
          throw new MalformedPolicyException(
              "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
        }
        JsonNode v = k.getValue();
        if (v.isArray()) {
          for (JsonNode one : v) {
            if (!one.isValueNode() || one.isNull()) {
              throw new MalformedPolicyException(SYNTAX);
            }
          }
        } else if (!v.isValueNode() || v.isNull()) {
          throw new MalformedPolicyException(SYNTAX);
        }
      }
    }
  }

  /** A string or an array of strings, as Action, Resource and principal ids are. */
  private static List<String> strings(JsonNode node) throws MalformedPolicyException {
    List<String> out = new ArrayList<>();
    if (node.isTextual()) {
      out.add(node.asText());
    } else if (node.isArray() && !node.isEmpty()) {
      for (JsonNode n : node) {
        if (!n.isTextual()) {
          throw new MalformedPolicyException(SYNTAX);
        }
        out.add(n.asText());
      }
    } else {
      throw new MalformedPolicyException(SYNTAX);
    }
    return out;
  }

  // ---- from the reader's model to the evaluator's ---------------------------------------------

  /**
   * The document with every condition value as text: IAM reads {@code true} and {@code "true"}
   * alike, but the SDK's reader drops a value that is not a string, which would silently widen the
   * statement.
   */
  private static JsonNode conditionValuesAsText(JsonNode doc) {
    JsonNode statement = doc.get("Statement");
    for (JsonNode s : statement.isArray() ? statement : List.of(statement)) {
      JsonNode condition = s.get("Condition");
      if (condition == null) {
        continue;
      }
      for (JsonNode byKey : condition) {
        for (var e : (Iterable<Map.Entry<String, JsonNode>>) byKey::fields) {
          JsonNode v = e.getValue();
          if (v.isArray()) {
            var texts = JSON.createArrayNode();
            v.forEach(one -> texts.add(one.asText()));
            e.setValue(texts);
          } else if (!v.isTextual()) {
            e.setValue(JSON.getNodeFactory().textNode(v.asText()));
          }
        }
      }
    }
    return doc;
  }

  private static Statement statement(IamStatement s) {
    return new Statement(
        s.sid(),
        s.effect().value().equals("Allow"),
        principals(s.principals()),
        principals(s.notPrincipals()),
        values(s.actions(), a -> a.value()),
        values(s.notActions(), a -> a.value()),
        values(s.resources(), r -> r.value()),
        values(s.notResources(), r -> r.value()),
        conditions(s.conditions()));
  }

  private static <T> List<String> values(List<T> items, java.util.function.Function<T, String> f) {
    return items.isEmpty() ? null : items.stream().map(f).toList();
  }

  private static Principals principals(List<IamPrincipal> principals) {
    if (principals.isEmpty()) {
      return null;
    }
    boolean everyone = false;
    Map<String, List<String>> ids = new LinkedHashMap<>();
    for (IamPrincipal p : principals) {
      if (p.type().value().equals("*")) {
        everyone = true;
      } else {
        ids.computeIfAbsent(p.type().value(), t -> new ArrayList<>()).add(p.id());
      }
    }
    Map<String, List<String>> frozen = new LinkedHashMap<>();
    ids.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
    return new Principals(everyone, java.util.Collections.unmodifiableMap(frozen));
  }

  private static List<Condition> conditions(List<IamCondition> conditions) {
    // the reader gives one condition per value; IAM's meaning groups them by operator and key
    Map<List<String>, List<String>> grouped = new LinkedHashMap<>();
    for (IamCondition c : conditions) {
      grouped
          .computeIfAbsent(List.of(c.operator().value(), c.key().value()), k -> new ArrayList<>())
          .add(c.value());
    }
    List<Condition> out = new ArrayList<>();
    grouped.forEach((k, v) -> out.add(new Condition(k.get(0), k.get(1), List.copyOf(v))));
    return List.copyOf(out);
  }

  @Override
  public String toString() {
    return "PolicyDocument[" + kind + ", " + statements.size() + " statements]";
  }
}
