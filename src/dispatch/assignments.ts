// A ticket's assignment as dispatch and supervisors change it: the tickets' dispatch columns (technician_id,
// dispatch, dispatch_state, declined_by, migrations/0009_dispatch.sql), each change one history entry and its
// stream event: callers run these in an inStreamTransaction.
import type { Catalog } from '../catalog/index.js'
import type { Queryable } from '../store/index.js'
import { recordTicketChange, ticketRefCondition, type DispatchDecision, type Status } from '../tickets/index.js'
import type { TicketNeed } from './score.js'

/** A ticket as dispatch reads it. */
export interface DispatchTicket {
  id: number
  number: string
  priority: string
  status: Status
  technicianId: string | null
  dispatch: DispatchDecision | null
  need: TicketNeed
}

interface Row {
  id: string | number
  number: string
  priority: string
  status: Status
  technician_id: string | null
  dispatch: DispatchDecision | null
  model: string
  component: string | null
  region: string | null
  code: string | null
  plan_id: string | null
  warranty: string
  respond_by: Date
  declined_by: string[]
}

const columns = `id, number, priority, status, technician_id, dispatch, model, component, region, code, plan_id, warranty->>'decision' AS warranty, respond_by, declined_by`
/** Labour hours a repair is estimated at when its fault code does not say. */
const DEFAULT_LABOUR_HOURS = 1

export function toDispatchTicket(r: Row, catalog: Catalog): DispatchTicket {
  const model = catalog.get(r.model)
  const labourHours =
    (r.code ? model?.faultCodes.get(r.code)?.labourHours : undefined) ??
    model?.servicePlans.find((p) => p.id === r.plan_id)?.labourHours ??
    DEFAULT_LABOUR_HOURS
  return {
    id: Number(r.id),
    number: r.number,
    priority: r.priority,
    status: r.status,
    technicianId: r.technician_id,
    dispatch: r.dispatch,
    need: {
      category: model?.category ?? null,
      component: r.component,
      region: r.region,
      warranty: r.warranty,
      respondBy: r.respond_by.getTime(),
      labourHours,
      internalRate: { labourRate: model?.warranty.labourRate ?? 0, callOutFee: model?.warranty.callOutFee ?? 0 },
      declined: r.declined_by,
    },
  }
}

/**
 * The next ticket waiting for a decision after `after` (priority, then id), locked; one another process holds is
 * skipped. With `retry`, also those no technician could take last time.
 */
export async function nextToDispatch(
  tx: Queryable,
  catalog: Catalog,
  after: { priority: string; id: number },
  retry: boolean,
): Promise<DispatchTicket | undefined> {
  const { rows } = await tx.query<Row>(
    `SELECT ${columns} FROM tickets
     WHERE dispatch_state = ANY($3::text[]) AND technician_id IS NULL AND technician IS NULL
       AND status IN ('open', 'acknowledged', 'in_progress')
       AND (priority > $1 OR (priority = $1 AND id > $2))
     ORDER BY priority, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
    [after.priority, after.id, retry ? ['pending', 'unassigned'] : ['pending']],
  )
  return rows[0] && toDispatchTicket(rows[0], catalog)
}

/** One ticket by id or number, locked for the rest of the transaction. */
export async function lockTicket(tx: Queryable, catalog: Catalog, ref: string): Promise<DispatchTicket | undefined> {
  const { rows } = await tx.query<Row>(`SELECT ${columns} FROM tickets WHERE ${ticketRefCondition(ref)} FOR UPDATE`, [ref])
  return rows[0] && toDispatchTicket(rows[0], catalog)
}

/**
 * Statuses that a technician taking the ticket moves on: open and acknowledged become assigned, and so does a
 * ticket the follow-up call reopened, which the supervisor re-dispatches (002: 安排二次服务).
 */
const assignedStatus = `CASE WHEN status IN ('open', 'acknowledged', 'reopened') THEN 'assigned' ELSE status END`

/**
 * Gives the ticket to a technician (the load trigger takes their slot, refusing one over capacity) and records it.
 * `state`: 'assigned' by dispatch, 'manual' by a supervisor.
 */
export async function assignTicket(
  tx: Queryable,
  t: DispatchTicket,
  to: { id: string; name: string },
  decision: DispatchDecision,
  state: 'assigned' | 'manual',
  history: { action: string; by: string; note: string; details: Record<string, unknown> },
  now: number,
): Promise<void> {
  await tx.query(
    `UPDATE tickets SET technician_id = $2, technician = $3, status = ${assignedStatus}, dispatch = $4, dispatch_state = $5, updated_at = to_timestamp($6 / 1000.0)
     WHERE id = $1`,
    [t.id, to.id, to.name, JSON.stringify(decision), state, now],
  )
  await recordTicketChange(tx, t.id, now, history.by, history.action, history.note, history.details)
}

/** Keeps a decision that assigns nobody (proposed, or no candidate) with its history entry. */
export async function recordDecision(tx: Queryable, t: DispatchTicket, decision: DispatchDecision, action: string, now: number): Promise<void> {
  const state = decision.outcome === 'proposed' ? 'proposed' : 'unassigned'
  await tx.query(`UPDATE tickets SET dispatch = $2, dispatch_state = $3, updated_at = to_timestamp($4 / 1000.0) WHERE id = $1`, [
    t.id,
    JSON.stringify(decision),
    state,
    now,
  ])
  await recordTicketChange(tx, t.id, now, decision.by, action, decision.reason, { technicianId: decision.technicianId })
}

/** The technician gives the ticket back: it is open again, for dispatch to offer to someone else. */
export async function declineTicket(tx: Queryable, t: DispatchTicket, by: string, reason: string, now: number): Promise<void> {
  await tx.query(
    `UPDATE tickets SET technician_id = NULL, technician = NULL, status = 'open', declined_by = array_append(declined_by, technician_id),
       dispatch_state = 'pending', updated_at = to_timestamp($2 / 1000.0)
     WHERE id = $1`,
    [t.id, now],
  )
  await recordTicketChange(tx, t.id, now, by, 'declined', reason, { technicianId: t.technicianId })
}

export interface FlaggedTicket {
  id: number
  number: string
  priority: string
  region: string | null
  reason: string
  since: string
}

/** Tickets no technician could take, for the supervisor: the most urgent first. */
export async function flaggedTickets(q: Queryable): Promise<FlaggedTicket[]> {
  const { rows } = await q.query<{ id: string | number; number: string; priority: string; region: string | null; reason: string; since: string }>(
    `SELECT id, number, priority, region, dispatch->>'reason' AS reason, dispatch->>'decidedAt' AS since FROM tickets
     WHERE dispatch_state = 'unassigned' AND technician_id IS NULL AND status IN ('open', 'acknowledged', 'in_progress')
     ORDER BY priority, id`,
  )
  return rows.map((r) => ({ ...r, id: Number(r.id) }))
}
