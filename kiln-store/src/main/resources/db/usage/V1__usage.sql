-- Metered use, per function and hour: requests, and billed duration times memory (ms x MB), from
-- which GB-seconds follow. Added to, never rewritten.
CREATE TABLE usage_hours (
  function TEXT NOT NULL,
  hour     INTEGER NOT NULL,  -- epoch milliseconds of the hour's start
  requests INTEGER NOT NULL,
  mb_ms    INTEGER NOT NULL,
  PRIMARY KEY (function, hour)
);
