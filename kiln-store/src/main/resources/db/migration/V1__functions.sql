-- Functions and their versions. A version's whole configuration is one JSON document (the record
-- dev.kiln.model.FunctionConfig); the columns beside it are the ones queries filter or sum on.
CREATE TABLE functions (
  name         TEXT PRIMARY KEY,
  next_version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE function_versions (
  name            TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
  version         TEXT NOT NULL,
  revision_id     TEXT NOT NULL,
  code_sha256_hex TEXT NOT NULL,
  code_size       INTEGER NOT NULL,
  config          TEXT NOT NULL,
  PRIMARY KEY (name, version)
);

CREATE TABLE function_tags (
  name      TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
  tag_key   TEXT NOT NULL,
  tag_value TEXT NOT NULL,
  PRIMARY KEY (name, tag_key)
);
