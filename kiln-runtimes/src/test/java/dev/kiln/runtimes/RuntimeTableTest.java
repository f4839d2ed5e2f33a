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
    Path dir = Files.createTempDirectory("kiln-runtimes-");
    RuntimeTable table = RuntimeTable.install(dir, Map.of("python3.12", "/bin/sh"));
    RuntimeTable.Launch launch = table.launch("python3.12");
    assertThat(launch.command())
        .as("-S: none of the host's site-packages")
        .containsExactly("/bin/sh", "-S", dir.resolve("python/bootstrap.py").toString());
    assertThat(dir.resolve("python/bootstrap.py")).isRegularFile();
    assertThat(dir.resolve("node/bootstrap.mjs")).isRegularFile();
  }

  @Test
  void launch_namesTheMissingInterpreter() throws Exception {
    RuntimeTable table =
        RuntimeTable.install(
            Files.createTempDirectory("kiln-runtimes-"), Map.of("python3.9", "/nowhere/python3.9"));
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
        RuntimeTable.install(Files.createTempDirectory("kiln-runtimes-"), Map.of());
    assertThatThrownBy(() -> table.launch("dotnet6"))
        .hasMessageContaining(
            "The runtime parameter of dotnet6 is not supported by this Kiln server");
  }

  @Test
  void aJavaRuntime_needsAJdkOfItsOwnVersion_andCustomRuntimesNeedNoInterpreter() throws Exception {
    RuntimeTable table =
        RuntimeTable.install(
            Files.createTempDirectory("kiln-runtimes-"),
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
    Path dir = Files.createTempDirectory("kiln-runtimes-");
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

  @Test
  void nodejs18And20_carryTheLastSdkThatSupportsNode18_inARuntimeDirectoryOfTheirOwn()
      throws Exception {
    NodeSdk node18 = new NodeSdk(Path.of("unused"), NodeSdk.NODE18);
    org.junit.jupiter.api.Assumptions.assumeTrue(
        node18.version().isPresent(), "built without npm: no SDK to unpack");
    Path dir = Files.createTempDirectory("kiln-runtimes-");
    RuntimeTable table = RuntimeTable.install(dir, Map.of("nodejs20.x", "/bin/sh"));
    RuntimeTable.Launch launch = table.launch("nodejs20.x");
    assertThat(launch.runtimeDir()).isEqualTo(dir.resolve("node18"));
    assertThat(launch.command())
        .containsExactly("/bin/sh", dir.resolve("node18/bootstrap.mjs").toString());
    assertThat(dir.resolve("node18/node_modules/@aws-sdk/client-lambda/package.json"))
        .content()
        .contains("\"version\": \"" + node18.version().get() + "\"");
    assertThat(Files.readString(dir.resolve("node18/node_modules/@aws-sdk/core/package.json")))
        .contains("\"node\": \">=18");
  }
}
