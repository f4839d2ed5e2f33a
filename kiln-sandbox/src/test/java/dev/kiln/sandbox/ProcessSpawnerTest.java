package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A process that asks to die with its parent, as bubblewrap's {@code --die-with-parent} does, dies
 * with the <em>thread</em> that started it: started through the spawner, it outlives that thread.
 */
class ProcessSpawnerTest {

  /** Sleeps, to be killed when its parent thread ends (setpriv sets the parent-death signal). */
  static ProcessBuilder diesWithParent() {
    String setpriv = ProcessTrees.executable("setpriv").orElse(null);
    assumeTrue(setpriv != null, "setpriv (util-linux) is not installed");
    return new ProcessBuilder(setpriv, "--pdeathsig", "KILL", "--", "sleep", "60");
  }

  /**
   * Starts a process from a thread of its own, which waits until the parent-death signal is set
   * (setpriv has become sleep) and then ends.
   */
  static Process startFromAThreadThatEnds(Thread.Builder thread, boolean throughSpawner)
      throws Exception {
    ProcessBuilder builder = diesWithParent();
    CompletableFuture<Process> started = new CompletableFuture<>();
    thread
        .start(
            () -> {
              try {
                Process p = throughSpawner ? ProcessSpawner.start(builder) : builder.start();
                Path comm = Path.of("/proc", Long.toString(p.pid()), "comm");
                while (p.isAlive() && !Files.readString(comm).trim().equals("sleep")) {
                  Thread.sleep(5);
                }
                started.complete(p);
              } catch (Exception e) {
                started.completeExceptionally(e);
              }
            })
        .join();
    return started.get();
  }

  @Test
  void aProcessStartedFromAPlatformThreadThatEnds_livesOn() throws Exception {
    Process p = startFromAThreadThatEnds(Thread.ofPlatform(), true);
    try {
      assertThat(p.waitFor(1, TimeUnit.SECONDS)).as("killed when its thread ended").isFalse();
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void aProcessStartedFromAVirtualThread_livesOn() throws Exception {
    Process p = startFromAThreadThatEnds(Thread.ofVirtual(), true);
    try {
      assertThat(p.waitFor(1, TimeUnit.SECONDS)).as("killed when its thread ended").isFalse();
    } finally {
      p.destroyForcibly();
    }
  }

  /** What the spawner is for: started directly, the same process dies with its thread. */
  @Test
  void started_withoutTheSpawner_theProcessDiesWithItsThread() throws Exception {
    Process p = startFromAThreadThatEnds(Thread.ofPlatform(), false);
    try {
      assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as("SIGKILL").isEqualTo(137);
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void backgroundWork_startsItsProcessesAtALowerPriority_andOtherWorkDoesNot() throws Exception {
    assumeTrue(
        ProcessTrees.executable("renice").isPresent(), "renice (util-linux) is not installed");
    int own = niceness(ProcessHandle.current().pid());
    CompletableFuture<Process> background = new CompletableFuture<>();
    Thread.ofPlatform()
        .start(
            () -> {
              try {
                ProcessSpawner.lowerPriorityOfThisThread();
                background.complete(ProcessSpawner.start(new ProcessBuilder("sleep", "30")));
              } catch (Exception e) {
                background.completeExceptionally(e);
              }
            })
        .join();
    Process low = background.get();
    Process normal = ProcessSpawner.start(new ProcessBuilder("sleep", "30"));
    try {
      assertThat(niceness(low.pid()))
          .as("a spare made ahead or an instance undone waits behind the starts")
          .isEqualTo(Math.min(19, own + ProcessSpawner.BACKGROUND_NICENESS));
      assertThat(niceness(normal.pid())).as("a start keeps the JVM's priority").isEqualTo(own);
    } finally {
      low.destroyForcibly();
      normal.destroyForcibly();
    }
  }

  /** Field 19 of {@code /proc/<pid>/stat}, after the command's parenthesis. */
  private static int niceness(long pid) throws Exception {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Integer.parseInt(fields[16]);
  }

  @Test
  void aProgramThatCannotStart_failsAsProcessBuilderWould() {
    var failure =
        org.assertj.core.api.Assertions.catchThrowable(
            () -> ProcessSpawner.start(new ProcessBuilder(List.of("/nonexistent/program"))));
    assertThat(failure)
        .isInstanceOf(java.io.IOException.class)
        .hasMessageContaining("/nonexistent/program");
  }

  @Test
  void anInterruptedCaller_stillGetsItsProcess_andKeepsTheInterrupt() throws Exception {
    Thread.currentThread().interrupt();
    Process p = ProcessSpawner.start(new ProcessBuilder("true"));
    assertThat(Thread.interrupted()).isTrue();
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
  }

  /**
   * One start that cannot finish (its standard input is a FIFO with no writer yet, which the JVM
   * opens before it forks) does not hold up the start of another process: starts run side by side.
   */
  @Test
  @org.junit.jupiter.api.Timeout(120) // a lone spawner thread would hang here: fail instead
  void aStartThatBlocks_doesNotHoldUpAnother() throws Exception {
    Path dir = Files.createTempDirectory("kiln-spawner-test");
    Path fifo = dir.resolve("stdin");
    Process mkfifo = ProcessSpawner.start(new ProcessBuilder("mkfifo", fifo.toString()));
    assertThat(mkfifo.waitFor()).isZero();
    CompletableFuture<Process> blocked =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return ProcessSpawner.start(new ProcessBuilder("cat").redirectInput(fifo.toFile()));
              } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
    try {
      // the spawner thread of the first start is stuck opening the FIFO for as long as we like
      Process other = ProcessSpawner.start(new ProcessBuilder("true"));
      assertThat(other.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(blocked).isNotDone();
    } finally {
      // a writer: the first start goes on, and cat ends at the end of its input
      try (var writer = Files.newOutputStream(fifo)) {
        writer.write('\n');
      }
      Process cat = blocked.get(30, TimeUnit.SECONDS);
      cat.waitFor(30, TimeUnit.SECONDS);
      Files.deleteIfExists(fifo);
      Files.deleteIfExists(dir);
    }
  }
}
