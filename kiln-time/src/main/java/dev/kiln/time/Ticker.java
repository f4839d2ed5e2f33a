package dev.kiln.time;

/**
 * A monotonic clock in nanoseconds, for measuring how long something took and for deadlines that
 * must not jump with the wall clock; {@link java.time.InstantSource} is its wall-clock sibling.
 * Components take one instead of calling {@link System#nanoTime}, so that a test can move time by
 * hand (Caffeine's {@code Ticker} is the model).
 */
@FunctionalInterface
public interface Ticker {

  /** Nanoseconds since an arbitrary origin; only differences between readings mean anything. */
  long read();

  /** {@link System#nanoTime}. */
  static Ticker system() {
    return System::nanoTime;
  }
}
