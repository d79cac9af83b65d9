// The final bill of a repair (000: 费用结算清单), worked out from what was actually used at the catalog's prices
// (src/rules/quote.ts: the same cent arithmetic as the quote). Pure.
//   004 §成本与时间估算 费用标准: 工时费、备件费、运输费; its cost split: 人工 / 备件 / 运输 / 其他.
// The call-out fee (上门费) is the technician's journey, so it is transport in that split; the policy's transport fee
// is added to it, and its other lines are "other".
import { z } from 'zod'
import type { RepairCosts } from '../rules/index.js'

export const settlements = ['not_chargeable', 'unpaid', 'paid', 'waived'] as const
export type Settlement = (typeof settlements)[number]

export const billLine = z.object({
  kind: z.enum(['part', 'labour', 'call_out', 'transport', 'other']),
  description: z.string(),
  partNo: z.string().optional(),
  /** parts: how many; labour: hours */
  qty: z.number().optional(),
  /** per part, or per hour */
  unitCents: z.number().int().optional(),
  amountCents: z.number().int(),
})
export type BillLine = z.infer<typeof billLine>

/** What a bill costs and charges, before it is stored (and settled). */
export interface BillDraft {
  currency: string
  lines: BillLine[]
  labourHours: number
  labourCents: number
  partsCents: number
  transportCents: number
  otherCents: number
  totalCents: number
  chargedCents: number
  settlement: Extract<Settlement, 'not_chargeable' | 'unpaid'>
  freeReason: string | null
}

/** The lines of a costed repair, one per part, labour, call-out, transport and each other line (zero ones left out but labour). */
function linesOf(c: RepairCosts): BillLine[] {
  return [
    ...c.parts.map((p) => ({ kind: 'part' as const, description: p.name, partNo: p.partNo, qty: p.qty, unitCents: p.unitCents, amountCents: p.amountCents })),
    { kind: 'labour', description: 'labour', qty: c.labourHours, unitCents: c.labourRateCents, amountCents: c.labourCents },
    ...(c.callOutCents > 0 ? [{ kind: 'call_out' as const, description: 'call-out fee', amountCents: c.callOutCents }] : []),
    ...(c.transportCents > 0 ? [{ kind: 'transport' as const, description: 'transport', amountCents: c.transportCents }] : []),
    ...c.other.map((o) => ({ kind: 'other' as const, description: o.name, amountCents: o.amountCents })),
  ]
}

/**
 * The bill of a resolved repair: every cost line at catalog prices, in warranty too (004's cost split is the
 * company's cost); the customer is charged the total unless `freeBecause` says why not (in warranty, a repeat of
 * a paid repair within the guarantee).
 */
export function repairBill(costs: RepairCosts, freeBecause: string | undefined): BillDraft {
  const charged = freeBecause === undefined ? costs.totalCents : 0
  return {
    currency: costs.currency,
    lines: linesOf(costs),
    labourHours: costs.labourHours,
    labourCents: costs.labourCents,
    partsCents: costs.partsCents,
    transportCents: costs.callOutCents + costs.transportCents,
    otherCents: costs.otherCents,
    totalCents: costs.totalCents,
    chargedCents: charged,
    settlement: charged > 0 ? 'unpaid' : 'not_chargeable',
    freeReason: freeBecause ?? (charged === 0 ? 'nothing to charge' : null),
  }
}

/**
 * The bill of a declined quote: no repair, only the visit. The call-out fee is the company's cost either way; the
 * customer pays it when the policy says so (callOutOnDecline).
 */
export function declinedBill(costs: RepairCosts, callOutOnDecline: boolean): BillDraft {
  return {
    currency: costs.currency,
    lines: costs.callOutCents > 0 ? [{ kind: 'call_out', description: 'call-out fee (quote declined)', amountCents: costs.callOutCents }] : [],
    labourHours: 0,
    labourCents: 0,
    partsCents: 0,
    transportCents: costs.callOutCents,
    otherCents: 0,
    totalCents: costs.callOutCents,
    chargedCents: callOutOnDecline ? costs.callOutCents : 0,
    settlement: callOutOnDecline && costs.callOutCents > 0 ? 'unpaid' : 'not_chargeable',
    freeReason: callOutOnDecline ? (costs.callOutCents > 0 ? null : 'nothing to charge') : 'quote declined: the policy waives the call-out fee',
  }
}
