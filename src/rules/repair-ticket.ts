// The rules stage's decision for a repair: what the ticket says, how urgent it is, and who pays. Pure.
import type { ExclusionCause, PartLine, ProductModel, Severity } from '../catalog/index.js'
import type { Detection } from '../detect/index.js'
import type { NewDevice } from '../devices/index.js'
import type { Channel, UnknownModelPolicy, Urgency } from './intake.js'
import { escalate, priorityFor, type Priority } from './priority.js'
import { slaDeadlines, type SlaDeadlines, type SlaPolicy } from './sla.js'
import { quoteRepair, type Quote } from './quote.js'
import { judgeWarranty, type WarrantyJudgement } from './warranty.js'
import type { DueOn } from './maintenance-ticket.js'

/** The device facts a ticket carries and the warranty check needs: the registered device's own fields. */
export type TicketDevice = Pick<NewDevice, 'id' | 'model' | 'serial' | 'purchasedAt' | 'warrantyExtendedUntil' | 'customer' | 'site' | 'region' | 'timeZone'>

/** What went wrong: a detection's facts, or a customer's phone call (trigger `manual`, condition `manual:<ref>`). */
export type Fault = Pick<Detection, 'condition' | 'severity' | 'title' | 'component' | 'code' | 'ruleId'> & {
  trigger: Detection['trigger'] | 'manual'
  /** a cause the warranty may exclude, when known (a phone report, a technician) */
  cause?: ExclusionCause
  /** when it happened, epoch ms: the warranty is judged on this day */
  at: number
  /** how the report came in: a detection through `iot` */
  channel: Channel
  /** the customer's own urgency, when a person reported it */
  urgency?: Urgency
}

/** A detection as a fault: the same facts, dated by the detection's time. */
export const faultOf = ({ trigger, condition, severity, title, component, code, ruleId, time }: Detection): Fault => ({
  trigger,
  condition,
  severity,
  title,
  component,
  code,
  ruleId,
  at: time,
  channel: 'iot',
})

/** The SLA and calendar a ticket is decided by, and how intake judges what the catalog lacks. */
export interface TicketPolicy extends SlaPolicy {
  /** how a model the catalog lacks is judged (FAULTLINE_UNKNOWN_MODEL) */
  unknownModel: UnknownModelPolicy
  /** how far ahead of now a reported fault may be dated (FAULTLINE_MAX_FUTURE_MS) */
  clockSkewMs: number
}

/** The calendar a device's dates are judged in: its own zone, else the deployment's (issue 12: the customer's calendar). */
export const timeZoneOf = (device: Pick<TicketDevice, 'timeZone'>, policy: Pick<TicketPolicy, 'timeZone'>) => device.timeZone ?? policy.timeZone

export interface TicketDraft extends SlaDeadlines {
  kind: 'repair' | 'maintenance'
  trigger: Fault['trigger'] | 'schedule' | 'usage' | 'season'
  channel: Channel
  urgency?: Urgency
  device: TicketDevice
  condition: string
  code?: string
  ruleId?: string
  title: string
  component?: string
  severity?: Severity
  /** the likely cause, for the technician */
  cause?: string
  priority: Priority
  warranty: WarrantyJudgement
  billing: 'free' | 'chargeable'
  quote?: Quote
  firstSeen: number
  /** when the ticket opens: its SLA deadlines run from here */
  openedAt: number
  repeatOf?: { id: number; number: string }
  /** maintenance: the service plan, its tasks, and what fell due */
  plan?: { id: string; tasks: string[]; due: DueOn }
}

/** Finding the cause takes time even when no part is known to be at fault. */
const DIAGNOSIS_HOURS = 1

/** The parts and hours a repair of this fault likely takes (the fault code's, else a diagnosis hour), and its hazard. */
export function likelyRepair(fault: Pick<Fault, 'code' | 'ruleId'>, model: ProductModel | undefined) {
  const code = fault.code === undefined ? undefined : model?.faultCodes.get(fault.code)
  if (code) return { parts: code.parts, labourHours: code.labourHours, safetyHazard: code.safetyHazard, cause: code.cause }
  const rule = fault.ruleId === undefined ? undefined : model?.thresholds.find((r) => r.id === fault.ruleId)
  return { parts: [] as PartLine[], labourHours: DIAGNOSIS_HOURS, safetyHazard: rule?.safetyHazard ?? false, cause: undefined }
}

/** The warranty policy that prices a model's repairs: the catalog's, else the default policy for unknown models. */
export const pricingOf = (model: ProductModel | undefined, policy: Pick<TicketPolicy, 'unknownModel'>) => model?.warranty ?? policy.unknownModel.warranty

/**
 * In or out of warranty for a fault on a device, with the cause known so far (a report's, or the technician's on
 * inspection: issue 12). A model the catalog lacks is judged by the default policy, and the judgement says so.
 */
export function judgeRepairWarranty(
  fault: Pick<Fault, 'component' | 'cause' | 'at'>,
  device: TicketDevice,
  model: ProductModel | undefined,
  policy: Pick<TicketPolicy, 'unknownModel' | 'timeZone'>,
): WarrantyJudgement {
  const pricing = pricingOf(model, policy)
  const judged = judgeWarranty({
    policy: pricing,
    purchasedAt: device.purchasedAt,
    warrantyExtendedUntil: device.warrantyExtendedUntil,
    component: fault.component,
    cause: fault.cause,
    at: fault.at,
    timeZone: timeZoneOf(device, policy),
  })
  if (model) return judged
  return {
    ...judged,
    basis: 'default_policy',
    reason: `model ${device.model} is not in the catalog: judged by the default policy (${policy.unknownModel.category}, ${pricing.months} months); ${judged.reason}`,
  }
}

/**
 * Decides a repair ticket. `now` starts the SLA clock; the fault's own time dates the warranty, in the device's
 * calendar. A repeat of a repair resolved within the last week is one priority level more urgent, and so is a
 * customer's `urgent` (003, 初步评估 4); `low` never lowers what the fault demands.
 */
export function draftRepairTicket(
  fault: Fault,
  device: TicketDevice,
  model: ProductModel | undefined,
  now: number,
  policy: TicketPolicy,
  repeatOf?: { id: number; number: string },
): TicketDraft {
  const repair = likelyRepair(fault, model)
  const pricing = pricingOf(model, policy)
  const warranty = judgeRepairWarranty(fault, device, model, policy)
  const base = priorityFor({ severity: fault.severity, safetyHazard: repair.safetyHazard })
  const repeated = repeatOf ? escalate(base) : base
  const priority = fault.urgency === 'urgent' ? escalate(repeated) : repeated
  return {
    kind: 'repair',
    trigger: fault.trigger,
    channel: fault.channel,
    urgency: fault.urgency,
    device,
    condition: fault.condition,
    code: fault.code,
    ruleId: fault.ruleId,
    title: fault.title,
    component: fault.component,
    severity: fault.severity,
    cause: fault.cause ?? repair.cause,
    priority,
    ...slaDeadlines(priority, now, policy),
    warranty,
    billing: warranty.chargeable ? 'chargeable' : 'free',
    quote: warranty.chargeable ? quoteRepair(pricing, repair.parts, repair.labourHours) : undefined,
    firstSeen: fault.at,
    openedAt: now,
    repeatOf,
  }
}
