package dev.kiln.model;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * An alias: a name for one published version of a function (or {@code $LATEST}), optionally sending
 * a share of invocations to a second version ({@code RoutingConfig.AdditionalVersionWeights}), as
 * AWS's {@code AliasConfiguration}.
 *
 * @param additionalVersionWeights at most one version, with the share (0 to 1) of invocations it
 *     gets; the rest go to {@code functionVersion}
 */
public record AliasConfig(
    String functionName,
    String name,
    String functionVersion,
    String description,
    Map<String, Double> additionalVersionWeights,
    String revisionId) {

  private static final Pattern NAME = Pattern.compile("(?!^[0-9]+$)([a-zA-Z0-9-_]+)");
  private static final Pattern VERSION = Pattern.compile("\\$LATEST|[0-9]+");

  public AliasConfig {
    additionalVersionWeights = Map.copyOf(additionalVersionWeights);
  }

  /** A new alias, or a changed one, checked as AWS checks it; with a fresh revision id. */
  public static AliasConfig of(
      String functionName,
      String name,
      String functionVersion,
      String description,
      Map<String, Double> weights) {
    checkName(name);
    if (functionVersion.length() > 1024 || !VERSION.matcher(functionVersion).matches()) {
      throw LambdaError.validation(
          "functionVersion",
          functionVersion,
          "Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)");
    }
    if (description.length() > 256) {
      throw LambdaError.validation(
          "description", description, "Member must have length less than or equal to 256");
    }
    if (weights.size() > 1) {
      throw LambdaError.invalidParameter(
          "Number of items in AdditionalVersionWeights cannot be greater than 1");
    }
    for (Map.Entry<String, Double> w : weights.entrySet()) {
      if (!w.getKey().matches("[0-9]+")) {
        throw LambdaError.validation(
            "routingConfig.additionalVersionWeights",
            w.getKey(),
            "Member must satisfy regular expression pattern: [0-9]+");
      }
      if (w.getValue() == null || w.getValue() < 0.0 || w.getValue() > 1.0) {
        throw LambdaError.validation(
            "routingConfig.additionalVersionWeights",
            w.getValue(),
            "Member must have value between 0.0 and 1.0");
      }
      if (functionVersion.equals(FunctionRef.LATEST)) {
        throw LambdaError.invalidParameter(
            "$LATEST is not supported for an alias pointing to more than 1 version");
      }
      if (w.getKey().equals(functionVersion)) {
        throw LambdaError.invalidParameter(
            "Invalid function version "
                + functionVersion
                + ". Function version "
                + functionVersion
                + " is already included in routing configuration.");
      }
    }
    return new AliasConfig(
        functionName,
        name,
        functionVersion,
        description,
        new TreeMap<>(weights),
        FunctionConfig.newRevisionId());
  }

  /** Alias names are 1–128 of {@code [a-zA-Z0-9-_]}, and not all digits (those are versions). */
  public static void checkName(String name) {
    if (name.isEmpty() || name.length() > 128) {
      throw LambdaError.validation(
          "name", name, "Member must have length less than or equal to 128");
    }
    if (!NAME.matcher(name).matches()) {
      throw LambdaError.validation(
          "name",
          name,
          "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)");
    }
  }

  /** The second version and its share, when the alias splits traffic. */
  public Optional<Map.Entry<String, Double>> additionalVersion() {
    return additionalVersionWeights.entrySet().stream().findFirst();
  }

  /**
   * The version an invocation goes to, given a uniform random number in [0, 1): the additional
   * version for a draw below its weight, the main version otherwise.
   */
  public String pick(double draw) {
    return additionalVersion()
        .filter(w -> draw < w.getValue())
        .map(Map.Entry::getKey)
        .orElse(functionVersion);
  }

  /** Every version the alias can send an invocation to. */
  public java.util.Set<String> versions() {
    java.util.Set<String> out = new java.util.TreeSet<>(additionalVersionWeights.keySet());
    out.add(functionVersion);
    return out;
  }
}
