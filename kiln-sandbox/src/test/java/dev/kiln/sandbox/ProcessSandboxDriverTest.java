package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ProcessSandboxDriverTest {

  final ProcessSandboxDriver driver = new ProcessSandboxDriver();

  SandboxSpec spec(Path dir, String script) throws Exception {
    return new SandboxSpec(
        "i1",
        List.of("/bin/sh", "-c", script),
        Map.of("GREETING", "hi"),
        Files.createDirectories(dir.resolve("task")),
        dir,
        Files.createDirectories(dir.resolve("instance")),
        128,
        512,
        java.util.Optional.empty(),
        java.util.Optional.empty(),
        false,
        java.util.Optional.empty());
  }

  @Test
  void start_runsWithTheGivenEnvironmentAPrivateTmpdirAndOutputInAFile() throws Exception {
    Path dir = Files.createTempDirectory("kiln-sandbox-");
    Sandbox s = driver.start(spec(dir, "echo $GREETING $TMPDIR; pwd; exit 3"));
    ExitStatus exit = s.onExit().get(10, TimeUnit.SECONDS);
    assertThat(exit.describe()).isEqualTo("exit status 3");
    assertThat(Files.readString(s.outputFile()))
        .isEqualTo("hi " + dir.resolve("instance/tmp") + "\n" + dir.resolve("task") + "\n");
  }

  @Test
  void kill_takesTheWholeProcessTree() throws Exception {
    Path dir = Files.createTempDirectory("kiln-sandbox-");
    Sandbox s = driver.start(spec(dir, "sleep 600 & echo $!; wait"));
    long child = -1;
    for (int i = 0; i < 100 && child < 0; i++) {
      String out = Files.readString(s.outputFile()).trim();
      if (!out.isEmpty()) {
        child = Long.parseLong(out);
      } else {
        Thread.sleep(20);
      }
    }
    ProcessHandle grandchild = ProcessHandle.of(child).orElseThrow();
    s.kill();
    // leaves go first, so the shell may see its child die and exit on its own before its own
    // SIGKILL lands: either way, the whole tree is gone
    s.onExit().get(10, TimeUnit.SECONDS);
    grandchild.onExit().get(10, TimeUnit.SECONDS);
    assertThat(grandchild.isAlive()).isFalse();
  }

  @Test
  void terminate_givesSigtermFirst() throws Exception {
    Path dir = Files.createTempDirectory("kiln-sandbox-");
    Sandbox s =
        driver.start(spec(dir, "trap 'echo bye; exit 0' TERM; while true; do sleep 0.05; done"));
    Thread.sleep(200);
    s.terminate(Duration.ofSeconds(5));
    assertThat(s.onExit().get(10, TimeUnit.SECONDS).describe()).isEqualTo("exit status 0");
    assertThat(Files.readString(s.outputFile())).contains("bye");
  }

  @Test
  void reapLeftovers_killsInstancesRecordedByAnEarlierKiln() throws Exception {
    Path dir = Files.createTempDirectory("kiln-sandbox-");
    Sandbox s = driver.start(spec(dir, "sleep 600"));
    new ProcessSandboxDriver().reapLeftovers(dir);
    assertThat(s.onExit().get(10, TimeUnit.SECONDS).bySignal()).isTrue();
  }

  @Test
  void exitStatus_wordsSignalsAsLambdaDoes() {
    assertThat(ExitStatus.fromExitValue(137).describe()).isEqualTo("signal: killed");
    assertThat(ExitStatus.fromExitValue(139).describe()).isEqualTo("signal: segmentation fault");
    assertThat(ExitStatus.fromExitValue(1).describe()).isEqualTo("exit status 1");
  }
}
