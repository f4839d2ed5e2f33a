package dev.kiln.server;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The parts of a running server, in the order they were started, so that they stop in the reverse
 * order without anyone writing that order down twice.
 *
 * <p>The model is a stack: {@link #add} pushes a part with what stops it and returns the part, so
 * assembly reads as a list of lines ({@code var store = parts.add("metadata store", open(...),
 * MetadataStore::close)}), and a new component joins the server with one such line. A part started
 * after another may use it, so it must stop before it: {@link #close} pops and stops each part in
 * turn, last first. A step that is not a component but must happen at a point of the way down (the
 * health check turning to 503 and running invocations getting their grace, before the listener
 * stops) is pushed with {@link #onClose} at the point of assembly after which it must run first.
 *
 * <p>A part that fails to stop is logged and the rest still stop: a server going down must release
 * every port, file lock and process it holds. If assembly itself fails, the caller closes what was
 * added so far, and only that.
 *
 * <p>Not thread-safe: assembly and closing happen on one thread, and {@link KilnServer#close} is
 * synchronized.
 */
final class Components implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Components.class);

  /** What stops one part. */
  @FunctionalInterface
  interface Stop<T> {
    void stop(T part) throws Exception;
  }

  private record Entry(String name, Runnable stop) {}

  private final Deque<Entry> started = new ArrayDeque<>();
  private boolean closed;

  /** Records {@code part}, which {@code stop} stops, as started now; returns it. */
  <T> T add(String name, T part, Stop<? super T> stop) {
    if (closed) {
      throw new IllegalStateException("the server is closed; " + name + " cannot join it");
    }
    started.push(
        new Entry(
            name,
            () -> {
              try {
                stop.stop(part);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
              } catch (Exception e) {
                throw new IllegalStateException(e.getMessage(), e);
              }
            }));
    return part;
  }

  /** Records a part that is its own stop. */
  <T extends AutoCloseable> T add(String name, T part) {
    return add(name, part, AutoCloseable::close);
  }

  /** Runs {@code step} on the way down before every part added so far stops. */
  void onClose(String name, Runnable step) {
    add(name, step, Runnable::run);
  }

  /** The names of the parts, in the order they will stop. */
  List<String> stopOrder() {
    List<String> names = new ArrayList<>();
    started.forEach(e -> names.add(e.name()));
    return names;
  }

  /** Stops every part, the last started first; a part that fails to stop is logged and skipped. */
  @Override
  public void close() {
    closed = true;
    while (!started.isEmpty()) {
      Entry entry = started.pop();
      try {
        entry.stop().run();
      } catch (RuntimeException e) {
        LOG.warn("{} did not stop cleanly: {}", entry.name(), e.toString());
      }
    }
  }
}
