-- Retry, age and destination settings for asynchronous invocations, per function and qualifier.
CREATE TABLE event_invoke_configs (
  name       TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
  qualifier  TEXT NOT NULL,
  config     TEXT NOT NULL,
  PRIMARY KEY (name, qualifier)
);
