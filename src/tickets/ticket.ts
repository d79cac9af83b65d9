// A ticket as the API shows it, and how it is read from its row.
import type { DueOn, Quote, TicketDraft } from '../rules/index.js'
import type { Status } from './lifecycle.js'

export interface Ticket {
  id: number
  number: string
  kind: 'repair' | 'maintenance'
  trigger: TicketDraft['trigger']
  deviceId: string
  model: string
  serial: string
  customer: TicketDraft['device']['customer'] | null
  site: string | null
  region: string | null
  condition: string
  code: string | null
  ruleId: string | null
  title: string
  component: string | null
  severity: string | null
  cause: string | null
  priority: TicketDraft['priority']
  sla: { respondBy: string; resolveBy: string }
  warranty: TicketDraft['warranty']
  billing: 'free' | 'chargeable'
  quote: Quote | null
  occurrences: number
  firstSeen: string
  lastSeen: string
  clearedAt: string | null
  status: Status
  repeatOf: { id: number; number: string } | null
  technician: string | null
  resolution: string | null
  partsUsed: unknown
  labourHours: number | null
  satisfaction: number | null
  comment: string | null
  createdAt: string
  updatedAt: string
  resolvedAt: string | null
  closedAt: string | null
  /** maintenance tickets: the service plan, its tasks, and what fell due */
  planId: string | null
  tasks: string[] | null
  due: DueOn | null
}

export interface HistoryEntry {
  at: string
  by: string
  action: string
  status: Status
  note?: string
  details?: unknown
}

export interface TicketRow {
  id: number
  number: string
  kind: Ticket['kind']
  trigger: Ticket['trigger']
  device_id: string
  model: string
  serial: string
  customer: Ticket['customer']
  site: string | null
  region: string | null
  condition: string
  code: string | null
  rule_id: string | null
  title: string
  component: string | null
  severity: string | null
  cause: string | null
  priority: Ticket['priority']
  respond_by: Date
  resolve_by: Date
  warranty: Ticket['warranty']
  billing: Ticket['billing']
  quote: Quote | null
  occurrences: number
  first_seen: Date
  last_seen: Date
  cleared_at: Date | null
  status: Status
  repeat_of: number | null
  repeat_of_number: string | null
  technician: string | null
  resolution: string | null
  parts_used: unknown
  labor_hours: number | null
  satisfaction: number | null
  comment: string | null
  created_at: Date
  updated_at: Date
  resolved_at: Date | null
  closed_at: Date | null
  plan_id: string | null
  tasks: string[] | null
  due: DueOn | null
}

export const ticketColumns = `tickets.*, (SELECT r.number FROM tickets r WHERE r.id = tickets.repeat_of) AS repeat_of_number`

const iso = (d: Date | null) => d?.toISOString() ?? null

export function toTicket(r: TicketRow): Ticket {
  return {
    id: Number(r.id),
    number: r.number,
    kind: r.kind,
    trigger: r.trigger,
    deviceId: r.device_id,
    model: r.model,
    serial: r.serial,
    customer: r.customer,
    site: r.site,
    region: r.region,
    condition: r.condition,
    code: r.code,
    ruleId: r.rule_id,
    title: r.title,
    component: r.component,
    severity: r.severity,
    cause: r.cause,
    priority: r.priority,
    sla: { respondBy: r.respond_by.toISOString(), resolveBy: r.resolve_by.toISOString() },
    warranty: r.warranty,
    billing: r.billing,
    quote: r.quote,
    occurrences: r.occurrences,
    firstSeen: r.first_seen.toISOString(),
    lastSeen: r.last_seen.toISOString(),
    clearedAt: iso(r.cleared_at),
    status: r.status,
    repeatOf: r.repeat_of === null ? null : { id: Number(r.repeat_of), number: r.repeat_of_number ?? '' },
    technician: r.technician,
    resolution: r.resolution,
    partsUsed: r.parts_used,
    labourHours: r.labor_hours,
    satisfaction: r.satisfaction,
    comment: r.comment,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    resolvedAt: iso(r.resolved_at),
    closedAt: iso(r.closed_at),
    planId: r.plan_id,
    tasks: r.tasks,
    due: r.due,
  }
}
