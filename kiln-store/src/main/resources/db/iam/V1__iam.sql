-- IAM: roles, their inline policies and the managed policies attached to them, and customer
-- managed policies with their versions. Names of roles and policies compare case-insensitively, as
-- IAM's do: each keeps its name as given beside name_key, that name lowercased, which is the key.
-- Times are epoch milliseconds; tags are one JSON object each, in the order they were added.
CREATE TABLE roles (
  name_key             TEXT PRIMARY KEY,
  name                 TEXT NOT NULL,
  role_id              TEXT NOT NULL,
  path                 TEXT NOT NULL,
  assume_role_policy   TEXT NOT NULL,
  description          TEXT,
  max_session_duration INTEGER NOT NULL,
  created              INTEGER NOT NULL,
  tags                 TEXT NOT NULL
);

-- Inline policies, by role and exact name.
CREATE TABLE role_policies (
  role_key    TEXT NOT NULL REFERENCES roles(name_key) ON DELETE CASCADE,
  policy_name TEXT NOT NULL,
  document    TEXT NOT NULL,
  PRIMARY KEY (role_key, policy_name)
);

-- Managed policies attached to a role, by ARN (AWS managed or customer managed alike); seq is the
-- order they were attached in, per role.
CREATE TABLE role_attachments (
  role_key   TEXT NOT NULL REFERENCES roles(name_key) ON DELETE CASCADE,
  policy_arn TEXT NOT NULL,
  seq        INTEGER NOT NULL,
  PRIMARY KEY (role_key, policy_arn)
);

CREATE INDEX role_attachments_by_arn ON role_attachments(policy_arn);

-- Customer managed policies. default_version is the number of the default version (vN);
-- next_version the number the next one gets, one past the highest ever issued, so that a deleted
-- version's id is never issued again.
CREATE TABLE policies (
  name_key        TEXT PRIMARY KEY,
  name            TEXT NOT NULL,
  policy_id       TEXT NOT NULL,
  path            TEXT NOT NULL,
  description     TEXT,
  default_version INTEGER NOT NULL,
  next_version    INTEGER NOT NULL,
  created         INTEGER NOT NULL,
  updated         INTEGER NOT NULL,
  tags            TEXT NOT NULL
);

CREATE TABLE policy_versions (
  policy_key TEXT NOT NULL REFERENCES policies(name_key) ON DELETE CASCADE,
  version    INTEGER NOT NULL,
  document   TEXT NOT NULL,
  created    INTEGER NOT NULL,
  PRIMARY KEY (policy_key, version)
);
