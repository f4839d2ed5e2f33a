package dev.kiln.testing;

import dev.kiln.store.UsageStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A {@link UsageStore} in memory, with the SQLite store's promises (both pass {@link
 * UsageStoreContract}). Synchronized on the store, which guards its hours.
 */
public final class InMemoryUsageStore implements UsageStore {

  /** What was added to each function's hour, by function then hour. */
  private final TreeMap<String, TreeMap<Long, Usage>> hours = new TreeMap<>();

  @Override
  public synchronized void add(List<Increment> increments) {
    for (Increment i : increments) {
      Usage added =
          new Usage(
              i.function(),
              i.requests(),
              i.mbMs(),
              i.provisionedDurationMbMs(),
              i.provisionedMbMs(),
              i.storageMbMs());
      hours
          .computeIfAbsent(i.function(), f -> new TreeMap<>())
          .merge(i.hour(), added, InMemoryUsageStore::sum);
    }
  }

  @Override
  public synchronized List<Usage> usage(long from, long to, Optional<String> function) {
    List<Usage> out = new ArrayList<>();
    for (var f : hours.entrySet()) {
      if (function.isPresent() && !function.get().equals(f.getKey())) {
        continue;
      }
      f.getValue().subMap(from, true, to, false).values().stream()
          .reduce(InMemoryUsageStore::sum)
          .ifPresent(out::add);
    }
    return out;
  }

  private static Usage sum(Usage a, Usage b) {
    return new Usage(
        a.function(),
        a.requests() + b.requests(),
        a.mbMs() + b.mbMs(),
        a.provisionedDurationMbMs() + b.provisionedDurationMbMs(),
        a.provisionedMbMs() + b.provisionedMbMs(),
        a.storageMbMs() + b.storageMbMs());
  }

  @Override
  public void check() {
    // memory answers at once
  }

  @Override
  public void close() {
    // nothing to release
  }
}
