-- Intake from every channel (issue 12; 000 一.1, 002 一.1, 003 1.): the channel each ticket came through, the
-- customer's own urgency, the customer's calendar and proof of purchase on a device, and indexes for the search.

-- Tickets opened before this migration were all detections or phone reports: detections came through IoT, and a
-- manual one ('manual' trigger) through the phone route, the only manual one there was.
ALTER TABLE tickets ADD COLUMN channel text NOT NULL DEFAULT 'iot'
  CHECK (channel IN ('iot', 'phone', 'wechat', 'scan', 'web', 'email', 'walk_in'));
UPDATE tickets SET channel = 'phone' WHERE trigger = 'manual';
ALTER TABLE tickets ALTER COLUMN channel DROP DEFAULT;
-- 002 二.1: 紧急 / 普通 / 低优先级, as the customer chose it; null for detections
ALTER TABLE tickets ADD COLUMN urgency text CHECK (urgency IN ('urgent', 'normal', 'low'));

-- An IANA zone (validated by the API); null: the deployment's FAULTLINE_TIME_ZONE
ALTER TABLE devices ADD COLUMN time_zone text;
ALTER TABLE devices ADD COLUMN brand text;
ALTER TABLE devices ADD COLUMN proof_of_purchase text;
-- A walk-in's appliance is looked up by model and serial before a device is created for it.
CREATE INDEX devices_by_serial ON devices (model, serial);

-- GET /api/tickets filters, each newest first by id (the cursor).
CREATE INDEX tickets_by_channel ON tickets (channel, id);
CREATE INDEX tickets_by_model ON tickets (model, id);
CREATE INDEX tickets_by_region ON tickets (region, id);
CREATE INDEX tickets_by_technician_name ON tickets (technician, id);
CREATE INDEX tickets_by_phone ON tickets ((customer->>'phone'), id);
CREATE INDEX tickets_by_opened ON tickets (created_at);
