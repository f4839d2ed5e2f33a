-- Function logs, as CloudWatch Logs keeps them: streams within groups, and each stream's events.
-- A group exists while it has streams.
CREATE TABLE log_streams (
  id             INTEGER PRIMARY KEY,
  log_group      TEXT NOT NULL,
  name           TEXT NOT NULL,
  created        INTEGER NOT NULL,
  first_event    INTEGER,
  last_event     INTEGER,
  last_ingestion INTEGER,
  stored_bytes   INTEGER NOT NULL DEFAULT 0,
  UNIQUE (log_group, name)
);

CREATE TABLE log_events (
  id       INTEGER PRIMARY KEY,
  stream   INTEGER NOT NULL REFERENCES log_streams(id) ON DELETE CASCADE,
  ts       INTEGER NOT NULL,
  ingested INTEGER NOT NULL,
  message  TEXT NOT NULL
);

CREATE INDEX log_events_by_stream ON log_events(stream, id);
CREATE INDEX log_events_by_time ON log_events(ts);
