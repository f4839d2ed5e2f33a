package dev.kiln.model;

import java.util.regex.Pattern;

/**
 * The region and account id this Kiln answers for. Every ARN Kiln hands out is built here, so that
 * a caller sees one consistent identity, configurable because tools compare ARNs they build
 * themselves with ARNs the service returns.
 */
public record Account(String region, String accountId) {

  private static final Pattern REGION = Pattern.compile("[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\\d");
  private static final Pattern ACCOUNT_ID = Pattern.compile("\\d{12}");

  public static final Account DEFAULT = new Account("us-east-1", "000000000000");

  public Account {
    if (!REGION.matcher(region).matches()) {
      throw new IllegalArgumentException("not an AWS-style region name: " + region);
    }
    if (!ACCOUNT_ID.matcher(accountId).matches()) {
      throw new IllegalArgumentException("an account id is 12 digits, got: " + accountId);
    }
  }

  public String functionArn(String functionName) {
    return "arn:aws:lambda:" + region + ":" + accountId + ":function:" + functionName;
  }

  public String functionArn(String functionName, String qualifier) {
    return functionArn(functionName) + ":" + qualifier;
  }

  /**
   * The ARN of {@code function} qualified as the reference is: with its version or alias when it
   * has one (even {@code $LATEST}), unqualified otherwise. It is what the invoked function's
   * context reports as {@code invokedFunctionArn}.
   */
  public String functionArn(FunctionRef function) {
    return function.qualifier().isPresent()
        ? functionArn(function.name(), function.qualifier().get())
        : functionArn(function.name());
  }

  public String layerArn(String layerName) {
    return "arn:aws:lambda:" + region + ":" + accountId + ":layer:" + layerName;
  }

  public String layerVersionArn(String layerName, long version) {
    return layerArn(layerName) + ":" + version;
  }
}
