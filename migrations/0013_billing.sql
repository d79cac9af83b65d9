-- The repair's money (issue 12): the cause found on inspection and the warranty it re-decides, the customer's
-- decision on the quote, and the final bill with its settlement (000: 保内/保外判断, 报价单, 费用结算清单;
-- 004 §成本与时间估算 and 客户确认: 获取客户的明确授权 before repairing).

-- Quotes now carry the policy's transport fee and other lines (0 and none for every quote made before).
UPDATE tickets SET quote = quote || '{"transport": 0, "other": []}'::jsonb WHERE quote IS NOT NULL AND NOT quote ? 'transport';

-- What the technician found, each time: the cause, the exclusion it falls under (the catalog's closed list), the
-- estimate of parts and hours, and the warranty and quote before and after.
CREATE TABLE ticket_diagnoses (
  id             bigserial PRIMARY KEY,
  ticket_id      bigint NOT NULL REFERENCES tickets (id),
  at             timestamptz NOT NULL,
  by             text NOT NULL,
  cause          text NOT NULL,
  exclusion      text,
  parts          jsonb,
  labour_hours   double precision,
  warranty_from  jsonb NOT NULL,
  warranty_to    jsonb NOT NULL,
  quote_from     jsonb,
  quote_to       jsonb
);
CREATE INDEX ticket_diagnoses_by_ticket ON ticket_diagnoses (ticket_id, id);

-- The customer's decision on a quote, and the quote it was about: an approval stands only while the ticket's quote
-- is the one approved (jsonb equality), so a diagnosis that changes the quote asks the customer again.
CREATE TABLE ticket_approvals (
  id                bigserial PRIMARY KEY,
  ticket_id         bigint NOT NULL REFERENCES tickets (id),
  at                timestamptz NOT NULL,
  decision          text NOT NULL CHECK (decision IN ('approved', 'declined')),
  by                text NOT NULL,
  channel           text NOT NULL,
  note              text,
  quote             jsonb NOT NULL,
  quote_total_cents bigint NOT NULL
);
CREATE INDEX ticket_approvals_by_ticket ON ticket_approvals (ticket_id, id);

-- The final bill: one per ticket, computed when its repair is resolved (or its quote declined: the call-out fee).
-- total_cents is the cost of the work at catalog prices (004's cost split), also in warranty; charged_cents is what
-- the customer pays. Integer cents throughout.
CREATE TABLE ticket_bills (
  ticket_id            bigint PRIMARY KEY REFERENCES tickets (id),
  currency             text NOT NULL,
  lines                jsonb NOT NULL,
  labour_hours         double precision NOT NULL,
  labour_cents         bigint NOT NULL CHECK (labour_cents >= 0),
  parts_cents          bigint NOT NULL CHECK (parts_cents >= 0),
  transport_cents      bigint NOT NULL CHECK (transport_cents >= 0),
  other_cents          bigint NOT NULL CHECK (other_cents >= 0),
  total_cents          bigint NOT NULL CHECK (total_cents = labour_cents + parts_cents + transport_cents + other_cents),
  charged_cents        bigint NOT NULL CHECK (charged_cents >= 0),
  quoted_cents         bigint,
  settlement           text NOT NULL CHECK (settlement IN ('not_chargeable', 'unpaid', 'paid', 'waived')),
  settlement_reference text,
  settled_by           text,
  free_reason          text,
  computed_at          timestamptz NOT NULL,
  settled_at           timestamptz,
  -- a bill that charges nothing has nothing to settle; settled ones say when
  CHECK (settlement <> 'unpaid' OR charged_cents > 0),
  CHECK ((settlement IN ('paid', 'waived')) = (settled_at IS NOT NULL))
);
CREATE INDEX ticket_bills_by_settlement ON ticket_bills (settlement, computed_at);
