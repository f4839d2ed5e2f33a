-- Resource-based policies of functions (AddPermission), per function and qualifier ('' for the
-- unqualified function): one JSON document each (the record dev.kiln.model.FunctionPolicy).
CREATE TABLE function_policies (
  name       TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
  qualifier  TEXT NOT NULL,
  policy     TEXT NOT NULL,
  PRIMARY KEY (name, qualifier)
);
