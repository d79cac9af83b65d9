-- The follow-up call and the visits of a repair (issue 12). 000 二.5: 维修完成后, 一周内回访, 若客户表示设备仍有问题,
-- 立即重新派单; 002 二.4: 满意 closes, 一般/不满意 goes back to the supervisor (主管); 004 (四)3: 回访 within 1-3
-- working days, 工单关闭 only when every problem is solved and the customer is satisfied.

-- reopened (主管复核): a follow-up answered neutral or dissatisfied, for the supervisor to re-dispatch. It is open
-- again: tickets_one_open and the SLA watcher count it, as every status outside resolved, closed and cancelled.
ALTER TABLE tickets DROP CONSTRAINT tickets_status_check;
ALTER TABLE tickets ADD CONSTRAINT tickets_status_check CHECK (status IN (
  'open', 'acknowledged', 'assigned', 'in_progress', 'remote_handling', 'on_site', 'waiting_parts', 'waiting_customer',
  'resolved', 'reopened', 'closed', 'cancelled'));

-- One row per resolution of a ticket: round 1 for the first, 2 after a reopen, and so on. Pending while outcome is
-- null; tickets.satisfaction keeps the score of the last one answered.
CREATE TABLE follow_ups (
  id          bigserial PRIMARY KEY,
  ticket_id   bigint NOT NULL REFERENCES tickets (id),
  round       integer NOT NULL CHECK (round >= 1),
  due_at      timestamptz NOT NULL,
  answered_at timestamptz,
  -- 002's scale; a 1-5 answer is kept as given (score) and its rating derived: 5-4 satisfied, 3 neutral, 2-1 dissatisfied
  rating      text CHECK (rating IN ('satisfied', 'neutral', 'dissatisfied')),
  score       integer CHECK (score BETWEEN 1 AND 5),
  comment     text,
  by          text,
  channel     text,
  -- closed: answered satisfied; reopened: answered otherwise (or the ticket taken back by hand); expired: unanswered
  outcome     text CHECK (outcome IN ('closed', 'reopened', 'expired')),
  closed_at   timestamptz,
  UNIQUE (ticket_id, round)
);
-- At most one follow-up waiting per ticket; the watcher's query is a range of this index.
CREATE UNIQUE INDEX follow_ups_one_pending ON follow_ups (ticket_id) WHERE outcome IS NULL;
CREATE INDEX follow_ups_pending_due ON follow_ups (due_at) WHERE outcome IS NULL;

-- Tickets resolved before this migration wait for their call on the default window (7 days, 000); tickets closed
-- with a satisfaction score were answered then.
INSERT INTO follow_ups (ticket_id, round, due_at)
  SELECT id, 1, resolved_at + interval '7 days' FROM tickets WHERE status = 'resolved' AND resolved_at IS NOT NULL;
INSERT INTO follow_ups (ticket_id, round, due_at, answered_at, rating, score, comment, outcome, closed_at)
  SELECT id, 1, coalesce(resolved_at, closed_at) + interval '7 days', closed_at,
         CASE WHEN satisfaction >= 4 THEN 'satisfied' WHEN satisfaction = 3 THEN 'neutral' ELSE 'dissatisfied' END,
         satisfaction, comment, 'closed', closed_at
  FROM tickets WHERE status = 'closed' AND satisfaction IS NOT NULL AND closed_at IS NOT NULL;

-- One row per technician visit (repair attempt) on a ticket: seq 1, 2, ... A repair not fixed at the first visit
-- gets a further visit on the same ticket, not a new ticket (004: 一次修复率, 备件满足率).
CREATE TABLE ticket_visits (
  id              bigserial PRIMARY KEY,
  ticket_id       bigint NOT NULL REFERENCES tickets (id),
  seq             integer NOT NULL CHECK (seq >= 1),
  technician      text,
  started_at      timestamptz NOT NULL,
  ended_at        timestamptz CHECK (ended_at >= started_at),
  outcome         text NOT NULL CHECK (outcome IN ('fixed', 'not_fixed', 'parts_needed', 'customer_absent')),
  -- were the parts this visit's repair needed at hand (004: 备件满足率); null: not said
  parts_available boolean,
  note            text,
  UNIQUE (ticket_id, seq)
);
