package dev.kiln.sandbox;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** A running instance's process tree. */
public interface Sandbox {

  long pid();

  /**
   * The file the tree's stdout and stderr go to, merged and appended, as the function's log. A file
   * rather than a pipe: its size says exactly how much the function has written, so the output of
   * an invocation can be cut off precisely when the runtime answers, with no reader thread per
   * instance.
   */
  Path outputFile();

  /** Completes when the instance's main process has exited. */
  CompletableFuture<ExitStatus> onExit();

  /** Every live process of the tree, for checks of who is calling. */
  Set<Long> pids();

  /**
   * How long each part of this sandbox's start took, in the order they ran ({@code cgroup}, {@code
   * tmp_disk}, {@code spawn}: the launcher's fork and exec until the process runs); empty for a
   * driver that does not time its parts. The cold start's phase-by-phase breakdown (issue 23).
   */
  default java.util.Map<String, Duration> startPhases() {
    return java.util.Map.of();
  }

  /** Peak resident memory of the tree so far, in bytes, or 0 when it cannot be measured. */
  long maxMemoryUsedBytes();

  /**
   * Deletes the instance's directory (its {@code /tmp}, output file and records) as soon as the
   * process tree has exited. Call once the instance is done with, after its last log was read.
   */
  void removeFiles();

  /**
   * The runtime finished initialising (its first call for an event). From here on it gets only its
   * share of CPU; like Lambda, Kiln lets initialisation run at full speed.
   */
  default void initialised() {}

  /**
   * Freezes every process of the instance (it uses no CPU until thawed), or thaws it; false when
   * this sandbox cannot freeze, in which case an idle instance just waits.
   */
  default boolean freeze(boolean frozen) {
    return false;
  }

  /**
   * The instance's {@code /tmp} as Kiln sees it, while its files are not yet removed; empty when
   * the host cannot see it (a tmpfs inside the sandbox).
   */
  Optional<Path> tmpOnHost();

  /**
   * Lets a command that waits on its standard input go on (one line, then end of file); for a
   * sandbox started {@link SandboxSpec#heldAtStart held}.
   */
  void releaseStart();

  /** SIGKILL to the whole tree, now. */
  void kill();

  /** SIGTERM to the whole tree; SIGKILL to whatever is left after {@code grace}. */
  void terminate(Duration grace);
}
