package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The {@code ./kiln} script's build, with a stand-in for Maven that says what it was asked and
 * prints what Maven prints (its JVM's warnings, colour codes, downloads, one line per module): a
 * person sees progress they can follow, and nothing is installed into {@code ~/.m2}.
 */
class LauncherIT {

  static final String MAVEN_SAYS =
      """
      printf '\\033[0m\\033[0m[INFO] Scanning for projects...\\n'
      echo 'WARNING: A terminally deprecated method in sun.misc.Unsafe has been called'
      echo '[INFO] Building Kiln 0.1.0-SNAPSHOT                                       [1/2]'
      i=0; while [ $i -lt 150 ]; do
        echo "[INFO] Downloading from central: https://repository.invalid/$i.jar"
        echo "[INFO] Downloaded from central: https://repository.invalid/$i.jar (2 kB at 3 kB/s)"
        i=$((i+1))
      done
      printf '\\033[1m[INFO] Building kiln-model 0.1.0-SNAPSHOT                     [2/2]\\033[m\\n'
      """;

  /**
   * A copy of the script in an empty project, with {@code mvn} the stand-in running {@code body}.
   */
  static Path project(String body) throws Exception {
    Path dir = dev.kiln.testing.TempDirs.create("kiln-launcher-");
    Files.copy(ReadmeIT.projectRoot().resolve("kiln"), dir.resolve("kiln"));
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Files.writeString(
        bin.resolve("mvn"),
        "#!/bin/sh\necho \"$@\" > \"$PWD/mvn-args\"\necho \"$MAVEN_OPTS\" > \"$PWD/maven-opts\"\n"
            + "mkdir -p kiln-server/target kiln-server/target/lib\n"
            + "touch kiln-server/target/kiln-server.jar\n"
            + body);
    assertThat(bin.resolve("mvn").toFile().setExecutable(true)).isTrue();
    return dir;
  }

  static Tools.Result kiln(Path dir, String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of("./kiln"));
    command.addAll(List.of(args));
    return Tools.run(
        command,
        dir,
        Map.of(
            "PATH",
            dir.resolve("bin") + ":/usr/bin:/bin",
            "JAVA_HOME",
            System.getProperty("java.home")));
  }

  @Test
  void theFirstBuild_showsAProgressLinePerModule_andADownloadNote_andNoMavenNoise()
      throws Exception {
    Path dir = project(MAVEN_SAYS);
    Tools.Result r = kiln(dir, "build");
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output())
        .contains("kiln:   [1/2] Kiln")
        .contains("kiln:   [2/2] kiln-model")
        .contains("downloading dependencies")
        .contains("100 files downloaded")
        .contains("target/build.log")
        .doesNotContain("WARNING")
        .doesNotContain("\u001b")
        .doesNotContain("Downloading from");
    assertThat(Files.readString(dir.resolve("target/build.log"))).contains("Downloading from");
    String mvn = Files.readString(dir.resolve("mvn-args"));
    assertThat(mvn.split(" "))
        .contains("package", "-B", "-Dstyle.color=never")
        .doesNotContain("install", "-q");
    if (Runtime.version().feature() >= 24) {
      assertThat(Files.readString(dir.resolve("maven-opts")))
          .contains("--sun-misc-unsafe-memory-access=allow");
    }
    // built once: the next run does not build again
    Files.delete(dir.resolve("mvn-args"));
    Tools.Result again = kiln(dir, "build");
    assertThat(again.exit()).isZero();
    assertThat(again.output()).contains("up to date");
    assertThat(dir.resolve("mvn-args")).doesNotExist();
  }

  @Test
  void aFailedBuild_showsMavensErrors_andWhereItsLogIs() throws Exception {
    Path dir =
        project(
            "echo '[INFO] Building kiln-model 0.1.0-SNAPSHOT [1/2]'\n"
                + "echo '[ERROR] /x/Foo.java:[3,1] class, interface, enum, or record expected'\n"
                + "exit 1\n");
    Tools.Result r = kiln(dir, "server");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.output())
        .contains("[ERROR] /x/Foo.java:[3,1] class, interface, enum, or record expected")
        .contains("the build failed")
        .contains(dir.resolve("target/build.log").toString());
  }
}
