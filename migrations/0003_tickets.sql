-- Detections and the tickets they open.

-- Every detection and clear, as the detectors saw them. The unique key makes the rules stage idempotent:
-- a detection seen twice (a redelivered message, a replay after restart, a second Faultline) is acted on once.
CREATE TABLE fault_events (
  time      timestamptz NOT NULL,
  device_id text NOT NULL,
  condition text NOT NULL,
  state     text NOT NULL CHECK (state IN ('raised', 'cleared')),
  trigger   text NOT NULL,
  severity  text NOT NULL,
  title     text NOT NULL,
  component text,
  code      text,
  rule_id   text,
  value     double precision,
  detail    text,
  UNIQUE (device_id, condition, state, time)
);
CREATE INDEX fault_events_by_condition ON fault_events (device_id, condition, time DESC);

-- Readable ticket numbers, SR<yyyymmdd>-<nnnn>: one counter row per day, incremented under its row lock.
CREATE TABLE ticket_counters (
  day  date PRIMARY KEY,
  last integer NOT NULL
);

CREATE TABLE tickets (
  id           bigserial PRIMARY KEY,
  number       text NOT NULL UNIQUE,
  kind         text NOT NULL CHECK (kind IN ('repair', 'maintenance')),
  trigger      text NOT NULL CHECK (trigger IN ('fault_code', 'threshold', 'offline', 'manual', 'schedule', 'usage', 'season')),
  device_id    text NOT NULL REFERENCES devices (id),
  model        text NOT NULL,
  serial       text NOT NULL,
  customer     jsonb,
  site         text,
  region       text,
  -- what the ticket is about on this device: 'fault:E1', 'threshold:<rule>', 'offline', 'manual:<n>', 'plan:<id>:<due>'
  condition    text NOT NULL,
  code         text,
  rule_id      text,
  title        text NOT NULL,
  component    text,
  severity     text,
  cause        text,
  priority     text NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4')),
  respond_by   timestamptz NOT NULL,
  resolve_by   timestamptz NOT NULL,
  warranty     jsonb NOT NULL,
  billing      text NOT NULL CHECK (billing IN ('free', 'chargeable')),
  quote        jsonb,
  occurrences  integer NOT NULL DEFAULT 1,
  first_seen   timestamptz NOT NULL,
  last_seen    timestamptz NOT NULL,
  cleared_at   timestamptz,
  status       text NOT NULL DEFAULT 'open'
               CHECK (status IN ('open', 'acknowledged', 'assigned', 'in_progress', 'resolved', 'closed', 'cancelled')),
  repeat_of    bigint REFERENCES tickets (id),
  technician   text,
  resolution   text,
  parts_used   jsonb,
  labor_hours  double precision,
  satisfaction integer CHECK (satisfaction BETWEEN 1 AND 5),
  comment      text,
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL,
  resolved_at  timestamptz,
  closed_at    timestamptz
);
-- At most one open ticket per device and condition, whichever Faultline process tries to open it.
CREATE UNIQUE INDEX tickets_one_open ON tickets (device_id, condition)
  WHERE status NOT IN ('resolved', 'closed', 'cancelled');
CREATE INDEX tickets_by_status ON tickets (status, priority, id);
CREATE INDEX tickets_by_device ON tickets (device_id, condition, resolved_at DESC);

CREATE TABLE ticket_history (
  id        bigserial PRIMARY KEY,
  ticket_id bigint NOT NULL REFERENCES tickets (id),
  at        timestamptz NOT NULL,
  by        text NOT NULL,
  action    text NOT NULL,
  status    text NOT NULL,
  note      text,
  details   jsonb
);
CREATE INDEX ticket_history_by_ticket ON ticket_history (ticket_id, id);
