-- EventBridge's event buses, their rules and the rules' targets (dev.kiln.store.EventBusStore).
-- Each row keeps its document as JSON beside what it is looked up by. A rule goes only when its
-- targets have gone, and a bus only when its rules have (the store refuses otherwise, as AWS does);
-- the foreign keys say the same to the database. seq keeps targets in the order they were put.
CREATE TABLE event_buses (
  name   TEXT PRIMARY KEY,
  config TEXT NOT NULL
);
CREATE TABLE event_rules (
  bus    TEXT NOT NULL REFERENCES event_buses(name),
  name   TEXT NOT NULL,
  config TEXT NOT NULL,
  PRIMARY KEY (bus, name)
);
CREATE TABLE event_targets (
  bus    TEXT NOT NULL,
  rule   TEXT NOT NULL,
  id     TEXT NOT NULL,
  seq    INTEGER NOT NULL,
  config TEXT NOT NULL,
  PRIMARY KEY (bus, rule, id),
  FOREIGN KEY (bus, rule) REFERENCES event_rules(bus, name)
);
