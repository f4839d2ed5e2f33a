package dev.kiln.invoke;

import dev.kiln.model.LambdaError;
import java.util.HashMap;
import java.util.Map;

/**
 * The account's concurrency: how many invocations may run at once, and who may use them.
 *
 * <p>As on Lambda, the account has a limit (1000 unless the operator raises or lowers it: the
 * "limit increase"). A function with reserved concurrency has that many for itself alone, carved
 * out of the account's pool, and never more; every other function shares what is left (the
 * unreserved pool), first come first served. An invocation that finds no room is throttled at once
 * with 429 {@code TooManyRequestsException} and the reason, before any instance is started.
 *
 * <p>The numbers are counted here, under one lock: an admission is a few arithmetic operations, so
 * the lock is never held for long, and the counts can never drift from the permits handed out.
 */
public final class ConcurrencyBudget {

  /** How long a throttled caller is told to wait before it tries again, in seconds. */
  static final String RETRY_AFTER_SECONDS = "1";

  private final int accountLimit;
  private final Map<String, Integer> reserved = new HashMap<>();
  private final Map<String, Integer> running = new HashMap<>();
  private int reservedTotal;
  private int unreservedRunning;

  public ConcurrencyBudget(int accountLimit, Map<String, Integer> reserved) {
    if (accountLimit < 1) {
      throw new IllegalArgumentException("the concurrency limit must be at least 1");
    }
    this.accountLimit = accountLimit;
    reserved.forEach(this::reserve);
  }

  /** The least that must stay unreserved: AWS's 100, or a tenth of a limit below 1000. */
  public int minimumUnreserved() {
    return Math.min(100, accountLimit / 10);
  }

  public int accountLimit() {
    return accountLimit;
  }

  public synchronized int unreserved() {
    return accountLimit - reservedTotal;
  }

  /** Reserved concurrency of every function that has some. */
  public synchronized Map<String, Integer> reservations() {
    return Map.copyOf(reserved);
  }

  /** Gives {@code function} its own {@code count}; the caller checked that it fits. */
  public synchronized void reserve(String function, int count) {
    Integer before = reserved.put(function, count);
    reservedTotal += count - (before == null ? 0 : before);
  }

  /** Returns {@code function} to the unreserved pool. */
  public synchronized void unreserve(String function) {
    Integer before = reserved.remove(function);
    if (before != null) {
      reservedTotal -= before;
    }
  }

  /** What the unreserved pool would be if {@code function} reserved {@code count}. */
  public synchronized int unreservedIf(String function, int count) {
    return accountLimit - reservedTotal + reserved.getOrDefault(function, 0) - count;
  }

  /**
   * Room for one invocation of {@code function}, or 429 if there is none. Close the permit when the
   * invocation ends.
   */
  public synchronized Permit admit(String function) {
    Integer own = reserved.get(function);
    int now = running.getOrDefault(function, 0);
    if (own != null) {
      if (now >= own) {
        throw throttled("ReservedFunctionConcurrentInvocationLimitExceeded");
      }
    } else if (unreservedRunning >= accountLimit - reservedTotal) {
      throw throttled("ConcurrentInvocationLimitExceeded");
    } else {
      unreservedRunning++;
    }
    running.put(function, now + 1);
    return new Permit(function, own == null);
  }

  private static LambdaError throttled(String reason) {
    return LambdaError.tooManyRequests("Rate Exceeded.", reason, RETRY_AFTER_SECONDS);
  }

  private synchronized void release(Permit permit) {
    running.merge(permit.function, -1, Integer::sum);
    if (running.get(permit.function) <= 0) {
      running.remove(permit.function);
    }
    if (permit.unreserved) {
      unreservedRunning--;
    }
  }

  /** Invocations of {@code function} running now. */
  public synchronized int running(String function) {
    return running.getOrDefault(function, 0);
  }

  /** One admitted invocation; closing it gives its room back. */
  public final class Permit implements AutoCloseable {
    private final String function;
    private final boolean unreserved;
    private boolean closed;

    private Permit(String function, boolean unreserved) {
      this.function = function;
      this.unreserved = unreserved;
    }

    @Override
    public void close() {
      synchronized (ConcurrencyBudget.this) {
        if (!closed) {
          closed = true;
          release(this);
        }
      }
    }
  }
}
