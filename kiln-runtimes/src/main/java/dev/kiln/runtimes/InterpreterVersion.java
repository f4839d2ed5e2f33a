package dev.kiln.runtimes;

import dev.kiln.sandbox.ProcessSpawner;
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
 * The version an interpreter (Python, Node.js, Ruby) says it is, from its {@code --version}: {@code
 * 3.11.2} for "Python 3.11.2", {@code 20.20.2} for "v20.20.2". Both the runtime table (which SDK a
 * Node.js runtime carries) and the banner (which version serves an identifier) ask it.
 *
 * <p>Each interpreter is asked once and the answer kept for the life of the process, in a
 * concurrent map; one that does not answer within ten seconds, or says no version, is empty.
 */
public final class InterpreterVersion {

  private static final Map<String, Optional<String>> ASKED = new ConcurrentHashMap<>();
  private static final Pattern VERSION = Pattern.compile("(\\d+\\.\\d+\\.\\d+)");

  private InterpreterVersion() {}

  /** {@code interpreter}'s version, asked once. */
  public static Optional<String> of(String interpreter) {
    return ASKED.computeIfAbsent(interpreter, InterpreterVersion::ask);
  }

  /** The major version of {@code interpreter} ({@code 20} for {@code 20.20.2}), or 0 if unknown. */
  public static int major(String interpreter) {
    return of(interpreter).map(v -> Integer.parseInt(v.substring(0, v.indexOf('.')))).orElse(0);
  }

  private static Optional<String> ask(String interpreter) {
    try {
      Process p =
          ProcessSpawner.start(
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
