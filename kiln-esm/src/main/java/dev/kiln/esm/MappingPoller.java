package dev.kiln.esm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.esm.source.EventSourceKind;
import dev.kiln.esm.source.EventSourceKind.Semantics;
import dev.kiln.esm.source.EventSourceReader;
import dev.kiln.esm.source.SourceBatch;
import dev.kiln.esm.source.SourceUnavailableException;
import dev.kiln.model.EventSourceMapping;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The poller of one enabled mapping on this node: one loop that asks the reader for batches and
 * hands each to a worker, which runs it through the {@link BatchProcessor}.
 *
 * <p>How many batches run at once: a stream's reader hands out at most one per lane (partition,
 * slot), so a stream runs up to its lane count. A queue's poller scales with the backlog, as
 * Lambda's SQS pollers do: it starts at {@link #QUEUE_START} batches, grows by {@link
 * #QUEUE_GROWTH_PER_SECOND} at most once a second while every batch it asked for came full (Lambda
 * adds up to 300 a minute), shrinks by one when a poll comes back empty, halves when the function
 * is throttled, and never goes past MaximumConcurrency (when set) or {@link #QUEUE_MAX}. The
 * function's reserved concurrency and the account's limit bound it too, through the throttles they
 * cause.
 *
 * <p>A source that cannot be reached is retried with a doubling wait, and the mapping's
 * LastProcessingResult says why until it answers again.
 *
 * <p>Threading: the loop is one task on the executor it is given; workers are tasks on it too.
 * {@code inFlight}, {@code target} and {@code nextGrowthMillis} are guarded by {@code this}; the
 * loop waits on it for a free slot, and workers notify it when they finish. {@link #stop} only
 * asks: the loop ends after its current poll, stream retries stop at their next attempt, and the
 * reader is closed when the last worker is done, so a stop never waits for an invocation.
 */
final class MappingPoller {

  private static final Logger LOG = LoggerFactory.getLogger(MappingPoller.class);

  static final int QUEUE_START = 5;
  static final int QUEUE_GROWTH_PER_SECOND = 5;
  static final int QUEUE_MAX = 1000;
  static final int STREAM_MAX = 100;
  private static final Duration POLL_WAIT = Duration.ofSeconds(1);
  private static final Duration LAG_EVERY = Duration.ofSeconds(5);

  private final EventSourceMapping mapping;
  private final EventSourceKind kind;
  private final EventSourceReader reader;
  private final BatchProcessor processor;
  private final MappingMetrics metrics;
  private final Executor executor;
  private final RetryTiming timing;
  private final InstantSource clock;
  private final Consumer<String> lastProcessingResult;
  private final int maxConcurrency;
  private final CountDownLatch ended = new CountDownLatch(1);

  private volatile boolean running = true;

  // guarded by this
  private int inFlight;
  private int target;
  private long nextGrowthMillis;
  private boolean closed;

  MappingPoller(
      EventSourceMapping mapping,
      String functionArn,
      EventSourceKind kind,
      EventSourceReader reader,
      Predicate<JsonNode> filter,
      dev.kiln.invoke.Invocations invocations,
      FailureDestination onFailure,
      MappingMetrics metrics,
      Executor executor,
      RetryTiming timing,
      InstantSource clock,
      Consumer<String> lastProcessingResult) {
    this.mapping = mapping;
    this.kind = kind;
    this.reader = reader;
    this.metrics = metrics;
    this.executor = executor;
    this.timing = timing;
    this.clock = clock;
    this.lastProcessingResult = lastProcessingResult;
    boolean queue = kind.semantics() == Semantics.QUEUE;
    this.maxConcurrency = queue ? mapping.maximumConcurrency().orElse(QUEUE_MAX) : STREAM_MAX;
    this.target = queue ? Math.min(QUEUE_START, maxConcurrency) : STREAM_MAX;
    this.processor =
        new BatchProcessor(
            mapping,
            functionArn,
            reader,
            kind.semantics(),
            filter,
            invocations,
            onFailure,
            metrics,
            timing,
            clock,
            new BatchProcessor.Reporter() {
              @Override
              public void processed(String result) {
                lastProcessingResult.accept(result);
              }

              @Override
              public void throttled() {
                synchronized (MappingPoller.this) {
                  target = Math.max(1, target / 2);
                }
              }
            },
            Thread::sleep);
  }

  EventSourceMapping mapping() {
    return mapping;
  }

  void start() {
    executor.execute(this::loop);
  }

  /** Asks the poller to stop; returns at once. */
  void stop() {
    running = false;
  }

  /** Waits up to {@code d} for the loop to end (its workers may still finish their batch). */
  boolean awaitLoopEnd(Duration d) throws InterruptedException {
    return ended.await(d.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  private void loop() {
    Thread.currentThread().setName("esm-poller-" + mapping.uuid());
    int unavailable = 0;
    long lagDue = 0;
    try {
      while (running) {
        int free = awaitFreeSlot();
        if (free == 0) {
          continue;
        }
        List<SourceBatch> batches;
        try {
          batches = reader.poll(POLL_WAIT, free);
          if (unavailable > 0) {
            LOG.info("event source mapping {}: its source answers again", mapping.uuid());
            lastProcessingResult.accept("OK");
          }
          unavailable = 0;
        } catch (SourceUnavailableException e) {
          unavailable++;
          if (unavailable == 1) {
            LOG.warn("event source mapping {}: {}", mapping.uuid(), e.getMessage());
          }
          lastProcessingResult.accept(e.getMessage());
          sleepWhileRunning(timing.after(unavailable));
          continue;
        }
        if (!running) {
          // stopped while it polled: what came back is left to the source (a queue's messages
          // return after their visibility timeout; a stream's next reader reads them again)
          giveBack(batches);
          break;
        }
        scale(batches, free);
        for (SourceBatch batch : batches) {
          synchronized (this) {
            inFlight++;
          }
          executor.execute(() -> run(batch));
        }
        long now = clock.millis();
        if (now >= lagDue) {
          lagDue = now + LAG_EVERY.toMillis();
          metrics.lag(reader.lag());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      LOG.error("event source mapping {}: its poller failed", mapping.uuid(), e);
      lastProcessingResult.accept("PROBLEM: Internal error: " + e.getMessage());
    } finally {
      running = false;
      ended.countDown();
      closeWhenIdle();
    }
  }

  private void run(SourceBatch batch) {
    try {
      processor.process(batch, () -> running);
    } catch (SourceUnavailableException e) {
      LOG.warn(
          "event source mapping {}: a batch of {} could not be checkpointed: {}",
          mapping.uuid(),
          batch.lane(),
          e.getMessage());
      lastProcessingResult.accept(e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      LOG.error("event source mapping {}: a batch failed in Kiln", mapping.uuid(), e);
    } finally {
      synchronized (this) {
        inFlight--;
        notifyAll();
      }
      if (!running) {
        closeWhenIdle();
      }
    }
  }

  private void giveBack(List<SourceBatch> batches) {
    for (SourceBatch b : batches) {
      try {
        reader.giveBack(b);
      } catch (SourceUnavailableException e) {
        LOG.debug("event source mapping {}: giving a batch back failed", mapping.uuid(), e);
      }
    }
  }

  /** Waits (a poll's length at most) for room for one more batch; returns how many fit. */
  private synchronized int awaitFreeSlot() throws InterruptedException {
    if (inFlight >= target) {
      wait(POLL_WAIT.toMillis());
    }
    return Math.max(0, target - inFlight);
  }

  private synchronized void scale(List<SourceBatch> batches, int asked) {
    if (kind.semantics() != Semantics.QUEUE) {
      return;
    }
    boolean allFull =
        batches.size() == asked
            && batches.stream().allMatch(b -> b.records().size() >= mapping.batchSize());
    long now = clock.millis();
    if (allFull && now >= nextGrowthMillis) {
      // as Lambda adds SQS pollers: up to 300 a minute
      target = Math.min(maxConcurrency, target + QUEUE_GROWTH_PER_SECOND);
      nextGrowthMillis = now + 1000;
    } else if (batches.isEmpty()) {
      target = Math.max(Math.min(QUEUE_START, maxConcurrency), target - 1);
    }
  }

  private void sleepWhileRunning(Duration d) throws InterruptedException {
    long until = clock.millis() + d.toMillis();
    while (running && clock.millis() < until) {
      Thread.sleep(Math.min(200, Math.max(1, until - clock.millis())));
    }
  }

  private void closeWhenIdle() {
    synchronized (this) {
      if (closed || inFlight > 0 || ended.getCount() > 0) {
        return;
      }
      closed = true;
    }
    try {
      reader.close();
    } catch (RuntimeException e) {
      LOG.warn("event source mapping {}: closing its reader failed", mapping.uuid(), e);
    }
  }

  /** The target number of batches at once, for tests. */
  synchronized int target() {
    return target;
  }

  /** Whether the reader has been closed: the loop and every worker are done. */
  synchronized boolean closed() {
    return closed;
  }
}
