package dev.kiln.store;

import java.util.Optional;

/**
 * Bucket notification configurations in the metadata database ({@code metadata.db}, table {@code
 * bucket_notifications}, migration V11): one row per bucket, its document as text. It shares the
 * metadata store's one connection, guarded by that {@link Jdbc}'s monitor; each write is one
 * statement, its own transaction.
 */
public final class SqliteBucketNotificationStore implements BucketNotificationStore {

  private final Jdbc db;

  SqliteBucketNotificationStore(Jdbc db) {
    this.db = db;
  }

  @Override
  public Optional<String> configuration(String bucket) {
    return db.first(
        "SELECT configuration FROM bucket_notifications WHERE bucket = ?",
        rs -> rs.getString(1),
        bucket);
  }

  @Override
  public void put(String bucket, String configuration) {
    db.update(
        "INSERT INTO bucket_notifications(bucket, configuration) VALUES (?, ?)"
            + " ON CONFLICT(bucket) DO UPDATE SET configuration = excluded.configuration",
        bucket,
        configuration);
  }

  @Override
  public boolean delete(String bucket) {
    return db.update("DELETE FROM bucket_notifications WHERE bucket = ?", bucket) > 0;
  }
}
