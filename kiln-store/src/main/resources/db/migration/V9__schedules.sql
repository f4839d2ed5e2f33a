-- EventBridge Scheduler: schedule groups and their schedules. A schedule is one JSON document (the
-- record dev.kiln.model.Schedule) with what it is listed and fired by beside it; next_due is the
-- firing engine's state (epoch milliseconds; NULL when it never fires again), moved on only by a
-- compare-and-set on its old value. A group's schedules go with it.
CREATE TABLE schedule_groups (
  name        TEXT PRIMARY KEY,
  config      TEXT NOT NULL
);
CREATE TABLE schedules (
  group_name  TEXT NOT NULL REFERENCES schedule_groups(name) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  state       TEXT NOT NULL,
  next_due    INTEGER,
  config      TEXT NOT NULL,
  PRIMARY KEY (group_name, name)
);
CREATE INDEX schedules_next_due ON schedules (next_due);
