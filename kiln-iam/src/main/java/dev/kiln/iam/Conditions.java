package dev.kiln.iam;

import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The {@code Condition} element's operators, as the IAM User Guide defines them.
 *
 * <p>An operator is a base ({@code StringEquals}, {@code NumericLessThan}, {@code ArnLike}, ...),
 * optionally prefixed by a set qualifier ({@code ForAnyValue:}, {@code ForAllValues:}) and suffixed
 * by {@code IfExists}. The rules, in the Guide's words: several values for one key match if any
 * matches (for a negated operator such as {@code StringNotEquals}: if none does); a key the request
 * does not carry makes the condition false, but true for a negated operator; {@code IfExists} makes
 * an absent key true; {@code Null} tests only presence; {@code ForAllValues} is true when every
 * value of the request's (multi-valued) key matches, and so for an absent or empty key; {@code
 * ForAnyValue} when at least one does, and so false for an absent key.
 *
 * <p>Policy variables ({@code ${aws:username}}, and {@code ${*}}, {@code ${?}}, {@code ${$}}) in a
 * condition's values are replaced from the request context before comparison, in documents of
 * version {@code 2012-10-17}; a value whose variable the request does not carry matches nothing.
 */
final class Conditions {

  private static final Set<String> NEGATED =
      Set.of(
          "StringNotEquals",
          "StringNotEqualsIgnoreCase",
          "StringNotLike",
          "NumericNotEquals",
          "DateNotEquals",
          "NotIpAddress",
          "ArnNotEquals",
          "ArnNotLike");

  private static final Set<String> BASES =
      Set.of(
          "StringEquals",
          "StringNotEquals",
          "StringEqualsIgnoreCase",
          "StringNotEqualsIgnoreCase",
          "StringLike",
          "StringNotLike",
          "NumericEquals",
          "NumericNotEquals",
          "NumericLessThan",
          "NumericLessThanEquals",
          "NumericGreaterThan",
          "NumericGreaterThanEquals",
          "DateEquals",
          "DateNotEquals",
          "DateLessThan",
          "DateLessThanEquals",
          "DateGreaterThan",
          "DateGreaterThanEquals",
          "Bool",
          "BinaryEquals",
          "IpAddress",
          "NotIpAddress",
          "ArnEquals",
          "ArnLike",
          "ArnNotEquals",
          "ArnNotLike",
          "Null");

  private Conditions() {}

  private record Operator(String qualifier, String base, boolean ifExists) {
    static Operator parse(String operator) {
      String qualifier = "";
      String rest = operator;
      for (String q : List.of("ForAnyValue:", "ForAllValues:")) {
        if (rest.startsWith(q)) {
          qualifier = q;
          rest = rest.substring(q.length());
        }
      }
      boolean ifExists = rest.endsWith("IfExists") && !rest.equals("Null");
      String base = ifExists ? rest.substring(0, rest.length() - "IfExists".length()) : rest;
      return new Operator(qualifier, base, ifExists);
    }
  }

  /** Whether {@code operator} is one IAM knows. */
  static boolean isOperator(String operator) {
    Operator op = Operator.parse(operator);
    return BASES.contains(op.base()) && !(op.base().equals("Null") && op.ifExists());
  }

  /** Whether every condition of a statement holds for the request context. */
  static boolean allHold(
      List<PolicyDocument.Condition> conditions,
      Map<String, List<String>> context,
      boolean variables) {
    for (PolicyDocument.Condition c : conditions) {
      if (!holds(c, context, variables)) {
        return false;
      }
    }
    return true;
  }

  static boolean holds(
      PolicyDocument.Condition condition, Map<String, List<String>> context, boolean variables) {
    Operator op = Operator.parse(condition.operator());
    List<String> present = context.get(condition.key());
    boolean absent = present == null || present.isEmpty();
    if (op.base().equals("Null")) {
      for (String v : condition.values()) {
        if (Boolean.parseBoolean(v) == absent) {
          return true;
        }
      }
      return false;
    }
    if (present == null) {
      if (op.ifExists() || op.qualifier().equals("ForAllValues:")) {
        return true;
      }
      if (op.qualifier().equals("ForAnyValue:")) {
        return false;
      }
      return NEGATED.contains(op.base());
    }
    List<String> wanted =
        variables
            ? condition.values().stream()
                .map(v -> Variables.substitute(v, context))
                .filter(java.util.Objects::nonNull)
                .toList()
            : condition.values();
    boolean negated = NEGATED.contains(op.base());
    String positive = negated ? positive(op.base()) : op.base();
    switch (op.qualifier()) {
      case "ForAllValues:" -> {
        for (String v : present) {
          if (matchesAny(positive, v, wanted) == negated) {
            return false;
          }
        }
        return true;
      }
      case "ForAnyValue:" -> {
        for (String v : present) {
          if (matchesAny(positive, v, wanted) != negated) {
            return true;
          }
        }
        return false;
      }
      default -> {
        for (String v : present) {
          if (matchesAny(positive, v, wanted)) {
            return !negated;
          }
        }
        return negated;
      }
    }
  }

  private static String positive(String negated) {
    return switch (negated) {
      case "NotIpAddress" -> "IpAddress";
      default -> negated.replace("Not", "");
    };
  }

  private static boolean matchesAny(String base, String actual, List<String> wanted) {
    for (String w : wanted) {
      if (matches(base, actual, w)) {
        return true;
      }
    }
    return false;
  }

  private static boolean matches(String base, String actual, String wanted) {
    return switch (base) {
      case "StringEquals" -> actual.equals(wanted);
      case "StringEqualsIgnoreCase" -> actual.equalsIgnoreCase(wanted);
      case "StringLike" -> Wildcards.matches(wanted, actual, false);
      case "NumericEquals" -> compareNumbers(actual, wanted) == 0;
      case "NumericLessThan" -> compareNumbers(actual, wanted) < 0 && comparable(actual, wanted);
      case "NumericLessThanEquals" ->
          compareNumbers(actual, wanted) <= 0 && comparable(actual, wanted);
      case "NumericGreaterThan" -> compareNumbers(actual, wanted) > 0 && comparable(actual, wanted);
      case "NumericGreaterThanEquals" ->
          compareNumbers(actual, wanted) >= 0 && comparable(actual, wanted);
      case "DateEquals" -> compareDates(actual, wanted) == 0;
      case "DateLessThan" -> compareDates(actual, wanted) == -1;
      case "DateLessThanEquals" -> within(compareDates(actual, wanted), -1, 0);
      case "DateGreaterThan" -> compareDates(actual, wanted) == 1;
      case "DateGreaterThanEquals" -> within(compareDates(actual, wanted), 0, 1);
      case "Bool" -> actual.toLowerCase(Locale.ROOT).equals(wanted.toLowerCase(Locale.ROOT));
      case "BinaryEquals" -> actual.equals(wanted);
      case "IpAddress" -> inCidr(actual, wanted);
      case "ArnEquals", "ArnLike" -> Wildcards.arnMatches(wanted, actual);
      default -> false;
    };
  }

  private static boolean within(int c, int low, int high) {
    return c != Integer.MIN_VALUE && c >= low && c <= high;
  }

  private static final int INCOMPARABLE = Integer.MIN_VALUE;

  private static boolean comparable(String a, String b) {
    return number(a) != null && number(b) != null;
  }

  /** -1, 0, 1; {@link #INCOMPARABLE} when either is not a number. */
  private static int compareNumbers(String a, String b) {
    BigDecimal x = number(a);
    BigDecimal y = number(b);
    return x == null || y == null ? INCOMPARABLE : Integer.signum(x.compareTo(y));
  }

  private static BigDecimal number(String s) {
    try {
      return new BigDecimal(s.trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** -1, 0, 1; {@link #INCOMPARABLE} when either is not a date (ISO 8601 or epoch seconds). */
  private static int compareDates(String a, String b) {
    Instant x = date(a);
    Instant y = date(b);
    return x == null || y == null ? INCOMPARABLE : Integer.signum(x.compareTo(y));
  }

  private static Instant date(String s) {
    String t = s.trim();
    if (t.matches("\\d+")) {
      return Instant.ofEpochSecond(Long.parseLong(t));
    }
    try {
      return Instant.parse(t);
    } catch (DateTimeParseException e) {
      try {
        return OffsetDateTime.parse(t).toInstant();
      } catch (DateTimeParseException e2) {
        try {
          return java.time.LocalDate.parse(t).atStartOfDay(java.time.ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException e3) {
          return null;
        }
      }
    }
  }

  private static boolean inCidr(String address, String cidr) {
    try {
      String[] parts = cidr.split("/", 2);
      byte[] net = literal(parts[0]);
      byte[] ip = literal(address);
      if (net == null || ip == null || net.length != ip.length) {
        return false;
      }
      int bits = parts.length == 2 ? Integer.parseInt(parts[1]) : net.length * 8;
      for (int i = 0; i < bits; i++) {
        int mask = 0x80 >>> (i % 8);
        if ((net[i / 8] & mask) != (ip[i / 8] & mask)) {
          return false;
        }
      }
      return true;
    } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
      return false;
    }
  }

  /** The bytes of an IP literal; null for anything else (never a name lookup). */
  private static byte[] literal(String s) {
    if (!s.matches("[0-9.]+|[0-9A-Fa-f:.]+")) {
      return null;
    }
    try {
      return InetAddress.getByName(s).getAddress();
    } catch (UnknownHostException e) {
      return null;
    }
  }
}
