package dev.kiln.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where every process Kiln starts is started: on a fixed set of platform threads that live as long
 * as the JVM.
 *
 * <p>Why threads of their own. On Linux a child's parent-death signal ({@code PR_SET_PDEATHSIG},
 * which bubblewrap's {@code --die-with-parent} sets to SIGKILL) belongs to the <em>thread</em> that
 * forked the child, not to its process: when that thread ends, the child is killed, though the JVM
 * lives on. Kiln's threads end all the time: the carrier of a virtual thread retires after 30 s
 * without work, a cached pool's thread after 60 s. An instance started on one of them was killed
 * that long after its start, or, frozen by then, at its thaw, so that an invocation after half a
 * minute of quiet failed with {@code Runtime.ExitError} "signal: killed". Started here, a process
 * gets its parent-death signal only when the JVM itself ends, which is what {@code
 * --die-with-parent} is for: an instance never outlives a Kiln killed with -9.
 *
 * <p>Why several. A single such thread made every start in the JVM wait for the one before it: in a
 * burst of cold starts, the bubblewrap of each instance, the {@code ip} and {@code mount} calls
 * that make its network and disk, and the spares made in the background all queued behind one
 * another. There are {@link #THREADS} of them (twice the cores, at least 4, at most 16), all made
 * at class load, none ever timing out or shut down (daemons, they end with the JVM), so the rule
 * above holds for every one and starts of different processes overlap up to what the host can do.
 *
 * <p>Only the fork and exec run on a spawner thread ({@link ProcessBuilder#start} returns once the
 * program has been exec'd, a millisecond or two); the caller waits for the process, reads and
 * writes it and kills it from its own thread. Processes that their caller waits for (a {@code
 * mount}, an {@code nft}) could not outlive their thread, but they are started here too, so that
 * there is one rule to keep and a test to keep it ({@code ArchitectureTest}): nothing in Kiln calls
 * {@code ProcessBuilder.start} but this class.
 *
 * <p>Background work at a lower priority. A child inherits the niceness of the thread that forks
 * it, so the processes of work that no caller waits on (spare namespaces and disks made ahead, an
 * ended instance's namespace, disk and cgroup undone) are forked by {@link #BACKGROUND_THREADS}
 * spawner threads of their own that run at niceness {@link #BACKGROUND_NICENESS}: a thread that
 * called {@link #lowerPriorityOfThisThread} (the sandbox driver's background threads do, at their
 * start) starts its processes there. On two cores those processes took the CPU from the instance
 * starting beside them: a Node.js cold start right after another instance's end was 1.30–2.04× of
 * {@code node -e 0} before, 1.15–1.64× after (a Python one, decided by whether a zygote spare is
 * ready, was unchanged within its noise; BENCHMARKS.md).
 *
 * <p>No lock: the executor's queue hands each start to a free thread.
 */
public final class ProcessSpawner {

  /** The name every spawner thread's name starts with. */
  public static final String THREAD_NAME = "kiln-process-spawner";

  /** How many spawner threads there are. */
  public static final int THREADS =
      Math.clamp(2L * Runtime.getRuntime().availableProcessors(), 4, 16);

  /** How many spawner threads start the processes of background work. */
  public static final int BACKGROUND_THREADS =
      Math.clamp(Runtime.getRuntime().availableProcessors(), 2, 8);

  /** The niceness of background work's processes (and of the threads that start them). */
  public static final int BACKGROUND_NICENESS = 10;

  private static final AtomicInteger NUMBER = new AtomicInteger();

  /**
   * Whether this thread's processes are background work; set by {@link #lowerPriorityOfThisThread}.
   */
  private static final ThreadLocal<Boolean> BACKGROUND = ThreadLocal.withInitial(() -> false);

  private static final ExecutorService THREAD_POOL = spawnerThreads(THREADS, "", false);

  private static final ExecutorService BACKGROUND_POOL =
      spawnerThreads(BACKGROUND_THREADS, "background-", true);

  private static ExecutorService spawnerThreads(int threads, String kind, boolean background) {
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(
            threads,
            threads,
            0,
            TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(),
            r ->
                Thread.ofPlatform()
                    .daemon()
                    .name(THREAD_NAME + "-" + kind + NUMBER.incrementAndGet())
                    .unstarted(
                        background
                            ? () -> {
                              renice(BACKGROUND_NICENESS);
                              r.run();
                            }
                            : r));
    // all of them now: none is made later, on demand, by whatever thread happens to submit
    pool.prestartAllCoreThreads();
    return pool;
  }

  /**
   * Lowers the calling thread to {@link #BACKGROUND_NICENESS} and has the processes it starts from
   * now on forked by the background spawner threads, at the same niceness. For threads that do only
   * work no caller waits on.
   */
  public static void lowerPriorityOfThisThread() {
    BACKGROUND.set(true);
    renice(BACKGROUND_NICENESS);
  }

  /**
   * Sets this thread's niceness: Linux keeps one per thread, and {@code renice -p} of a thread id
   * sets that thread's alone. Where there is no {@code renice} or no {@code /proc/thread-self}, the
   * thread keeps its niceness: the work is the same, only sooner.
   */
  private static void renice(int niceness) {
    try {
      String self =
          java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/thread-self"))
              .toString();
      String tid = self.substring(self.lastIndexOf('/') + 1);
      Process p =
          new ProcessBuilder("renice", "-n", Integer.toString(niceness), "-p", tid)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      p.waitFor(10, TimeUnit.SECONDS);
    } catch (IOException | UnsupportedOperationException e) {
      // no renice here, or not Linux: the thread keeps its niceness
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private ProcessSpawner() {}

  /**
   * Starts {@code builder}'s process on a spawner thread and returns it, or fails as {@link
   * ProcessBuilder#start} would. An interrupt does not abandon a start under way (the process would
   * be left with no owner): the call returns the process and leaves the interrupt flag set.
   */
  public static Process start(ProcessBuilder builder) throws IOException {
    Future<Process> started =
        (BACKGROUND.get() ? BACKGROUND_POOL : THREAD_POOL)
            .submit(
                () -> {
                  try {
                    return builder.start();
                  } catch (IOException e) {
                    throw new UncheckedIOException(e);
                  }
                });
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return started.get();
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          Throwable cause = e.getCause();
          if (cause instanceof UncheckedIOException io) {
            // the caller's stack, and the start's as the cause
            throw new IOException(io.getCause().getMessage(), io.getCause());
          }
          if (cause instanceof RuntimeException r) {
            throw r;
          }
          if (cause instanceof Error err) {
            throw err;
          }
          throw new IllegalStateException(cause);
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
