-- Webhook notifications (issue 12): each webhook is one more consumer of the live stream's outbox
-- (stream_events). It is delivered strictly in id order, so in order per ticket; a failure holds its cursor.
CREATE TABLE webhooks (
  id bigserial PRIMARY KEY,
  url text NOT NULL,
  -- kept as given: it signs every body (HMAC-SHA256). Returned once, at creation; never selected for an answer or a log.
  secret text NOT NULL,
  -- the stream event types it receives
  events text[] NOT NULL,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL,
  -- delivery state: the last stream event id delivered (or passed over, not being subscribed)
  cursor bigint NOT NULL,
  -- failed attempts at the event after the cursor, since its last success
  attempts integer NOT NULL DEFAULT 0,
  failing_since timestamptz,
  next_attempt_at timestamptz,
  last_error text,
  -- the one process delivering it, until when: a webhook is never delivered by two processes at once
  lease_owner text,
  lease_until timestamptz
);

-- Every attempt, so failures are visible (GET /api/webhooks/:id/deliveries).
CREATE TABLE webhook_deliveries (
  id bigserial PRIMARY KEY,
  webhook_id bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event_id bigint NOT NULL,
  attempt integer NOT NULL,
  status_code integer,
  error text,
  at timestamptz NOT NULL,
  -- for a failure: when it is tried again
  next_attempt_at timestamptz
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id DESC);
CREATE INDEX webhook_deliveries_at ON webhook_deliveries (at);
