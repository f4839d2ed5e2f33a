package dev.kiln.model;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A layer as a caller names it: a plain name or a layer ARN ({@code LayerName} in the layer
 * operations), or a layer version ARN ({@code Layers} of a function, GetLayerVersionByArn). Layers
 * of another region or account do not exist in this Kiln.
 */
public record LayerRef(String name, Optional<Long> version) {

  public static final int MAX_NAME_LENGTH = 140;

  private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9-_]+");
  private static final Pattern ARN =
      Pattern.compile(
          "arn:(aws[a-zA-Z-]*)?:lambda:(?<region>[a-z0-9-]+):(?<account>\\d{12}):layer:"
              + "(?<name>[a-zA-Z0-9-_]+)(?::(?<version>[0-9]+))?");

  /** {@code LayerName}: a name, or the ARN of the layer (without a version). */
  public static LayerRef parseName(String text, Account account) {
    if (text == null || text.isEmpty() || text.length() > MAX_NAME_LENGTH) {
      throw LambdaError.validation(
          "layerName",
          text,
          "Member must have length less than or equal to 140, Member must have length greater"
              + " than or equal to 1");
    }
    if (NAME.matcher(text).matches()) {
      return new LayerRef(text, Optional.empty());
    }
    Matcher m = ARN.matcher(text);
    if (!m.matches() || m.group("version") != null) {
      throw LambdaError.validation(
          "layerName",
          text,
          "Member must satisfy regular expression pattern:"
              + " (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)"
              + "|[a-zA-Z0-9-_]+");
    }
    return sameAccount(m, text, account);
  }

  /** A layer version ARN, as {@code field} of a request carried it. */
  public static LayerRef parseVersionArn(String text, String field, Account account) {
    Matcher m = text == null ? null : ARN.matcher(text);
    if (m == null || text.length() > 2048 || !m.matches() || m.group("version") == null) {
      throw LambdaError.validation(
          field,
          text,
          "Member must satisfy regular expression pattern:"
              + " arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+");
    }
    return sameAccount(m, text, account);
  }

  /** {@code VersionNumber} from a path. */
  public static long parseVersion(String text) {
    try {
      long v = Long.parseLong(text);
      if (v >= 1) {
        return v;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw LambdaError.validation(
        "versionNumber", text, "Member must be a layer version number (1 or more)");
  }

  private static LayerRef sameAccount(Matcher m, String text, Account account) {
    if (!m.group("region").equals(account.region())
        || !m.group("account").equals(account.accountId())) {
      throw LambdaError.notFound(
          "Layer "
              + text
              + " does not exist: this Kiln serves region "
              + account.region()
              + ", account "
              + account.accountId());
    }
    String version = m.group("version");
    return new LayerRef(
        m.group("name"), version == null ? Optional.empty() : Optional.of(parseVersion(version)));
  }
}
