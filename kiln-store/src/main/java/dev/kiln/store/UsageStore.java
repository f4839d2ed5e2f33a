package dev.kiln.store;

import java.util.List;
import java.util.Optional;

/**
 * Metered use, kept per function and hour: requests; billed duration times memory, and the part of
 * it that ran on provisioned instances; provisioned concurrency kept (instances times memory times
 * time); and ephemeral storage above 512 MB times billed duration. All in milliseconds times
 * megabytes, from which GB-seconds follow. Only ever added to: written in batches by the metering
 * writer, read by the usage report. Implementations: {@link SqliteUsageStore}.
 */
public interface UsageStore extends AutoCloseable {

  /** One function's use over a period. */
  record Usage(
      String function,
      long requests,
      long mbMs,
      long provisionedDurationMbMs,
      long provisionedMbMs,
      long storageMbMs) {

    /** GB-seconds of duration, as AWS bills them: billed seconds times memory in GB (1024 MB). */
    public double gbSeconds() {
      return gbSeconds(mbMs);
    }

    /** The part of {@link #gbSeconds} that ran on provisioned instances. */
    public double provisionedDurationGbSeconds() {
      return gbSeconds(provisionedDurationMbMs);
    }

    /** GB-seconds of provisioned concurrency kept, used or not. */
    public double provisionedGbSeconds() {
      return gbSeconds(provisionedMbMs);
    }

    /** GB-seconds of ephemeral storage above the free 512 MB. */
    public double storageGbSeconds() {
      return gbSeconds(storageMbMs);
    }

    private static double gbSeconds(long mbMs) {
      return mbMs / 1000.0 / 1024.0;
    }
  }

  /** What to add to an hour of one function. */
  record Increment(
      String function,
      long hour,
      long requests,
      long mbMs,
      long provisionedDurationMbMs,
      long provisionedMbMs,
      long storageMbMs) {}

  /**
   * Adds each increment to its function's hour, in one transaction (increments for the same
   * function and hour add up).
   */
  void add(List<Increment> increments);

  /**
   * Use per function over the hours starting in {@code [from, to)} (epoch milliseconds), of one
   * function or of all, by function name; functions without use in the period are left out.
   */
  List<Usage> usage(long from, long to, Optional<String> function);

  /** Answers at once when the store can be read; throws when it cannot (a health check). */
  void check();

  @Override
  void close();
}
