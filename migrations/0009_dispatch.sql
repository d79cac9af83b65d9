-- Technicians, the external service providers some of them work for, and the dispatch decision on each ticket
-- (issue 11). 000: internal staff or an external provider; 001/004: by skill, region and load.

-- An external service provider (000: 外部服务商): what it is certified for and until when, and what it costs.
CREATE TABLE providers (
  id                   text PRIMARY KEY,
  name                 text NOT NULL,
  -- product categories of the catalog it is certified to repair; an expired qualification takes it out of dispatch
  certified_categories text[] NOT NULL,
  qualified_until      date NOT NULL,
  hourly_rate          double precision NOT NULL CHECK (hourly_rate >= 0),
  call_out_fee         double precision NOT NULL CHECK (call_out_fee >= 0),
  active               boolean NOT NULL DEFAULT true,
  created_at           timestamptz NOT NULL,
  updated_at           timestamptz NOT NULL
);

CREATE TABLE technicians (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  -- the maker's own staff belong to a team, everyone else to a provider: exactly one of the two
  team        text,
  provider_id text REFERENCES providers (id),
  CHECK ((team IS NULL) <> (provider_id IS NULL)),
  -- [{category, component?, level 1-5}]: a skill without a component covers the whole category
  skills      jsonb NOT NULL,
  regions     text[] NOT NULL,
  -- {lat, lon}, optional
  home        jsonb,
  -- open tickets at once
  capacity    integer NOT NULL CHECK (capacity >= 0),
  -- {timeZone, days: [1-7, ISO weekdays], from: 'HH:MM', to: 'HH:MM'}
  hours       jsonb NOT NULL,
  -- [{from, to}]: calendar dates in the technician's time zone, both included
  leave       jsonb NOT NULL DEFAULT '[]',
  on_leave    boolean NOT NULL DEFAULT false,
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);

-- How many unfinished tickets each technician holds, kept by the trigger below in the transaction that changes a
-- ticket's technician or status. Its row is the lock two assigning processes queue on.
CREATE TABLE technician_load (
  technician_id text PRIMARY KEY REFERENCES technicians (id),
  open_tickets  integer NOT NULL DEFAULT 0 CHECK (open_tickets >= 0)
);

-- technician_id: the technician from the directory; the free-text `technician` stays, for a name typed by hand
-- in a transition, and holds the directory technician's name when dispatch or a supervisor assigns one.
ALTER TABLE tickets ADD COLUMN technician_id text REFERENCES technicians (id);
-- the last decision's explanation: candidates, each score's parts, why the winner won, who was rejected and why
ALTER TABLE tickets ADD COLUMN dispatch jsonb;
-- pending: to be decided; unassigned: no candidate (flagged for the supervisor, retried); assigned; proposed;
-- manual. Tickets from before this migration have none: dispatch leaves them alone.
ALTER TABLE tickets ADD COLUMN dispatch_state text CHECK (dispatch_state IN ('pending', 'unassigned', 'assigned', 'proposed', 'manual'));
ALTER TABLE tickets ALTER COLUMN dispatch_state SET DEFAULT 'pending';
-- technicians who declined the ticket: re-dispatch passes them over
ALTER TABLE tickets ADD COLUMN declined_by text[] NOT NULL DEFAULT '{}';
CREATE INDEX tickets_to_dispatch ON tickets (priority, id) WHERE dispatch_state IN ('pending', 'unassigned');
CREATE INDEX tickets_by_technician ON tickets (technician_id) WHERE technician_id IS NOT NULL;

-- Capacity is enforced here, whoever changes the ticket: a ticket holds a slot of its technician while it is not
-- finished. Taking a slot is a conditional UPDATE of the technician's load row: a second process assigning at the
-- same moment waits for the row, sees the new count and is refused, so two processes never exceed the capacity.
CREATE FUNCTION tickets_hold_technician_load() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  held boolean := OLD.technician_id IS NOT NULL AND OLD.status NOT IN ('resolved', 'closed', 'cancelled');
  holds boolean := NEW.technician_id IS NOT NULL AND NEW.status NOT IN ('resolved', 'closed', 'cancelled');
BEGIN
  IF held AND (NOT holds OR OLD.technician_id <> NEW.technician_id) THEN
    UPDATE technician_load SET open_tickets = open_tickets - 1 WHERE technician_id = OLD.technician_id;
  END IF;
  IF holds AND (NOT held OR OLD.technician_id <> NEW.technician_id) THEN
    UPDATE technician_load l SET open_tickets = l.open_tickets + 1
      FROM technicians t WHERE l.technician_id = NEW.technician_id AND t.id = l.technician_id AND l.open_tickets < t.capacity;
    IF NOT FOUND THEN
      IF OLD.status = 'resolved' THEN
        -- Reopened after the follow-up call (000: 重新派单) while its technician is full: back to dispatch.
        NEW.technician_id := NULL;
        NEW.technician := NULL;
        NEW.dispatch_state := 'pending';
      ELSE
        RAISE EXCEPTION 'technician % is at capacity', NEW.technician_id USING ERRCODE = 'check_violation';
      END IF;
    END IF;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER tickets_technician_load BEFORE UPDATE OF technician_id, status ON tickets
  FOR EACH ROW EXECUTE FUNCTION tickets_hold_technician_load();
