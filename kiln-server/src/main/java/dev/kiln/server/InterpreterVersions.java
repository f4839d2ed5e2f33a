package dev.kiln.server;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which version of Python, Node.js or Ruby really serves a runtime identifier, for the banner:
 * {@code python3.9} to {@code python3.13} all run on the host's one {@code python3}, so a user must
 * be told which one it is, and warned where it is not the identifier's (code that needs the
 * identifier's version fails here, and code that works here may fail on Lambda).
 *
 * <p>The interpreter's version is {@link dev.kiln.runtimes.InterpreterVersion}'s, asked once.
 */
final class InterpreterVersions {

  private InterpreterVersions() {}

  private static final Pattern IDENTIFIER =
      Pattern.compile("^(python|nodejs|ruby)(\\d+(?:\\.\\d+)?)(?:\\.x)?$");

  /**
   * "Python 3.11.2", with a warning when that is not {@code runtime}'s version; empty for a runtime
   * that is not Python, Node.js or Ruby, or an interpreter that does not answer.
   */
  static Optional<String> describe(String runtime, String interpreter) {
    Matcher id = IDENTIFIER.matcher(runtime);
    if (!id.matches()) {
      return Optional.empty();
    }
    String language =
        switch (id.group(1)) {
          case "python" -> "Python";
          case "nodejs" -> "Node.js";
          default -> "Ruby";
        };
    String wanted = id.group(2);
    return dev.kiln.runtimes.InterpreterVersion.of(interpreter)
        .map(
            v ->
                v.equals(wanted) || v.startsWith(wanted + ".")
                    ? language + " " + v
                    : language
                        + " "
                        + v
                        + "; WARNING: not "
                        + wanted
                        + ": code that needs "
                        + wanted
                        + " fails here, and code that works here may fail on Lambda; --runtime "
                        + runtime
                        + "=PATH pins one");
  }
}
