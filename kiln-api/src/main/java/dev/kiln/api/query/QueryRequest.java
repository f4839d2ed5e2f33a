package dev.kiln.api.query;

import dev.kiln.api.auth.FormEncoding;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A request of the AWS Query protocol: a form-encoded body ({@code
 * Action=CreateRole&Version=2010-05-08&RoleName=...}) whose lists and maps are flattened into
 * numbered parameters, {@code Tags.member.1.Key}, {@code Tags.member.1.Value}, {@code
 * TagKeys.member.1}. This class reads them back, and checks a parameter against the constraints of
 * the service model (length, pattern, range) with the service's validation message, naming the
 * member as the model does.
 */
public final class QueryRequest {

  private final Map<String, String> parameters;

  private QueryRequest(Map<String, String> parameters) {
    this.parameters = parameters;
  }

  /** The parameters of a form-encoded body (the last value wins when one is sent twice). */
  public static QueryRequest parse(byte[] body) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, String> e :
        FormEncoding.decode(new String(body, java.nio.charset.StandardCharsets.UTF_8))) {
      out.put(e.getKey(), e.getValue());
    }
    return new QueryRequest(out);
  }

  public String action() {
    return parameters.getOrDefault("Action", "");
  }

  public Optional<String> optional(String name) {
    return Optional.ofNullable(parameters.get(name));
  }

  public String required(String name) {
    String value = parameters.get(name);
    if (value == null) {
      throw QueryError.missing(name);
    }
    return value;
  }

  /** A string that must have {@code min..max} characters matching {@code pattern} (when given). */
  public Optional<String> string(String name, int min, int max, Pattern pattern) {
    Optional<String> value = optional(name);
    value.ifPresent(v -> check(v, name, min, max, pattern));
    return value;
  }

  public String requiredString(String name, int min, int max, Pattern pattern) {
    String value = required(name);
    check(value, name, min, max, pattern);
    return value;
  }

  /** Checks one value against the model's constraints, as the service reports a breach. */
  public static void check(String value, String name, int min, int max, Pattern pattern) {
    String member = QueryError.lowerFirst(name);
    int length = value.codePointCount(0, value.length());
    if (length < min) {
      throw QueryError.validation(
          value, member, "Member must have length greater than or equal to " + min);
    }
    if (length > max) {
      throw QueryError.validation(
          value, member, "Member must have length less than or equal to " + max);
    }
    if (pattern != null && !pattern.matcher(value).matches()) {
      throw QueryError.validation(
          value, member, "Member must satisfy regular expression pattern: " + pattern.pattern());
    }
  }

  /** An integer in {@code min..max}, when sent. */
  public Optional<Integer> integer(String name, int min, int max) {
    Optional<String> text = optional(name);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    int value;
    try {
      value = Integer.parseInt(text.get().strip());
    } catch (NumberFormatException e) {
      throw new QueryError(
          "MalformedInput",
          400,
          "Invalid value for parameter " + name + ", value: " + text.get() + ", type: Integer");
    }
    String member = QueryError.lowerFirst(name);
    if (value < min) {
      throw QueryError.validation(
          text.get(), member, "Member must have value greater than or equal to " + min);
    }
    if (value > max) {
      throw QueryError.validation(
          text.get(), member, "Member must have value less than or equal to " + max);
    }
    return Optional.of(value);
  }

  public boolean bool(String name) {
    return optional(name).map(v -> v.equalsIgnoreCase("true")).orElse(false);
  }

  /** A flattened list of strings: {@code NAME.member.1}, {@code NAME.member.2}, ... */
  public List<String> list(String name) {
    List<String> out = new ArrayList<>();
    for (int i = 1; parameters.containsKey(name + ".member." + i); i++) {
      out.add(parameters.get(name + ".member." + i));
    }
    return out;
  }

  /** A flattened list of key-value structures: {@code NAME.member.N.Key} and {@code .Value}. */
  public Map<String, String> tags(String name) {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 1; parameters.containsKey(name + ".member." + i + ".Key"); i++) {
      out.put(
          parameters.get(name + ".member." + i + ".Key"),
          parameters.getOrDefault(name + ".member." + i + ".Value", ""));
    }
    return out;
  }
}
