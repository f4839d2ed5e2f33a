package dev.kiln.invoke;

import dev.kiln.model.LambdaError;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;

/**
 * What every new instance must pass before it starts: the function's scale-out rate, and room on
 * the host.
 *
 * <p><b>Scale-out rate.</b> As on Lambda, a function may add at most a fixed number of instances
 * per 10 seconds (Lambda's is 1000): a token bucket per function, full at start, that refills
 * continuously. A burst beyond it is throttled (429, {@code FunctionInvocationRateLimitExceeded})
 * instead of forking the host to death.
 *
 * <p><b>Host capacity.</b> Each instance reserves its function's {@code MemorySize} of the host's
 * instance memory before it starts, and gives it back when its processes are gone, so Kiln never
 * overcommits the machine. A start that does not fit waits a bounded time for an instance to end,
 * then is throttled.
 */
public final class ScaleGate {

  static final Duration RATE_WINDOW = Duration.ofSeconds(10);

  private final int instancesPerWindow;
  private final long capacityMb;
  private final Duration capacityWait;
  private final InstantSource clock;
  private final Map<String, Bucket> buckets = new HashMap<>();
  private long reservedMb;

  private static final class Bucket {
    double tokens;
    long lastNanos;
  }

  /**
   * @param instancesPerWindow new instances a function may start per 10 seconds
   * @param capacityMb memory the host gives to instances, in MB
   * @param capacityWait how long a start may wait for room before it is throttled
   */
  public ScaleGate(
      int instancesPerWindow, long capacityMb, Duration capacityWait, InstantSource clock) {
    if (instancesPerWindow < 1 || capacityMb < 128) {
      throw new IllegalArgumentException("a scale-out rate of at least 1 and 128 MB are needed");
    }
    this.instancesPerWindow = instancesPerWindow;
    this.capacityMb = capacityMb;
    this.capacityWait = capacityWait;
    this.clock = clock;
  }

  /** No limit to speak of: for tests of other things. */
  public static ScaleGate unlimited(InstantSource clock) {
    return new ScaleGate(1_000_000, Long.MAX_VALUE / 2, Duration.ZERO, clock);
  }

  public long capacityMb() {
    return capacityMb;
  }

  public synchronized long reservedMb() {
    return reservedMb;
  }

  /**
   * Takes a start token of {@code function} and reserves {@code memoryMb}; throws 429 when either
   * cannot be had. {@link #release} the memory when the instance is gone.
   */
  public void admit(String function, int memoryMb) {
    synchronized (this) {
      takeToken(function);
    }
    long deadline = System.nanoTime() + capacityWait.toNanos();
    synchronized (this) {
      while (reservedMb + memoryMb > capacityMb) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw LambdaError.tooManyRequests(
              "Rate Exceeded. Kiln's host has no memory left for another "
                  + memoryMb
                  + " MB instance ("
                  + reservedMb
                  + " of "
                  + capacityMb
                  + " MB are held by running instances).",
              "ConcurrentInvocationLimitExceeded");
        }
        try {
          wait(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw LambdaError.unavailable("interrupted while waiting for room on the host");
        }
      }
      reservedMb += memoryMb;
    }
  }

  /** Gives back what an instance reserved. */
  public synchronized void release(int memoryMb) {
    reservedMb -= memoryMb;
    notifyAll();
  }

  private void takeToken(String function) {
    long now = clock.millis() * 1_000_000;
    Bucket b =
        buckets.computeIfAbsent(
            function,
            f -> {
              Bucket fresh = new Bucket();
              fresh.tokens = instancesPerWindow;
              fresh.lastNanos = now;
              return fresh;
            });
    double refill = (double) (now - b.lastNanos) / RATE_WINDOW.toNanos() * instancesPerWindow;
    b.tokens = Math.min(instancesPerWindow, b.tokens + refill);
    b.lastNanos = now;
    if (b.tokens < 1) {
      throw LambdaError.tooManyRequests(
          "Rate Exceeded. Function "
              + function
              + " may start at most "
              + instancesPerWindow
              + " new instances per 10 seconds.",
          "FunctionInvocationRateLimitExceeded");
    }
    b.tokens -= 1;
  }
}
