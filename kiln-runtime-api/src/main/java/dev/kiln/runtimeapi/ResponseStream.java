package dev.kiln.runtimeapi;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A response a runtime streams ({@code Lambda-Runtime-Function-Response-Mode: streaming}), handed
 * from the Runtime API, which writes the chunks as they arrive, to whoever answers the caller,
 * which reads them as they come: the bytes reach the caller before the function has finished.
 *
 * <p>One writer (the Runtime API's handler for the runtime's POST) calls {@link #write} for each
 * chunk and then exactly one of {@link #complete} or {@link #fail}; one reader calls {@link #next}
 * until it is empty and then reads {@link #end()}. The queue between them is bounded, so a slow
 * reader slows the runtime down as a slow client slows a Lambda function down; a reader that gives
 * up calls {@link #cancel}, after which writes are dropped and the writer is never blocked.
 */
public final class ResponseStream {

  /** How a stream ended: cleanly, or with the error the runtime reported (or Kiln saw). */
  public record End(long bytes, Optional<String> errorType, byte[] errorBody) {

    public boolean failed() {
      return errorType.isPresent();
    }
  }

  private static final byte[] EOF = new byte[0];

  private final String contentType;
  private final LinkedBlockingQueue<byte[]> chunks = new LinkedBlockingQueue<>(64);
  private final CompletableFuture<End> end = new CompletableFuture<>();
  private volatile boolean cancelled;
  private long written;
  private boolean readerDone;

  /** A stream whose body has the runtime's {@code Content-Type}. */
  public ResponseStream(String contentType) {
    this.contentType = contentType;
  }

  /** A stream that already holds all of {@code body}: a buffered answer as one chunk. */
  public static ResponseStream of(String contentType, byte[] body) {
    ResponseStream s = new ResponseStream(contentType);
    if (body.length > 0) {
      s.write(body);
    }
    s.complete();
    return s;
  }

  /** A stream with no body that ended with the function error {@code errorType}. */
  public static ResponseStream failed(String contentType, String errorType, byte[] errorBody) {
    ResponseStream s = new ResponseStream(contentType);
    s.fail(errorType, errorBody);
    return s;
  }

  /** The media type the runtime gave its response ({@code application/octet-stream} if none). */
  public String contentType() {
    return contentType;
  }

  /**
   * Adds a chunk (the caller gives up the array); blocks while the reader is behind. After {@link
   * #cancel} the chunk is counted and dropped.
   */
  public void write(byte[] chunk) {
    if (chunk.length == 0 || end.isDone()) {
      return;
    }
    written += chunk.length;
    if (cancelled) {
      return;
    }
    try {
      while (!cancelled && !chunks.offer(chunk, 100, TimeUnit.MILLISECONDS)) {
        // the reader is behind: wait for it, or for it to give up
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      cancel();
    }
  }

  /** The runtime finished its response. */
  public void complete() {
    finish(new End(written, Optional.empty(), new byte[0]));
  }

  /** The response ended in an error: the runtime's trailers, a timeout, a crash, the size limit. */
  public void fail(String errorType, byte[] errorBody) {
    finish(new End(written, Optional.of(errorType), errorBody));
  }

  private void finish(End how) {
    if (end.complete(how)) {
      // the end marker always fits once the reader has drained, and is dropped if it gave up
      try {
        while (!cancelled && !chunks.offer(EOF, 100, TimeUnit.MILLISECONDS)) {
          // wait for room
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * The next chunk, waiting for it as long as {@code patience}; empty once the stream has ended
   * (then {@link #end()} is done).
   *
   * @throws IllegalStateException when no chunk came within {@code patience}
   */
  public Optional<byte[]> next(Duration patience) throws InterruptedException {
    if (readerDone) {
      return Optional.empty();
    }
    byte[] chunk = chunks.poll(patience.toMillis(), TimeUnit.MILLISECONDS);
    if (chunk == null) {
      throw new IllegalStateException("no chunk of the response within " + patience);
    }
    if (chunk == EOF) {
      readerDone = true;
      return Optional.empty();
    }
    return Optional.of(chunk);
  }

  /** Completes when the writer is done: how the stream ended. */
  public CompletableFuture<End> end() {
    return end;
  }

  /** The reader gives up (its client went away): the rest is dropped. */
  public void cancel() {
    cancelled = true;
    chunks.clear();
  }

  public boolean cancelled() {
    return cancelled;
  }
}
