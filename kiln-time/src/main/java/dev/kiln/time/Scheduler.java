package dev.kiln.time;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Runs periodic work for a component (the reaper of idle instances, say), so that the component
 * does not make its own threads and a test can run the work when it chooses instead of switching it
 * off with a flag. Closing the scheduler stops what it runs.
 */
public interface Scheduler extends AutoCloseable {

  /**
   * Runs {@code task} every {@code period}, the first time one period from now; a task that throws
   * is run again at the next period.
   */
  void every(Duration period, Runnable task);

  /** Stops running the tasks; one running now finishes. */
  @Override
  void close();

  /** A scheduler with one daemon thread of its own, named {@code name}. */
  static Scheduler onThread(String name) {
    ScheduledExecutorService executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name(name).unstarted(r));
    return new Scheduler() {
      @Override
      public void every(Duration period, Runnable task) {
        long millis = Math.max(1, period.toMillis());
        executor.scheduleWithFixedDelay(
            () -> {
              try {
                task.run();
              } catch (RuntimeException e) {
                Thread t = Thread.currentThread();
                t.getUncaughtExceptionHandler().uncaughtException(t, e);
              }
            },
            millis,
            millis,
            TimeUnit.MILLISECONDS);
      }

      @Override
      public void close() {
        executor.shutdownNow();
      }
    };
  }
}
