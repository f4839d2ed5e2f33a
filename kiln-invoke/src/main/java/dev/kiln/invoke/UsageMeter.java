package dev.kiln.invoke;

import dev.kiln.store.SqliteUsageStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Metering: every invocation's billed duration (rounded up to the millisecond, as the REPORT line
 * says) times its memory, and one request, added up per function and hour in memory and written to
 * the usage store every few seconds and at shutdown. An invocation pays two adds; a crash of Kiln
 * loses at most the last few seconds of use.
 */
public final class UsageMeter implements AutoCloseable {

  public static final UsageMeter NONE = new UsageMeter(null);

  private static final Logger LOG = LoggerFactory.getLogger(UsageMeter.class);
  private static final Duration FLUSH_EVERY = Duration.ofSeconds(2);
  private static final long HOUR = Duration.ofHours(1).toMillis();

  private record Key(String function, long hour) {}

  private record Tally(LongAdder requests, LongAdder mbMs) {}

  private final SqliteUsageStore store;
  private final ConcurrentHashMap<Key, Tally> pending = new ConcurrentHashMap<>();
  private final Thread flusher;
  private volatile boolean closing;

  public UsageMeter(SqliteUsageStore store) {
    this.store = store;
    this.flusher =
        store == null ? null : Thread.ofPlatform().name("kiln-usage").daemon().start(this::run);
  }

  /** One invocation of {@code function}, billed {@code billedMs} at {@code memoryMb}. */
  void record(String function, long endedAtMillis, long billedMs, int memoryMb) {
    if (store == null) {
      return;
    }
    Tally t =
        pending.computeIfAbsent(
            new Key(function, endedAtMillis - endedAtMillis % HOUR),
            k -> new Tally(new LongAdder(), new LongAdder()));
    t.requests().increment();
    t.mbMs().add(billedMs * memoryMb);
  }

  private void run() {
    while (!closing) {
      try {
        Thread.sleep(FLUSH_EVERY);
      } catch (InterruptedException e) {
        return;
      }
      flush();
    }
  }

  /** Writes what was counted since the last flush. */
  public synchronized void flush() {
    if (store == null) {
      return;
    }
    List<SqliteUsageStore.Increment> out = new ArrayList<>();
    for (Map.Entry<Key, Tally> e : pending.entrySet()) {
      long requests = e.getValue().requests().sumThenReset();
      long mbMs = e.getValue().mbMs().sumThenReset();
      if (requests > 0 || mbMs > 0) {
        out.add(
            new SqliteUsageStore.Increment(
                e.getKey().function(), e.getKey().hour(), requests, mbMs));
      }
    }
    try {
      store.add(out);
    } catch (RuntimeException e) {
      LOG.error("cannot record usage", e);
    }
  }

  @Override
  public void close() {
    closing = true;
    if (flusher != null) {
      flusher.interrupt();
      try {
        flusher.join(Duration.ofSeconds(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    flush();
  }
}
