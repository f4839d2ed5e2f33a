package dev.kiln.api;

import java.util.ArrayList;
import java.util.List;

/**
 * A CloudWatch Logs filter pattern for unstructured text: terms that must all appear ({@code ERROR
 * timeout}), quoted phrases ({@code "Task timed out"}), terms of which one must appear ({@code
 * ?ERROR ?WARN}) and terms that must not ({@code -DEBUG}), matched case-sensitively as CloudWatch
 * does. JSON and space-delimited (field) patterns are refused by name.
 */
record FilterPattern(List<String> all, List<String> any, List<String> none) {

  static FilterPattern parse(String pattern) {
    String p = pattern.trim();
    if (p.startsWith("{") || p.startsWith("[")) {
      throw new LogsApi.LogsError(
          "InvalidParameterException",
          "Kiln supports filter patterns of terms and quoted phrases, not JSON or field patterns: "
              + pattern);
    }
    List<String> all = new ArrayList<>();
    List<String> any = new ArrayList<>();
    List<String> none = new ArrayList<>();
    int i = 0;
    while (i < p.length()) {
      char c = p.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
        continue;
      }
      List<String> into = all;
      if (c == '?' || c == '-') {
        into = c == '?' ? any : none;
        i++;
      }
      String term;
      if (i < p.length() && p.charAt(i) == '"') {
        int close = p.indexOf('"', i + 1);
        if (close < 0) {
          throw new LogsApi.LogsError(
              "InvalidParameterException", "Unterminated quote in filter pattern: " + pattern);
        }
        term = p.substring(i + 1, close);
        i = close + 1;
      } else {
        int j = i;
        while (j < p.length() && !Character.isWhitespace(p.charAt(j))) {
          j++;
        }
        term = p.substring(i, j);
        i = j;
      }
      if (!term.isEmpty()) {
        into.add(term);
      }
    }
    return new FilterPattern(all, any, none);
  }

  boolean matches(String message) {
    for (String t : all) {
      if (!message.contains(t)) {
        return false;
      }
    }
    for (String t : none) {
      if (message.contains(t)) {
        return false;
      }
    }
    return any.isEmpty() || any.stream().anyMatch(message::contains);
  }
}
