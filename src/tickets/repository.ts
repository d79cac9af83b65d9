// Tickets in the database: opened and updated from detections, moved through their lifecycle by people.
// Every write is one transaction; "one open ticket per device and condition" is the tickets_one_open index,
// so two Faultline processes racing on the same fault still open one.
import type { Detection } from '../detect/index.js'
import type { DeadlineKind, Escalation, MaintenanceDraft, Priority, SlaPolicy, TicketDraft } from '../rules/index.js'
import { calendarDate } from '../calendar.js'
import { escalate, priorities, repeatRepairWindowMs, slaDeadlines } from '../rules/index.js'
import type { Database, Queryable } from '../store/index.js'
import { inStreamTransaction, queueStreamEvent } from '../stream/index.js'
import type { Clock } from '../clock.js'
import { allowedTransitions, finishedStatuses, pausedStatuses, type Status } from './lifecycle.js'
import { rewatch, unmetDeadline } from './sla-watch.js'
import { ticketInsert, ticketSelect, toTicket, type TicketRow } from './columns.js'
import { ticketSchema, type HistoryEntry, type PartsUsed, type Ticket } from './ticket.js'
import { ticketEvent } from './stream-event.js'
import { defaultTicketNumber, ticketNumberFormat } from './number-format.js'

const SYSTEM = 'faultline'

/** The resolved ticket a new one repeats. */
type RepeatOf = NonNullable<TicketDraft['repeatOf']>
const finished = finishedStatuses.map((s) => `'${s}'`).join(', ')

export class TicketNotFound extends Error {
  override name = 'TicketNotFound'
}
export class IllegalTransition extends Error {
  constructor(
    readonly from: Status,
    readonly to: Status,
    readonly allowed: readonly Status[],
  ) {
    super(`a ${from} ticket cannot become ${to}; from ${from} it can become: ${allowed.length > 0 ? allowed.join(', ') : 'nothing (final)'}`)
  }
}
export class TransitionConflict extends Error {
  override name = 'TransitionConflict'
}

/** A person's change of priority, with why (003: urgency reassessed, a customer insisting). */
export interface PriorityChange {
  priority: Priority
  reason: string
  by: string
}

export type DetectionOutcome =
  /** already stored: changes nothing */
  | { action: 'duplicate' }
  /** from a device no longer registered: nobody to repair for */
  | { action: 'unknown_device' }
  | { action: 'cleared' | 'occurrence' | 'opened'; ticket: Ticket }
  | { action: 'cleared'; ticket: undefined }

export interface TransitionRequest {
  to: Status
  by: string
  note?: string
  technician?: string
  resolution?: string
  partsUsed?: PartsUsed
  labourHours?: number
  satisfaction?: number
  comment?: string
}

/** A technician on the way to the customer, and when they should arrive. */
export interface EnRoute {
  by: string
  /** epoch ms */
  eta?: number
  note?: string
}

/** Assigned, or between visits: on site already is not on the way. */
const enRouteFrom: readonly Status[] = ['assigned', 'in_progress', 'remote_handling', 'waiting_parts', 'waiting_customer']

export interface TicketFilter {
  status?: Status[]
  priority?: string[]
  deviceId?: string
  kind?: 'repair' | 'maintenance'
  warranty?: string
  /** tickets with a deadline not met that has passed */
  overdue?: boolean
  /** tickets with a deadline not met before this instant (epoch ms) */
  dueBefore?: number
  channel?: string[]
  /** the customer's phone, exactly as recorded */
  phone?: string
  /** part of the customer's name, any case */
  customer?: string
  model?: string
  region?: string
  technician?: string
  /** opened at or after this instant, epoch ms */
  openedFrom?: number
  /** opened before this instant, epoch ms */
  openedTo?: number
  /** tickets older than this id (the previous page's `next`) */
  before?: number
  limit: number
}

/** A history entry, and its stream event queued for the end of the transaction (issue 10). */
async function record(tx: Queryable, ticket: Ticket, at: number, by: string, action: string, status: Status, note?: string, details?: unknown) {
  await tx.query(`INSERT INTO ticket_history (ticket_id, at, by, action, status, note, details) VALUES ($1, to_timestamp($2 / 1000.0), $3, $4, $5, $6, $7)`, [
    ticket.id,
    at,
    by,
    action,
    status,
    note ?? null,
    details === undefined ? null : JSON.stringify(details),
  ])
  queueStreamEvent(tx, ticketEvent(ticket, { at, by, action, note }))
}

/** Checks or records what a move needs, in its transaction, given the ticket as it was: throwing refuses the move. */
export type TransitionGuard = (tx: Queryable, ticket: Ticket, move: TransitionRequest) => Promise<void>
/** Work done under a transition's row lock, in its transaction, with the ticket as it was before the move. */
export type TransitionHook = (tx: Queryable, before: Ticket, now: number) => Promise<void>

/** The SQL condition on `tickets` that finds the ticket a reference names, as $1: its numeric id, or any number issued. */
export const ticketRefCondition = (ref: string): string => (/^\d+$/.test(ref) ? 'id = $1::bigint' : 'number = $1')

/** The ticket by id or number, its row locked for a change made outside this repository (src/billing). */
export async function lockTicket(tx: Queryable, ref: string, now: number): Promise<Ticket> {
  const { rows } = await tx.query<TicketRow>(`SELECT ${ticketSelect} FROM tickets WHERE ${ticketRefCondition(ref)} FOR UPDATE`, [ref])
  if (!rows[0]) throw new TicketNotFound(`ticket ${ref} does not exist`)
  return toTicket(rows[0], now)
}

/** A warning (the deadline at risk) or a breach (passed) of one of a ticket's deadlines. */
export interface SlaAlert {
  deadline: DeadlineKind
  level: 'warning' | 'breach'
  /** the deadline, epoch ms */
  due: number
}

export type RaisedAlert = SlaAlert & { priority: Priority }

/**
 * A change made to a ticket outside this repository (src/dispatch: assignments, declines), in the caller's
 * inStreamTransaction: its history entry and stream event, with the ticket as it now is.
 */
export async function recordTicketChange(tx: Queryable, ticketId: number, at: number, by: string, action: string, note?: string, details?: unknown) {
  const { rows } = await tx.query<TicketRow>(`SELECT ${ticketSelect} FROM tickets WHERE id = $1`, [ticketId])
  const ticket = toTicket(rows[0]!, at)
  await record(tx, ticket, at, by, action, ticket.status, note, details)
}

/** What a change reads of the ticket it has locked. */
export interface LockedTicket {
  id: number
  status: Status
  priority: Priority
  createdAt: Date
  pausedAt: Date | null
  pausedMs: string
}

export class TicketRepository {
  private readonly formatNumber: (day: string, seq: number) => string

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly timeZone: string,
    /** runs in the transaction that resolves a ticket: maintenance records the service there */
    private readonly onResolved: (tx: Queryable, ticket: Ticket) => Promise<void> = async () => {},
    /** after a ticket opened by hand or moved has committed: dispatch decides it, or looks again (a technician may be free) */
    private readonly onChanged: (change: 'opened' | 'moved') => void = () => {},
    /** FAULTLINE_TICKET_NUMBER (number-format.ts) */
    numberTemplate: string = defaultTicketNumber,
    /** runs before every move, under the ticket's lock: src/billing refuses work on an unapproved quote (issue 12) */
    private readonly beforeMove: TransitionGuard = async () => {},
  ) {
    this.formatNumber = ticketNumberFormat(numberTemplate)
  }

  /**
   * Does what a newly stored detection calls for, in the transaction that stored it: a clear marks the open
   * ticket cleared, a raise adds an occurrence to the open ticket or opens one from `draft` (given the resolved
   * ticket it repeats, if any).
   */
  async applyDetection(
    tx: Queryable,
    d: Detection,
    draft: (repeatOf?: RepeatOf) => TicketDraft,
  ): Promise<Exclude<DetectionOutcome, { action: 'duplicate' | 'unknown_device' }>> {
    const now = this.clock.now()
    if (d.state === 'cleared') {
      const { rows } = await tx.query<{ id: number }>(
        `UPDATE tickets SET cleared_at = to_timestamp($3 / 1000.0), updated_at = to_timestamp($4 / 1000.0)
         WHERE device_id = $1 AND condition = $2 AND status NOT IN (${finished}) RETURNING id`,
        [d.deviceId, d.condition, d.time, now],
      )
      if (!rows[0]) return { action: 'cleared', ticket: undefined }
      const ticket = await this.byId(tx, rows[0].id)
      await record(tx, ticket, now, SYSTEM, 'condition_cleared', ticket.status, d.detail)
      return { action: 'cleared', ticket }
    }
    const { ticket, opened } = await this.raise(tx, { deviceId: d.deviceId, condition: d.condition, at: d.time }, draft, now, SYSTEM, d.detail)
    return { action: opened ? 'opened' : 'occurrence', ticket }
  }

  /** Opens a ticket by hand (a phone report), through the same dedupe and repeat check as a detection. */
  async open(
    fault: { deviceId: string; condition: string; at: number },
    draft: (repeatOf?: RepeatOf) => TicketDraft,
    by: string,
    note?: string,
  ): Promise<Ticket> {
    const ticket = await inStreamTransaction(this.db, async (tx) => (await this.raise(tx, fault, draft, this.clock.now(), by, note)).ticket)
    this.onChanged('opened')
    return ticket
  }

  /**
   * A condition raised on a device: one more occurrence on the ticket open for it, or a new ticket from `draft`,
   * told of the ticket it repeats when the same condition's ticket was resolved within the week.
   */
  private async raise(
    tx: Queryable,
    fault: { deviceId: string; condition: string; at: number },
    draft: (repeatOf?: RepeatOf) => TicketDraft,
    now: number,
    by: string,
    note?: string,
  ): Promise<{ ticket: Ticket; opened: boolean }> {
    const again = await this.addOccurrence(tx, fault.deviceId, fault.condition, fault.at, now, by, note)
    if (again) return { ticket: again, opened: false }
    // A new ticket, then: its number is taken while the repeat check runs (on its own connection where there is one).
    const [previous, number] = await Promise.all([
      tx.query<{ id: number; number: string }>(
        `SELECT id, number FROM tickets
         WHERE device_id = $1 AND condition = $2 AND status IN ('resolved', 'closed')
           AND resolved_at >= to_timestamp(($3::float8 - $4::float8) / 1000.0)
         ORDER BY resolved_at DESC LIMIT 1`,
        [fault.deviceId, fault.condition, fault.at, repeatRepairWindowMs],
      ),
      this.nextNumber(tx, now),
    ])
    const repeatOf = previous.rows[0] && { id: Number(previous.rows[0].id), number: previous.rows[0].number }
    const ticket = await this.insert(tx, draft(repeatOf), now, note, by, number)
    return { ticket, opened: ticket.occurrences === 1 }
  }

  /** Opens a maintenance ticket in the caller's transaction (maintenance claims the occurrence there first). */
  async openMaintenance(tx: Queryable, draft: MaintenanceDraft): Promise<Ticket> {
    return this.insert(tx, draft, draft.openedAt)
  }

  /** The customer a ticket is for (a notification's contact): one column, not the ticket and its history. */
  async customerOf(id: number): Promise<Ticket['customer']> {
    const { rows } = await this.db.query<{ customer: Ticket['customer'] }>(`SELECT customer FROM tickets WHERE id = $1`, [id])
    return rows[0]?.customer ?? null
  }

  async get(ref: string): Promise<(Ticket & { history: HistoryEntry[] }) | undefined> {
    const { rows } = await this.db.query<TicketRow>(`SELECT ${ticketSelect} FROM tickets WHERE ${ticketRefCondition(ref)}`, [ref])
    if (!rows[0]) return undefined
    const history = await this.db.query<{ at: Date; by: string; action: string; status: Status; note: string | null; details: unknown }>(
      `SELECT at, by, action, status, note, details FROM ticket_history WHERE ticket_id = $1 ORDER BY id`,
      [rows[0].id],
    )
    return {
      ...toTicket(rows[0], this.clock.now()),
      history: history.rows.map((h) => ({
        at: h.at.toISOString(),
        by: h.by,
        action: h.action,
        status: h.status,
        note: h.note ?? undefined,
        details: h.details ?? undefined,
      })),
    }
  }

  /** Newest first. */
  async list(f: TicketFilter): Promise<Ticket[]> {
    const now = this.clock.now()
    const { rows } = await this.db.query<TicketRow>(
      `SELECT ${ticketSelect} FROM tickets
       WHERE ($1::text[] IS NULL OR status = ANY($1)) AND ($2::text[] IS NULL OR priority = ANY($2))
         AND ($3::text IS NULL OR device_id = $3) AND ($4::text IS NULL OR kind = $4)
         AND ($5::text IS NULL OR warranty->>'decision' = $5) AND ($6::bigint IS NULL OR id < $6)
         AND (NOT $8::boolean OR ${unmetDeadline('<= coalesce(tickets.paused_at, to_timestamp($9 / 1000.0))')})
         AND ($10::float8 IS NULL OR ${unmetDeadline('< to_timestamp($10 / 1000.0)')})
         AND ($11::text[] IS NULL OR channel = ANY($11)) AND ($12::text IS NULL OR customer->>'phone' = $12)
         AND ($13::text IS NULL OR strpos(lower(customer->>'name'), lower($13)) > 0)
         AND ($14::text IS NULL OR model = $14) AND ($15::text IS NULL OR region = $15) AND ($16::text IS NULL OR technician = $16)
         AND ($17::float8 IS NULL OR created_at >= to_timestamp($17 / 1000.0)) AND ($18::float8 IS NULL OR created_at < to_timestamp($18 / 1000.0))
       ORDER BY id DESC LIMIT $7`,
      [
        f.status ?? null,
        f.priority ?? null,
        f.deviceId ?? null,
        f.kind ?? null,
        f.warranty ?? null,
        f.before ?? null,
        f.limit,
        f.overdue ?? false,
        now,
        f.dueBefore ?? null,
        f.channel ?? null,
        f.phone ?? null,
        f.customer ?? null,
        f.model ?? null,
        f.region ?? null,
        f.technician ?? null,
        f.openedFrom ?? null,
        f.openedTo ?? null,
      ],
    )
    return rows.map((r) => toTicket(r, now))
  }

  /** How many tickets are open, for every priority and kind (zero included, so a figure falls to 0 rather than vanishing). */
  async openCounts(): Promise<{ priority: Ticket['priority']; kind: Ticket['kind']; count: number }[]> {
    const { rows } = await this.db.query<{ priority: string; kind: string; count: string }>(
      `SELECT priority, kind, count(*) AS count FROM tickets WHERE status NOT IN (${finished}) GROUP BY priority, kind`,
    )
    const count = (priority: string, kind: string) => Number(rows.find((r) => r.priority === priority && r.kind === kind)?.count ?? 0)
    return priorities.flatMap((priority) => ticketSchema.shape.kind.options.map((kind) => ({ priority, kind, count: count(priority, kind) })))
  }

  /**
   * Moves a ticket along its lifecycle; every change is in its history with who and when. `alongside` runs first,
   * under the ticket's row lock in the same transaction, with the ticket as it was (src/followup settles the
   * follow-up there, src/billing records a declined quote's bill): what it throws undoes the move.
   */
  async transition(ref: string, t: TransitionRequest, alongside?: TransitionHook): Promise<Ticket> {
    const moved = await inStreamTransaction(this.db, async (tx) => {
      const current = await this.lock(tx, ref)
      const now = this.clock.now()
      const before = await this.byId(tx, current.id)
      await alongside?.(tx, before, now)
      const allowed = allowedTransitions[current.status]
      if (!allowed.includes(t.to)) throw new IllegalTransition(current.status, t.to, allowed)
      await this.beforeMove(tx, before, t)
      if ((t.to === 'in_progress' || t.to === 'reopened') && current.status === 'resolved') {
        // Reopening: only if no newer ticket has been opened for the same condition meanwhile.
        const clash = await tx.query<{ number: string }>(
          `SELECT o.number FROM tickets o JOIN tickets t ON t.id = $1
           WHERE o.device_id = t.device_id AND o.condition = t.condition AND o.id <> t.id AND o.status NOT IN (${finished})`,
          [current.id],
        )
        if (clash.rows[0]) throw new TransitionConflict(`ticket ${clash.rows[0].number} is already open for this fault: work on that one`)
      }
      await tx.query(
        `UPDATE tickets SET status = $2, updated_at = to_timestamp($3 / 1000.0),
           technician = coalesce($4, technician),
           -- a name typed by hand replaces the directory technician (whose slot the load trigger frees)
           technician_id = CASE WHEN $4::text IS NOT NULL AND $4 IS DISTINCT FROM technician THEN NULL ELSE technician_id END,
           resolution = coalesce($5, resolution),
           parts_used = coalesce($6::jsonb, parts_used),
           labor_hours = coalesce($7, labor_hours),
           satisfaction = coalesce($8, satisfaction),
           comment = coalesce($9, comment),
           resolved_at = CASE WHEN $2 = 'resolved' THEN to_timestamp($3 / 1000.0) WHEN $2 IN ('in_progress', 'reopened') THEN NULL ELSE resolved_at END,
           closed_at = CASE WHEN $2 IN ('closed', 'cancelled') THEN to_timestamp($3 / 1000.0) ELSE closed_at END
         WHERE id = $1`,
        [
          current.id,
          t.to,
          now,
          t.technician ?? null,
          t.resolution ?? null,
          t.partsUsed ? JSON.stringify(t.partsUsed) : null,
          t.labourHours ?? null,
          t.satisfaction ?? null,
          t.comment ?? null,
        ],
      )
      const { to: _to, by, note, ...details } = t
      const clock = await this.pauseOrResume(tx, current, t.to, now)
      await rewatch(tx, current.id)
      const ticket = await this.byId(tx, current.id)
      await record(
        tx,
        ticket,
        now,
        by,
        t.to === 'in_progress' && current.status === 'resolved' ? 'reopened' : t.to,
        t.to,
        note,
        Object.keys(details).length > 0 ? details : undefined,
      )
      if (clock) await record(tx, ticket, now, by, clock.action, t.to, undefined, clock.details)
      if (t.to === 'resolved') await this.onResolved(tx, ticket)
      return ticket
    })
    this.onChanged('moved')
    return moved
  }

  /**
   * A person sets the priority: the deadlines are those of the new priority from the ticket's opening, moved on
   * by the time it has been paused, and warnings and breaches of the old ones no longer stand.
   */
  async changePriority(ref: string, change: PriorityChange, policy: SlaPolicy): Promise<Ticket> {
    return inStreamTransaction(this.db, async (tx) => {
      const current = await this.lock(tx, ref)
      if (finishedStatuses.includes(current.status)) throw new TransitionConflict(`a ${current.status} ticket keeps its priority`)
      if (current.priority === change.priority) throw new TransitionConflict(`the ticket is ${change.priority} already`)
      const d = slaDeadlines(change.priority, current.createdAt.getTime(), policy, Number(current.pausedMs))
      await tx.query(
        `UPDATE tickets SET priority = $2, updated_at = to_timestamp($3 / 1000.0),
           respond_by = to_timestamp($4 / 1000.0), start_by = to_timestamp($5 / 1000.0), resolve_by = to_timestamp($6 / 1000.0),
           respond_warn_at = to_timestamp($7 / 1000.0), start_warn_at = to_timestamp($8 / 1000.0), resolve_warn_at = to_timestamp($9 / 1000.0)
         WHERE id = $1`,
        [current.id, change.priority, this.clock.now(), d.respondBy, d.startBy, d.resolveBy, d.respondWarnAt, d.startWarnAt, d.resolveWarnAt],
      )
      await tx.query(`DELETE FROM sla_alerts WHERE ticket_id = $1`, [current.id])
      await rewatch(tx, current.id)
      const ticket = await this.byId(tx, current.id)
      const iso = (ms: number) => new Date(ms).toISOString()
      await record(tx, ticket, this.clock.now(), change.by, 'priority_changed', current.status, change.reason, {
        from: current.priority,
        to: change.priority,
        respondBy: iso(d.respondBy),
        startBy: iso(d.startBy),
        resolveBy: iso(d.resolveBy),
      })
      return ticket
    })
  }

  /**
   * The technician sets out (004: 预约上门, the customer told when to expect them): a history entry, so the
   * stream and the customer's webhook hear of it, with no change of status.
   */
  async announceEnRoute(ref: string, trip: EnRoute): Promise<Ticket> {
    return inStreamTransaction(this.db, async (tx) => {
      const current = await this.lock(tx, ref)
      if (!enRouteFrom.includes(current.status))
        throw new TransitionConflict(`a technician sets out for an assigned ticket or between visits; this one is ${current.status}`)
      const now = this.clock.now()
      await tx.query(`UPDATE tickets SET updated_at = to_timestamp($2 / 1000.0) WHERE id = $1`, [current.id, now])
      const ticket = await this.byId(tx, current.id)
      const eta = trip.eta === undefined ? undefined : new Date(trip.eta).toISOString()
      const note = [trip.note, eta && `expected by ${eta}`].filter(Boolean).join('; ') || undefined
      await record(tx, ticket, now, trip.by, 'en_route', current.status, note, eta && { eta })
      return ticket
    })
  }

  /** For the SLA watcher: the tickets whose next SLA instant has come, soonest first (an index range on next_sla_at). */
  async slaDue(now: number, limit: number): Promise<number[]> {
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT id FROM tickets WHERE next_sla_at <= to_timestamp($1 / 1000.0) ORDER BY next_sla_at LIMIT $2`,
      [now, limit],
    )
    return rows.map((r) => Number(r.id))
  }

  /**
   * For the SLA watcher: under the ticket's row lock, each alert `due` finds on the ticket as it stands is claimed
   * in sla_alerts (whichever process or pass inserts the row raises it), recorded in the history, and a breach
   * escalated as the policy says; then the ticket's next SLA instant is set. Returns the alerts raised, each with
   * the priority the ticket had when it was (before an escalation).
   */
  async raiseSlaAlerts(id: number, now: number, due: (t: Ticket) => SlaAlert[], escalation: Escalation): Promise<RaisedAlert[]> {
    return inStreamTransaction(this.db, async (tx) => {
      const { rows } = await tx.query<{ next: Date | null }>(`SELECT next_sla_at AS next FROM tickets WHERE id = $1 FOR UPDATE`, [id])
      const ticket = await this.byId(tx, id)
      // another process (or a change since the query) has moved it on
      if (!rows[0]?.next || rows[0].next.getTime() > now) return []
      const raised: RaisedAlert[] = []
      for (const alert of due(ticket)) {
        const claimed = await tx.query(
          `INSERT INTO sla_alerts (ticket_id, deadline, level, at) VALUES ($1, $2, $3, to_timestamp($4 / 1000.0)) ON CONFLICT DO NOTHING RETURNING ticket_id`,
          [id, alert.deadline, alert.level, now],
        )
        if (claimed.rows.length === 0) continue
        raised.push({ ...alert, priority: ticket.priority })
        const passed = alert.level === 'breach'
        await record(
          tx,
          ticket,
          now,
          SYSTEM,
          passed ? 'sla_breached' : 'sla_warning',
          ticket.status,
          `${alert.deadline} deadline ${passed ? 'passed' : 'at risk'}`,
          {
            deadline: alert.deadline,
            due: new Date(alert.due).toISOString(),
          },
        )
        if (passed) await this.escalate(tx, ticket, alert.deadline, escalation, now)
      }
      await rewatch(tx, id)
      return raised
    })
  }

  /** A breach escalates: the priority raised one level, or the supervisor called (also for a P1, with no level above). */
  private async escalate(tx: Queryable, ticket: Ticket, deadline: DeadlineKind, escalation: Escalation, now: number) {
    if (escalation === 'none') return
    const to = escalate(ticket.priority)
    if (escalation === 'priority' && to !== ticket.priority) {
      // the deadlines promised stay: a higher priority puts the ticket ahead in the queue, it does not shorten them
      await tx.query(`UPDATE tickets SET priority = $2, updated_at = to_timestamp($3 / 1000.0) WHERE id = $1`, [ticket.id, to, now])
      const from = ticket.priority
      ticket.priority = to
      await record(tx, ticket, now, SYSTEM, 'escalated', ticket.status, `${deadline} deadline breached: priority raised`, { deadline, from, to })
    } else {
      await record(tx, ticket, now, SYSTEM, 'escalated', ticket.status, `${deadline} deadline breached: for the supervisor`, { deadline, to: 'supervisor' })
    }
  }

  /** The ticket's row locked for a change, by id or number. */
  private async lock(tx: Queryable, ref: string): Promise<LockedTicket> {
    const { rows } = await tx.query<LockedTicket>(
      `SELECT id, status, priority, created_at AS "createdAt", paused_at AS "pausedAt", paused_ms AS "pausedMs"
       FROM tickets WHERE ${ticketRefCondition(ref)} FOR UPDATE`,
      [ref],
    )
    if (!rows[0]) throw new TicketNotFound(`ticket ${ref} does not exist`)
    return { ...rows[0], id: Number(rows[0].id) }
  }

  /**
   * Waiting on parts or the customer stops the SLA clock; work resuming moves every deadline and warning on by
   * the time it stood still (issue 11). Returns the history entry that says so.
   */
  private async pauseOrResume(
    tx: Queryable,
    current: { id: number; pausedAt: Date | null },
    to: Status,
    now: number,
  ): Promise<{ action: 'sla_paused' | 'sla_resumed'; details?: { pausedMs: number } } | undefined> {
    const waits = pausedStatuses.includes(to)
    if (waits && current.pausedAt === null) {
      await tx.query(`UPDATE tickets SET paused_at = to_timestamp($2 / 1000.0) WHERE id = $1`, [current.id, now])
      return { action: 'sla_paused' }
    } else if (!waits && current.pausedAt !== null) {
      const pausedMs = Math.max(0, now - current.pausedAt.getTime())
      const shift = ['respond_by', 'start_by', 'resolve_by', 'respond_warn_at', 'start_warn_at', 'resolve_warn_at']
        .map((c) => `${c} = ${c} + make_interval(secs => $2::bigint / 1000.0)`)
        .join(', ')
      await tx.query(`UPDATE tickets SET ${shift}, paused_at = NULL, paused_ms = paused_ms + $2::bigint WHERE id = $1`, [current.id, pausedMs])
      return { action: 'sla_resumed', details: { pausedMs } }
    }
    return undefined
  }

  /** The same condition again on a device with an open ticket: one more occurrence, seen later, not cleared. */
  private async addOccurrence(tx: Queryable, deviceId: string, condition: string, time: number, now: number, by: string, note?: string) {
    const { rows } = await tx.query<{ id: number; status: Status }>(
      `UPDATE tickets SET occurrences = occurrences + 1, last_seen = greatest(last_seen, to_timestamp($3 / 1000.0)),
              cleared_at = NULL, updated_at = to_timestamp($4 / 1000.0)
       WHERE device_id = $1 AND condition = $2 AND status NOT IN (${finished}) RETURNING id, status`,
      [deviceId, condition, time, now],
    )
    if (!rows[0]) return undefined
    const ticket = await this.byId(tx, rows[0].id)
    await record(tx, ticket, now, by, 'occurrence', rows[0].status, note)
    return ticket
  }

  private async byId(tx: Queryable, id: number): Promise<Ticket> {
    const { rows } = await tx.query<TicketRow>(`SELECT ${ticketSelect} FROM tickets WHERE id = $1`, [id])
    return toTicket(rows[0]!, this.clock.now())
  }

  /**
   * The next readable number of the day (SR20261202001 by default, number-format.ts), in the configured time zone.
   * Taken autonomously where the database can (committed at once): the day's counter row is then locked for that
   * one statement, not until the taking transaction commits, so tickets opened at once do not wait for each
   * other's transactions (issue 13: under load each statement of a transaction costs a turn of the busy event
   * loop). A ticket whose transaction rolls back leaves its number unused; numbers stay unique and increasing.
   */
  private async nextNumber(tx: Queryable, now: number): Promise<string> {
    const day = calendarDate(now, this.timeZone)
    const { rows } = await (this.db.autonomous ?? tx).query<{ last: number }>(
      `INSERT INTO ticket_counters (day, last) VALUES ($1, 1) ON CONFLICT (day) DO UPDATE SET last = ticket_counters.last + 1 RETURNING last`,
      [day],
    )
    return this.formatNumber(day, rows[0]!.last)
  }

  private async insert(tx: Queryable, t: TicketDraft, now: number, note?: string, by = SYSTEM, taken?: string): Promise<Ticket> {
    const number = taken ?? (await this.nextNumber(tx, now))
    const insert = ticketInsert(t, { number })
    const { rows } = await tx.query<{ id: number; inserted: boolean }>(
      `INSERT INTO tickets (${insert.columns}) VALUES (${insert.values})
       ON CONFLICT (device_id, condition) WHERE status NOT IN (${finished})
       DO UPDATE SET occurrences = tickets.occurrences + 1, last_seen = greatest(tickets.last_seen, excluded.last_seen), updated_at = excluded.updated_at
       RETURNING id, (xmax = 0) AS inserted`,
      insert.params,
    )
    const { id, inserted } = rows[0]!
    if (inserted) await rewatch(tx, id)
    const ticket = await this.byId(tx, id)
    await record(
      tx,
      ticket,
      now,
      by,
      inserted ? 'opened' : 'occurrence',
      ticket.status,
      note,
      inserted ? { priority: t.priority, warranty: t.warranty.decision, repeatOf: t.repeatOf?.number } : undefined,
    )
    return ticket
  }
}
