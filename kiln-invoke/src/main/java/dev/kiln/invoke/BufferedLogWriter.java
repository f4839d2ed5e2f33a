package dev.kiln.invoke;

import dev.kiln.store.LogStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes invocation logs to the {@link LogStore} from a background thread, in batches, so that an
 * invocation only hands its lines over; and keeps the store within its retention and size. The
 * server-wide retention bounds every group; a group's own retention (PutRetentionPolicy) can only
 * make its events go sooner.
 *
 * <p>Lines in this writer's memory die with the process, but they are on disk too, in their
 * instance's output file: a record that carries how far its instance's file has been read ({@link
 * #record(String, String, long, String, String, long)}) has that offset committed in the same
 * transaction as its lines, and a Kiln that was killed ingests the rest of each file at its next
 * start ({@link #ingestLeftover}). Records are queued whole, their offset last, so a batch never
 * commits an offset without the lines before it.
 *
 * <p>The hand-over queue is bounded: if the store falls behind by more than {@link #CAPACITY}
 * lines, new records are dropped whole and counted (a warning says how many lines), rather than
 * slowing invocations down or growing without limit.
 *
 * <p>Threads: the writer's one thread, which alone talks to the store, is made by the {@link
 * java.util.concurrent.ThreadFactory} it is built with ({@link Builder#threads}); by default the
 * builder's platform daemon thread named {@code kiln-log-writer}. Records are handed to it through
 * a concurrent queue, so any thread may record.
 */
public final class BufferedLogWriter implements FunctionLogs, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(BufferedLogWriter.class);
  static final int CAPACITY = 100_000;
  private static final int BATCH = 2_000;
  private static final Duration PRUNE_EVERY = Duration.ofMinutes(5);

  /** How long {@link #sync} waits for the store at most. */
  private static final Duration SYNC_LIMIT = Duration.ofSeconds(10);

  /** What the writer is handed, in order. */
  private sealed interface Entry {}

  /**
   * One record's lines; {@code instance} (or null) has had its output read up to {@code readTo}.
   */
  private record Lines(List<LogStore.Event> events, String instance, long readTo)
      implements Entry {}

  /** Completes once everything queued before it is committed. */
  private record Sync(CompletableFuture<Void> done) implements Entry {}

  /** An instance's output file is gone. */
  private record Forget(String instance) implements Entry {}

  private final LogStore store;
  private final Duration retention;
  private final long maxBytes;
  private final BlockingQueue<Entry> queue = new LinkedBlockingQueue<>();
  private final AtomicInteger queuedLines = new AtomicInteger();
  private final AtomicLong dropped = new AtomicLong();
  private final Thread writer;
  private volatile boolean closing;

  /** The wall clock that retention is pruned by. */
  private final java.time.InstantSource clock;

  /**
   * A writer to {@code store}, which starts writing when built; by default on the system's clock
   * and a thread of the builder's.
   *
   * @param retention how long events are kept at most, whatever their group's retention
   * @param maxBytes how many bytes of messages are kept at most, the oldest going first
   */
  public static Builder builder(LogStore store, Duration retention, long maxBytes) {
    return new Builder(store, retention, maxBytes);
  }

  /** See {@link BufferedLogWriter#builder}. */
  public static final class Builder {
    private final LogStore store;
    private final Duration retention;
    private final long maxBytes;
    private java.time.InstantSource clock = java.time.InstantSource.system();
    private java.util.concurrent.ThreadFactory threads;

    private Builder(LogStore store, Duration retention, long maxBytes) {
      this.store = store;
      this.retention = retention;
      this.maxBytes = maxBytes;
    }

    /** The wall clock that retention is pruned by. */
    public Builder clock(java.time.InstantSource clock) {
      this.clock = clock;
      return this;
    }

    /**
     * What makes the writer's one thread, which runs until {@link #close}; by default a platform
     * daemon thread named {@code kiln-log-writer}.
     */
    public Builder threads(java.util.concurrent.ThreadFactory threads) {
      this.threads = threads;
      return this;
    }

    public BufferedLogWriter build() {
      return new BufferedLogWriter(
          store,
          retention,
          maxBytes,
          clock,
          threads != null
              ? threads
              : Thread.ofPlatform().name("kiln-log-writer").daemon().factory());
    }
  }

  private BufferedLogWriter(
      LogStore store,
      Duration retention,
      long maxBytes,
      java.time.InstantSource clock,
      java.util.concurrent.ThreadFactory threads) {
    this.clock = clock;
    this.store = store;
    this.retention = retention;
    this.maxBytes = maxBytes;
    this.writer = threads.newThread(this::run);
    writer.start();
  }

  @Override
  public void record(String group, String stream, long timestamp, String text) {
    record(group, stream, timestamp, text, null, 0);
  }

  @Override
  public void record(
      String group, String stream, long timestamp, String text, String instance, long readTo) {
    List<LogStore.Event> events = InstanceLog.events(group, stream, timestamp, text);
    if (queuedLines.addAndGet(events.size()) > CAPACITY) {
      queuedLines.addAndGet(-events.size());
      dropped.addAndGet(events.size());
      return;
    }
    queue.add(new Lines(events, instance, readTo));
  }

  @Override
  public void sync() {
    if (closing || !writer.isAlive()) {
      return;
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    queue.add(new Sync(done));
    try {
      done.get(SYNC_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      LOG.warn("function logs are not yet written: {}", e.toString());
    }
  }

  @Override
  public void forget(String instance) {
    queue.add(new Forget(instance));
  }

  /**
   * At start, before a Kiln's leftover instance directory is removed: ingests what its instance
   * printed past what the log store had read of it (see {@link InstanceLog#ingestLeftover}).
   */
  public static void ingestLeftover(java.nio.file.Path instanceDir, LogStore store) {
    InstanceLog.ingestLeftover(instanceDir, store);
  }

  private void run() {
    long nextPrune = 0;
    List<Entry> batch = new ArrayList<>();
    while (!closing || !queue.isEmpty()) {
      List<CompletableFuture<Void>> syncs = new ArrayList<>();
      try {
        Entry first = queue.poll(200, TimeUnit.MILLISECONDS);
        if (first != null) {
          batch.add(first);
          int lines = first instanceof Lines l ? l.events().size() : 0;
          Entry next;
          while (lines < BATCH && (next = queue.poll()) != null) {
            batch.add(next);
            lines += next instanceof Lines l ? l.events().size() : 0;
          }
          List<LogStore.Event> events = new ArrayList<>(lines);
          Map<String, Long> read = new LinkedHashMap<>();
          Set<String> gone = new HashSet<>();
          for (Entry e : batch) {
            switch (e) {
              case Lines l -> {
                events.addAll(l.events());
                if (l.instance() != null) {
                  read.put(l.instance(), l.readTo());
                }
              }
              case Sync s -> syncs.add(s.done());
              case Forget f -> {
                read.remove(f.instance());
                gone.add(f.instance());
              }
            }
          }
          queuedLines.addAndGet(-events.size());
          store.append(events, read);
          store.forgetOutput(gone);
          batch.clear();
        }
        long lost = dropped.getAndSet(0);
        if (lost > 0) {
          LOG.warn("dropped {} log lines: the log store fell behind", lost);
        }
        if (clock.millis() >= nextPrune) {
          store.prune(clock.millis(), retention, maxBytes);
          nextPrune = clock.millis() + PRUNE_EVERY.toMillis();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        LOG.error("cannot write function logs", e);
        batch.clear();
      } finally {
        syncs.forEach(s -> s.complete(null));
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
