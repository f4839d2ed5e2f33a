package dev.kiln.store;

import java.util.Optional;

/**
 * The notification configuration of each bucket an S3-compatible object store reports about
 * (PutBucketNotificationConfiguration's document, S3's XML, as GetBucketNotificationConfiguration
 * answers it), by bucket name. The document is validated before it is stored; the store keeps it as
 * given. Putting an empty configuration removes the bucket's, as S3 does.
 */
public interface BucketNotificationStore {

  /** The bucket's configuration, if one was put. */
  Optional<String> configuration(String bucket);

  /** Replaces the bucket's configuration (durable when this returns). */
  void put(String bucket, String configuration);

  /** Removes the bucket's configuration; whether it had one. */
  boolean delete(String bucket);
}
