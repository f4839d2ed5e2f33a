-- A claim is a lease, not a flag: who holds the event and until when. A claim not acknowledged
-- (finished or put back) before its lease runs out makes the event claimable again, so a worker or
-- node that dies loses nothing; only the holder of the current claim can acknowledge it.
ALTER TABLE events ADD COLUMN claimed_by TEXT;      -- NULL when no one holds it
ALTER TABLE events ADD COLUMN claimed_until INTEGER; -- epoch milliseconds; NULL when unclaimed
-- events in flight under the old flag belong to a Kiln that has stopped: their leases have run out
UPDATE events SET claimed_by = 'in-flight before leases', claimed_until = 0 WHERE in_flight = 1;
DROP INDEX events_due;
ALTER TABLE events DROP COLUMN in_flight;
CREATE INDEX events_due ON events (due_at);
