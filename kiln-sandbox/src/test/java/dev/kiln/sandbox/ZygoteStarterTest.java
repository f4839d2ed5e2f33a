package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which environments a zygote-forked instance can honour, and which go through bubblewrap. */
class ZygoteStarterTest {

  @Test
  void variablesReadOnlyAsAProcessStarts_sendTheInstanceThroughBubblewrap() {
    assertThat(ZygoteStarter.readOnlyAtStart("LD_PRELOAD")).isTrue();
    assertThat(ZygoteStarter.readOnlyAtStart("LD_BIND_NOW")).isTrue();
    assertThat(ZygoteStarter.readOnlyAtStart("PYTHONHASHSEED")).isTrue();
    assertThat(ZygoteStarter.readOnlyAtStart("PYTHONWARNINGS")).isTrue();
  }

  @Test
  void theLoaderPathAndWhatTheForkedRuntimeApplies_keepTheZygote() {
    assertThat(ZygoteStarter.readOnlyAtStart("LD_LIBRARY_PATH")).isFalse();
    assertThat(ZygoteStarter.readOnlyAtStart("PYTHONPATH")).isFalse();
    assertThat(ZygoteStarter.readOnlyAtStart("PYTHONUNBUFFERED")).isFalse();
    assertThat(ZygoteStarter.readOnlyAtStart("AWS_LAMBDA_FUNCTION_NAME")).isFalse();
    assertThat(ZygoteStarter.readOnlyAtStart("MY_SETTING")).isFalse();
  }

  static final String LOADER_PATH =
      "/usr/local/lib:/usr/lib:/lib:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib";

  static SandboxSpec spec(Path code, Path runtime, Optional<Path> layers, String loaderPath) {
    return new SandboxSpec(
        "i",
        List.of("/usr/bin/python3", "-S", "/var/runtime/bootstrap.py"),
        Map.of("LD_LIBRARY_PATH", loaderPath),
        code,
        runtime,
        code.resolveSibling("instance"),
        128,
        512,
        layers,
        Optional.empty(),
        false,
        Optional.empty());
  }

  @Test
  void sharedLibrariesWhereTheLoaderLooks_sendTheInstanceThroughBubblewrap(@TempDir Path dir)
      throws Exception {
    Path code = Files.createDirectories(dir.resolve("code"));
    Path runtime = Files.createDirectories(dir.resolve("runtime"));
    Path layers = Files.createDirectories(dir.resolve("layers"));
    Files.writeString(code.resolve("app.py"), "");
    assertThat(ZygoteStarter.loaderWouldMiss(spec(code, runtime, Optional.of(layers), LOADER_PATH)))
        .as("python code only")
        .isFalse();
    Files.createDirectories(layers.resolve("lib"));
    Files.writeString(layers.resolve("lib/libbar.so.1"), "");
    assertThat(ZygoteStarter.loaderWouldMiss(spec(code, runtime, Optional.of(layers), LOADER_PATH)))
        .as("a layer's lib/libbar.so.1")
        .isTrue();
    Files.createDirectories(code.resolve("lib"));
    Files.writeString(code.resolve("lib/libfoo.so"), "");
    assertThat(ZygoteStarter.loaderWouldMiss(spec(code, runtime, Optional.empty(), LOADER_PATH)))
        .as("the package's lib/libfoo.so")
        .isTrue();
  }

  @Test
  void aLoaderPathOfTheFunctionsOwn_sendsTheInstanceThroughBubblewrap(@TempDir Path dir) {
    assertThat(
            ZygoteStarter.loaderWouldMiss(
                spec(dir, dir, Optional.empty(), "/var/task/vendor/lib:" + LOADER_PATH)))
        .isTrue();
  }
}
