-- Function URLs (CreateFunctionUrlConfig), per function and qualifier ('' for the function itself,
-- else an alias's name): one JSON document each (the record dev.kiln.model.FunctionUrlConfig), with
-- the URL id beside it, unique, for the URL server's look-up by host name.
CREATE TABLE function_urls (
  name       TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
  qualifier  TEXT NOT NULL,
  url_id     TEXT NOT NULL UNIQUE,
  config     TEXT NOT NULL,
  PRIMARY KEY (name, qualifier)
);
