export { judgeWarranty } from './warranty.js'
export { quoteRepair, repairCosts, toCents, type Pricing, type Quote, type RepairCosts } from './quote.js'
export { priorityFor, escalate, slaConfigSchema, defaultSla, priorities, type Priority, type SlaConfig, type SlaTarget } from './priority.js'
export { repeatRepairWindowMs } from './repeat-repair.js'
export {
  draftRepairTicket,
  faultOf,
  judgeRepairWarranty,
  likelyRepair,
  pricingOf,
  timeZoneOf,
  type Fault,
  type TicketDevice,
  type TicketDraft,
  type TicketPolicy,
} from './repair-ticket.js'
export { phoneReportFault } from './phone-report.js'
export { draftMaintenanceTicket, type DueOn, type MaintenanceDraft } from './maintenance-ticket.js'
export {
  addWorkingTime,
  businessCalendarSchema,
  deadlineKinds,
  defaultSlaPolicy,
  escalations,
  slaDeadlines,
  type BusinessCalendar,
  type DeadlineKind,
  type Escalation,
  type SlaDeadlines,
  type SlaPolicy,
} from './sla.js'
export {
  channels,
  urgencies,
  urgency,
  unknownModelPolicy,
  defaultUnknownModelPolicy,
  faultDateProblem,
  type Channel,
  type Urgency,
  type UnknownModelPolicy,
} from './intake.js'
