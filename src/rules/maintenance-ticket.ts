// The rules stage's decision for preventive maintenance: free where the warranty covers scheduled service
// within its term, otherwise quoted. Pure.
import type { ProductModel, ServicePlan } from '../catalog/index.js'
import { planCondition } from '../conditions.js'
import { slaDeadlines } from './sla.js'
import { quoteRepair } from './quote.js'
import { timeZoneOf, type TicketDevice, type TicketDraft, type TicketPolicy } from './repair-ticket.js'
import { judgeWarranty, type WarrantyJudgement } from './warranty.js'

/** What fell due: a day (calendar, season) or a counter reading (usage). */
export type DueOn = { date: string; until?: string } | { counter: string; usage: number; projected?: string }

/** A ticket draft that says which plan and occurrence it is for. */
export type MaintenanceDraft = TicketDraft & { plan: NonNullable<TicketDraft['plan']> }

const triggerOf = { calendar: 'schedule', usage: 'usage', seasonal: 'season' } as const

/** The end of a local day as epoch ms, near enough for a deadline: 23:59:59 UTC of that date. */
const endOfDay = (date: string) => Date.parse(`${date}T23:59:59Z`)

export function draftMaintenanceTicket(
  plan: ServicePlan,
  occurrence: string,
  due: DueOn,
  device: TicketDevice,
  model: ProductModel,
  now: number,
  policy: TicketPolicy,
): MaintenanceDraft {
  const term = judgeWarranty({
    policy: model.warranty,
    purchasedAt: device.purchasedAt,
    warrantyExtendedUntil: device.warrantyExtendedUntil,
    at: now,
    timeZone: timeZoneOf(device, policy),
  })
  const warranty: WarrantyJudgement =
    term.decision === 'in_warranty' && !model.warranty.maintenanceFreeInCoverage
      ? {
          ...term,
          decision: 'excluded',
          reason: `in warranty until ${term.coverageEnds}, but the policy does not cover scheduled maintenance`,
          chargeable: true,
        }
      : term
  const priority = 'P4'
  const sla = slaDeadlines(priority, now, policy)
  // A visit planned for a day is due by that day (or the end of its season), not by a repair's SLA.
  const deadline = 'date' in due ? endOfDay(due.until ?? due.date) : due.projected ? endOfDay(due.projected) : sla.resolveBy
  const resolveBy = Math.max(deadline, sla.respondBy)
  return {
    kind: 'maintenance',
    trigger: triggerOf[plan.schedule.kind],
    // Faultline's own schedule opened it, as a detection would: not a person's report.
    channel: 'iot',
    device,
    condition: planCondition(plan.id, occurrence),
    title: plan.title,
    priority,
    ...sla,
    startBy: Math.min(sla.startBy, resolveBy),
    resolveBy,
    // warned of when the same share of its own window has gone
    resolveWarnAt: now + Math.round((resolveBy - now) * policy.warnAt),
    warranty,
    billing: warranty.chargeable ? 'chargeable' : 'free',
    quote: warranty.chargeable ? quoteRepair(model.warranty, plan.parts, plan.labourHours) : undefined,
    firstSeen: now,
    openedAt: now,
    plan: { id: plan.id, tasks: plan.tasks, due },
  }
}
