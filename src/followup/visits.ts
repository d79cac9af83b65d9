// The technician's visits to a ticket, each a repair attempt (issue 12): a repair not fixed at the first visit gets
// a further visit on the same ticket (seq 2, ...), never a new ticket, so 004's 一次修复率 (fixed at the first
// visit) and 备件满足率 (parts at hand) can be counted from what was recorded.
import { z } from 'zod'
import type { Database } from '../store/index.js'
import { inStreamTransaction } from '../stream/index.js'
import type { Clock } from '../clock.js'
import { recordTicketChange, TicketNotFound, ticketRefCondition } from '../tickets/index.js'

export const visitOutcomes = ['fixed', 'not_fixed', 'parts_needed', 'customer_absent'] as const

export const visitSchema = z.object({
  id: z.number(),
  seq: z.number(),
  technician: z.string().nullable(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  outcome: z.enum(visitOutcomes),
  /** were the parts this visit's repair needed at hand; null: not said */
  partsAvailable: z.boolean().nullable(),
  note: z.string().nullable(),
})
export type Visit = z.infer<typeof visitSchema>
/** What a visit records: the rest is numbered and stored. */
export type NewVisit = Omit<Visit, 'id' | 'seq'> & { by: string }

/** A visit to a ticket that is over (closed or cancelled). */
export class VisitRefused extends Error {
  override name = 'VisitRefused'
}

interface VisitRow {
  id: string
  seq: number
  technician: string | null
  started_at: Date
  ended_at: Date | null
  outcome: Visit['outcome']
  parts_available: boolean | null
  note: string | null
}
const columns = 'id, seq, technician, started_at, ended_at, outcome, parts_available, note'
const toVisit = (r: VisitRow): Visit => ({
  id: Number(r.id),
  seq: r.seq,
  technician: r.technician,
  startedAt: r.started_at.toISOString(),
  endedAt: r.ended_at?.toISOString() ?? null,
  outcome: r.outcome,
  partsAvailable: r.parts_available,
  note: r.note,
})

export class Visits {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /** Records the ticket's next visit under its row lock (two at once get seq n and n+1), with its history entry. */
  async record(ref: string, v: NewVisit): Promise<Visit> {
    return inStreamTransaction(this.db, async (tx) => {
      const { rows: locked } = await tx.query<{ id: string; status: string }>(`SELECT id, status FROM tickets WHERE ${ticketRefCondition(ref)} FOR UPDATE`, [
        ref,
      ])
      const ticket = locked[0]
      if (!ticket) throw new TicketNotFound(`ticket ${ref} does not exist`)
      if (ticket.status === 'closed' || ticket.status === 'cancelled') throw new VisitRefused(`the ticket is ${ticket.status}: it takes no more visits`)
      const { rows } = await tx.query<VisitRow>(
        `INSERT INTO ticket_visits (ticket_id, seq, technician, started_at, ended_at, outcome, parts_available, note)
         SELECT $1, coalesce(max(seq), 0) + 1, $2, $3::timestamptz, $4::timestamptz, $5, $6, $7 FROM ticket_visits WHERE ticket_id = $1
         RETURNING ${columns}`,
        [ticket.id, v.technician, v.startedAt, v.endedAt, v.outcome, v.partsAvailable, v.note],
      )
      const visit = toVisit(rows[0]!)
      const { id: _id, note, ...details } = visit
      await recordTicketChange(tx, Number(ticket.id), this.clock.now(), v.by, 'visit_recorded', note ?? undefined, details)
      return visit
    })
  }

  /** A ticket's visits, first first. */
  async of(ticketId: number): Promise<Visit[]> {
    const { rows } = await this.db.query<VisitRow>(`SELECT ${columns} FROM ticket_visits WHERE ticket_id = $1 ORDER BY seq`, [ticketId])
    return rows.map(toVisit)
  }
}
