package dev.kiln.invoke;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The output of one instance, cut into invocations.
 *
 * <p>A virtual thread reads the instance's merged stdout and stderr and appends whatever arrives to
 * the open invocation's record (output written between invocations, such as during init, goes to
 * the next one, as Lambda attributes init output to the first invocation). Because the runtime's
 * result and its output travel separately, {@link #drain} waits until everything the instance wrote
 * before answering has been read, so nothing it printed is cut off or misattributed.
 */
final class InstanceLog {

  private final InputStream output;
  private final Consumer<String> sink;
  private final Object lock = new Object();
  private final AtomicLong reads = new AtomicLong();
  private volatile boolean blockedInRead;
  private volatile boolean ended;
  private ByteArrayOutputStream current = new ByteArrayOutputStream();

  /**
   * @param sink receives each chunk of output as it arrives, for the server's own log
   */
  InstanceLog(InputStream output, Consumer<String> sink) {
    this.output = output;
    this.sink = sink;
    Thread.ofVirtual().name("instance-log").start(this::pump);
  }

  private void pump() {
    byte[] buffer = new byte[8192];
    try {
      while (true) {
        blockedInRead = true;
        int n = output.read(buffer);
        blockedInRead = false;
        reads.incrementAndGet();
        if (n < 0) {
          break;
        }
        synchronized (lock) {
          current.write(buffer, 0, n);
        }
        sink.accept(new String(buffer, 0, n, StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      // the instance is gone
    } finally {
      ended = true;
      blockedInRead = false;
    }
  }

  /** Appends a line of Kiln's own (START, END, REPORT, errors) to the open record. */
  void platformLine(String line) {
    byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
    synchronized (lock) {
      current.write(bytes, 0, bytes.length);
    }
  }

  /** Waits (briefly) until all output the instance has written so far has been read. */
  void drain() {
    long giveUpAt = System.nanoTime() + 200_000_000L;
    while (System.nanoTime() < giveUpAt && !ended) {
      long before = reads.get();
      boolean waiting = blockedInRead;
      int pending;
      try {
        pending = output.available();
      } catch (IOException e) {
        return;
      }
      if (waiting && pending == 0 && reads.get() == before) {
        return;
      }
      Thread.onSpinWait();
      Thread.yield();
    }
  }

  /** Closes the current record and returns it; output from now on starts the next one. */
  String takeRecord() {
    synchronized (lock) {
      String text = current.toString(StandardCharsets.UTF_8);
      current = new ByteArrayOutputStream();
      return text;
    }
  }
}
