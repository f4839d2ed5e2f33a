-- The X-Ray trace header the event was invoked with, so that every attempt joins the caller's trace.
ALTER TABLE events ADD COLUMN trace_header TEXT;
