-- The keys of EventQueue.enqueueOnce: an event enqueued with a key is stored only if the key is not
-- here, and the key is inserted in the event's own transaction, so a caller that crashed after
-- enqueueing and tries again (a schedule re-firing the due time it had not yet moved past) adds
-- nothing. Keys are kept for EventQueue.DEDUPLICATION_RETENTION (two days) after they were enqueued.
CREATE TABLE enqueued_keys (
  dedup_key    TEXT PRIMARY KEY,
  enqueued_at  INTEGER NOT NULL  -- epoch milliseconds
);
CREATE INDEX enqueued_keys_age ON enqueued_keys (enqueued_at);
