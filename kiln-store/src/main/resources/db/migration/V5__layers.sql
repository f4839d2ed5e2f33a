-- Layers and their versions. A layer's row outlives its versions, so that numbering goes on after
-- DeleteLayerVersion as it does on Lambda. A version's metadata is one JSON document (the record
-- dev.kiln.model.LayerVersion), its resource policy another (dev.kiln.model.LayerPolicy).
CREATE TABLE layers (
  name         TEXT PRIMARY KEY,
  next_version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE layer_versions (
  name            TEXT NOT NULL REFERENCES layers(name),
  version         INTEGER NOT NULL,
  code_sha256_hex TEXT NOT NULL,
  config          TEXT NOT NULL,
  policy          TEXT,
  PRIMARY KEY (name, version)
);
