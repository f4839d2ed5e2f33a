package dev.kiln.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which version of Python, Node.js or Ruby really serves a runtime identifier, for the banner:
 * {@code python3.9} to {@code python3.13} all run on the host's one {@code python3}, so a user must
 * be told which one it is, and warned where it is not the identifier's (code that needs the
 * identifier's version fails here, and code that works here may fail on Lambda).
 *
 * <p>Each interpreter is asked once ({@code --version}, or a one-line script) and the answer kept
 * for the life of the process, in a concurrent map.
 */
final class InterpreterVersions {

  private InterpreterVersions() {}

  private static final Map<String, Optional<String>> ASKED = new ConcurrentHashMap<>();
  private static final Pattern IDENTIFIER =
      Pattern.compile("^(python|nodejs|ruby)(\\d+(?:\\.\\d+)?)(?:\\.x)?$");
  private static final Pattern VERSION = Pattern.compile("(\\d+\\.\\d+\\.\\d+)");

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
    return ASKED
        .computeIfAbsent(interpreter, InterpreterVersions::ask)
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

  private static Optional<String> ask(String interpreter) {
    try {
      Process p =
          dev.kiln.sandbox.ProcessSpawner.start(
              new ProcessBuilder(List.of(interpreter, "--version")).redirectErrorStream(true));
      p.getOutputStream().close();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return Optional.empty();
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      Matcher m = VERSION.matcher(out);
      return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }
}
