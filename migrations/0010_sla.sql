-- SLA deadlines, watched (issue 11): the start-work deadline, each deadline's warning instant, the paused clock,
-- the statuses of 002 between assignment and resolution, and the alerts the watcher has raised.

-- 004: P1 2 小时内开始处理. Existing tickets get the start deadline their resolve deadline implies at the latest.
ALTER TABLE tickets ADD COLUMN start_by timestamptz;
UPDATE tickets SET start_by = resolve_by;
ALTER TABLE tickets ALTER COLUMN start_by SET NOT NULL;

-- When each deadline is at risk (FAULTLINE_SLA_WARN_AT of its allowed time); existing tickets are warned at the deadline.
ALTER TABLE tickets ADD COLUMN respond_warn_at timestamptz;
ALTER TABLE tickets ADD COLUMN start_warn_at timestamptz;
ALTER TABLE tickets ADD COLUMN resolve_warn_at timestamptz;
UPDATE tickets SET respond_warn_at = respond_by, start_warn_at = start_by, resolve_warn_at = resolve_by;
ALTER TABLE tickets ALTER COLUMN respond_warn_at SET NOT NULL;
ALTER TABLE tickets ALTER COLUMN start_warn_at SET NOT NULL;
ALTER TABLE tickets ALTER COLUMN resolve_warn_at SET NOT NULL;

-- The clock stands still while the ticket waits on parts or the customer: since when, and how long in all so far.
ALTER TABLE tickets ADD COLUMN paused_at timestamptz;
ALTER TABLE tickets ADD COLUMN paused_ms bigint NOT NULL DEFAULT 0;

-- The next instant the watcher has something to look at (a warning or a breach due); NULL: nothing to watch.
-- The watcher's query is a range scan of this index, however many tickets are closed.
ALTER TABLE tickets ADD COLUMN next_sla_at timestamptz;
UPDATE tickets SET next_sla_at = respond_warn_at WHERE status NOT IN ('resolved', 'closed', 'cancelled');
CREATE INDEX tickets_next_sla ON tickets (next_sla_at) WHERE next_sla_at IS NOT NULL;

ALTER TABLE tickets DROP CONSTRAINT tickets_status_check;
ALTER TABLE tickets ADD CONSTRAINT tickets_status_check CHECK (status IN (
  'open', 'acknowledged', 'assigned', 'in_progress', 'remote_handling', 'on_site', 'waiting_parts', 'waiting_customer',
  'resolved', 'closed', 'cancelled'));

-- One row per warning or breach raised: the key is the promise that each fires once per deadline, whichever
-- Faultline process gets there first and across restarts. A priority change sets new deadlines and clears them.
CREATE TABLE sla_alerts (
  ticket_id bigint NOT NULL REFERENCES tickets (id),
  deadline  text NOT NULL CHECK (deadline IN ('respond', 'start', 'resolve')),
  level     text NOT NULL CHECK (level IN ('warning', 'breach')),
  at        timestamptz NOT NULL,
  PRIMARY KEY (ticket_id, deadline, level)
);
