// The repair's money flow (issue 12): diagnosis → quote → the customer's approval → work → final bill → settlement.
//   000 二.1: 保内/保外 judged by purchase date, term and fault type; 保外: a 报价单 of parts and labour.
//   000 四.2: a 费用结算清单 for the customer to settle; 五.2: payment followed up.
//   004 §成本与时间估算: labour, parts, transport at the company's rates; 客户确认: 获取客户的明确授权 before repairing.
// Each step is a ticket history entry, so it reaches the live stream and the webhooks in the same transaction.
import { z } from 'zod'
import type { Catalog, ExclusionCause, PartLine } from '../catalog/index.js'
import { calendarDate } from '../calendar.js'
import type { Clock } from '../clock.js'
import {
  judgeRepairWarranty,
  likelyRepair,
  pricingOf,
  quoteRepair,
  repairCosts,
  repeatRepairWindowMs,
  toCents,
  type TicketDevice,
  type TicketPolicy,
} from '../rules/index.js'
import type { Database, Queryable } from '../store/index.js'
import { inStreamTransaction } from '../stream/index.js'
import {
  finishedStatuses,
  lockTicket,
  recordTicketChange,
  TicketNotFound,
  ticketWithHistorySchema,
  type PartsUsed,
  type Status,
  type Ticket,
  type TicketRepository,
  type TransitionGuard,
} from '../tickets/index.js'
import { declinedBill, repairBill } from './bill.js'
import {
  approvalDecisionSchema,
  approvalStates,
  approvedQuoteCents,
  billSchema,
  diagnosisSchema,
  lastDecision,
  lastDiagnosis,
  paidRepairRepeated,
  readBill,
  settleBill,
  writeBill,
  writeDecision,
  writeDiagnosis,
  type ApprovalDecision,
  type ApprovalState,
  type SettlementRecord,
} from './records.js'

const SYSTEM = 'faultline'
const DAY = 86_400_000

/** Repair work: a chargeable ticket enters these only on an approved quote. Inspection on site does not need one. */
const repairWork: readonly Status[] = ['in_progress', 'remote_handling', 'waiting_parts', 'resolved']

/** A request the money rules refuse: a 400 (the request is wrong) or a 409 (the ticket is not in a state for it). */
export class BillingRefusal extends Error {
  constructor(
    readonly status: 400 | 409,
    readonly code: 'bad_request' | 'approval_required' | 'conflict',
    message: string,
  ) {
    super(message)
  }
}

export interface DiagnosisRequest {
  by: string
  /** the cause found on inspection */
  cause: string
  /** the warranty exclusion the cause falls under, if any: re-decides the warranty */
  exclusion?: ExclusionCause
  /** the technician's estimate, when it differs from the fault code's */
  parts?: { partNo: string; qty: number }[]
  labourHours?: number
}

export interface ApprovalRequest {
  decision: ApprovalDecision['decision']
  /** the customer's name */
  by: string
  channel: ApprovalDecision['channel']
  note?: string
  /** the total the customer was shown: refused when the quote has changed since */
  quoteTotal?: number
}

/** A ticket with its history and its money: the last diagnosis, where the approval stands, the final bill. */
export const ticketDetailSchema = ticketWithHistorySchema.extend({
  diagnosis: diagnosisSchema.nullable(),
  approval: z.object({ state: z.enum(approvalStates), last: approvalDecisionSchema.nullable() }),
  bill: billSchema.nullable(),
})
export type TicketDetail = z.infer<typeof ticketDetailSchema>

export interface BillingDeps {
  db: Database
  catalog: Catalog
  clock: Clock
  policy: Pick<TicketPolicy, 'unknownModel' | 'timeZone'>
  /** a declined quote ends the ticket through its lifecycle; the detail adds the money to the ticket */
  tickets: Pick<TicketRepository, 'transition' | 'get'>
  /** the registered device's facts, for judging the warranty again */
  device: (id: string) => Promise<TicketDevice | undefined>
}

export class Billing {
  constructor(private readonly deps: BillingDeps) {}

  /** The model's parts for a ticket's parts, priced from the catalog; an unknown part number is refused, by name. */
  private partsOf(model: string, used: PartsUsed | readonly { partNo: string; qty: number }[]): PartLine[] {
    const known = this.deps.catalog.get(model)?.parts ?? []
    const unknown = used.filter((u) => !known.some((p) => p.partNo === u.partNo)).map((u) => u.partNo)
    if (unknown.length > 0) {
      throw new BillingRefusal(
        400,
        'bad_request',
        `unknown part ${unknown.join(', ')}: not in the parts list of model ${model}${this.deps.catalog.has(model) ? '' : ' (not in the catalog)'}`,
      )
    }
    return used.map((u) => ({ ...known.find((p) => p.partNo === u.partNo)!, qty: u.qty }))
  }

  private async approvalState(q: Queryable, ticket: Ticket): Promise<{ state: ApprovalState; last: ApprovalDecision | null }> {
    const found = await lastDecision(q, ticket.id)
    const last = found?.decision ?? null
    if (ticket.billing === 'free' || (await paidRepairRepeated(q, ticket))) return { state: 'not_required', last }
    return { state: found?.current ? found.decision.decision : 'pending', last }
  }

  /** Before every move: parts recorded must be the model's; chargeable repair work needs the current quote approved. */
  readonly guard: TransitionGuard = async (tx, ticket, move) => {
    if (move.partsUsed) this.partsOf(ticket.model, move.partsUsed)
    if (ticket.billing !== 'chargeable' || !repairWork.includes(move.to)) return
    const { state } = await this.approvalState(tx, ticket)
    if (state === 'approved' || state === 'not_required') return
    const quote = ticket.quote ? `${ticket.quote.total.toFixed(2)} ${ticket.quote.currency}` : 'to be quoted'
    throw new BillingRefusal(
      409,
      'approval_required',
      `ticket ${ticket.number} is chargeable: ${move.to} needs the customer's approval of the quote (${quote}) first, ` +
        `and it is ${state === 'declined' ? 'declined' : 'not approved yet'}; record it with POST /api/tickets/${ticket.number}/approval`,
    )
  }

  /** On resolution, in its transaction: the final bill from the parts used and the hours worked, at catalog prices. */
  readonly onResolved = async (tx: Queryable, ticket: Ticket): Promise<void> => {
    const costs = repairCosts(
      pricingOf(this.deps.catalog.get(ticket.model), this.deps.policy),
      this.partsOf(ticket.model, ticket.partsUsed ?? []),
      ticket.labourHours ?? 0,
    )
    const bill = repairBill(costs, await this.freeBecause(tx, ticket))
    const at = Date.parse(ticket.resolvedAt!)
    await writeBill(tx, ticket.id, bill, await approvedQuoteCents(tx, ticket.id), at)
    await this.recordBill(tx, ticket.id, at)
  }

  /** Why the customer pays nothing for this repair, or undefined: they pay. */
  private async freeBecause(q: Queryable, ticket: Ticket): Promise<string | undefined> {
    if (ticket.billing === 'free') return `free of charge: ${ticket.warranty.reason}`
    const repeated = await paidRepairRepeated(q, ticket)
    if (!repeated) return undefined
    // 004: a repeat within 7 days counts against the repair (返修率); the paid repair is guaranteed for as long.
    const paidOn = calendarDate(repeated.paidAt.getTime(), this.deps.policy.timeZone)
    return `repeat of ${repeated.number} paid on ${paidOn}, within the ${repeatRepairWindowMs / DAY}-day guarantee`
  }

  private async recordBill(tx: Queryable, ticketId: number, at: number) {
    const bill = (await readBill(tx, ticketId))!
    const charged = `${(bill.chargedCents / 100).toFixed(2)} ${bill.currency}`
    await recordTicketChange(tx, ticketId, at, SYSTEM, 'billed', bill.freeReason ? `charged ${charged}: ${bill.freeReason}` : `charged ${charged}`, {
      totalCents: bill.totalCents,
      chargedCents: bill.chargedCents,
      quotedCents: bill.quotedCents,
      settlement: bill.settlement,
    })
  }

  /**
   * The technician's finding on inspection: the warranty judged again with the cause found (an excluded cause
   * makes it chargeable), the quote made again from the estimate, the change in the history with who and why.
   */
  async diagnose(ref: string, d: DiagnosisRequest): Promise<void> {
    const { catalog, policy, clock, db } = this.deps
    // The device is read before the transaction: the embedded engine runs one statement at a time.
    const found = await this.deps.tickets.get(ref)
    if (!found) throw new TicketNotFound(`ticket ${ref} does not exist`)
    const device = await this.deps.device(found.deviceId)
    if (!device) throw new BillingRefusal(409, 'conflict', `device ${found.deviceId} is no longer registered: its warranty cannot be judged`)
    await inStreamTransaction(db, async (tx) => {
      const now = clock.now()
      const ticket = await lockTicket(tx, ref, now)
      if (ticket.kind !== 'repair') throw new BillingRefusal(409, 'conflict', `ticket ${ticket.number} is maintenance: its price is its service plan's`)
      if (finishedStatuses.includes(ticket.status))
        throw new BillingRefusal(409, 'conflict', `ticket ${ticket.number} is ${ticket.status}: too late to diagnose`)
      const model = catalog.get(ticket.model)
      const parts = d.parts && this.partsOf(ticket.model, d.parts)
      const warranty = judgeRepairWarranty(
        { component: ticket.component ?? undefined, cause: d.exclusion, at: Date.parse(ticket.firstSeen) },
        device,
        model,
        policy,
      )
      const estimate = likelyRepair({ code: ticket.code ?? undefined, ruleId: ticket.ruleId ?? undefined }, model)
      const quote = warranty.chargeable ? quoteRepair(pricingOf(model, policy), parts ?? estimate.parts, d.labourHours ?? estimate.labourHours) : null
      await tx.query(`UPDATE tickets SET warranty = $2, billing = $3, quote = $4, updated_at = to_timestamp($5 / 1000.0) WHERE id = $1`, [
        ticket.id,
        JSON.stringify(warranty),
        warranty.chargeable ? 'chargeable' : 'free',
        quote && JSON.stringify(quote),
        now,
      ])
      await writeDiagnosis(
        tx,
        ticket.id,
        {
          by: d.by,
          cause: d.cause,
          exclusion: d.exclusion ?? null,
          parts: d.parts,
          labourHours: d.labourHours ?? null,
          warrantyFrom: ticket.warranty,
          warrantyTo: warranty,
          quoteFrom: ticket.quote,
          quoteTo: quote,
        },
        now,
      )
      const totals = { from: ticket.quote?.total ?? null, to: quote?.total ?? null }
      await recordTicketChange(tx, ticket.id, now, d.by, 'diagnosed', d.cause, { exclusion: d.exclusion, quoteTotal: totals })
      if (warranty.decision !== ticket.warranty.decision) {
        await recordTicketChange(tx, ticket.id, now, d.by, 'warranty_changed', `${d.cause}: ${warranty.reason}`, {
          from: ticket.warranty.decision,
          to: warranty.decision,
          billing: { from: ticket.billing, to: warranty.chargeable ? 'chargeable' : 'free' },
        })
      }
      const changed = await lockTicket(tx, String(ticket.id), now)
      const { state, last } = await this.approvalState(tx, changed)
      if (state === 'pending') {
        // the customer is sent the quote (a webhook's quote_to_approve); again when a change voids an approval
        const again = last !== null
        await recordTicketChange(
          tx,
          ticket.id,
          now,
          d.by,
          'awaiting_approval',
          `quote ${quote!.total.toFixed(2)} ${quote!.currency} for the customer's approval${again ? ' (changed since approved: approve again)' : ''}`,
          { quoteTotal: quote!.total, currency: quote!.currency, reapproval: again },
        )
      }
    })
  }

  /**
   * The customer's decision on the current quote (by whom, when, through which channel). Declined: no repair, the
   * ticket is cancelled, and the bill is the call-out fee where the policy charges it.
   */
  async decide(ref: string, a: ApprovalRequest): Promise<void> {
    const now = this.deps.clock.now()
    const record = async (tx: Queryable, ticket: Ticket) => {
      if (finishedStatuses.includes(ticket.status))
        throw new BillingRefusal(409, 'conflict', `ticket ${ticket.number} is ${ticket.status}: too late to decide on its quote`)
      const { state } = await this.approvalState(tx, ticket)
      if (state === 'not_required') throw new BillingRefusal(409, 'conflict', `ticket ${ticket.number} is not chargeable: there is no quote to approve`)
      if (state !== 'pending') throw new BillingRefusal(409, 'conflict', `the current quote of ticket ${ticket.number} is already ${state}`)
      const quote = ticket.quote!
      if (a.quoteTotal !== undefined && toCents(a.quoteTotal) !== toCents(quote.total)) {
        throw new BillingRefusal(
          409,
          'conflict',
          `the quote is now ${quote.total.toFixed(2)} ${quote.currency}, not ${a.quoteTotal.toFixed(2)}: show the customer the current one`,
        )
      }
      await writeDecision(
        tx,
        ticket.id,
        { decision: a.decision, by: a.by, channel: a.channel, note: a.note ?? null, quoteTotalCents: toCents(quote.total) },
        now,
      )
      await recordTicketChange(tx, ticket.id, now, a.by, a.decision === 'approved' ? 'quote_approved' : 'quote_declined', a.note, {
        channel: a.channel,
        quoteTotal: quote.total,
        currency: quote.currency,
      })
    }
    if (a.decision === 'approved') {
      await inStreamTransaction(this.deps.db, async (tx) => void (await record(tx, await lockTicket(tx, ref, now))))
      return
    }
    await this.deps.tickets.transition(ref, { to: 'cancelled', by: a.by, note: `quote declined (${a.channel})` }, undefined, async (tx, ticket) => {
      await record(tx, ticket)
      const model = this.deps.catalog.get(ticket.model)
      const pricing = pricingOf(model, this.deps.policy)
      await writeBill(tx, ticket.id, declinedBill(repairCosts(pricing, [], 0), pricing.callOutOnDecline), null, now)
      await this.recordBill(tx, ticket.id, now)
    })
  }

  /** Settles an unpaid bill: paid (with the payment's reference) or waived (with why). */
  async settle(ref: string, s: SettlementRecord, by: string): Promise<void> {
    const now = this.deps.clock.now()
    await inStreamTransaction(this.deps.db, async (tx) => {
      const ticket = await lockTicket(tx, ref, now)
      const bill = await readBill(tx, ticket.id)
      if (!bill) throw new BillingRefusal(409, 'conflict', `ticket ${ticket.number} has no bill yet: it is computed when the repair is resolved`)
      if (!(await settleBill(tx, ticket.id, s, by, now))) {
        throw new BillingRefusal(409, 'conflict', `the bill of ticket ${ticket.number} is ${bill.settlement}: nothing to settle`)
      }
      const amount = `${(bill.chargedCents / 100).toFixed(2)} ${bill.currency}`
      await recordTicketChange(
        tx,
        ticket.id,
        now,
        by,
        s.status === 'paid' ? 'bill_paid' : 'bill_waived',
        s.status === 'paid' ? `${amount} paid, reference ${s.reference}` : `${amount} waived: ${s.reason}`,
        { chargedCents: bill.chargedCents, ...(s.status === 'paid' ? { reference: s.reference } : { reason: s.reason }) },
      )
    })
  }

  /** The ticket with its history and its money (GET /api/tickets/:id), by id or number. */
  async ticketDetail(ref: string): Promise<TicketDetail | undefined> {
    const { db, tickets } = this.deps
    const ticket = await tickets.get(ref)
    if (!ticket) return undefined
    const [diagnosis, approval, bill] = await Promise.all([lastDiagnosis(db, ticket.id), this.approvalState(db, ticket), readBill(db, ticket.id)])
    return { ...ticket, diagnosis, approval, bill: bill ?? null }
  }
}
