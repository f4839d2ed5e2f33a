-- Provisioned concurrency: how many instances of a version or alias to keep initialised.
CREATE TABLE provisioned_concurrency (
  name          TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
  qualifier     TEXT NOT NULL,
  requested     INTEGER NOT NULL,
  last_modified TEXT NOT NULL,
  PRIMARY KEY (name, qualifier)
);
