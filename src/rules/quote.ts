// A repair quote for a chargeable fault: parts, labour and the call-out fee. Worked out in integer cents so
// sums never drift (0.1 + 0.2), then given back in currency units with two decimals.
import type { PartLine, WarrantyPolicy } from '../catalog/index.js'

/** The prices a quote needs from the model's warranty policy. */
export type Pricing = Pick<WarrantyPolicy, 'currency' | 'labourRate' | 'callOutFee'>

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
  total: number
}

const toCents = (amount: number) => Math.round(amount * 100)
const fromCents = (cents: number) => cents / 100
/** n / d for non-negative integers, halves rounded up, without leaving integers */
const divideRoundingHalfUp = (n: number, d: number) => (n - (n % d)) / d + (2 * (n % d) >= d ? 1 : 0)

/**
 * Prices `parts` and `labourHours` at the model's rates, plus the call-out fee. Labour is charged to the hundredth
 * of an hour and rounded to the cent, halves up.
 */
export function quoteRepair(pricing: Pricing, parts: readonly PartLine[], labourHours: number): Quote {
  if (!(labourHours >= 0)) throw new RangeError(`labour hours must be zero or more, got ${labourHours}`)
  const lines = parts.map((p) => ({ partNo: p.partNo, name: p.name, qty: p.qty, unitCents: toCents(p.price), amountCents: p.qty * toCents(p.price) }))
  const partsCents = lines.reduce((sum, line) => sum + line.amountCents, 0)
  const hundredthsOfHours = Math.round(labourHours * 100)
  const labourCents = divideRoundingHalfUp(hundredthsOfHours * toCents(pricing.labourRate), 100)
  const callOutCents = toCents(pricing.callOutFee)
  return {
    currency: pricing.currency,
    parts: lines.map((line) => ({
      partNo: line.partNo,
      name: line.name,
      qty: line.qty,
      unitPrice: fromCents(line.unitCents),
      amount: fromCents(line.amountCents),
    })),
    partsTotal: fromCents(partsCents),
    labourHours: hundredthsOfHours / 100,
    labourRate: pricing.labourRate,
    labour: fromCents(labourCents),
    callOut: fromCents(callOutCents),
    total: fromCents(partsCents + labourCents + callOutCents),
  }
}
