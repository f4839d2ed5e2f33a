package dev.kiln.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * The load generator: a number of clients, one virtual thread each, calling a target for a fixed
 * duration and recording every call's latency in an HdrHistogram (nanoseconds, three significant
 * digits, so p99.9 of a sub-millisecond call is exact to the microsecond).
 *
 * <p><b>Two loops.</b> A <em>closed loop</em> ({@link #closedLoop}) calls again as soon as the
 * previous answer arrives: it finds how many calls per second a target serves at a given
 * concurrency (the throughput suite) and warms a target up. Its latencies are not a fair
 * distribution, because a slow answer delays the calls that would have come during it, and those
 * calls, which would have waited, are never recorded (Gil Tene's <em>coordinated omission</em>).
 * Latency is therefore measured with an <em>open loop on a fixed schedule</em> ({@link
 * #fixedRate}): client {@code i}'s {@code k}-th call is due at {@code start + offset(i) + k ×
 * interval}, whatever happened to earlier calls, and its latency is counted from when it was
 * <em>due</em>, not from when it was sent. A stall of 50 ms thus shows as the 50 ms the stalled
 * call waited plus the shrinking waits of every call that was due during it, as a user arriving at
 * that rate would see. This was preferred over HdrHistogram's {@code
 * recordValueWithExpectedInterval}, which back-fills synthetic samples after the fact from an
 * assumed interval: the schedule records only calls that really happened, and it offers the same
 * load to Kiln and to its baseline, which the ratios need. The time from sending to the answer (the
 * <em>service time</em>) is recorded too, in a second histogram: where the two differ, the target
 * (or this machine) fell behind the schedule.
 *
 * <p>The rate has to be one the target can sustain, or the response time grows without bound and
 * measures the queue, not the target. The suites choose it from a closed-loop warm-up: an interval
 * of twice the slowest target's mean service time at that concurrency, i.e. about half load, and
 * the same schedule for every target compared in one table.
 *
 * <p>A call that fails (an exception, a non-2xx answer, a function error) is counted and not
 * recorded as a latency; the first failure's message is kept so that a report can say what went
 * wrong.
 */
final class LoadGenerator {

  /** One request to the target: returns when it succeeded, throws when it did not. */
  @FunctionalInterface
  interface Call {
    void call() throws Exception;
  }

  /** What one phase recorded, all clients merged. Latencies in nanoseconds. */
  record Recording(
      Histogram responseTime,
      Histogram serviceTime,
      long calls,
      long errors,
      Duration elapsed,
      int clients,
      long intervalNanos,
      String firstError) {

    double callsPerSecond() {
      return calls / (elapsed.toNanos() / 1e9);
    }

    /** The mean service time in nanoseconds; 0 when nothing succeeded. */
    double meanServiceNanos() {
      return serviceTime.getTotalCount() == 0 ? 0 : serviceTime.getMean();
    }
  }

  private static final long HIGHEST_TRACKABLE_NANOS = TimeUnit.MINUTES.toNanos(10);

  private LoadGenerator() {}

  /** Each client calls again as soon as it is answered, until the duration is over. */
  static Recording closedLoop(Call call, int clients, Duration duration) {
    return run(call, clients, duration, 0);
  }

  /**
   * Each client calls on its own fixed schedule, one call per {@code intervalNanos}, the clients
   * staggered evenly across one interval; latency counts from when a call was due.
   */
  static Recording fixedRate(Call call, int clients, long intervalNanos, Duration duration) {
    if (intervalNanos <= 0) {
      throw new IllegalArgumentException("interval must be positive: " + intervalNanos);
    }
    return run(call, clients, duration, intervalNanos);
  }

  private record ClientTally(
      Histogram responseTime, Histogram serviceTime, long calls, long errors, String firstError) {}

  private static Recording run(Call call, int clients, Duration duration, long intervalNanos) {
    long start = System.nanoTime();
    long end = start + duration.toNanos();
    List<Future<ClientTally>> futures = new ArrayList<>();
    try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < clients; i++) {
        long firstDue = intervalNanos == 0 ? start : start + intervalNanos * i / clients;
        futures.add(executor.submit(() -> client(call, firstDue, end, intervalNanos)));
      }
    }
    long elapsed = System.nanoTime() - start;
    Histogram response = new Histogram(HIGHEST_TRACKABLE_NANOS, 3);
    Histogram service = new Histogram(HIGHEST_TRACKABLE_NANOS, 3);
    long calls = 0;
    long errors = 0;
    String firstError = null;
    for (Future<ClientTally> f : futures) {
      ClientTally tally;
      try {
        tally = f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      } catch (ExecutionException e) {
        throw new IllegalStateException("a load client failed", e.getCause());
      }
      response.add(tally.responseTime());
      service.add(tally.serviceTime());
      calls += tally.calls();
      errors += tally.errors();
      if (firstError == null) {
        firstError = tally.firstError();
      }
    }
    return new Recording(
        response,
        service,
        calls,
        errors,
        Duration.ofNanos(elapsed),
        clients,
        intervalNanos,
        firstError);
  }

  private static ClientTally client(Call call, long firstDue, long end, long intervalNanos) {
    Histogram response = new Histogram(HIGHEST_TRACKABLE_NANOS, 3);
    Histogram service = new Histogram(HIGHEST_TRACKABLE_NANOS, 3);
    long calls = 0;
    long errors = 0;
    String firstError = null;
    long due = firstDue;
    while (true) {
      long now = System.nanoTime();
      if (intervalNanos > 0) {
        if (due >= end) {
          break;
        }
        while (now < due) {
          LockSupport.parkNanos(due - now);
          now = System.nanoTime();
        }
      } else {
        if (now >= end) {
          break;
        }
        due = now;
      }
      long sent = now;
      try {
        call.call();
        long answered = System.nanoTime();
        response.recordValue(Math.min(answered - due, HIGHEST_TRACKABLE_NANOS));
        service.recordValue(Math.min(answered - sent, HIGHEST_TRACKABLE_NANOS));
        calls++;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (Exception e) {
        errors++;
        if (firstError == null) {
          firstError = e.toString();
        }
      }
      due += intervalNanos;
    }
    return new ClientTally(response, service, calls, errors, firstError);
  }
}
