package dev.kiln.invoke;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Which functions changed, and when, as far as this node's memory is concerned: every part of the
 * catalog reports a durable change to a function here, and whatever caches something about a
 * function (the resolved versions and aliases on the hot path; the triggers to come) checks its
 * {@link #generation} or listens.
 *
 * <p>The generation is per function, so a change to one function sends only that function's next
 * resolve back to the store. Generations come from one counter and never repeat, not even for a
 * function deleted and created again, so a value read before a change can never match after it: a
 * cache entry is used only if its function's generation has not moved since before the entry was
 * read from the store. Lock-free: a concurrent map of atomics.
 */
final class ChangeFeed {

  private final AtomicLong counter = new AtomicLong();
  private final ConcurrentHashMap<String, Long> generations = new ConcurrentHashMap<>();
  private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();

  /** The current generation of {@code function}: read it before reading what it guards. */
  long generation(String function) {
    return generations.getOrDefault(function, 0L);
  }

  /** Reports that a change to {@code function} is durable; call after the store's commit. */
  void changed(String function) {
    generations.put(function, counter.incrementAndGet());
    listeners.forEach(l -> l.accept(function));
  }

  /** Calls {@code listener} with the function's name after each change. */
  void subscribe(Consumer<String> listener) {
    listeners.add(listener);
  }
}
