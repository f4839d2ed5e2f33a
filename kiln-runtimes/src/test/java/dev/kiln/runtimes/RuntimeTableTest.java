package dev.kiln.runtimes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.model.LambdaError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RuntimeTableTest {

  @Test
  void install_writesTheBootstrapsAndLaunchRunsThemOnTheInterpreter() throws Exception {
    Path dir = dev.kiln.testing.TempDirs.create("kiln-runtimes-");
    RuntimeTable table = RuntimeTable.install(dir, Map.of("python3.12", "/bin/sh"));
    RuntimeTable.Launch launch = table.launch("python3.12");
    assertThat(launch.command())
        .as("-S: none of the host's site-packages")
        .containsExactly("/bin/sh", "-S", dir.resolve("python/bootstrap.py").toString());
    assertThat(dir.resolve("python/bootstrap.py")).isRegularFile();
    assertThat(dir.resolve("node/bootstrap.cjs")).isRegularFile();
  }

  @Test
  void aPythonLaunch_compilesTheRuntimeClientForItsInterpreter() throws Exception {
    Path dir = dev.kiln.testing.TempDirs.create("kiln-runtimes-");
    RuntimeTable table = RuntimeTable.install(dir, Map.of("python3.11", "/usr/bin/python3"));
    assertThat(dir.resolve("python").resolve(PythonBytecode.CLIENT)).isRegularFile();
    assertThat(dir.resolve("python/__pycache__")).doesNotExist();
    table.launch("python3.11");
    // an instance then loads the client's bytecode instead of compiling it (issue 23)
    try (var cached = Files.list(dir.resolve("python/__pycache__"))) {
      assertThat(cached.map(p -> p.getFileName().toString()))
          .anyMatch(name -> name.startsWith("_kiln_bootstrap.") && name.endsWith(".pyc"));
    }
  }

  @Test
  void launch_namesTheMissingInterpreter() throws Exception {
    RuntimeTable table =
        RuntimeTable.install(
            dev.kiln.testing.TempDirs.create("kiln-runtimes-"),
            Map.of("python3.9", "/nowhere/python3.9"));
    assertThatThrownBy(() -> table.launch("python3.9"))
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> {
              assertThat(e.errorType()).isEqualTo("InvalidParameterValueException");
              assertThat(e.getMessage())
                  .contains("The runtime python3.9 is not installed")
                  .contains("/nowhere/python3.9");
            });
  }

  @Test
  void launch_refusesRuntimesKilnDoesNotRun() throws Exception {
    RuntimeTable table =
        RuntimeTable.install(dev.kiln.testing.TempDirs.create("kiln-runtimes-"), Map.of());
    assertThatThrownBy(() -> table.launch("dotnet6"))
        .hasMessageContaining(
            "The runtime parameter of dotnet6 is not supported by this Kiln server");
  }

  @Test
  void aJavaRuntime_needsAJdkOfItsOwnVersion_andCustomRuntimesNeedNoInterpreter() throws Exception {
    RuntimeTable table =
        RuntimeTable.install(
            dev.kiln.testing.TempDirs.create("kiln-runtimes-"),
            Map.of("java21", "/nowhere/java21/bin/java"));
    assertThatThrownBy(() -> table.launch("java21"))
        .hasMessageContaining("The runtime java21 is not installed")
        .hasMessageContaining("/nowhere/java21/bin/java");
    RuntimeTable.Launch custom = table.launch("provided.al2023");
    assertThat(custom.custom()).isTrue();
    assertThat(custom.command()).isEmpty();
  }

  @Test
  void install_refusesAnOverrideForAnUnknownRuntime() {
    assertThatThrownBy(
            () ->
                RuntimeTable.install(Files.createTempDirectory("x"), Map.of("cobol", "/bin/true")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot set an interpreter for cobol");
  }

  @Test
  void aNodeRuntime_carriesTheAwsSdk_unpackedOnceBesideItsBootstrap() throws Exception {
    NodeSdk current = new NodeSdk(Path.of("unused"), NodeSdk.CURRENT);
    org.junit.jupiter.api.Assumptions.assumeTrue(
        current.version().isPresent(), "built without npm: no SDK to unpack");
    String version = current.version().get();
    Path dir = dev.kiln.testing.TempDirs.create("kiln-runtimes-");
    Path lambdaClient = dir.resolve("node/node_modules/@aws-sdk/client-lambda/package.json");
    RuntimeTable table = RuntimeTable.install(dir, Map.of("nodejs22.x", "/bin/sh"));
    assertThat(lambdaClient).as("not unpacked before a Node.js function needs it").doesNotExist();

    table.launch("nodejs22.x");
    assertThat(lambdaClient).isRegularFile();
    assertThat(Files.readString(lambdaClient)).contains(version);
    assertThat(table.describe().get("nodejs22.x"))
        .isEqualTo("/bin/sh, with the AWS SDK for JavaScript " + version);

    // another server on the same data directory finds it there and leaves it alone
    Files.writeString(dir.resolve("node/node_modules/marker"), "kept");
    RuntimeTable.install(dir, Map.of("nodejs22.x", "/bin/sh")).launch("nodejs22.x");
    assertThat(dir.resolve("node/node_modules/marker")).hasContent("kept");
  }

  /** A fake JDK home: an executable {@code bin/java} and the {@code release} file JDKs carry. */
  private static Path fakeJdk(Path root, String name, String version) throws Exception {
    Path home = Files.createDirectories(root.resolve(name));
    Path java = Files.createDirectories(home.resolve("bin")).resolve("java");
    Files.writeString(java, "#!/bin/sh\nexit 1\n");
    java.toFile().setExecutable(true);
    Files.writeString(
        home.resolve("release"),
        "IMPLEMENTOR=\"Test\"\nJAVA_VERSION=\"" + version + "\"\nOS_NAME=\"Linux\"\n");
    return home;
  }

  @Test
  void aJavaRuntime_withoutAJdkOfItsVersion_runsOnTheNearestNewerOne_andSaysSo() throws Exception {
    Path jvm = dev.kiln.testing.TempDirs.create("kiln-jvm-");
    Path jdk17 = fakeJdk(jvm, "java-17-openjdk-amd64", "17.0.15");
    Path jdk26 = fakeJdk(jvm, "jdk-26", "26.0.1");
    Path jdk25 = fakeJdk(jvm, "temurin-25-jdk-amd64", "25.0.3");
    // a distribution's alias of a JDK is the same JDK, not another one
    Files.createSymbolicLink(jvm.resolve("java-1.17.0-openjdk-amd64"), jdk17);
    RuntimeTable table =
        RuntimeTable.install(
            dev.kiln.testing.TempDirs.create("kiln-runtimes-"),
            Map.of(),
            () -> RuntimeTable.jdkHomesIn(jvm));

    RuntimeTable.Launch java21 = table.launch("java21");
    assertThat(java21.command()).containsExactly(jdk25.resolve("bin/java").toString());
    assertThat(java21.jdk()).hasValueSatisfying(j -> assertThat(j.feature()).isEqualTo(25));
    assertThat(java21.runtimeVersion()).isEqualTo("java21 on JDK 25.0.3");
    assertThat(table.describe().get("java21"))
        .isEqualTo(
            jdk25.resolve("bin/java")
                + " (JDK 25.0.3; no JDK 21 is installed, so java21 runs on the nearest newer JDK)");

    // a JDK of the identifier's own version is taken when there is one
    assertThat(table.launch("java17").command())
        .containsExactly(jdk17.resolve("bin/java").toString());
    assertThat(table.launch("java17").runtimeVersion()).isEqualTo("java17 on JDK 17.0.15");
    assertThat(table.describe().get("java17"))
        .isEqualTo(jdk17.resolve("bin/java") + " (JDK 17.0.15)");
    assertThat(table.launch("java25").command())
        .containsExactly(jdk25.resolve("bin/java").toString());
  }

  @Test
  void aPinnedJdk_winsOverTheNearestOne() throws Exception {
    Path jvm = dev.kiln.testing.TempDirs.create("kiln-jvm-");
    Path jdk17 = fakeJdk(jvm, "java-17-openjdk-amd64", "17.0.15");
    fakeJdk(jvm, "temurin-25-jdk-amd64", "25.0.3");
    String pinned = jdk17.resolve("bin/java").toString();
    RuntimeTable table =
        RuntimeTable.install(
            dev.kiln.testing.TempDirs.create("kiln-runtimes-"),
            Map.of("java21", pinned),
            () -> RuntimeTable.jdkHomesIn(jvm));
    assertThat(table.launch("java21").command()).containsExactly(pinned);
    assertThat(table.launch("java21").runtimeVersion()).isEqualTo("java21 on JDK 17.0.15");
    assertThat(table.describe().get("java21"))
        .isEqualTo(pinned + " (JDK 17.0.15, set with --runtime; older than java21 needs)");
  }

  @Test
  void aJavaRuntime_withOnlyOlderJdks_isRefused_namingWhatItNeedsAndWhatWasFound()
      throws Exception {
    Path jvm = dev.kiln.testing.TempDirs.create("kiln-jvm-");
    Path jdk17 = fakeJdk(jvm, "java-17-openjdk-amd64", "17.0.15");
    RuntimeTable table =
        RuntimeTable.install(
            dev.kiln.testing.TempDirs.create("kiln-runtimes-"),
            Map.of(),
            () -> RuntimeTable.jdkHomesIn(jvm));
    assertThatThrownBy(() -> table.launch("java21"))
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> {
              assertThat(e.errorType()).isEqualTo("InvalidParameterValueException");
              assertThat(e.getMessage())
                  .contains("The runtime java21 is not installed on this Kiln server")
                  .contains("needs a JDK 21 or newer")
                  .contains("JDK 17.0.15 at " + jdk17)
                  .contains("--runtime java21=");
            });
    assertThat(table.describe().get("java21")).startsWith("not installed (");

    // a JDK installed while Kiln runs serves the next function that needs it
    Path jdk21 = fakeJdk(jvm, "java-21-openjdk-amd64", "21.0.5");
    assertThat(table.launch("java21").command())
        .containsExactly(jdk21.resolve("bin/java").toString());
  }

  @Test
  void install_leavesOnlyItsOwnJarsOnTheJavaRuntimesClassPath() throws Exception {
    Path dir = dev.kiln.testing.TempDirs.create("kiln-runtimes-");
    Path lib = Files.createDirectories(dir.resolve("java/lib"));
    // what an older Kiln installed: its serializer would compete with the one shipped now
    Files.writeString(lib.resolve("aws-lambda-java-serialization-1.2.0.jar"), "old");
    RuntimeTable.install(dir, Map.of());
    try (var jars = Files.list(lib)) {
      assertThat(jars.map(p -> p.getFileName().toString()))
          .contains("aws-lambda-java-serialization-1.4.1.jar")
          .doesNotContain("aws-lambda-java-serialization-1.2.0.jar")
          .anyMatch(n -> n.startsWith("aws-lambda-java-runtime-interface-client-"));
    }
  }

  @Test
  void nodejs18And20_carryTheLastSdkThatSupportsNode18_inARuntimeDirectoryOfTheirOwn()
      throws Exception {
    NodeSdk node18 = new NodeSdk(Path.of("unused"), NodeSdk.NODE18);
    org.junit.jupiter.api.Assumptions.assumeTrue(
        node18.version().isPresent(), "built without npm: no SDK to unpack");
    Path dir = dev.kiln.testing.TempDirs.create("kiln-runtimes-");
    RuntimeTable table = RuntimeTable.install(dir, Map.of("nodejs20.x", "/bin/sh"));
    RuntimeTable.Launch launch = table.launch("nodejs20.x");
    assertThat(launch.runtimeDir()).isEqualTo(dir.resolve("node18"));
    assertThat(launch.command())
        .containsExactly("/bin/sh", dir.resolve("node18/bootstrap.cjs").toString());
    assertThat(dir.resolve("node18/node_modules/@aws-sdk/client-lambda/package.json"))
        .content()
        .contains("\"version\": \"" + node18.version().get() + "\"");
    assertThat(Files.readString(dir.resolve("node18/node_modules/@aws-sdk/core/package.json")))
        .contains("\"node\": \">=18");
  }

  /** A stand-in for {@code node} that says it is {@code version}. */
  private static String fakeNode(Path dir, String version) throws Exception {
    Path node = dir.resolve("node-" + version);
    Files.writeString(node, "#!/bin/sh\necho " + version + "\n");
    node.toFile().setExecutable(true);
    return node.toString();
  }

  @Test
  void nodejs22_onANodeOlderThan22_carriesTheSdkThatSupportsIt_notOneThatWarnsAtEveryStart()
      throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        new NodeSdk(Path.of("unused"), NodeSdk.NODE18).version().isPresent()
            && new NodeSdk(Path.of("unused"), NodeSdk.CURRENT).version().isPresent(),
        "built without npm: no SDK to unpack");
    Path dir = dev.kiln.testing.TempDirs.create("kiln-runtimes-");
    String node20 = fakeNode(dir, "v20.20.2");
    String node22 = fakeNode(dir, "v22.11.0");
    assertThat(InterpreterVersion.major(node20)).isEqualTo(20);
    assertThat(
            RuntimeTable.install(dir.resolve("a"), Map.of("nodejs22.x", node20))
                .launch("nodejs22.x")
                .runtimeDir())
        .isEqualTo(dir.resolve("a/node18"));
    assertThat(
            RuntimeTable.install(dir.resolve("b"), Map.of("nodejs22.x", node22))
                .launch("nodejs22.x")
                .runtimeDir())
        .isEqualTo(dir.resolve("b/node"));
  }
}
