-- How far each running instance's output file (instances/<id>/output.log) has been read into
-- log_events, written in the same transaction as the events it covers, so that a Kiln that was
-- killed ingests the rest of each file at its next start, and nothing twice.
CREATE TABLE output_read (
  instance TEXT PRIMARY KEY,
  read_to  INTEGER NOT NULL
);
