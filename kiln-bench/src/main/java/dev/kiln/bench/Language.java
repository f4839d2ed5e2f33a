package dev.kiln.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import javax.tools.ToolProvider;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;

/**
 * The languages the bench measures, each with its no-op handler: the function Kiln runs and the
 * code its direct baseline serves are the same file, so the only difference between the two is the
 * platform.
 *
 * <p>The handlers do what a Lambda handler minimally does: take the event, decoded from JSON, and
 * return nothing (Python {@code None}, JavaScript {@code null}, a Java {@code null} map), which is
 * encoded back to JSON. Java's handler is compiled here with the JDK's compiler, against AWS's
 * {@code aws-lambda-java-core} (on the bench's class path), for Java 21, and runs on the {@code
 * java25} runtime, whose JDK is the one the bench itself runs on.
 */
enum Language {
  PYTHON("python", "python3.12", "app.handler", "python3", List.of("-c", "pass")),
  NODE("node", "nodejs20.x", "index.handler", "node", List.of("-e", "0")),
  JAVA("java", "java25", "example.Noop::handleRequest", "java", List.of("-version"));

  static final String JAVA_HANDLER_CLASS = "example.Noop";

  private static final String PYTHON_SOURCE = "def handler(event, context):\n    return None\n";
  private static final String NODE_SOURCE = "exports.handler = async (event, context) => null;\n";
  private static final String JAVA_SOURCE =
      """
      package example;

      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;
      import java.util.Map;

      public class Noop implements RequestHandler<Map<String, Object>, Map<String, Object>> {
        @Override
        public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
          return null;
        }
      }
      """;

  final String id;
  final String runtime;
  final String handler;
  private final String command;
  private final List<String> bareStartArgs;

  Language(String id, String runtime, String handler, String command, List<String> bareStartArgs) {
    this.id = id;
    this.runtime = runtime;
    this.handler = handler;
    this.command = command;
    this.bareStartArgs = bareStartArgs;
  }

  /**
   * The interpreter Kiln runs this language's functions on, found the way Kiln finds it (its
   * runtime table): the system's binary first, then {@code PATH} without version managers' shims,
   * which re-resolve the interpreter on every start; for {@code java25} a JDK 25 under {@code
   * /usr/lib/jvm}. The baselines must start the same binary, or a cold start would be compared with
   * a different program's start.
   */
  String interpreter() {
    List<String> candidates = new ArrayList<>();
    if (this == JAVA) {
      candidates.add("/usr/lib/jvm/java-25-openjdk-amd64/bin/java");
      candidates.add("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");
      candidates.add("/usr/lib/jvm/java-25-openjdk/bin/java");
    } else {
      candidates.add("/usr/bin/" + command);
      candidates.add("/usr/local/bin/" + command);
      for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
        if (!dir.isEmpty() && !dir.contains("/shims")) {
          candidates.add(dir + "/" + command);
        }
      }
    }
    for (String c : candidates) {
      if (Files.isExecutable(Path.of(c))) {
        return c;
      }
    }
    throw new IllegalStateException(
        "no " + command + " for " + runtime + " (looked in " + candidates + ")");
  }

  /** The interpreter's command name ({@code python3}), which its processes' names start with. */
  String command() {
    return command;
  }

  /** The bare start of the interpreter ({@code python3 -c pass}): the floor of a cold start. */
  List<String> bareStart() {
    List<String> c = new ArrayList<>();
    c.add(interpreter());
    c.addAll(bareStartArgs);
    return c;
  }

  /** The bare start as a reader would type it. */
  String bareStartName() {
    return command + " " + String.join(" ", bareStartArgs);
  }

  static Language byId(String id) {
    for (Language l : values()) {
      if (l.id.equals(id)) {
        return l;
      }
    }
    throw new IllegalArgumentException("unknown language " + id + " (python, node, java)");
  }

  /** The handler's files, by their path in the deployment package. */
  Map<String, byte[]> files() {
    return switch (this) {
      case PYTHON -> Map.of("app.py", PYTHON_SOURCE.getBytes());
      case NODE -> Map.of("index.js", NODE_SOURCE.getBytes());
      case JAVA -> compileJava();
    };
  }

  /** The deployment package: the handler's files in a zip. */
  byte[] zip() {
    return zip(files());
  }

  static byte[] zip(Map<String, byte[]> files) {
    return zip(files, Set.of());
  }

  /**
   * A zip of {@code files}, those named in {@code executables} with mode 0755 (as {@code chmod +x;
   * zip} makes them: an extension or a {@code bootstrap} must be executable), the others 0644.
   */
  static byte[] zip(Map<String, byte[]> files, Set<String> executables) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(bytes)) {
      for (var e : new TreeMap<>(files).entrySet()) {
        ZipArchiveEntry entry = new ZipArchiveEntry(e.getKey());
        entry.setUnixMode(executables.contains(e.getKey()) ? 0100755 : 0100644);
        zip.putArchiveEntry(entry);
        zip.write(e.getValue());
        zip.closeArchiveEntry();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** Writes the handler's files into a directory of their own, for a direct baseline to serve. */
  Path unpack() {
    try {
      Path dir = Files.createTempDirectory("kiln-bench-" + id + "-");
      for (var e : files().entrySet()) {
        Path file = dir.resolve(e.getKey());
        Files.createDirectories(file.getParent());
        Files.write(file, e.getValue());
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Map<String, byte[]> compileJava() {
    try {
      Path src = Files.createTempDirectory("kiln-bench-javac-");
      Path classes = Files.createDirectories(src.resolve("classes"));
      Path file = Files.createDirectories(src.resolve("example")).resolve("Noop.java");
      Files.writeString(file, JAVA_SOURCE);
      List<String> args =
          new ArrayList<>(
              List.of(
                  "--release",
                  "21",
                  "-cp",
                  awsLambdaJavaCore().toString(),
                  "-d",
                  classes.toString(),
                  file.toString()));
      var compiler = ToolProvider.getSystemJavaCompiler();
      if (compiler == null) {
        throw new IllegalStateException("the bench needs a JDK (javac) to build its Java function");
      }
      ByteArrayOutputStream errors = new ByteArrayOutputStream();
      if (compiler.run(null, null, errors, args.toArray(String[]::new)) != 0) {
        throw new IllegalStateException("javac failed: " + errors);
      }
      Map<String, byte[]> out = new TreeMap<>();
      try (var walk = Files.walk(classes)) {
        for (Path p : walk.filter(Files::isRegularFile).toList()) {
          out.put(classes.relativize(p).toString(), Files.readAllBytes(p));
        }
      }
      ScratchFiles.deleteTree(src);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Path awsLambdaJavaCore() {
    try {
      return Path.of(
          Class.forName("com.amazonaws.services.lambda.runtime.Context")
              .getProtectionDomain()
              .getCodeSource()
              .getLocation()
              .toURI());
    } catch (ClassNotFoundException | URISyntaxException e) {
      throw new IllegalStateException("aws-lambda-java-core is not on the bench's class path", e);
    }
  }
}
