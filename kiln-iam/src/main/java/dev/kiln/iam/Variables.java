package dev.kiln.iam;

import java.util.List;
import java.util.Map;

/**
 * Policy variables: {@code ${key}} in a Resource or a condition's value stands for the request
 * context's value of {@code key} (which must have exactly one), {@code ${*}}, {@code ${?}} and
 * {@code ${$}} for the characters themselves. Only documents of version {@code 2012-10-17} have
 * variables; the evaluator does not call this for others.
 */
final class Variables {

  private Variables() {}

  /** {@code text} with its variables replaced; null if one names a key the request lacks. */
  static String substitute(String text, Map<String, List<String>> context) {
    int start = text.indexOf("${");
    if (start < 0) {
      return text;
    }
    StringBuilder out = new StringBuilder();
    int from = 0;
    while (start >= 0) {
      int end = text.indexOf('}', start);
      if (end < 0) {
        break;
      }
      out.append(text, from, start);
      String name = text.substring(start + 2, end);
      switch (name) {
        case "*", "?", "$" -> out.append(name);
        default -> {
          List<String> values = context.get(name);
          if (values == null || values.size() != 1) {
            return null;
          }
          out.append(values.get(0));
        }
      }
      from = end + 1;
      start = text.indexOf("${", from);
    }
    out.append(text.substring(from));
    return out.toString();
  }
}
