// The price of a repair: parts, labour, the call-out fee, transport and the policy's other lines (004 §成本与时间估算:
// 工时费、备件费、运输费). Worked out in integer cents so sums never drift (0.1 + 0.2); the quote gives them back in
// currency units with two decimals, the final bill (src/billing) keeps the cents.
import type { PartLine, WarrantyPolicy } from '../catalog/index.js'

/** The prices a repair is costed at, from the model's warranty policy; transport and other lines are 0 unless given. */
export type Pricing = Pick<WarrantyPolicy, 'currency' | 'labourRate' | 'callOutFee'> & Partial<Pick<WarrantyPolicy, 'transportFee' | 'otherCharges'>>

export interface QuoteLine {
  partNo: string
  name: string
  qty: number
  unitPrice: number
  amount: number
}

export interface Quote {
  currency: string
  parts: QuoteLine[]
  partsTotal: number
  labourHours: number
  /** per hour */
  labourRate: number
  labour: number
  callOut: number
  /** the policy's transport fee */
  transport: number
  /** the policy's other lines */
  other: { name: string; amount: number }[]
  total: number
}

/** A repair's cost in integer cents, line by line. */
export interface RepairCosts {
  currency: string
  parts: { partNo: string; name: string; qty: number; unitCents: number; amountCents: number }[]
  partsCents: number
  /** to the hundredth of an hour */
  labourHours: number
  labourRateCents: number
  labourCents: number
  callOutCents: number
  transportCents: number
  other: { name: string; amountCents: number }[]
  otherCents: number
  totalCents: number
}

export const toCents = (amount: number) => Math.round(amount * 100)
const fromCents = (cents: number) => cents / 100
/** n / d for non-negative integers, halves rounded up, without leaving integers */
const divideRoundingHalfUp = (n: number, d: number) => (n - (n % d)) / d + (2 * (n % d) >= d ? 1 : 0)
const sum = (cents: number[]) => cents.reduce((a, b) => a + b, 0)

/**
 * Costs `parts` and `labourHours` at the model's rates, with the call-out fee, transport and other lines. Labour is
 * charged to the hundredth of an hour and rounded to the cent, halves up.
 */
export function repairCosts(pricing: Pricing, parts: readonly PartLine[], labourHours: number): RepairCosts {
  if (!(labourHours >= 0)) throw new RangeError(`labour hours must be zero or more, got ${labourHours}`)
  const lines = parts.map((p) => ({ partNo: p.partNo, name: p.name, qty: p.qty, unitCents: toCents(p.price), amountCents: p.qty * toCents(p.price) }))
  const hundredthsOfHours = Math.round(labourHours * 100)
  const labourRateCents = toCents(pricing.labourRate)
  const labourCents = divideRoundingHalfUp(hundredthsOfHours * labourRateCents, 100)
  const other = (pricing.otherCharges ?? []).map((o) => ({ name: o.name, amountCents: toCents(o.amount) }))
  const costs = {
    currency: pricing.currency,
    parts: lines,
    partsCents: sum(lines.map((l) => l.amountCents)),
    labourHours: hundredthsOfHours / 100,
    labourRateCents,
    labourCents,
    callOutCents: toCents(pricing.callOutFee),
    transportCents: toCents(pricing.transportFee ?? 0),
    other,
    otherCents: sum(other.map((o) => o.amountCents)),
  }
  return { ...costs, totalCents: costs.partsCents + costs.labourCents + costs.callOutCents + costs.transportCents + costs.otherCents }
}

/** The quote of a chargeable fault: its costs in currency units. */
export function quoteRepair(pricing: Pricing, parts: readonly PartLine[], labourHours: number): Quote {
  const c = repairCosts(pricing, parts, labourHours)
  return {
    currency: c.currency,
    parts: c.parts.map((line) => ({
      partNo: line.partNo,
      name: line.name,
      qty: line.qty,
      unitPrice: fromCents(line.unitCents),
      amount: fromCents(line.amountCents),
    })),
    partsTotal: fromCents(c.partsCents),
    labourHours: c.labourHours,
    labourRate: pricing.labourRate,
    labour: fromCents(c.labourCents),
    callOut: fromCents(c.callOutCents),
    transport: fromCents(c.transportCents),
    other: c.other.map((o) => ({ name: o.name, amount: fromCents(o.amountCents) })),
    total: fromCents(c.totalCents),
  }
}
