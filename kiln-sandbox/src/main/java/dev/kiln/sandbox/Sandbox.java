package dev.kiln.sandbox;

import java.io.InputStream;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** A running instance's process tree. */
public interface Sandbox {

  long pid();

  /** The tree's stdout and stderr, merged, as the function's log. */
  InputStream output();

  /** Completes when the instance's main process has exited. */
  CompletableFuture<ExitStatus> onExit();

  /** Every live process of the tree, for checks of who is calling. */
  Set<Long> pids();

  /** Peak resident memory of the tree so far, in bytes, or 0 when it cannot be measured. */
  long maxMemoryUsedBytes();

  /** SIGKILL to the whole tree, now. */
  void kill();

  /** SIGTERM to the whole tree; SIGKILL to whatever is left after {@code grace}. */
  void terminate(Duration grace);
}
