package dev.kiln.invoke;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.sandbox.ExitStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JavaClassCacheTest {

  /**
   * What a JDK 25 training JVM printed on its way out in a Kiln instance, and a function's line.
   */
  private static final String TRAINING_EXIT =
      """
      bye from the handler's shutdown hook
      Temporary AOTConfiguration recorded: /tmp/.kiln-app.aot.config
      Launching child process /usr/lib/jvm/temurin-25-jdk-amd64/bin/java to assemble AOT cache \
      /tmp/.kiln-app.aot using configuration /tmp/.kiln-app.aot.config
      Picked up JAVA_TOOL_OPTIONS: -Djava.class.path=/var/runtime/lib/x.jar -XX:AOTCacheOutput=\
      /tmp/.kiln-app.aot -XX:AOTConfiguration=/tmp/.kiln-app.aot.config -XX:AOTMode=create
      Reading AOTConfiguration /tmp/.kiln-app.aot.config and writing AOTCache /tmp/.kiln-app.aot
      AOTCache creation is complete: /tmp/.kiln-app.aot 23797760 bytes
      Removed temporary AOT configuration file /tmp/.kiln-app.aot.config
      """;

  @Test
  void theTrainingReportIsLeftOut_theFunctionsOwnLinesKept() {
    assertThat(JavaClassCache.withoutTrainingReport(TRAINING_EXIT))
        .isEqualTo("bye from the handler's shutdown hook\n");
  }

  @Test
  void outputWithoutATrainingReportIsUnchanged() {
    String output = "line one\nAOTCache is a word a function may print too\nno newline at the end";
    assertThat(JavaClassCache.withoutTrainingReport(output)).isEqualTo(output);
  }

  /**
   * Two instances (of two servers on one data directory, say) that finish training at once leave
   * one whole, read-only cache and no partial file.
   */
  @Test
  void twoTrainingsFinishingAtOnce_leaveOneWholeReadOnlyCache(@TempDir Path root) throws Exception {
    Path dir = Files.createDirectories(root.resolve("key"));
    JavaClassCache cache = new JavaClassCache(root);
    JavaClassCache.Plan plan = new JavaClassCache.Plan("key", dir, true, true);
    byte[] made = new byte[1 << 20];
    java.util.Arrays.fill(made, (byte) 7);
    Path tmpA = Files.createDirectories(root.resolve("a"));
    Path tmpB = Files.createDirectories(root.resolve("b"));
    Files.write(tmpA.resolve(JavaClassCache.AOT_IN_TMP), made);
    Files.write(tmpB.resolve(JavaClassCache.AOT_IN_TMP), made);
    ExitStatus sigterm = new ExitStatus(143, 15, false);
    CompletableFuture<Void> a =
        CompletableFuture.runAsync(() -> cache.finished(plan, sigterm, Optional.of(tmpA)));
    CompletableFuture<Void> b =
        CompletableFuture.runAsync(() -> cache.finished(plan, sigterm, Optional.of(tmpB)));
    CompletableFuture.allOf(a, b).get();

    Path aot = dir.resolve(JavaClassCache.AOT_CACHE);
    assertThat(Files.readAllBytes(aot)).isEqualTo(made);
    assertThat(Files.getPosixFilePermissions(aot)).doesNotContain(PosixFilePermission.OWNER_WRITE);
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("app.aot");
    }
    assertThat(plan.cacheToUse()).contains(aot);
  }

  /** A training instance that ran and left nothing marks the version for the CDS archive. */
  @Test
  void aTrainingThatLeftNoCache_marksTheVersion(@TempDir Path root) throws Exception {
    Path dir = Files.createDirectories(root.resolve("key"));
    Path tmp = Files.createDirectories(root.resolve("tmp"));
    new JavaClassCache(root)
        .finished(
            new JavaClassCache.Plan("key", dir, true, true),
            new ExitStatus(137, 9, false),
            Optional.of(tmp));
    assertThat(dir.resolve("aot-failed")).isRegularFile();
    assertThat(dir.resolve(JavaClassCache.AOT_CACHE)).doesNotExist();
  }
}
