package dev.kiln.iam;

/**
 * The policy language's two wildcards, {@code *} (any run of characters, the empty one too) and
 * {@code ?} (any one character), as Action, Resource and the {@code *Like} condition operators use
 * them; and the ARN rule that the six colon-separated parts of an ARN match part by part, so a
 * wildcard never reaches across a colon of the first five (the sixth, the resource, keeps its
 * colons: {@code function:*} matches {@code function:my-function:1}).
 */
final class Wildcards {

  private Wildcards() {}

  /** Whether {@code text} matches {@code pattern}, optionally ignoring case. */
  static boolean matches(String pattern, String text, boolean ignoreCase) {
    // iterative glob with one backtrack point: linear for patterns with a single star, and never
    // exponential (the classic two-pointer algorithm)
    int p = 0;
    int t = 0;
    int star = -1;
    int afterStar = 0;
    while (t < text.length()) {
      if (p < pattern.length()
          && (pattern.charAt(p) == '?' || same(pattern.charAt(p), text.charAt(t), ignoreCase))) {
        p++;
        t++;
      } else if (p < pattern.length() && pattern.charAt(p) == '*') {
        star = p++;
        afterStar = t;
      } else if (star >= 0) {
        p = star + 1;
        t = ++afterStar;
      } else {
        return false;
      }
    }
    while (p < pattern.length() && pattern.charAt(p) == '*') {
      p++;
    }
    return p == pattern.length();
  }

  private static boolean same(char a, char b, boolean ignoreCase) {
    return a == b
        || (ignoreCase
            && (Character.toLowerCase(a) == Character.toLowerCase(b)
                || Character.toUpperCase(a) == Character.toUpperCase(b)));
  }

  /**
   * Whether the ARN {@code arn} matches the pattern {@code pattern}, part by part; {@code *} alone
   * matches anything, and a pattern or value that is not an ARN matches as plain text.
   */
  static boolean arnMatches(String pattern, String arn) {
    if (pattern.equals("*")) {
      return true;
    }
    String[] want = pattern.split(":", 6);
    String[] got = arn.split(":", 6);
    if (want.length != 6 || got.length != 6) {
      return matches(pattern, arn, false);
    }
    for (int i = 0; i < 6; i++) {
      if (!matches(want[i], got[i], false)) {
        return false;
      }
    }
    return true;
  }
}
