package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Which interpreter version serves a runtime identifier, as the banner says it. */
class InterpreterVersionsTest {

  static String fake(String version) throws Exception {
    Path dir = dev.kiln.testing.TempDirs.create("kiln-interpreter-");
    Path bin = dir.resolve("interpreter");
    Files.writeString(bin, "#!/bin/sh\necho '" + version + "'\n");
    assertThat(bin.toFile().setExecutable(true)).isTrue();
    return bin.toString();
  }

  @Test
  void theIdentifiersOwnVersion_isNamed() throws Exception {
    assertThat(InterpreterVersions.describe("python3.11", fake("Python 3.11.2")))
        .contains("Python 3.11.2");
    assertThat(InterpreterVersions.describe("nodejs20.x", fake("v20.20.2")))
        .contains("Node.js 20.20.2");
    assertThat(InterpreterVersions.describe("ruby3.2", fake("ruby 3.2.3p157 (2024-01-18)")))
        .contains("Ruby 3.2.3");
  }

  @Test
  void anotherVersion_isWarnedAbout() throws Exception {
    String python = fake("Python 3.11.2");
    assertThat(InterpreterVersions.describe("python3.12", python).orElseThrow())
        .startsWith("Python 3.11.2; WARNING: not 3.12")
        .contains("--runtime python3.12=PATH");
    // 3.1 is not 3.11's prefix
    assertThat(InterpreterVersions.describe("python3.1", python).orElseThrow())
        .contains("WARNING: not 3.1:");
    assertThat(InterpreterVersions.describe("nodejs22.x", fake("v20.20.2")).orElseThrow())
        .contains("WARNING: not 22");
  }

  @Test
  void otherRuntimes_andSilentInterpreters_sayNothing() throws Exception {
    assertThat(InterpreterVersions.describe("java21", fake("openjdk 21.0.1"))).isEmpty();
    assertThat(InterpreterVersions.describe("python3.12", fake("no version here"))).isEmpty();
    assertThat(InterpreterVersions.describe("python3.12", "/nonexistent/python3")).isEmpty();
  }
}
