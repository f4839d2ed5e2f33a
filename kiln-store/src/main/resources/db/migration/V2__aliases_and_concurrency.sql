-- Aliases: a name for a version of a function, with an optional weighted second version.
CREATE TABLE function_aliases (
  name        TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
  alias       TEXT NOT NULL,
  config      TEXT NOT NULL,
  PRIMARY KEY (name, alias)
);

-- Reserved concurrency: the function's cap, carved out of the account's pool.
CREATE TABLE function_concurrency (
  name        TEXT PRIMARY KEY REFERENCES functions(name) ON DELETE CASCADE,
  reserved    INTEGER NOT NULL
);
