-- Log groups become rows of their own, as in CloudWatch Logs: a group can be created before its
-- function's first invocation (to set its retention), exists with no streams, and keeps its
-- retention until it is deleted. Groups are found by name, as log_streams.log_group names them.
CREATE TABLE log_groups (
  name           TEXT PRIMARY KEY,
  created        INTEGER NOT NULL,
  -- days of events to keep, one of CloudWatch's allowed values; NULL keeps them as long as the
  -- server-wide --log-retention-days does
  retention_days INTEGER
);

-- the groups that existed so far are those with streams, created with their first stream
INSERT INTO log_groups (name, created)
SELECT log_group, min(created) FROM log_streams GROUP BY log_group;
