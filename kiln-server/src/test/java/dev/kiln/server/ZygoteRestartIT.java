package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;

/**
 * A Python zygote killed with SIGKILL is replaced and reported (a log line, {@code
 * kiln_zygote_restarts_total}), and the next cold start is forked from its successor.
 */
class ZygoteRestartIT {

  @Test
  void aKilledZygote_isReplacedAndCounted_andTheNextColdStartWorks() throws Exception {
    requireRootSandbox();
    try (KilnFixture kiln =
        new KilnFixture(Duration.ofMinutes(5), ServerSettings.SandboxChoice.LINUX, true)) {
      kiln.python("first", "import os\ndef handler(event, context):\n    return os.getuid()\n");
      assertThat(invoke(kiln, "first")).isEqualTo("993");
      List<ProcessHandle> zygotes = zygotesOf(kiln);
      assertThat(zygotes).hasSize(1);
      assertThat(MetricsIT.value(MetricsIT.scrape(kiln), "kiln_zygote_restarts_total"))
          .isEqualTo(0.0);

      zygotes.get(0).destroyForcibly();

      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                String scrape = MetricsIT.scrape(kiln);
                assertThat(MetricsIT.value(scrape, "kiln_zygote_restarts_total")).isEqualTo(1.0);
                assertThat(MetricsIT.value(scrape, "kiln_zygotes")).isEqualTo(1.0);
              });
      List<ProcessHandle> replaced = zygotesOf(kiln);
      assertThat(replaced).hasSize(1);
      assertThat(replaced.get(0).pid()).isNotEqualTo(zygotes.get(0).pid());
      // a new function: a cold start, forked from the new zygote
      kiln.python("second", "import os\ndef handler(event, context):\n    return os.getuid()\n");
      assertThat(invoke(kiln, "second")).isEqualTo("993");
    }
  }

  /**
   * The zygote keeps an instance forked ahead of need (a spare, counted in {@code
   * kiln_zygote_spares}); a spare that is killed is replaced, cold starts still work, and more
   * starts keep more spares.
   */
  @Test
  void aKilledSpare_isReplaced_andColdStartsGoOn() throws Exception {
    requireRootSandbox();
    try (KilnFixture kiln =
        new KilnFixture(Duration.ofMinutes(5), ServerSettings.SandboxChoice.LINUX, true)) {
      kiln.python("first", "import os\ndef handler(event, context):\n    return os.getuid()\n");
      assertThat(invoke(kiln, "first")).isEqualTo("993");
      ProcessHandle zygote = zygotesOf(kiln).get(0);
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> MetricsIT.value(MetricsIT.scrape(kiln), "kiln_zygote_spares") >= 1.0);
      // the running instance's init is the zygote's child too: kill every child but the oldest
      List<ProcessHandle> children =
          zygote.children().sorted(java.util.Comparator.comparingLong(ProcessHandle::pid)).toList();
      assertThat(children).hasSizeGreaterThanOrEqualTo(2);
      children.subList(1, children.size()).forEach(ProcessHandle::destroyForcibly);
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> MetricsIT.value(MetricsIT.scrape(kiln), "kiln_zygote_spares") >= 1.0);
      assertThat(zygote.isAlive()).isTrue();
      for (String name : List.of("second", "third", "fourth")) {
        kiln.python(name, "import os\ndef handler(event, context):\n    return os.getuid()\n");
        assertThat(invoke(kiln, name)).isEqualTo("993");
      }
      // four starts in the last 10 s: the zygote keeps more than one spare now
      Awaitility.await()
          .atMost(Duration.ofSeconds(8))
          .until(() -> MetricsIT.value(MetricsIT.scrape(kiln), "kiln_zygote_spares") >= 2.0);
      assertThat(MetricsIT.value(MetricsIT.scrape(kiln), "kiln_zygote_restarts_total"))
          .isEqualTo(0.0);
    }
  }

  /** Zygotes need the Linux sandbox as root; CI has both. */
  private static void requireRootSandbox() {
    boolean root = ProcessHandle.current().info().user().map("root"::equals).orElse(false);
    if (!root || Tools.find("bwrap").isEmpty()) {
      if (Boolean.getBoolean("kiln.requireTools")) {
        throw new AssertionError("CI runs as root with bubblewrap installed; here root=" + root);
      }
      Assumptions.abort("zygotes need the Linux sandbox as root");
    }
  }

  private static String invoke(KilnFixture kiln, String function) {
    InvokeResponse r =
        kiln.lambda.invoke(b -> b.functionName(function).payload(SdkBytes.fromUtf8String("{}")));
    assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
    return r.payload().asUtf8String();
  }

  /**
   * The zygote processes of this server: children of Kiln (instances forked from them are theirs)
   * whose socket is under its data directory.
   */
  private static List<ProcessHandle> zygotesOf(KilnFixture kiln) {
    String dir = kiln.dataDir.toString();
    return ProcessHandle.current()
        .children()
        .filter(
            p -> {
              try {
                String cmdline =
                    Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline"));
                return cmdline.contains("zygote.py") && cmdline.contains(dir);
              } catch (java.io.IOException e) {
                return false;
              }
            })
        .toList();
  }
}
