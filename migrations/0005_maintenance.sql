-- Preventive maintenance: what each device's plans have had, the usage counters they read, and the
-- occurrences that have had their ticket.

-- The last completed service of each plan on each device: the next interval counts from here.
CREATE TABLE maintenance_services (
  device_id          text NOT NULL REFERENCES devices (id),
  plan_id            text NOT NULL,
  last_service_at    timestamptz NOT NULL,
  last_service_usage double precision,
  ticket_id          bigint REFERENCES tickets (id),
  PRIMARY KEY (device_id, plan_id)
);

-- A usage counter as reported (runtime hours, wash cycles...), turned into a running total that survives
-- resets (a replaced controller) and ignores readings that cannot be trusted.
CREATE TABLE usage_counters (
  device_id  text NOT NULL REFERENCES devices (id),
  counter    text NOT NULL,
  -- the UsageCounter of src/maintenance/usage.ts: total, last reading, rate basis, resets, a jump on probation
  state      jsonb NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (device_id, counter)
);

-- One row per device, plan and due occurrence that has had its ticket: the primary key is the promise of
-- exactly one maintenance ticket per occurrence, whichever Faultline process gets there first.
CREATE TABLE maintenance_occurrences (
  device_id  text NOT NULL REFERENCES devices (id),
  plan_id    text NOT NULL,
  occurrence text NOT NULL,
  -- claimed first, ticket second: a racing process blocks on the claim and then finds it taken
  ticket_id  bigint REFERENCES tickets (id),
  PRIMARY KEY (device_id, plan_id, occurrence)
);

ALTER TABLE tickets ADD COLUMN plan_id text;
ALTER TABLE tickets ADD COLUMN tasks jsonb;
-- what fell due: {"date": "YYYY-MM-DD"} or {"counter": "run_hours", "usage": 2000}
ALTER TABLE tickets ADD COLUMN due jsonb;
