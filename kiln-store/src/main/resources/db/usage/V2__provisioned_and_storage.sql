-- What else AWS bills besides requests and duration, per function and hour, in ms x MB:
-- the part of the duration that ran on provisioned instances (billed at the provisioned duration
-- price instead of the on-demand one), the provisioned concurrency kept (concurrency x MemorySize x
-- time, billed whether used or not), and ephemeral storage configured above the free 512 MB times
-- billed duration.
ALTER TABLE usage_hours ADD COLUMN provisioned_duration_mb_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_hours ADD COLUMN provisioned_mb_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_hours ADD COLUMN storage_mb_ms INTEGER NOT NULL DEFAULT 0;
