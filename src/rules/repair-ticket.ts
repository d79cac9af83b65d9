// The rules stage's decision for a repair: what the ticket says, how urgent it is, and who pays. Pure.
import type { ExclusionCause, PartLine, ProductModel, Severity } from '../catalog/index.js'
import type { Detection } from '../detect/index.js'
import type { NewDevice } from '../devices/index.js'
import { escalate, priorityFor, type Priority } from './priority.js'
import { slaDeadlines, type SlaDeadlines, type SlaPolicy } from './sla.js'
import { quoteRepair, type Quote } from './quote.js'
import { judgeWarranty, type WarrantyJudgement } from './warranty.js'
import type { DueOn } from './maintenance-ticket.js'

/** The device facts a ticket carries and the warranty check needs: the registered device's own fields. */
export type TicketDevice = Pick<NewDevice, 'id' | 'model' | 'serial' | 'purchasedAt' | 'warrantyExtendedUntil' | 'customer' | 'site' | 'region'>

/** What went wrong: a detection's facts, or a customer's phone call (trigger `manual`, condition `manual:<ref>`). */
export type Fault = Pick<Detection, 'condition' | 'severity' | 'title' | 'component' | 'code' | 'ruleId'> & {
  trigger: Detection['trigger'] | 'manual'
  /** a cause the warranty may exclude, when known (a phone report, a technician) */
  cause?: ExclusionCause
  /** when it happened, epoch ms: the warranty is judged on this day */
  at: number
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
})

/** The SLA and calendar a ticket is decided by. */
export type TicketPolicy = SlaPolicy

export interface TicketDraft extends SlaDeadlines {
  kind: 'repair' | 'maintenance'
  trigger: Fault['trigger'] | 'schedule' | 'usage' | 'season'
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

function likelyRepair(fault: Fault, model: ProductModel) {
  const code = fault.code === undefined ? undefined : model.faultCodes.get(fault.code)
  if (code) return { parts: code.parts, labourHours: code.labourHours, safetyHazard: code.safetyHazard, cause: code.cause }
  const rule = fault.ruleId === undefined ? undefined : model.thresholds.find((r) => r.id === fault.ruleId)
  return { parts: [] as PartLine[], labourHours: DIAGNOSIS_HOURS, safetyHazard: rule?.safetyHazard ?? false, cause: undefined }
}

/**
 * Decides a repair ticket. `now` starts the SLA clock; the fault's own time dates the warranty. A repeat of a
 * repair resolved within the last week is one priority level more urgent.
 */
export function draftRepairTicket(
  fault: Fault,
  device: TicketDevice,
  model: ProductModel | undefined,
  now: number,
  policy: TicketPolicy,
  repeatOf?: { id: number; number: string },
): TicketDraft {
  const repair = model ? likelyRepair(fault, model) : undefined
  const warranty: WarrantyJudgement = model
    ? judgeWarranty({
        policy: model.warranty,
        purchasedAt: device.purchasedAt,
        warrantyExtendedUntil: device.warrantyExtendedUntil,
        component: fault.component,
        cause: fault.cause,
        at: fault.at,
        timeZone: policy.timeZone,
      })
    : {
        decision: 'out_of_warranty',
        reason: `model ${device.model} is not in the catalog: judge the warranty by hand`,
        coverageEnds: device.purchasedAt,
        chargeable: true,
      }
  const base = priorityFor({ severity: fault.severity, safetyHazard: repair?.safetyHazard })
  const priority = repeatOf ? escalate(base) : base
  return {
    kind: 'repair',
    trigger: fault.trigger,
    device,
    condition: fault.condition,
    code: fault.code,
    ruleId: fault.ruleId,
    title: fault.title,
    component: fault.component,
    severity: fault.severity,
    cause: fault.cause ?? repair?.cause,
    priority,
    ...slaDeadlines(priority, now, policy),
    warranty,
    billing: warranty.chargeable ? 'chargeable' : 'free',
    quote: warranty.chargeable && model && repair ? quoteRepair(model.warranty, repair.parts, repair.labourHours) : undefined,
    firstSeen: fault.at,
    openedAt: now,
    repeatOf,
  }
}
