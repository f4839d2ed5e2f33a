package dev.kiln.model;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A function as a caller names it: a plain name ({@code my-function}), a partial ARN ({@code
 * 123456789012:function:my-function}) or a full ARN, each optionally with a {@code :qualifier}. A
 * qualifier may also arrive separately (the {@code Qualifier} query parameter); both must agree.
 */
public record FunctionRef(String name, Optional<String> qualifier) {

  public static final String LATEST = "$LATEST";
  public static final int MAX_NAME_LENGTH = 64;

  private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9-_]+");
  private static final Pattern QUALIFIER = Pattern.compile("\\$LATEST|[a-zA-Z0-9-_]+");
  // arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER] | ACCOUNT:function:NAME[:Q] | NAME[:Q]
  private static final Pattern FORM =
      Pattern.compile(
          "(?:arn:(?<partition>aws[a-zA-Z-]*)?:lambda:(?<region>[a-z0-9-]+):(?<account>\\d{12}):function:"
              + "|(?<account2>\\d{12}):function:)?"
              + "(?<name>[^:]+)(?::(?<qualifier>[^:]+))?");

  /** Function {@code name}, unqualified: its {@code $LATEST}. */
  public static FunctionRef of(String name) {
    return new FunctionRef(name, Optional.empty());
  }

  /** Version or alias {@code qualifier} of function {@code name}. */
  public static FunctionRef of(String name, String qualifier) {
    return new FunctionRef(name, Optional.of(qualifier));
  }

  /**
   * Parses what a caller sent as {@code FunctionName}.
   *
   * @param field the request member it came from, named in error messages
   */
  public static FunctionRef parse(String text, String field, Account account) {
    if (text == null || text.isEmpty()) {
      throw LambdaError.validation(field, "", "Member must have length greater than or equal to 1");
    }
    if (text.length() > 256) {
      throw LambdaError.validation(
          field, text, "Member must have length less than or equal to 256");
    }
    Matcher m = FORM.matcher(text);
    if (!m.matches() || !NAME.matcher(m.group("name")).matches()) {
      throw LambdaError.validation(
          field,
          text,
          "Member must satisfy regular expression pattern:"
              + " (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
              + "(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?");
    }
    String name = m.group("name");
    if (name.length() > MAX_NAME_LENGTH) {
      throw LambdaError.validation(
          field, text, "Member must have length less than or equal to " + MAX_NAME_LENGTH);
    }
    String region = m.group("region");
    String accountId = m.group("account") != null ? m.group("account") : m.group("account2");
    if ((region != null && !region.equals(account.region()))
        || (accountId != null && !accountId.equals(account.accountId()))) {
      throw LambdaError.notFound(
          "Function not found: "
              + text
              + " (this Kiln serves region "
              + account.region()
              + ", account "
              + account.accountId()
              + ")");
    }
    String qualifier = m.group("qualifier");
    if (qualifier != null) {
      checkQualifier(qualifier);
    }
    return new FunctionRef(name, Optional.ofNullable(qualifier));
  }

  /** A plain function name for CreateFunction, where ARNs are allowed too but no qualifier. */
  public static FunctionRef parseUnqualified(String text, String field, Account account) {
    FunctionRef ref = parse(text, field, account);
    if (ref.qualifier().isPresent()) {
      throw LambdaError.invalidParameter(
          "Unsupported qualifier in " + field + ": a qualifier cannot be used here");
    }
    return ref;
  }

  /** Merges a qualifier from the query string with one in the name; they must not disagree. */
  public FunctionRef withQualifier(Optional<String> queryQualifier) {
    if (queryQualifier.isEmpty()) {
      return this;
    }
    String q = queryQualifier.get();
    checkQualifier(q);
    if (qualifier.isPresent() && !qualifier.get().equals(q)) {
      throw LambdaError.invalidParameter(
          "The derived qualifier from the function name does not match the specified qualifier.");
    }
    return new FunctionRef(name, Optional.of(q));
  }

  /** The version or alias this reference resolves through; {@code $LATEST} when none is given. */
  public String qualifierOrLatest() {
    return qualifier.orElse(LATEST);
  }

  private static void checkQualifier(String qualifier) {
    if (qualifier.length() > 128 || !QUALIFIER.matcher(qualifier).matches()) {
      throw LambdaError.validation(
          "qualifier",
          qualifier,
          "Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)");
    }
  }
}
