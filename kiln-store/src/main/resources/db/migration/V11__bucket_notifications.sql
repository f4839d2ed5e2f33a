-- S3 bucket notification configurations (PutBucketNotificationConfiguration), one per bucket: the
-- configuration as GetBucketNotificationConfiguration answers it (S3's XML), validated before it
-- is stored. Kiln keeps no buckets: a bucket here is a name the object store's records carry.
CREATE TABLE bucket_notifications (
  bucket         TEXT NOT NULL PRIMARY KEY,
  configuration  TEXT NOT NULL
);
