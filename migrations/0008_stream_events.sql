-- The live stream's outbox (issue 10): every detection and ticket history entry as the message a /ws/faults
-- client receives, written in the transaction of the change it describes. Ids are handed out under an advisory
-- lock held to commit (src/stream/outbox.ts), so they are strictly increasing in commit order: a reader resumes
-- with "everything after the last id it saw".
CREATE TABLE stream_events (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  type text NOT NULL,
  device_id text NOT NULL,
  model text NOT NULL,
  region text,
  site text,
  severity text,
  priority text,
  body jsonb NOT NULL,
  -- when it was written (not the transaction's start): the fault → stream latency is measured from here
  stored_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- `since=` backfill, and retention (the oldest events up to the first one still kept).
CREATE INDEX stream_events_at ON stream_events (at);

-- The newest id retention has deleted: a client resuming from an older id is told it missed events (a `gap`).
CREATE TABLE stream_expired (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  through bigint NOT NULL
);
INSERT INTO stream_expired (through) VALUES (0);
