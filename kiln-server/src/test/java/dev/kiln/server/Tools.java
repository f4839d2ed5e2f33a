package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * External clients the end-to-end tests drive Kiln with (the AWS CLI, boto3). Where one is missing
 * the test is skipped, except in CI ({@code -Dkiln.requireTools=true}), where a missing tool fails
 * the run so that a green build always means the tools were really exercised.
 */
final class Tools {

  private Tools() {}

  static final List<String> SEARCH_PATH = List.of("/usr/bin", "/usr/local/bin", "/bin");

  /** The AWS CLI version 2 (the README is written for it), wherever it is installed. */
  static Path awsCli() {
    for (Path aws : findAll("aws")) {
      try {
        if (run(List.of(aws.toString(), "--version"), Path.of("."), Map.of())
            .output()
            .startsWith("aws-cli/2")) {
          return aws;
        }
      } catch (Exception e) {
        // try the next
      }
    }
    return require("the AWS CLI version 2 (aws)", Optional.empty());
  }

  /** A python3 that can import boto3. */
  static Path pythonWithBoto3() {
    for (Path python : findAll("python3")) {
      try {
        if (run(List.of(python.toString(), "-c", "import boto3"), Path.of("."), Map.of()).exit()
            == 0) {
          return python;
        }
      } catch (Exception e) {
        // try the next
      }
    }
    return require("python3 with boto3", Optional.empty());
  }

  static Optional<Path> find(String name) {
    return findAll(name).stream().findFirst();
  }

  static List<Path> findAll(String name) {
    List<String> dirs = new ArrayList<>(SEARCH_PATH);
    dirs.addAll(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
    List<Path> found = new ArrayList<>();
    for (String dir : dirs) {
      Path p = Path.of(dir, name);
      if (!dir.isEmpty() && Files.isExecutable(p) && !found.contains(p)) {
        found.add(p);
      }
    }
    return found;
  }

  /**
   * The tool on this machine; the test is skipped when it is missing, except in CI ({@code
   * -Dkiln.requireTools=true}), where that fails it.
   */
  static Path require(String tool) {
    return require(tool, find(tool));
  }

  private static Path require(String what, Optional<Path> found) {
    if (found.isEmpty()) {
      if (Boolean.getBoolean("kiln.requireTools")) {
        throw new AssertionError(what + " is required in CI but was not found");
      }
      Assumptions.abort(what + " is not installed; skipping (CI installs it)");
    }
    return found.get();
  }

  record Result(int exit, String output) {}

  static Result run(List<String> command, Path dir, Map<String, String> env) throws Exception {
    ProcessBuilder b =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
    b.environment().putAll(env);
    Process p = b.start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  /**
   * The AWS CLI v2 run in {@code dir} against {@code kiln} with its admin key, printing JSON:
   * {@code aws --endpoint-url <kiln> --output json <args>}.
   */
  static Result aws(KilnFixture kiln, Path dir, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(awsCli().toString());
    command.addAll(
        List.of("--endpoint-url", kiln.server.endpoint().toString(), "--output", "json"));
    command.addAll(List.of(args));
    return run(command, dir, awsEnv(dir.resolve("home"), kiln.dataDir));
  }

  /**
   * Environment for AWS clients: the admin key of the server whose data directory is {@code
   * dataDir}, the region, and no user config files.
   */
  static Map<String, String> awsEnv(Path home, Path dataDir) throws IOException {
    Files.createDirectories(home);
    var key = KilnFixture.credentials(dataDir);
    return Map.of(
        "AWS_ACCESS_KEY_ID",
        key.accessKeyId(),
        "AWS_SECRET_ACCESS_KEY",
        key.secretAccessKey(),
        "AWS_DEFAULT_REGION",
        "us-east-1",
        "AWS_CONFIG_FILE",
        home.resolve("config").toString(),
        "AWS_SHARED_CREDENTIALS_FILE",
        home.resolve("credentials").toString(),
        "AWS_PAGER",
        "",
        "HOME",
        home.toString(),
        "PATH",
        "/usr/bin:/bin:" + System.getenv().getOrDefault("PATH", ""));
  }

  /**
   * Writes {@code dir/kiln}, a stand-in for the {@code ./kiln} script that runs the command line
   * from the test's class path (the script would build Kiln first), with {@code ~} being {@code
   * $HOME}, as for the script.
   */
  static Path kilnLauncher(Path dir) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    Path launcher = dir.resolve("kiln");
    Files.writeString(
        launcher,
        "#!/bin/sh\nexec '"
            + java
            + "' -Duser.home=\"$HOME\" -cp '"
            + System.getProperty("java.class.path")
            + "' "
            + KilnCli.class.getName()
            + " \"$@\"\n");
    if (!launcher.toFile().setExecutable(true)) {
      throw new IOException("cannot make " + launcher + " executable");
    }
    return launcher;
  }

  /**
   * Runs {@code command} in bash in {@code dir} as a user's fresh shell would: every AWS variable
   * of the test's JVM removed, then {@code env} set; stdout and stderr together.
   */
  static Result shell(Path dir, Map<String, String> env, String command) throws Exception {
    ProcessBuilder b =
        new ProcessBuilder("bash", "-euo", "pipefail", "-c", command)
            .directory(dir.toFile())
            .redirectErrorStream(true);
    b.environment().keySet().removeIf(k -> k.startsWith("AWS_"));
    b.environment().putAll(env);
    Process p = b.start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }
}
