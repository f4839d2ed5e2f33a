package dev.kiln.runtimes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bytecode of Kiln's Python runtime client ({@code _kiln_bootstrap.py}), compiled once per
 * interpreter into the {@code __pycache__} beside it, so that an instance loads it instead of
 * compiling it at every cold start: the runtime directory is read-only inside the sandbox, so an
 * instance could never write the cache itself. Compiling the client cost about a fifth of a no-op's
 * cold start (issue 23). The cache is Python's own (timestamp-checked {@code py_compile}): a stale
 * or missing one only means the interpreter compiles in memory, as before.
 *
 * <p>{@code compiled} is a concurrent set: two first launches on one interpreter may both compile,
 * which writes the same file twice (py_compile replaces it atomically).
 */
final class PythonBytecode {

  private static final Logger LOG = LoggerFactory.getLogger(PythonBytecode.class);

  /** The module bootstrap.py imports. */
  static final String CLIENT = "_kiln_bootstrap.py";

  private static final String COMPILE =
      "import py_compile, sys; py_compile.compile(sys.argv[1], doraise=True)";

  private final Path client;
  private final Set<String> compiled = ConcurrentHashMap.newKeySet();

  PythonBytecode(Path pythonRuntimeDir) {
    this.client = pythonRuntimeDir.resolve(CLIENT);
  }

  /** Compiles the client for {@code interpreter} unless this table did already. */
  void ensureCompiled(String interpreter) {
    if (compiled.contains(interpreter)) {
      return;
    }
    try {
      Process p =
          dev.kiln.sandbox.ProcessSpawner.start(
              new ProcessBuilder(interpreter, "-S", "-c", COMPILE, client.toString())
                  .redirectErrorStream(true));
      p.getOutputStream().close();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        LOG.warn("cannot compile {} with {}: {}", client, interpreter, output.strip());
        return;
      }
      compiled.add(interpreter);
    } catch (IOException e) {
      LOG.warn("cannot compile {} with {}: {}", client, interpreter, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
