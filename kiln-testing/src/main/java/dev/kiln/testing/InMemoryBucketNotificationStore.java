package dev.kiln.testing;

import dev.kiln.store.BucketNotificationStore;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Bucket notification configurations in a concurrent map, for tests. */
public final class InMemoryBucketNotificationStore implements BucketNotificationStore {

  private final ConcurrentHashMap<String, String> configurations = new ConcurrentHashMap<>();

  @Override
  public Optional<String> configuration(String bucket) {
    return Optional.ofNullable(configurations.get(bucket));
  }

  @Override
  public void put(String bucket, String configuration) {
    configurations.put(bucket, configuration);
  }

  @Override
  public boolean delete(String bucket) {
    return configurations.remove(bucket) != null;
  }
}
