-- Event source mappings (CreateEventSourceMapping): one JSON document each (the record
-- dev.kiln.model.EventSourceMapping), with what they are looked up and listed by beside it. seq
-- orders the list and is its paging marker; source_key is what makes two mappings read the same
-- source, unique per function so that a second mapping of one function on one source is refused.
-- A function's mappings go with it.
CREATE TABLE event_source_mappings (
  uuid             TEXT PRIMARY KEY,
  seq              INTEGER NOT NULL UNIQUE,
  function_name    TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
  source_key       TEXT NOT NULL,
  event_source_arn TEXT,
  config           TEXT NOT NULL,
  UNIQUE (function_name, source_key)
);
CREATE INDEX event_source_mappings_by_arn ON event_source_mappings (event_source_arn);
