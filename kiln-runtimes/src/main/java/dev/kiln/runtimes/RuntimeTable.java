package dev.kiln.runtimes;

import dev.kiln.model.LambdaError;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Which runtime identifiers this Kiln runs, and with what: each identifier maps to a family (the
 * bootstrap Kiln ships for it) and to the interpreter that runs the bootstrap, found on this host.
 *
 * <p>Kiln does not carry interpreters of its own: {@code python3.9} to {@code python3.13} all run
 * on the host's {@code python3}, {@code nodejs18.x} to {@code nodejs22.x} on its {@code node}. An
 * operator can point any identifier at another interpreter ({@code kiln server --runtime
 * python3.12=/opt/python3.12/bin/python3}). An identifier whose interpreter is missing is refused
 * when a function is created, with a message naming the interpreter, rather than failing at the
 * first invoke.
 *
 * <p>A function sees nothing of the host's language packages beyond what Lambda's runtime carries:
 * Python runs with {@code -S} and the boto3 {@link PythonSdk} copies from the host; each Node.js
 * runtime directory carries the AWS SDK for JavaScript bundle ({@link NodeSdk}) that supports its
 * Node.js ({@code node18} for nodejs18.x and nodejs20.x, {@code node} for nodejs22.x). The SDKs are
 * put in place when a function of the runtime is first launched; each guards that with its own
 * monitor, and the table itself is immutable.
 */
public final class RuntimeTable {

  /** A runtime family: the bootstrap program Kiln ships and how to find its interpreter. */
  public enum Family {
    PYTHON("python/bootstrap.py", List.of("/usr/bin/python3", "/usr/local/bin/python3"), "python3"),
    NODE("node/bootstrap.mjs", List.of("/usr/bin/node", "/usr/local/bin/node"), "node"),
    RUBY("ruby/bootstrap.rb", List.of("/usr/bin/ruby", "/usr/local/bin/ruby"), "ruby"),
    /**
     * Java on AWS's own runtime interface client (from Maven Central), which Kiln copies into
     * {@code java/lib}; each identifier needs its own JDK ({@link #JDKS}).
     */
    JAVA("java/lib", List.of(), "java"),
    /**
     * .NET on Mono: Kiln's bootstrap and its own {@code Amazon.Lambda.Core}, compiled from C#
     * source with the host's {@code mcs} when Kiln starts ({@link DotnetBootstrap}).
     */
    DOTNET(
        "dotnet/" + DotnetBootstrap.EXE, List.of("/usr/bin/mono", "/usr/local/bin/mono"), "mono"),
    /** A custom runtime: the function's own executable {@code bootstrap} is the runtime. */
    CUSTOM(null, List.of(), null);

    final String bootstrap;
    final List<String> wellKnownPaths;
    final String commandName;

    Family(String bootstrap, List<String> wellKnownPaths, String commandName) {
      this.bootstrap = bootstrap;
      this.wellKnownPaths = wellKnownPaths;
      this.commandName = commandName;
    }
  }

  /**
   * How to start an instance of a runtime: the command, and where its bootstrap lives. For a custom
   * runtime the command is empty: the instance runs the {@code bootstrap} of its own code.
   */
  public record Launch(String runtime, Family family, List<String> command, Path runtimeDir) {

    public boolean custom() {
      return family == Family.CUSTOM;
    }
  }

  private static final Map<String, Family> FAMILIES = new LinkedHashMap<>();

  /** Where each Java identifier's JDK is looked for: the major version must match. */
  static final Map<String, List<String>> JDKS = new LinkedHashMap<>();

  /** The classes whose jars make up AWS's runtime interface client and what it needs. */
  private static final List<String> RIC_CLASSES =
      List.of(
          "com/amazonaws/services/lambda/runtime/api/client/AWSLambda.class",
          "com/amazonaws/services/lambda/runtime/Context.class",
          "com/amazonaws/services/lambda/runtime/serialization/PojoSerializer.class",
          "software/amazon/awssdk/utilslite/SdkInternalThreadLocal.class",
          "software/amazon/awssdk/annotations/SdkInternalApi.class");

  /** The class the Java runtimes start. */
  public static final String JAVA_MAIN =
      "com.amazonaws.services.lambda.runtime.api.client.AWSLambda";

  static {
    for (String v : List.of("3.9", "3.10", "3.11", "3.12", "3.13")) {
      FAMILIES.put("python" + v, Family.PYTHON);
    }
    for (String v : List.of("18", "20", "22")) {
      FAMILIES.put("nodejs" + v + ".x", Family.NODE);
    }
    for (String v : List.of("3.2", "3.3", "3.4")) {
      FAMILIES.put("ruby" + v, Family.RUBY);
    }
    for (String v : List.of("17", "21", "25")) {
      FAMILIES.put("java" + v, Family.JAVA);
      JDKS.put(
          "java" + v,
          List.of(
              "/usr/lib/jvm/java-" + v + "-openjdk-amd64/bin/java",
              "/usr/lib/jvm/temurin-" + v + "-jdk-amd64/bin/java",
              "/usr/lib/jvm/java-" + v + "-openjdk/bin/java"));
    }
    for (String v : List.of("8", "10")) {
      FAMILIES.put("dotnet" + v, Family.DOTNET);
    }
    for (String id : List.of("provided", "provided.al2", "provided.al2023")) {
      FAMILIES.put(id, Family.CUSTOM);
    }
  }

  /**
   * The Node.js runtimes' directories (each instance's {@code /var/runtime}), one per SDK bundle:
   * {@code nodejs18.x} and {@code nodejs20.x} in {@code node18}, with the last SDK that supports
   * Node.js 18, {@code nodejs22.x} in {@code node}, with the current one (see {@link NodeSdk}).
   */
  private static final String NODE_DIR = "node";

  private static final String NODE18_DIR = "node18";

  private static String nodeDir(String runtime) {
    return runtime.equals("nodejs18.x") || runtime.equals("nodejs20.x") ? NODE18_DIR : NODE_DIR;
  }

  private NodeSdk nodeSdk(String runtime) {
    return nodeDir(runtime).equals(NODE18_DIR) ? node18Sdk : nodeSdk;
  }

  private final Path bootstrapDir;
  private final Map<String, String> interpreterOverrides;

  /** The SDK each Node.js runtime directory carries: {@code node} the current, {@code node18}. */
  private final NodeSdk nodeSdk;

  private final NodeSdk node18Sdk;
  private final PythonSdk pythonSdk;

  private RuntimeTable(Path bootstrapDir, Map<String, String> interpreterOverrides) {
    this.bootstrapDir = bootstrapDir;
    this.interpreterOverrides = Map.copyOf(interpreterOverrides);
    this.nodeSdk = new NodeSdk(bootstrapDir.resolve(NODE_DIR), NodeSdk.CURRENT);
    this.node18Sdk = new NodeSdk(bootstrapDir.resolve(NODE18_DIR), NodeSdk.NODE18);
    this.pythonSdk = new PythonSdk(bootstrapDir.resolve(Family.PYTHON.bootstrap).getParent());
  }

  /**
   * Writes the bootstraps Kiln ships into {@code bootstrapDir} and returns the table.
   *
   * @param interpreterOverrides runtime identifier to interpreter path, taking precedence over the
   *     host's defaults
   */
  public static RuntimeTable install(Path bootstrapDir, Map<String, String> interpreterOverrides) {
    for (String key : interpreterOverrides.keySet()) {
      if (!FAMILIES.containsKey(key) || FAMILIES.get(key) == Family.CUSTOM) {
        throw new IllegalArgumentException(
            "cannot set an interpreter for "
                + key
                + ": Kiln runs "
                + String.join(", ", FAMILIES.keySet()));
      }
    }
    try {
      installRuntimeInterfaceClient(bootstrapDir.resolve(Family.JAVA.bootstrap));
      DotnetBootstrap.build(bootstrapDir.resolve("dotnet"));
      for (Family family : Family.values()) {
        if (family == Family.CUSTOM || family == Family.JAVA || family == Family.DOTNET) {
          continue;
        }
        Path target = bootstrapDir.resolve(family.bootstrap);
        Files.createDirectories(target.getParent());
        try (InputStream in =
            RuntimeTable.class.getResourceAsStream("/dev/kiln/runtimes/" + family.bootstrap)) {
          if (in == null) {
            throw new IllegalStateException(
                "bootstrap missing from the build: " + family.bootstrap);
          }
          Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        if (family == Family.NODE) {
          Path node18 = bootstrapDir.resolve(NODE18_DIR).resolve(target.getFileName());
          Files.createDirectories(node18.getParent());
          Files.copy(target, node18, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot install runtime bootstraps in " + bootstrapDir, e);
    }
    return new RuntimeTable(bootstrapDir, interpreterOverrides);
  }

  /**
   * How to launch {@code runtime}.
   *
   * @throws LambdaError InvalidParameterValueException naming the runtime and the interpreter it
   *     needs, when Kiln does not run it or its interpreter is not installed
   */
  public Launch launch(String runtime) {
    Family family = FAMILIES.get(runtime);
    if (family == null) {
      throw LambdaError.invalidParameter(
          "The runtime parameter of "
              + runtime
              + " is not supported by this Kiln server. Supported runtimes: "
              + String.join(", ", new TreeSet<>(FAMILIES.keySet())));
    }
    if (family == Family.CUSTOM) {
      return new Launch(runtime, family, List.of(), bootstrapDir);
    }
    String interpreter =
        interpreter(runtime, family)
            .orElseThrow(
                () ->
                    LambdaError.invalidParameter(
                        "The runtime "
                            + runtime
                            + " is not installed on this Kiln server: its interpreter '"
                            + interpreterOverrides.getOrDefault(runtime, family.commandName)
                            + "' was not found (looked in "
                            + String.join(", ", candidates(runtime, family))
                            + " and on PATH)"));
    if (family == Family.JAVA) {
      // the launcher adds the JVM's flags, the class path and the handler
      return new Launch(runtime, family, List.of(interpreter), bootstrapDir.resolve("java"));
    }
    if (family == Family.DOTNET && !Files.isRegularFile(bootstrapDir.resolve(family.bootstrap))) {
      throw LambdaError.invalidParameter(
          "The runtime "
              + runtime
              + " is not installed on this Kiln server: Kiln runs .NET functions on Mono and"
              + " builds its bootstrap with the Mono C# compiler, and "
              + DotnetBootstrap.missing()
              + " (apt-get install mono-mcs libmono-system-web-extensions4.0-cil)");
    }
    Path runtimeDir = bootstrapDir.resolve(family.bootstrap).getParent();
    if (family == Family.NODE) {
      Path dir = bootstrapDir.resolve(nodeDir(runtime));
      nodeSdk(runtime)
          .ensureUnpacked(); // node_modules beside the bootstrap: /var/runtime/node_modules
      return new Launch(
          runtime,
          family,
          List.of(interpreter, dir.resolve(Path.of(family.bootstrap).getFileName()).toString()),
          dir);
    }
    if (family == Family.PYTHON) {
      pythonSdk.ensureCopied(interpreter); // sdk beside the bootstrap: /var/runtime/sdk
      // -S: no site, so none of the host's site-packages (see PythonSdk)
      return new Launch(
          runtime,
          family,
          List.of(interpreter, "-S", bootstrapDir.resolve(family.bootstrap).toString()),
          runtimeDir);
    }
    return new Launch(
        runtime,
        family,
        List.of(interpreter, bootstrapDir.resolve(family.bootstrap).toString()),
        runtimeDir);
  }

  /**
   * Refuses a handler this host cannot run although its runtime is installed: a PowerShell function
   * as AWS's tools package it (a .NET package whose handler is AWSLambdaPSCore's {@code
   * Bootstrap::ExecuteFunction}) needs PowerShell hosted on .NET, which Kiln's Mono runtime is not.
   */
  public void checkHandler(String runtime, String handler) {
    if (FAMILIES.get(runtime) == Family.DOTNET
        && handler != null
        && handler.endsWith(".Bootstrap::ExecuteFunction")) {
      boolean pwsh =
          List.of("/usr/bin/pwsh", "/usr/local/bin/pwsh", "/opt/microsoft/powershell/7/pwsh")
              .stream()
              .anyMatch(p -> Files.isExecutable(Path.of(p)));
      throw LambdaError.invalidParameter(
          "The handler "
              + handler
              + " is a PowerShell function (AWSLambdaPSCore): Kiln cannot run PowerShell"
              + " functions, which need PowerShell hosted on .NET; "
              + (pwsh
                  ? "pwsh is installed, but Kiln's .NET runtime runs on Mono and cannot host it."
                  : "PowerShell is not installed on this Kiln server (pwsh was not found)."));
    }
  }

  /** Copies the jars of AWS's runtime interface client from Kiln's own classpath. */
  private static void installRuntimeInterfaceClient(Path lib) throws IOException {
    Files.createDirectories(lib);
    for (String resource : RIC_CLASSES) {
      java.net.URL url = RuntimeTable.class.getClassLoader().getResource(resource);
      if (url == null || !url.getProtocol().equals("jar")) {
        throw new IllegalStateException(
            "the Java runtime's jars are missing from the build: " + resource);
      }
      String file = url.getPath().substring("file:".length(), url.getPath().indexOf("!/"));
      Path jar = Path.of(java.net.URLDecoder.decode(file, java.nio.charset.StandardCharsets.UTF_8));
      Files.copy(jar, lib.resolve(jar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Every runtime this table knows, with the interpreter it found or why it did not. */
  public Map<String, String> describe() {
    Map<String, String> out = new LinkedHashMap<>();
    for (var e : FAMILIES.entrySet()) {
      String found;
      if (e.getValue() == Family.CUSTOM) {
        found = "the function's own bootstrap";
      } else if (e.getValue() == Family.DOTNET
          && !Files.isRegularFile(bootstrapDir.resolve(Family.DOTNET.bootstrap))) {
        found = "not installed (" + DotnetBootstrap.missing() + ")";
      } else {
        found = interpreter(e.getKey(), e.getValue()).orElse("not installed");
        if (e.getValue() == Family.NODE && !found.equals("not installed")) {
          found += ", " + nodeSdk(e.getKey()).describe();
        }
        if (e.getValue() == Family.PYTHON && !found.equals("not installed")) {
          found += ", " + pythonSdk.describe();
        }
      }
      out.put(e.getKey(), found);
    }
    return out;
  }

  private Optional<String> interpreter(String runtime, Family family) {
    for (String candidate : candidates(runtime, family)) {
      if (Files.isExecutable(Path.of(candidate))) {
        return Optional.of(candidate);
      }
    }
    if (interpreterOverrides.containsKey(runtime) || family == Family.JAVA) {
      return Optional.empty();
    }
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : path.split(":")) {
      // a version manager's shim re-resolves the interpreter on every start, which costs more
      // than the interpreter's own start; prefer the real binary behind it when there is one
      if (dir.isEmpty() || dir.contains("/shims")) {
        continue;
      }
      Path p = Path.of(dir, family.commandName);
      if (Files.isExecutable(p)) {
        return Optional.of(p.toString());
      }
    }
    return Optional.empty();
  }

  private List<String> candidates(String runtime, Family family) {
    List<String> c = new ArrayList<>();
    if (interpreterOverrides.containsKey(runtime)) {
      c.add(interpreterOverrides.get(runtime));
      return c;
    }
    c.addAll(JDKS.getOrDefault(runtime, family.wellKnownPaths));
    return c;
  }
}
