package dev.kiln.invoke;

import dev.kiln.store.LogStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes invocation logs to the {@link LogStore} from a background thread, in batches, so that an
 * invocation only hands its lines over; and keeps the store within its retention and size. The
 * server-wide retention bounds every group; a group's own retention (PutRetentionPolicy) can only
 * make its events go sooner.
 *
 * <p>The hand-over queue is bounded: if the store falls behind by more than {@link #CAPACITY}
 * lines, new lines are dropped and counted (a warning says how many), rather than slowing
 * invocations down or growing without limit.
 */
public final class BufferedLogWriter implements FunctionLogs, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(BufferedLogWriter.class);
  static final int CAPACITY = 100_000;
  private static final int BATCH = 2_000;
  private static final Duration PRUNE_EVERY = Duration.ofMinutes(5);

  private final LogStore store;
  private final Duration retention;
  private final long maxBytes;
  private final BlockingQueue<LogStore.Event> queue = new ArrayBlockingQueue<>(CAPACITY);
  private final AtomicLong dropped = new AtomicLong();
  private final Thread writer;
  private volatile boolean closing;

  /**
   * @param retention how long events are kept at most, whatever their group's retention
   * @param maxBytes how many bytes of messages are kept at most, the oldest going first
   */
  public BufferedLogWriter(LogStore store, Duration retention, long maxBytes) {
    this.store = store;
    this.retention = retention;
    this.maxBytes = maxBytes;
    this.writer = Thread.ofPlatform().name("kiln-log-writer").daemon().start(this::run);
  }

  @Override
  public void record(String group, String stream, long timestamp, String text) {
    for (String line : text.split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      if (!queue.offer(new LogStore.Event(group, stream, timestamp, line))) {
        dropped.incrementAndGet();
      }
    }
  }

  private void run() {
    long nextPrune = 0;
    List<LogStore.Event> batch = new ArrayList<>(BATCH);
    while (!closing || !queue.isEmpty()) {
      try {
        LogStore.Event first = queue.poll(200, TimeUnit.MILLISECONDS);
        if (first != null) {
          batch.add(first);
          queue.drainTo(batch, BATCH - 1);
          store.append(batch);
          batch.clear();
        }
        long lost = dropped.getAndSet(0);
        if (lost > 0) {
          LOG.warn("dropped {} log lines: the log store fell behind", lost);
        }
        if (System.currentTimeMillis() >= nextPrune) {
          store.prune(System.currentTimeMillis(), retention, maxBytes);
          nextPrune = System.currentTimeMillis() + PRUNE_EVERY.toMillis();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        LOG.error("cannot write function logs", e);
        batch.clear();
      }
    }
  }

  /** Writes what is queued, then stops. */
  @Override
  public void close() {
    closing = true;
    try {
      writer.join(Duration.ofSeconds(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
