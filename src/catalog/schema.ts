// The product catalog: what each model is, how its warranty works, what its fault codes mean and which
// telemetry means trouble. One model per file (or a list), validated once at start.
import { z } from 'zod'
import { faultCode as faultCodeText, metricName } from '../../schemas/messages.js'
import { duration } from './duration.js'

/** critical: unit unusable · major: a core function lost · minor: a partial fault · info: informational */
export const severity = z.enum(['critical', 'major', 'minor', 'info'])
export type Severity = z.infer<typeof severity>

/** Causes a warranty may exclude. A closed list, so a misspelt exclusion fails at load instead of never matching. */
export const exclusionCause = z.enum([
  'misuse',
  'liquid_damage',
  'power_surge',
  'unauthorised_repair',
  'improper_installation',
  'physical_damage',
  'pest_damage',
  'natural_disaster',
  'lack_of_maintenance',
  'non_genuine_parts',
  'commercial_use',
  'consumables',
])
export type ExclusionCause = z.infer<typeof exclusionCause>

const slug = z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower-case letters, digits and "_", starting with a letter')
const text = z.string().trim().min(1)
const twoDecimals = (v: number) => Math.abs(v * 100 - Math.round(v * 100)) < 1e-6
/** An amount in the model's currency, in whole cents. */
const money = z.number().nonnegative().refine(twoDecimals, 'at most two decimals (whole cents)')
/** Labour time in hours, to the hundredth (so labour × rate stays exact in cents). */
const hours = z.number().nonnegative().refine(twoDecimals, 'at most two decimals')
const months = z.number().int().positive()
const monthDay = z.string().regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'a month and day as MM-DD')

export const part = z.strictObject({
  partNo: z.string().trim().min(1).max(64),
  name: text,
  price: money,
})
export type Part = z.infer<typeof part>
/** A part with how many a repair or a service uses. */
const partLine = part.extend({ qty: z.number().int().positive() })
export type PartLine = z.infer<typeof partLine>

/** Fault codes and service plans name parts from the model's parts list. */
const partRef = z.strictObject({
  partNo: z.string().trim().min(1),
  qty: z.number().int().positive().default(1),
})

export const warrantyPolicy = z
  .strictObject({
    /** whole-unit coverage from the purchase date */
    months,
    /** components covered longer than the unit, e.g. a compressor for 120 months */
    components: z.array(z.strictObject({ component: slug, months })).default([]),
    /** causes not covered even within the term */
    exclusions: z.array(exclusionCause).default([]),
    maintenanceFreeInCoverage: z.boolean().default(false),
    /** per hour */
    labourRate: money,
    /** per visit (上门费); 004 counts it as transport in its cost split */
    callOutFee: money,
    /** whether a customer who declines the quote still pays the call-out fee: the technician came (issue 12) */
    callOutOnDecline: z.boolean().default(true),
    /** per repair, for parts or equipment that need special transport (004 §成本与时间估算: 运输成本) */
    transportFee: money.default(0),
    /** further lines every chargeable repair carries, e.g. an outsourced service (004: 其他, 如外包费用) */
    otherCharges: z.array(z.strictObject({ name: text, amount: money })).default([]),
    currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as CNY'),
  })
  .superRefine((policy, ctx) => {
    const seen = new Set<string>()
    policy.components.forEach(({ component, months }, i) => {
      if (seen.has(component)) ctx.addIssue({ code: 'custom', path: ['components', i, 'component'], message: `"${component}" is listed twice` })
      seen.add(component)
      if (months <= policy.months) {
        ctx.addIssue({
          code: 'custom',
          path: ['components', i, 'months'],
          message: `component coverage (${months}) must be longer than the whole unit's (${policy.months}), or it adds nothing`,
        })
      }
    })
  })
export type WarrantyPolicy = z.output<typeof warrantyPolicy>

const faultCodeEntry = z.strictObject({
  title: text,
  component: slug,
  severity,
  /** the likely cause, for the technician */
  cause: text,
  /** leak, overheating, gas or electrical: makes the ticket P1 whatever the severity */
  safetyHazard: z.boolean().default(false),
  parts: z.array(partRef).default([]),
  labourHours: hours,
})
export type FaultCode = Omit<z.output<typeof faultCodeEntry>, 'parts'> & {
  code: string
  /** the parts a repair of this fault likely needs */
  parts: PartLine[]
}

export const thresholdRule = z
  .strictObject({
    /** stable: detections and tickets refer to the rule by it */
    id: slug,
    metric: metricName,
    /** for messages only, e.g. "°C" */
    unit: z.string().max(16).optional(),
    comparison: z.enum(['above', 'below']),
    limit: z.number(),
    /** how long the breach must last before it counts */
    for: duration,
    /** the breach clears only once a value is past this (below it for "above" rules, above it for "below" rules) */
    clearAt: z.number(),
    severity,
    title: text,
    component: slug.optional(),
    safetyHazard: z.boolean().default(false),
  })
  .superRefine((rule, ctx) => {
    const widens = rule.comparison === 'above' ? rule.clearAt <= rule.limit : rule.clearAt >= rule.limit
    if (!widens) {
      ctx.addIssue({
        code: 'custom',
        path: ['clearAt'],
        message: `a rule tripping ${rule.comparison} ${rule.limit} must clear at or ${rule.comparison === 'above' ? 'below' : 'above'} it; got ${rule.clearAt}`,
      })
    }
  })
export type ThresholdRule = z.output<typeof thresholdRule>

export const offlineRule = z.strictObject({
  /** how often the device sends something when all is well */
  heartbeat: duration,
  /** silent heartbeats after which the device counts as offline */
  missedHeartbeats: z.number().int().positive(),
  severity: severity.default('minor'),
})
export type OfflineRule = z.output<typeof offlineRule>

export const serviceSchedule = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('calendar'), everyDays: z.number().int().positive() }),
  /** every N units of a counter the device reports, e.g. running hours */
  z.strictObject({ kind: z.literal('usage'), counter: metricName, every: z.number().positive() }),
  /** once a year, within a window such as before the cooling season */
  z.strictObject({ kind: z.literal('seasonal'), from: monthDay, to: monthDay }),
])

const servicePlanEntry = z.strictObject({
  id: slug,
  title: text,
  schedule: serviceSchedule,
  /** days before it is due that the visit is scheduled */
  leadDays: z.number().int().nonnegative().default(0),
  tasks: z.array(text).min(1),
  parts: z.array(partRef).default([]),
  labourHours: hours,
})
export type ServicePlan = Omit<z.output<typeof servicePlanEntry>, 'parts'> & { parts: PartLine[] }

const modelId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits and "._-", at most 64')

/** One product model as written in a catalog file; fault codes and service plans name parts by number. */
const productModelEntry = z.strictObject({
  model: modelId,
  name: text,
  category: slug,
  warranty: warrantyPolicy,
  parts: z.array(part).default([]),
  faultCodes: z.record(faultCodeText, faultCodeEntry),
  thresholds: z.array(thresholdRule).default([]),
  offline: offlineRule,
  servicePlans: z.array(servicePlanEntry).default([]),
})

/** A product model with its part references resolved and its fault codes ready for lookup. */
export const productModel = productModelEntry.transform((entry, ctx) => {
  const partsByNo = new Map<string, Part>()
  entry.parts.forEach((p, i) => {
    if (partsByNo.has(p.partNo)) ctx.addIssue({ code: 'custom', path: ['parts', i, 'partNo'], message: `part ${p.partNo} is listed twice` })
    partsByNo.set(p.partNo, p)
  })
  const resolve = (refs: z.output<typeof partRef>[], at: (string | number)[]): PartLine[] =>
    refs.flatMap(({ partNo, qty }, i) => {
      const found = partsByNo.get(partNo)
      if (found) return [{ ...found, qty }]
      ctx.addIssue({ code: 'custom', path: [...at, i, 'partNo'], message: `unknown part ${partNo}: not in this model's parts list` })
      return []
    })
  const unique = (ids: string[], list: string, what: string) =>
    ids.forEach((id, i) => {
      if (ids.indexOf(id) !== i) ctx.addIssue({ code: 'custom', path: [list, i, 'id'], message: `${what} id "${id}" is used twice` })
    })
  unique(
    entry.thresholds.map((r) => r.id),
    'thresholds',
    'threshold rule',
  )
  unique(
    entry.servicePlans.map((p) => p.id),
    'servicePlans',
    'service plan',
  )

  // A Map, not the parsed object: codes come from devices, and "constructor" must not find Object.prototype's.
  const faultCodes = new Map<string, FaultCode>(
    Object.entries(entry.faultCodes).map(([code, fault]) => [code, { code, ...fault, parts: resolve(fault.parts, ['faultCodes', code, 'parts']) }]),
  )
  const servicePlans: ServicePlan[] = entry.servicePlans.map((plan, i) => ({ ...plan, parts: resolve(plan.parts, ['servicePlans', i, 'parts']) }))
  return { ...entry, faultCodes, servicePlans }
})
export type ProductModel = z.output<typeof productModel>

/** Durations as the API shows them: milliseconds. */
const durationMs = z.number().int().positive()

/**
 * A product model as the API shows it (src/api/catalog.ts): durations in ms, part references resolved, fault codes
 * an object keyed by code. The catalog file's own schema with its output shapes, so the two cannot drift apart.
 */
export const productModelJson = productModelEntry.extend({
  faultCodes: z.record(z.string(), faultCodeEntry.extend({ code: z.string(), parts: z.array(partLine) })),
  // safeExtend: the rule's cross-field check stays with it.
  thresholds: z.array(thresholdRule.safeExtend({ for: durationMs })),
  offline: offlineRule.extend({ heartbeat: durationMs }),
  servicePlans: z.array(servicePlanEntry.extend({ parts: z.array(partLine) })),
})

/** Every product model, by model id. */
export type Catalog = ReadonlyMap<string, ProductModel>
