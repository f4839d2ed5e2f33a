-- Asynchronous events, from the moment Invoke accepted them until their outcome is recorded.
CREATE TABLE events (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id   TEXT NOT NULL,
  function     TEXT NOT NULL,
  qualifier    TEXT NOT NULL,
  payload      BLOB NOT NULL,
  received_at  INTEGER NOT NULL,  -- epoch milliseconds
  attempts     INTEGER NOT NULL,  -- invocations that ran and failed
  throttles    INTEGER NOT NULL,  -- attempts refused for want of concurrency
  due_at       INTEGER NOT NULL,  -- epoch milliseconds
  in_flight    INTEGER NOT NULL   -- 1 while a worker has it
);
CREATE INDEX events_due ON events (in_flight, due_at);
CREATE INDEX events_function ON events (function);

-- Final outcomes per function, for the counts Kiln reports.
CREATE TABLE outcomes (
  function     TEXT PRIMARY KEY,
  succeeded    INTEGER NOT NULL,
  failed       INTEGER NOT NULL
);
