// The one map between the tickets table and a Ticket: each column, the Ticket field it is, how the INSERT writes
// it from a draft and how a row reads back. The INSERT's columns, placeholders and parameters, the SELECT list
// and the row mapping are all built from it (issue 9: one ticket shape), so a column cannot be written and not
// read, or read under another name.
import type { TicketDraft } from '../rules/index.js'
import { slaStateAt } from './sla-state.js'
import type { Assert, Ticket } from './ticket.js'

/** What opening a ticket knows beyond its draft. */
interface Opening {
  number: string
}

/** A Ticket field, or one inside the two objects built from several columns. */
type Field = Exclude<keyof Ticket, 'sla' | 'repeatOf'> | `sla.${Exclude<keyof Ticket['sla'], 'state'>}` | `repeatOf.${keyof NonNullable<Ticket['repeatOf']>}`

interface Codec {
  /** the parameter's SQL for placeholder `p` */
  sql?: (p: string) => string
  encode?: (v: unknown) => unknown
  decode?: (v: never) => unknown
}

/** Instants travel as epoch ms and come back as Date: the API shows them ISO-8601. */
const instant: Codec = { sql: (p) => `to_timestamp(${p} / 1000.0)`, decode: (d: Date | null) => d?.toISOString() ?? null }
const jsonb: Codec = { encode: (v) => (v === undefined || v === null ? null : JSON.stringify(v)) }
/** bigint columns come back as strings from pg */
const int8: Codec = { decode: (v: string | number | null) => (v === null ? null : Number(v)) }

interface Column extends Codec {
  name: string
  field: Field
  /** the SELECT's expression when not the column itself */
  select?: string
  /** the draft's value; absent: not written on opening (the column's default, or the lifecycle's later) */
  write?: (t: TicketDraft, o: Opening) => unknown
}

/** Keeps the name and field literal, for the row type and the check that every field is mapped. */
const column = <N extends string, F extends Field>(name: N, field: F, codec: Codec = {}, write?: Column['write']) => ({ name, field, ...codec, write })

const columns = [
  column('id', 'id', int8),
  column('number', 'number', {}, (_, o) => o.number),
  column('kind', 'kind', {}, (t) => t.kind),
  column('trigger', 'trigger', {}, (t) => t.trigger),
  column('device_id', 'deviceId', {}, (t) => t.device.id),
  column('model', 'model', {}, (t) => t.device.model),
  column('serial', 'serial', {}, (t) => t.device.serial),
  column('customer', 'customer', jsonb, (t) => t.device.customer),
  column('site', 'site', {}, (t) => t.device.site),
  column('region', 'region', {}, (t) => t.device.region),
  column('condition', 'condition', {}, (t) => t.condition),
  column('code', 'code', {}, (t) => t.code),
  column('rule_id', 'ruleId', {}, (t) => t.ruleId),
  column('title', 'title', {}, (t) => t.title),
  column('component', 'component', {}, (t) => t.component),
  column('severity', 'severity', {}, (t) => t.severity),
  column('cause', 'cause', {}, (t) => t.cause),
  column('priority', 'priority', {}, (t) => t.priority),
  column('respond_by', 'sla.respondBy', instant, (t) => t.respondBy),
  column('start_by', 'sla.startBy', instant, (t) => t.startBy),
  column('resolve_by', 'sla.resolveBy', instant, (t) => t.resolveBy),
  column('respond_warn_at', 'sla.respondWarnAt', instant, (t) => t.respondWarnAt),
  column('start_warn_at', 'sla.startWarnAt', instant, (t) => t.startWarnAt),
  column('resolve_warn_at', 'sla.resolveWarnAt', instant, (t) => t.resolveWarnAt),
  column('paused_at', 'sla.pausedAt', instant),
  column('paused_ms', 'sla.pausedMs', int8),
  column('warranty', 'warranty', jsonb, (t) => t.warranty),
  column('billing', 'billing', {}, (t) => t.billing),
  column('quote', 'quote', jsonb, (t) => t.quote),
  column('occurrences', 'occurrences'),
  column('first_seen', 'firstSeen', instant, (t) => t.firstSeen),
  // first seen is last seen until the condition is raised again
  column('last_seen', 'lastSeen', instant, (t) => t.firstSeen),
  column('cleared_at', 'clearedAt', instant),
  column('status', 'status'),
  column('repeat_of', 'repeatOf.id', int8, (t) => t.repeatOf?.id),
  { name: 'repeat_of_number', field: 'repeatOf.number', select: '(SELECT r.number FROM tickets r WHERE r.id = tickets.repeat_of)' },
  column('technician', 'technician'),
  column('technician_id', 'technicianId'),
  column('dispatch', 'dispatch'),
  column('resolution', 'resolution'),
  column('parts_used', 'partsUsed'),
  column('labor_hours', 'labourHours'),
  column('satisfaction', 'satisfaction'),
  column('comment', 'comment'),
  column('created_at', 'createdAt', instant, (t) => t.openedAt),
  column('updated_at', 'updatedAt', instant, (t) => t.openedAt),
  column('resolved_at', 'resolvedAt', instant),
  column('closed_at', 'closedAt', instant),
  column('plan_id', 'planId', {}, (t) => t.plan?.id),
  column('tasks', 'tasks', jsonb, (t) => t.plan?.tasks),
  column('due', 'due', jsonb, (t) => t.plan?.due),
  // issue 12: how the report came in, and the customer's own urgency
  column('channel', 'channel', {}, (t) => t.channel),
  column('urgency', 'urgency', {}, (t) => t.urgency),
] as const satisfies readonly Column[]

/** A row as the SELECT list gives it back. */
export type TicketRow = Record<(typeof columns)[number]['name'], unknown>

export const ticketSelect = columns.map((c: Column) => (c.select ? `${c.select} AS ${c.name}` : `tickets.${c.name}`)).join(', ')

/** The INSERT's column list, its placeholders and their parameters, for a ticket opened from `t`. */
export function ticketInsert(t: TicketDraft, o: Opening): { columns: string; values: string; params: unknown[] } {
  const written = columns.filter((c: Column) => c.write !== undefined) as Column[]
  return {
    columns: written.map((c) => c.name).join(', '),
    values: written.map((c, i) => (c.sql ? c.sql(`$${i + 1}`) : `$${i + 1}`)).join(', '),
    params: written.map((c) => {
      const value = c.write!(t, o)
      return c.encode ? c.encode(value) : (value ?? null)
    }),
  }
}

/** The ticket a row holds, its SLA state judged at `now`. */
export function toTicket(row: TicketRow, now: number): Ticket {
  const ticket: Record<string, unknown> = {}
  const nested: Record<string, Record<string, unknown>> = {}
  for (const c of columns as readonly Column[]) {
    const raw = row[c.name as keyof TicketRow]
    const value = c.decode ? c.decode(raw as never) : raw
    const [outer, inner] = c.field.split('.') as [string, string?]
    if (inner === undefined) ticket[outer] = value
    else (nested[outer] ??= {})[inner] = value
  }
  // An object built from several columns is null when all of them are (a ticket that repeats none).
  for (const [field, parts] of Object.entries(nested)) {
    ticket[field] = Object.values(parts).every((v) => v === null) ? null : parts
  }
  const stored = ticket as Ticket
  stored.sla.state = slaStateAt(stored.sla, stored.status, now)
  return stored
}

// Every Ticket field has its column: a field added to Ticket without one fails to compile.
type Root<F extends string> = F extends `${infer R}.${string}` ? R : F
export type EveryFieldMapped = Assert<Exclude<keyof Ticket, Root<(typeof columns)[number]['field']>> extends never ? true : false>
