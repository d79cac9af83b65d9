// A ticket as the API shows it: the rules' draft as stored (absent fields null, instants ISO-8601), plus what the
// database and the lifecycle add. The zod schema is the same shape checked at run time (the routes' responses).
import { z } from 'zod'
import { severity } from '../catalog/index.js'
import { channels, deadlineKinds, priorities, urgencies, type DeadlineKind, type SlaDeadlines, type TicketDraft } from '../rules/index.js'
import { dispatchDecisionSchema, type DispatchDecision } from './dispatch-decision.js'
import { statuses, type Status } from './lifecycle.js'
import { slaStates, type SlaState } from './sla-state.js'

/** An optional draft field as a column gives it back: present or null. */
type Stored<T> = { [K in keyof T]-?: Exclude<T[K], undefined> | null }
type Device = TicketDraft['device']
type Plan = NonNullable<TicketDraft['plan']>

/** The parts a technician used, as a transition records them. */
export type PartsUsed = { partNo: string; qty: number; name?: string }[]

export type Ticket = Pick<TicketDraft, 'kind' | 'trigger' | 'condition' | 'title' | 'priority' | 'warranty' | 'billing' | 'channel'> &
  Stored<Pick<TicketDraft, 'code' | 'ruleId' | 'component' | 'severity' | 'cause' | 'quote' | 'repeatOf' | 'urgency'>> &
  Pick<Device, 'model' | 'serial'> &
  Stored<Pick<Device, 'customer' | 'site' | 'region'>> & {
    deviceId: Device['id']
    /** the deadlines and warning instants (moved on by the paused time), the pause, and where each deadline stands */
    sla: Record<keyof SlaDeadlines, string> & { pausedAt: string | null; pausedMs: number; state: Record<DeadlineKind, SlaState> }
    firstSeen: string
    /** maintenance tickets: the service plan, its tasks, and what fell due */
    planId: Plan['id'] | null
    tasks: Plan['tasks'] | null
    due: Plan['due'] | null
  } & {
    // what the database and the lifecycle add to the draft
    id: number
    number: string
    occurrences: number
    lastSeen: string
    clearedAt: string | null
    status: Status
    technician: string | null
    /** the directory technician assigned (src/dispatch), with the decision that chose them */
    technicianId: string | null
    dispatch: DispatchDecision | null
    resolution: string | null
    partsUsed: PartsUsed | null
    labourHours: number | null
    satisfaction: number | null
    comment: string | null
    createdAt: string
    updatedAt: string
    resolvedAt: string | null
    closedAt: string | null
  }

export interface HistoryEntry {
  at: string
  by: string
  action: string
  status: Status
  note?: string
  details?: unknown
}

const instant = z.string()
export const quoteSchema = z.object({
  currency: z.string(),
  parts: z.array(z.object({ partNo: z.string(), name: z.string(), qty: z.number(), unitPrice: z.number(), amount: z.number() })),
  partsTotal: z.number(),
  labourHours: z.number(),
  labourRate: z.number(),
  labour: z.number(),
  callOut: z.number(),
  transport: z.number(),
  other: z.array(z.object({ name: z.string(), amount: z.number() })),
  total: z.number(),
})
const dueSchema = z.union([
  z.object({ date: z.string(), until: z.string().optional() }),
  z.object({ counter: z.string(), usage: z.number(), projected: z.string().optional() }),
])

export const ticketSchema = z.object({
  id: z.number(),
  number: z.string(),
  kind: z.enum(['repair', 'maintenance']),
  trigger: z.enum(['fault_code', 'threshold', 'offline', 'manual', 'schedule', 'usage', 'season']),
  deviceId: z.string(),
  model: z.string(),
  serial: z.string(),
  customer: z.object({ name: z.string(), phone: z.string().optional(), address: z.string().optional() }).nullable(),
  site: z.string().nullable(),
  region: z.string().nullable(),
  condition: z.string(),
  code: z.string().nullable(),
  ruleId: z.string().nullable(),
  title: z.string(),
  component: z.string().nullable(),
  severity: severity.nullable(),
  cause: z.string().nullable(),
  priority: z.enum(priorities),
  sla: z.object({
    respondBy: instant,
    startBy: instant,
    resolveBy: instant,
    respondWarnAt: instant,
    startWarnAt: instant,
    resolveWarnAt: instant,
    pausedAt: instant.nullable(),
    pausedMs: z.number(),
    state: z.record(z.enum(deadlineKinds), z.enum(slaStates)),
  }),
  warranty: z.object({
    decision: z.enum(['in_warranty', 'out_of_warranty', 'excluded']),
    reason: z.string(),
    coverageEnds: z.string(),
    chargeable: z.boolean(),
    basis: z.literal('default_policy').optional(),
  }),
  billing: z.enum(['free', 'chargeable']),
  quote: quoteSchema.nullable(),
  occurrences: z.number(),
  firstSeen: instant,
  lastSeen: instant,
  clearedAt: instant.nullable(),
  status: z.enum(statuses),
  repeatOf: z.object({ id: z.number(), number: z.string() }).nullable(),
  technician: z.string().nullable(),
  technicianId: z.string().nullable(),
  dispatch: dispatchDecisionSchema.nullable(),
  resolution: z.string().nullable(),
  partsUsed: z.array(z.object({ partNo: z.string(), qty: z.number(), name: z.string().optional() })).nullable(),
  labourHours: z.number().nullable(),
  satisfaction: z.number().nullable(),
  comment: z.string().nullable(),
  createdAt: instant,
  updatedAt: instant,
  resolvedAt: instant.nullable(),
  closedAt: instant.nullable(),
  planId: z.string().nullable(),
  tasks: z.array(z.string()).nullable(),
  due: dueSchema.nullable(),
  channel: z.enum(channels),
  urgency: z.enum(urgencies).nullable(),
}) satisfies z.ZodType<Ticket>

export const historyEntrySchema = z.object({
  at: instant,
  by: z.string(),
  action: z.string(),
  status: z.enum(statuses),
  note: z.string().optional(),
  details: z.unknown().optional(),
}) satisfies z.ZodType<HistoryEntry>

export const ticketWithHistorySchema = ticketSchema.extend({ history: z.array(historyEntrySchema) })

// The schema and the type are one shape: a field added to either without the other fails to compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
export type SchemaIsTicket = Assert<Same<z.infer<typeof ticketSchema>, Ticket>>
/** A compile-time check: the type argument must be `true`. */
export type Assert<T extends true> = T
