package dev.kiln.iam;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The request context's one rule of its own: its keys compare case-insensitively. */
final class RequestContext {

  private RequestContext() {}

  static Map<String, List<String>> caseInsensitive(Map<String, List<String>> context) {
    if (context instanceof java.util.SortedMap<String, List<String>> sorted
        && sorted.comparator() == String.CASE_INSENSITIVE_ORDER) {
      return context;
    }
    TreeMap<String, List<String>> out = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    context.forEach((k, v) -> out.put(k, List.copyOf(v)));
    return Collections.unmodifiableSortedMap(out);
  }
}
