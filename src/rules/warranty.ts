// In or out of warranty, judged on the day of the fault.
import { addMonths, calendarDate, parseDate } from '../calendar.js'
import type { ExclusionCause, WarrantyPolicy } from '../catalog/index.js'

export type WarrantyDecision = 'in_warranty' | 'out_of_warranty' | 'excluded'

export interface WarrantyQuestion {
  policy: WarrantyPolicy
  /** YYYY-MM-DD */
  purchasedAt: string
  /** YYYY-MM-DD, the last day of an extended whole-unit warranty */
  warrantyExtendedUntil?: string
  /** the failed component: one with longer coverage is judged by its own term */
  component?: string
  /** what caused the fault, once known (usually from the technician) */
  cause?: ExclusionCause
  /** when the fault happened, epoch ms */
  at: number
  /** the time zone whose calendar dates the fault; UTC unless given (e.g. "Asia/Shanghai") */
  timeZone?: string
}

export interface WarrantyJudgement {
  decision: WarrantyDecision
  reason: string
  /** YYYY-MM-DD, the last covered day for this fault */
  coverageEnds: string
  /** whether the customer pays: out of warranty, or a cause the warranty excludes */
  chargeable: boolean
  /** present when the model is not in the catalog and the default policy judged it (issue 12) */
  basis?: 'default_policy'
}

/**
 * Coverage runs from the purchase date through the day `months` later, inclusive: bought 2024-03-15 with 12
 * months, the last covered day is 2025-03-15. The coverage end is the latest of the unit's term, the extended
 * warranty and the failed component's own term. Within coverage, an excluded cause makes the repair chargeable.
 */
export function judgeWarranty(question: WarrantyQuestion): WarrantyJudgement {
  const { policy, purchasedAt, warrantyExtendedUntil, component, cause, at, timeZone } = question
  const terms = [{ ends: addMonths(purchasedAt, policy.months), basis: `${policy.months}-month warranty from ${purchasedAt}` }]
  if (warrantyExtendedUntil !== undefined) {
    parseDate(warrantyExtendedUntil)
    terms.push({ ends: warrantyExtendedUntil, basis: 'extended warranty' })
  }
  const componentTerm = policy.components.find((c) => c.component === component)
  if (componentTerm) {
    terms.push({
      ends: addMonths(purchasedAt, componentTerm.months),
      basis: `${componentTerm.component} covered for ${componentTerm.months} months from ${purchasedAt}`,
    })
  }
  // ISO dates compare as strings; on a tie the earlier (plainer) basis is named.
  const longest = terms.reduce((a, b) => (b.ends > a.ends ? b : a))
  const faultDay = calendarDate(at, timeZone)

  if (faultDay > longest.ends) {
    return {
      decision: 'out_of_warranty',
      reason: `fault on ${faultDay}, after coverage ended on ${longest.ends} (${longest.basis})`,
      coverageEnds: longest.ends,
      chargeable: true,
    }
  }
  if (cause !== undefined && policy.exclusions.includes(cause)) {
    return { decision: 'excluded', reason: `cause "${cause}" is excluded from coverage`, coverageEnds: longest.ends, chargeable: true }
  }
  return {
    decision: 'in_warranty',
    reason: `fault on ${faultDay}, covered through ${longest.ends} (${longest.basis})`,
    coverageEnds: longest.ends,
    chargeable: false,
  }
}
