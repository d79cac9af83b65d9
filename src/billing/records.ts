// The money records of a ticket in the database: its diagnoses, the customer's decisions on its quote, its final
// bill (ticket_bills, the table the KPIs read: migration 0013). Each function runs in the caller's transaction.
import { z } from 'zod'
import { exclusionCause } from '../catalog/index.js'
import type { Queryable } from '../store/index.js'
import { quoteSchema, ticketSchema, type Ticket } from '../tickets/index.js'
import { billLine, settlements, type BillDraft } from './bill.js'

const instant = z.string()
const judgement = ticketSchema.shape.warranty

export const approvalChannels = ['phone', 'wechat', 'sms', 'in_person', 'web', 'email', 'app'] as const

/** The final bill as the API shows it: integer cents, and the difference to the approved quote. */
export const billSchema = z.object({
  ticketId: z.number(),
  currency: z.string(),
  lines: z.array(billLine),
  labourHours: z.number(),
  labourCents: z.number().int(),
  partsCents: z.number().int(),
  transportCents: z.number().int(),
  otherCents: z.number().int(),
  /** the cost of the work at catalog prices, charged or not */
  totalCents: z.number().int(),
  /** what the customer pays */
  chargedCents: z.number().int(),
  /** the last approved quote's total */
  quotedCents: z.number().int().nullable(),
  /** total minus the approved quote: what the work came to beyond (or under) what the customer approved */
  differenceCents: z.number().int().nullable(),
  settlement: z.enum(settlements),
  settlementReference: z.string().nullable(),
  settledBy: z.string().nullable(),
  freeReason: z.string().nullable(),
  computedAt: instant,
  settledAt: instant.nullable(),
})
export type Bill = z.infer<typeof billSchema>

export const diagnosisSchema = z.object({
  at: instant,
  by: z.string(),
  cause: z.string(),
  exclusion: exclusionCause.nullable(),
  parts: z.array(z.object({ partNo: z.string(), qty: z.number() })).nullable(),
  labourHours: z.number().nullable(),
  warrantyFrom: judgement,
  warrantyTo: judgement,
  quoteFrom: quoteSchema.nullable(),
  quoteTo: quoteSchema.nullable(),
})
export type Diagnosis = z.infer<typeof diagnosisSchema>

export const approvalDecisionSchema = z.object({
  at: instant,
  decision: z.enum(['approved', 'declined']),
  by: z.string(),
  channel: z.enum(approvalChannels),
  note: z.string().nullable(),
  quoteTotalCents: z.number().int(),
})
export type ApprovalDecision = z.infer<typeof approvalDecisionSchema>

/**
 * Where the customer's approval stands: not required (free work), pending (the current quote has no decision),
 * or the decision on the current quote. A decision on an earlier quote no longer counts.
 */
export const approvalStates = ['not_required', 'pending', 'approved', 'declined'] as const
export type ApprovalState = (typeof approvalStates)[number]

const iso = (d: Date | null) => d?.toISOString() ?? null
const int = (v: string | number | null) => (v === null ? null : Number(v))

export async function readBill(q: Queryable, ticketId: number): Promise<Bill | undefined> {
  const { rows } = await q.query<Record<string, never>>(`SELECT * FROM ticket_bills WHERE ticket_id = $1`, [ticketId])
  const r = rows[0] as Record<string, unknown> | undefined
  if (!r) return undefined
  const quoted = int(r.quoted_cents as string | null)
  const total = Number(r.total_cents)
  return {
    ticketId,
    currency: r.currency as string,
    lines: r.lines as Bill['lines'],
    labourHours: Number(r.labour_hours),
    labourCents: Number(r.labour_cents),
    partsCents: Number(r.parts_cents),
    transportCents: Number(r.transport_cents),
    otherCents: Number(r.other_cents),
    totalCents: total,
    chargedCents: Number(r.charged_cents),
    quotedCents: quoted,
    differenceCents: quoted === null ? null : total - quoted,
    settlement: r.settlement as Bill['settlement'],
    settlementReference: r.settlement_reference as string | null,
    settledBy: r.settled_by as string | null,
    freeReason: r.free_reason as string | null,
    computedAt: iso(r.computed_at as Date)!,
    settledAt: iso(r.settled_at as Date | null),
  }
}

/**
 * Stores the bill computed at `at`. Computed again (a reopened repair resolved once more), the cost lines are
 * renewed, but a bill already paid or waived keeps its settlement and charge: rework is not billed twice.
 */
export async function writeBill(q: Queryable, ticketId: number, bill: BillDraft, quotedCents: number | null, at: number): Promise<void> {
  const kept = (column: string) => `CASE WHEN ticket_bills.settlement IN ('paid', 'waived') THEN ticket_bills.${column} ELSE excluded.${column} END`
  await q.query(
    `INSERT INTO ticket_bills (ticket_id, currency, lines, labour_hours, labour_cents, parts_cents, transport_cents, other_cents, total_cents,
       charged_cents, quoted_cents, settlement, free_reason, computed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, to_timestamp($14 / 1000.0))
     ON CONFLICT (ticket_id) DO UPDATE SET currency = excluded.currency, lines = excluded.lines, labour_hours = excluded.labour_hours,
       labour_cents = excluded.labour_cents, parts_cents = excluded.parts_cents, transport_cents = excluded.transport_cents,
       other_cents = excluded.other_cents, total_cents = excluded.total_cents, quoted_cents = excluded.quoted_cents,
       computed_at = excluded.computed_at, charged_cents = ${kept('charged_cents')}, settlement = ${kept('settlement')},
       free_reason = ${kept('free_reason')}`,
    [
      ticketId,
      bill.currency,
      JSON.stringify(bill.lines),
      bill.labourHours,
      bill.labourCents,
      bill.partsCents,
      bill.transportCents,
      bill.otherCents,
      bill.totalCents,
      bill.chargedCents,
      quotedCents,
      bill.settlement,
      bill.freeReason,
      at,
    ],
  )
}

export type SettlementRecord = { status: 'paid'; reference: string } | { status: 'waived'; reason: string }

/** Marks an unpaid bill paid or waived; a waived bill charges nothing and says why. False when it was not unpaid. */
export async function settleBill(q: Queryable, ticketId: number, s: SettlementRecord, by: string, at: number): Promise<boolean> {
  const { rowCount } = await q.query(
    `UPDATE ticket_bills SET settlement = $2, settlement_reference = $3, settled_by = $4, settled_at = to_timestamp($5 / 1000.0),
       charged_cents = CASE WHEN $2 = 'waived' THEN 0 ELSE charged_cents END,
       free_reason = CASE WHEN $2 = 'waived' THEN $6 ELSE free_reason END
     WHERE ticket_id = $1 AND settlement = 'unpaid'`,
    [ticketId, s.status, s.status === 'paid' ? s.reference : null, by, at, s.status === 'waived' ? `waived by ${by}: ${s.reason}` : null],
  )
  return rowCount === 1
}

export async function writeDiagnosis(
  q: Queryable,
  ticketId: number,
  d: Omit<Diagnosis, 'at' | 'parts'> & { parts: Diagnosis['parts'] | undefined },
  at: number,
): Promise<void> {
  await q.query(
    `INSERT INTO ticket_diagnoses (ticket_id, at, by, cause, exclusion, parts, labour_hours, warranty_from, warranty_to, quote_from, quote_to)
     VALUES ($1, to_timestamp($2 / 1000.0), $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      ticketId,
      at,
      d.by,
      d.cause,
      d.exclusion,
      d.parts ? JSON.stringify(d.parts) : null,
      d.labourHours,
      JSON.stringify(d.warrantyFrom),
      JSON.stringify(d.warrantyTo),
      d.quoteFrom ? JSON.stringify(d.quoteFrom) : null,
      d.quoteTo ? JSON.stringify(d.quoteTo) : null,
    ],
  )
}

export async function lastDiagnosis(q: Queryable, ticketId: number): Promise<Diagnosis | null> {
  const { rows } = await q.query<Record<string, unknown>>(`SELECT * FROM ticket_diagnoses WHERE ticket_id = $1 ORDER BY id DESC LIMIT 1`, [ticketId])
  const r = rows[0]
  if (!r) return null
  return {
    at: iso(r.at as Date)!,
    by: r.by as string,
    cause: r.cause as string,
    exclusion: r.exclusion as Diagnosis['exclusion'],
    parts: r.parts as Diagnosis['parts'],
    labourHours: r.labour_hours as number | null,
    warrantyFrom: r.warranty_from as Diagnosis['warrantyFrom'],
    warrantyTo: r.warranty_to as Diagnosis['warrantyTo'],
    quoteFrom: r.quote_from as Diagnosis['quoteFrom'],
    quoteTo: r.quote_to as Diagnosis['quoteTo'],
  }
}

/** Records the customer's decision on the ticket's quote as it now stands. */
export async function writeDecision(q: Queryable, ticketId: number, d: Omit<ApprovalDecision, 'at'>, at: number): Promise<void> {
  await q.query(
    `INSERT INTO ticket_approvals (ticket_id, at, decision, by, channel, note, quote, quote_total_cents)
     SELECT id, to_timestamp($2 / 1000.0), $3, $4, $5, $6, quote, $7 FROM tickets WHERE id = $1`,
    [ticketId, at, d.decision, d.by, d.channel, d.note, d.quoteTotalCents],
  )
}

/** The customer's last decision, and whether it was on the ticket's quote as it now is. */
export async function lastDecision(q: Queryable, ticketId: number): Promise<{ decision: ApprovalDecision; current: boolean } | null> {
  const { rows } = await q.query<{
    at: Date
    decision: ApprovalDecision['decision']
    by: string
    channel: ApprovalDecision['channel']
    note: string | null
    total: string
    current: boolean
  }>(
    `SELECT a.at, a.decision, a.by, a.channel, a.note, a.quote_total_cents AS total, (a.quote = t.quote) AS current
     FROM ticket_approvals a JOIN tickets t ON t.id = a.ticket_id WHERE a.ticket_id = $1 ORDER BY a.id DESC LIMIT 1`,
    [ticketId],
  )
  const r = rows[0]
  if (!r) return null
  return {
    decision: { at: r.at.toISOString(), decision: r.decision, by: r.by, channel: r.channel, note: r.note, quoteTotalCents: Number(r.total) },
    current: r.current === true,
  }
}

/** The total of the last quote the customer approved, in cents, if any. */
export async function approvedQuoteCents(q: Queryable, ticketId: number): Promise<number | null> {
  const { rows } = await q.query<{ total: string }>(
    `SELECT quote_total_cents AS total FROM ticket_approvals WHERE ticket_id = $1 AND decision = 'approved' ORDER BY id DESC LIMIT 1`,
    [ticketId],
  )
  return rows[0] ? Number(rows[0].total) : null
}

/** The paid repair this ticket repeats within the repeat-repair window (its repeatOf), with when it was paid. */
export async function paidRepairRepeated(q: Queryable, ticket: Pick<Ticket, 'repeatOf'>): Promise<{ number: string; paidAt: Date } | undefined> {
  if (!ticket.repeatOf) return undefined
  const { rows } = await q.query<{ settled_at: Date }>(`SELECT settled_at FROM ticket_bills WHERE ticket_id = $1 AND settlement = 'paid'`, [ticket.repeatOf.id])
  return rows[0] && { number: ticket.repeatOf.number, paidAt: rows[0].settled_at }
}
