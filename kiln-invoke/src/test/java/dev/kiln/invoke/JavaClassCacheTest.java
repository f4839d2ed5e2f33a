package dev.kiln.invoke;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

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
}
