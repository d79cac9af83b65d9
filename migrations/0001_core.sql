-- Devices, what they send, and what was refused. Plain PostgreSQL; TimescaleDB features come in 0002.

CREATE TABLE devices (
  id                      text PRIMARY KEY,
  model                   text NOT NULL,
  serial                  text NOT NULL,
  purchased_at            date NOT NULL,
  installed_at            date,
  customer                jsonb,
  site                    text,
  region                  text,
  warranty_extended_until date,
  -- "<salt>:<sha256(salt || token)>", hex; the token itself is shown once and never stored
  token_hash              text NOT NULL,
  created_at              timestamptz NOT NULL DEFAULT now(),
  token_rotated_at        timestamptz NOT NULL DEFAULT now(),
  last_seen_at            timestamptz
);

-- Narrow form: one row per (time, device, metric). The unique key makes a redelivered QoS 1 message land once.
CREATE TABLE telemetry (
  time      timestamptz NOT NULL,
  device_id text NOT NULL,
  metric    text NOT NULL,
  value     double precision NOT NULL,
  UNIQUE (device_id, metric, time)
);

CREATE TABLE device_events (
  time        timestamptz NOT NULL,
  device_id   text NOT NULL,
  type        text NOT NULL CHECK (type IN ('fault', 'fault_cleared')),
  code        text NOT NULL,
  seq         bigint,
  detail      text,
  received_at timestamptz NOT NULL,
  UNIQUE (device_id, code, type, time)
);

CREATE TABLE device_status (
  time        timestamptz NOT NULL,
  device_id   text NOT NULL,
  online      boolean,
  fw          text,
  details     jsonb NOT NULL DEFAULT '{}',
  received_at timestamptz NOT NULL,
  UNIQUE (device_id, time)
);

CREATE TABLE dead_letters (
  id           uuid PRIMARY KEY,
  n            bigserial,  -- arrival order, for listing newest first
  time         timestamptz NOT NULL,
  device_id    text,
  topic        text NOT NULL,
  reason       text NOT NULL,
  payload_head text NOT NULL
);
CREATE INDEX dead_letters_by_device ON dead_letters (device_id, n DESC);
CREATE INDEX dead_letters_by_arrival ON dead_letters (n DESC);
