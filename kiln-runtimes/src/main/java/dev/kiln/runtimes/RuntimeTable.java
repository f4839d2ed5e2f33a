package dev.kiln.runtimes;

import dev.kiln.model.LambdaError;
import dev.kiln.sandbox.ProcessSpawner;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

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
 * <p>A Java identifier runs on a JDK of the host's ({@code /usr/lib/jvm/*}, and the JDK Kiln itself
 * runs on): one of its own major version if there is one, else the nearest newer one, as a {@code
 * java21} function runs unchanged on a JDK 25 (Debian 12 ships JDK 17 only, and a JDK from
 * elsewhere is usually the newest). Which JDK that is, and why, the banner says and every cold
 * start's {@code INIT_START} line ({@link Launch#runtimeVersion()}); {@code --runtime java21=PATH}
 * pins one. The version of a JDK is read from its {@code release} file (or asked of its {@code
 * java} when it has none), once per JDK.
 *
 * <p>A function sees nothing of the host's language packages beyond what Lambda's runtime carries:
 * Python runs with {@code -S} and the boto3 {@link PythonSdk} copies from the host; each Node.js
 * runtime directory carries the AWS SDK for JavaScript bundle ({@link NodeSdk}) that supports its
 * Node.js ({@code node18} for nodejs18.x and nodejs20.x, {@code node} for nodejs22.x). The SDKs are
 * put in place when a function of the runtime is first launched; each guards that with its own
 * monitor; the table itself is immutable, its only other shared state the cache of JDK versions, a
 * concurrent map.
 */
public final class RuntimeTable {

  /** A runtime family: the bootstrap program Kiln ships and how to find its interpreter. */
  public enum Family {
    PYTHON("python/bootstrap.py", List.of("/usr/bin/python3", "/usr/local/bin/python3"), "python3"),
    NODE("node/bootstrap.cjs", List.of("/usr/bin/node", "/usr/local/bin/node"), "node"),
    RUBY("ruby/bootstrap.rb", List.of("/usr/bin/ruby", "/usr/local/bin/ruby"), "ruby"),
    /**
     * Java on AWS's own runtime interface client (from Maven Central), which Kiln copies into
     * {@code java/lib}; each identifier runs on a JDK of its version or newer ({@link #jdk}).
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
  public record Launch(
      String runtime, Family family, List<String> command, Path runtimeDir, Optional<Jdk> jdk) {

    /** A launch that runs on no JDK. */
    public Launch(String runtime, Family family, List<String> command, Path runtimeDir) {
      this(runtime, family, command, runtimeDir, Optional.empty());
    }

    public boolean custom() {
      return family == Family.CUSTOM;
    }

    /**
     * What really runs the function, for its {@code INIT_START} line: the identifier, and for Java
     * the JDK ({@code java21 on JDK 25.0.3}).
     */
    public String runtimeVersion() {
      return jdk.map(j -> runtime + " on JDK " + j.version()).orElse(runtime);
    }
  }

  /**
   * A JDK of the host's: its {@code java} and its version ({@code 25.0.3}, or {@code unknown} when
   * neither its {@code release} file nor the JDK itself said).
   */
  public record Jdk(String java, String version) {

    /** The major version ({@code 25}), or 0 when unknown. */
    public int feature() {
      try {
        return Runtime.Version.parse(version).feature();
      } catch (IllegalArgumentException e) {
        return 0;
      }
    }
  }

  private static final Map<String, Family> FAMILIES = new LinkedHashMap<>();

  /** Where the host's JDKs are: each directory in it with a {@code bin/java} is one. */
  static final Path JVM_DIR = Path.of("/usr/lib/jvm");

  /** The version of each JDK seen, by the real path of its {@code java}. */
  private static final Map<Path, String> JDK_VERSIONS = new ConcurrentHashMap<>();

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
   * Node.js 18, {@code nodejs22.x} in {@code node}, with the current one (see {@link NodeSdk}). As
   * Lambda's SDK always supports the Node.js it runs on, the Node.js that really serves the
   * identifier decides: {@code nodejs22.x} served by a Node.js older than 22 gets {@code node18}
   * too (the current SDK would warn at ERROR on every cold start).
   */
  private static final String NODE_DIR = "node";

  private static final String NODE18_DIR = "node18";

  private String nodeDir(String runtime) {
    if (runtime.equals("nodejs18.x") || runtime.equals("nodejs20.x")) {
      return NODE18_DIR;
    }
    int major = interpreter(runtime, Family.NODE).map(InterpreterVersion::major).orElse(0);
    return major > 0 && major < 22 ? NODE18_DIR : NODE_DIR;
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
  private final PythonBytecode pythonBytecode;

  /** The host's JDK homes, looked at anew each time: a JDK installed later is found. */
  private final java.util.function.Supplier<List<Path>> jdkHomes;

  private RuntimeTable(
      Path bootstrapDir,
      Map<String, String> interpreterOverrides,
      java.util.function.Supplier<List<Path>> jdkHomes) {
    this.bootstrapDir = bootstrapDir;
    this.interpreterOverrides = Map.copyOf(interpreterOverrides);
    this.jdkHomes = jdkHomes;
    this.nodeSdk = new NodeSdk(bootstrapDir.resolve(NODE_DIR), NodeSdk.CURRENT);
    this.node18Sdk = new NodeSdk(bootstrapDir.resolve(NODE18_DIR), NodeSdk.NODE18);
    this.pythonSdk = new PythonSdk(bootstrapDir.resolve(Family.PYTHON.bootstrap).getParent());
    this.pythonBytecode =
        new PythonBytecode(bootstrapDir.resolve(Family.PYTHON.bootstrap).getParent());
  }

  /**
   * Writes the bootstraps Kiln ships into {@code bootstrapDir} and returns the table.
   *
   * @param interpreterOverrides runtime identifier to interpreter path, taking precedence over the
   *     host's defaults
   */
  public static RuntimeTable install(Path bootstrapDir, Map<String, String> interpreterOverrides) {
    Path own = Path.of(System.getProperty("java.home"));
    return install(
        bootstrapDir,
        interpreterOverrides,
        () -> {
          List<Path> homes = new ArrayList<>(jdkHomesIn(JVM_DIR));
          homes.add(own);
          return homes;
        });
  }

  /**
   * As {@link #install(Path, Map)}, with the Java runtimes choosing among the JDKs at {@code
   * jdkHomes} (directories with a {@code bin/java}), preferred in that order within a version.
   */
  static RuntimeTable install(
      Path bootstrapDir,
      Map<String, String> interpreterOverrides,
      java.util.function.Supplier<List<Path>> jdkHomes) {
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
        if (family == Family.PYTHON) {
          // the zygote Python instances are forked from (kiln-sandbox's ZygoteStarter)
          try (InputStream in =
              RuntimeTable.class.getResourceAsStream("/dev/kiln/runtimes/python/zygote.py")) {
            Files.copy(in, target.resolveSibling("zygote.py"), StandardCopyOption.REPLACE_EXISTING);
          }
          // the runtime client bootstrap.py imports, whose bytecode PythonBytecode caches
          try (InputStream in =
              RuntimeTable.class.getResourceAsStream(
                  "/dev/kiln/runtimes/python/" + PythonBytecode.CLIENT)) {
            if (in == null) {
              throw new IllegalStateException(
                  "bootstrap missing from the build: python/" + PythonBytecode.CLIENT);
            }
            Files.copy(
                in,
                target.resolveSibling(PythonBytecode.CLIENT),
                StandardCopyOption.REPLACE_EXISTING);
          }
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
    return new RuntimeTable(bootstrapDir, interpreterOverrides, jdkHomes);
  }

  /**
   * The JDKs in {@code dir}: its subdirectories with a {@code bin/java}, real directories before
   * the symbolic links that distributions add beside them ({@code java-1.17.0-openjdk-amd64 ->
   * java-17-openjdk-amd64}), each by name.
   */
  static List<Path> jdkHomesIn(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (var entries = Files.list(dir)) {
      return entries
          .filter(p -> Files.isExecutable(p.resolve("bin/java")))
          .sorted(
              java.util.Comparator.comparing((Path p) -> Files.isSymbolicLink(p))
                  .thenComparing(p -> p.getFileName().toString()))
          .toList();
    } catch (IOException e) {
      return List.of();
    }
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
    if (family == Family.JAVA) {
      Jdk jdk = jdk(runtime).orElseThrow(() -> LambdaError.invalidParameter(missingJdk(runtime)));
      // the launcher adds the JVM's flags, the class path and the handler
      return new Launch(
          runtime, family, List.of(jdk.java()), bootstrapDir.resolve("java"), Optional.of(jdk));
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
      pythonBytecode.ensureCompiled(interpreter); // its client's __pycache__
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

  /**
   * Copies the jars of AWS's runtime interface client from Kiln's own classpath, and removes any
   * other jar a Kiln of another version left there: two versions of one library on the runtime's
   * class path ({@code lib/*}) would leave to chance which one a function gets.
   */
  private static void installRuntimeInterfaceClient(Path lib) throws IOException {
    Files.createDirectories(lib);
    java.util.Set<Path> installed = new java.util.HashSet<>();
    for (String resource : RIC_CLASSES) {
      java.net.URL url = RuntimeTable.class.getClassLoader().getResource(resource);
      if (url == null || !url.getProtocol().equals("jar")) {
        throw new IllegalStateException(
            "the Java runtime's jars are missing from the build: " + resource);
      }
      String file = url.getPath().substring("file:".length(), url.getPath().indexOf("!/"));
      Path jar = Path.of(java.net.URLDecoder.decode(file, java.nio.charset.StandardCharsets.UTF_8));
      Files.copy(jar, lib.resolve(jar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      installed.add(lib.resolve(jar.getFileName()));
    }
    try (var jars = Files.list(lib)) {
      for (Path stale : jars.filter(p -> !installed.contains(p)).toList()) {
        Files.deleteIfExists(stale);
      }
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
      } else if (e.getValue() == Family.JAVA) {
        found = describeJdk(e.getKey());
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
    if (interpreterOverrides.containsKey(runtime)) {
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
    c.addAll(family.wellKnownPaths);
    return c;
  }

  /** The major version a Java identifier is for: 21 for {@code java21}. */
  private static int javaFeature(String runtime) {
    return Integer.parseInt(runtime.substring("java".length()));
  }

  /**
   * The JDK a Java identifier runs on: the one {@code --runtime} names; else the first JDK of its
   * own major version; else the first of the nearest newer major version.
   */
  Optional<Jdk> jdk(String runtime) {
    String pinned = interpreterOverrides.get(runtime);
    if (pinned != null) {
      Path java = Path.of(pinned);
      return Files.isExecutable(java) ? Optional.of(jdkAt(java)) : Optional.empty();
    }
    int wanted = javaFeature(runtime);
    Jdk best = null;
    for (Jdk jdk : installedJdks()) {
      int feature = jdk.feature();
      if (feature >= wanted && (best == null || feature < best.feature())) {
        best = jdk;
      }
    }
    return Optional.ofNullable(best);
  }

  /** The host's JDKs, each once (a distribution's alias of a JDK is the same JDK). */
  private List<Jdk> installedJdks() {
    List<Jdk> jdks = new ArrayList<>();
    java.util.Set<Path> seen = new java.util.HashSet<>();
    for (Path home : jdkHomes.get()) {
      Path java = home.resolve("bin/java");
      if (Files.isExecutable(java) && seen.add(realPath(java))) {
        jdks.add(jdkAt(java));
      }
    }
    return jdks;
  }

  /** What the banner says about a Java identifier's JDK. */
  private String describeJdk(String runtime) {
    Optional<Jdk> found = jdk(runtime);
    if (found.isEmpty()) {
      return "not installed (" + missingJdk(runtime) + ")";
    }
    Jdk jdk = found.get();
    int wanted = javaFeature(runtime);
    String line = jdk.java() + " (JDK " + jdk.version();
    if (interpreterOverrides.containsKey(runtime)) {
      line += ", set with --runtime";
      if (jdk.feature() < wanted) {
        line += "; older than " + runtime + " needs";
      }
    } else if (jdk.feature() != wanted) {
      line +=
          "; no JDK " + wanted + " is installed, so " + runtime + " runs on the nearest newer JDK";
    }
    return line + ")";
  }

  /** Why a Java identifier cannot run here. */
  private String missingJdk(String runtime) {
    String pinned = interpreterOverrides.get(runtime);
    if (pinned != null) {
      return "The runtime "
          + runtime
          + " is not installed on this Kiln server: its JDK's java '"
          + pinned
          + "' (set with --runtime) was not found";
    }
    int wanted = javaFeature(runtime);
    List<String> found =
        installedJdks().stream().map(j -> "JDK " + j.version() + " at " + j.java()).toList();
    return "The runtime "
        + runtime
        + " is not installed on this Kiln server: it needs a JDK "
        + wanted
        + " or newer, and "
        + (found.isEmpty()
            ? "no JDK was found in " + JVM_DIR
            : "the JDKs found are older (" + String.join(", ", found) + ")")
        + "; install one, or name one with kiln server --runtime "
        + runtime
        + "=/path/to/jdk/bin/java";
  }

  /** The JDK whose {@code java} is {@code java}, its version read once. */
  static Jdk jdkAt(Path java) {
    Path real = realPath(java);
    return new Jdk(java.toString(), JDK_VERSIONS.computeIfAbsent(real, RuntimeTable::readVersion));
  }

  private static Path realPath(Path p) {
    try {
      return p.toRealPath();
    } catch (IOException e) {
      return p.toAbsolutePath().normalize();
    }
  }

  /**
   * A JDK's version: {@code JAVA_VERSION} in the {@code release} file of its home (the directory
   * above {@code bin/java}), or else the {@code java.version} the JVM itself reports.
   */
  private static String readVersion(Path realJava) {
    Path release = realJava.getParent().getParent().resolve("release");
    if (Files.isRegularFile(release)) {
      java.util.Properties p = new java.util.Properties();
      try (var in = Files.newBufferedReader(release)) {
        p.load(in);
        String v = p.getProperty("JAVA_VERSION");
        if (v != null) {
          return v.replace("\"", "").strip();
        }
      } catch (IOException | IllegalArgumentException e) {
        // fall through to asking the JVM
      }
    }
    try {
      Process p =
          ProcessSpawner.start(
              new ProcessBuilder(realJava.toString(), "-XshowSettings:properties", "-version")
                  .redirectErrorStream(true));
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor();
      for (String line : out.split("\n")) {
        String t = line.strip();
        if (t.startsWith("java.version = ")) {
          return t.substring("java.version = ".length()).strip();
        }
      }
    } catch (IOException e) {
      // unknown
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return "unknown";
  }

  /**
   * The interpreter {@code runtime} runs on here, when it is an interpreted runtime whose
   * interpreter is installed.
   */
  public Optional<String> interpreterFor(String runtime) {
    Family family = FAMILIES.get(runtime);
    if (family == null || family == Family.CUSTOM || family == Family.DOTNET) {
      return Optional.empty();
    }
    return interpreter(runtime, family);
  }
}
