// Tickets in the database: opened and updated from detections, moved through their lifecycle by people.
// Every write is one transaction; "one open ticket per device and condition" is the tickets_one_open index,
// so two Faultline processes racing on the same fault still open one.
import type { Detection } from '../detect/index.js'
import type { MaintenanceDraft, TicketDraft } from '../rules/index.js'
import { calendarDate } from '../calendar.js'
import { repeatRepairWindowMs } from '../rules/index.js'
import type { Database, Queryable } from '../store/index.js'
import type { Clock } from '../clock.js'
import { allowedTransitions, finishedStatuses, type Status } from './lifecycle.js'
import { ticketInsert, ticketSelect, toTicket, type TicketRow } from './columns.js'
import type { HistoryEntry, PartsUsed, Ticket } from './ticket.js'
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

export interface TicketFilter {
  status?: Status[]
  priority?: string[]
  deviceId?: string
  kind?: 'repair' | 'maintenance'
  warranty?: string
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

async function record(tx: Queryable, ticketId: number, at: number, by: string, action: string, status: Status, note?: string, details?: unknown) {
  await tx.query(`INSERT INTO ticket_history (ticket_id, at, by, action, status, note, details) VALUES ($1, to_timestamp($2 / 1000.0), $3, $4, $5, $6, $7)`, [
    ticketId,
    at,
    by,
    action,
    status,
    note ?? null,
    details === undefined ? null : JSON.stringify(details),
  ])
}

export class TicketRepository {
  private readonly formatNumber: (day: string, seq: number) => string

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly timeZone: string,
    /** runs in the transaction that resolves a ticket: maintenance records the service there */
    private readonly onResolved: (tx: Queryable, ticket: Ticket) => Promise<void> = async () => {},
    /** FAULTLINE_TICKET_NUMBER (number-format.ts) */
    numberTemplate: string = defaultTicketNumber,
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
      await record(tx, ticket.id, now, SYSTEM, 'condition_cleared', ticket.status, d.detail)
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
    return this.db.transaction(async (tx) => (await this.raise(tx, fault, draft, this.clock.now(), by, note)).ticket)
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
    const previous = await tx.query<{ id: number; number: string }>(
      `SELECT id, number FROM tickets
       WHERE device_id = $1 AND condition = $2 AND status IN ('resolved', 'closed')
         AND resolved_at >= to_timestamp(($3::float8 - $4::float8) / 1000.0)
       ORDER BY resolved_at DESC LIMIT 1`,
      [fault.deviceId, fault.condition, fault.at, repeatRepairWindowMs],
    )
    const repeatOf = previous.rows[0] && { id: Number(previous.rows[0].id), number: previous.rows[0].number }
    const ticket = await this.insert(tx, draft(repeatOf), now, note, by)
    return { ticket, opened: ticket.occurrences === 1 }
  }

  /** Opens a maintenance ticket in the caller's transaction (maintenance claims the occurrence there first). */
  async openMaintenance(tx: Queryable, draft: MaintenanceDraft): Promise<Ticket> {
    return this.insert(tx, draft, draft.openedAt)
  }

  async get(ref: string): Promise<(Ticket & { history: HistoryEntry[] }) | undefined> {
    const { rows } = await this.db.query<TicketRow>(`SELECT ${ticketSelect} FROM tickets WHERE ${/^\d+$/.test(ref) ? 'id = $1::bigint' : 'number = $1'}`, [ref])
    if (!rows[0]) return undefined
    const history = await this.db.query<{ at: Date; by: string; action: string; status: Status; note: string | null; details: unknown }>(
      `SELECT at, by, action, status, note, details FROM ticket_history WHERE ticket_id = $1 ORDER BY id`,
      [rows[0].id],
    )
    return {
      ...toTicket(rows[0]),
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
    const { rows } = await this.db.query<TicketRow>(
      `SELECT ${ticketSelect} FROM tickets
       WHERE ($1::text[] IS NULL OR status = ANY($1)) AND ($2::text[] IS NULL OR priority = ANY($2))
         AND ($3::text IS NULL OR device_id = $3) AND ($4::text IS NULL OR kind = $4)
         AND ($5::text IS NULL OR warranty->>'decision' = $5) AND ($6::bigint IS NULL OR id < $6)
         AND ($8::text[] IS NULL OR channel = ANY($8)) AND ($9::text IS NULL OR customer->>'phone' = $9)
         AND ($10::text IS NULL OR strpos(lower(customer->>'name'), lower($10)) > 0)
         AND ($11::text IS NULL OR model = $11) AND ($12::text IS NULL OR region = $12) AND ($13::text IS NULL OR technician = $13)
         AND ($14::float8 IS NULL OR created_at >= to_timestamp($14 / 1000.0)) AND ($15::float8 IS NULL OR created_at < to_timestamp($15 / 1000.0))
       ORDER BY id DESC LIMIT $7`,
      [
        f.status ?? null,
        f.priority ?? null,
        f.deviceId ?? null,
        f.kind ?? null,
        f.warranty ?? null,
        f.before ?? null,
        f.limit,
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
    return rows.map(toTicket)
  }

  /** Moves a ticket along its lifecycle; every change is in its history with who and when. */
  async transition(ref: string, t: TransitionRequest): Promise<Ticket> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: number; status: Status }>(
        `SELECT id, status FROM tickets WHERE ${/^\d+$/.test(ref) ? 'id = $1::bigint' : 'number = $1'} FOR UPDATE`,
        [ref],
      )
      const current = rows[0]
      if (!current) throw new TicketNotFound(`ticket ${ref} does not exist`)
      const allowed = allowedTransitions[current.status]
      if (!allowed.includes(t.to)) throw new IllegalTransition(current.status, t.to, allowed)
      const now = this.clock.now()
      if (t.to === 'in_progress' && current.status === 'resolved') {
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
           resolution = coalesce($5, resolution),
           parts_used = coalesce($6::jsonb, parts_used),
           labor_hours = coalesce($7, labor_hours),
           satisfaction = coalesce($8, satisfaction),
           comment = coalesce($9, comment),
           resolved_at = CASE WHEN $2 = 'resolved' THEN to_timestamp($3 / 1000.0) WHEN $2 = 'in_progress' THEN NULL ELSE resolved_at END,
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
      await record(
        tx,
        current.id,
        now,
        by,
        t.to === 'in_progress' && current.status === 'resolved' ? 'reopened' : t.to,
        t.to,
        note,
        Object.keys(details).length > 0 ? details : undefined,
      )
      const ticket = await this.byId(tx, current.id)
      if (t.to === 'resolved') await this.onResolved(tx, ticket)
      return ticket
    })
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
    await record(tx, rows[0].id, now, by, 'occurrence', rows[0].status, note)
    return this.byId(tx, rows[0].id)
  }

  private async byId(tx: Queryable, id: number): Promise<Ticket> {
    const { rows } = await tx.query<TicketRow>(`SELECT ${ticketSelect} FROM tickets WHERE id = $1`, [id])
    return toTicket(rows[0]!)
  }

  /** The next readable number of the day (SR20261202001 by default, number-format.ts), in the configured time zone. */
  private async nextNumber(tx: Queryable, now: number): Promise<string> {
    const day = calendarDate(now, this.timeZone)
    const { rows } = await tx.query<{ last: number }>(
      `INSERT INTO ticket_counters (day, last) VALUES ($1, 1) ON CONFLICT (day) DO UPDATE SET last = ticket_counters.last + 1 RETURNING last`,
      [day],
    )
    return this.formatNumber(day, rows[0]!.last)
  }

  private async insert(tx: Queryable, t: TicketDraft, now: number, note?: string, by = SYSTEM): Promise<Ticket> {
    const number = await this.nextNumber(tx, now)
    const insert = ticketInsert(t, { number })
    const { rows } = await tx.query<{ id: number; inserted: boolean }>(
      `INSERT INTO tickets (${insert.columns}) VALUES (${insert.values})
       ON CONFLICT (device_id, condition) WHERE status NOT IN (${finished})
       DO UPDATE SET occurrences = tickets.occurrences + 1, last_seen = greatest(tickets.last_seen, excluded.last_seen), updated_at = excluded.updated_at
       RETURNING id, (xmax = 0) AS inserted`,
      insert.params,
    )
    const { id, inserted } = rows[0]!
    const ticket = await this.byId(tx, id)
    await record(
      tx,
      id,
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
