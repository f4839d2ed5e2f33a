package dev.kiln.esm;

import java.time.Duration;

/**
 * How long a poller waits before trying again: after a failed batch (doubling from {@code first} up
 * to {@code max} with each attempt), after a throttled one, and after its source could not be
 * reached.
 */
public record RetryTiming(Duration first, Duration max) {

  /** As Lambda roughly does: one second, doubling, at most a minute. */
  public static final RetryTiming DEFAULT =
      new RetryTiming(Duration.ofSeconds(1), Duration.ofMinutes(1));

  /** The wait before attempt {@code attempt + 1}, for {@code attempt} failures so far (≥ 1). */
  public Duration after(int attempt) {
    long millis = first.toMillis();
    for (int i = 1; i < attempt && millis < max.toMillis(); i++) {
      millis *= 2;
    }
    return Duration.ofMillis(Math.min(millis, max.toMillis()));
  }
}
