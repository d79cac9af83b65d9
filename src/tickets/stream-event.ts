// Every ticket history entry as a live stream event (issue 10): the one map from a history action to an event type.
import type { NewStreamEvent, StreamEventType } from '../stream/index.js'
import { statuses } from './lifecycle.js'
import type { Ticket } from './ticket.js'

/** A status change is a transition; an action not named here (a condition cleared, what later work adds) a change. */
const typeOfAction = new Map<string, (t: Ticket) => StreamEventType>([
  ['opened', (t) => (t.kind === 'maintenance' ? 'maintenance.opened' : 'ticket.opened')],
  ['occurrence', () => 'ticket.occurrence'],
  ['reopened', () => 'ticket.transitioned'],
  ...statuses.map((s) => [s, () => 'ticket.transitioned'] as const),
])

export interface HistoryAction {
  at: number
  by: string
  action: string
  note?: string
}

/** The event of a history entry, with the ticket as it is after it. */
export function ticketEvent(t: Ticket, h: HistoryAction): NewStreamEvent {
  return {
    type: typeOfAction.get(h.action)?.(t) ?? 'ticket.changed',
    at: new Date(h.at).toISOString(),
    deviceId: t.deviceId,
    model: t.model,
    region: t.region,
    site: t.site,
    severity: t.severity,
    priority: t.priority,
    ticket: {
      id: t.id,
      number: t.number,
      kind: t.kind,
      status: t.status,
      priority: t.priority,
      title: t.title,
      condition: t.condition,
      warranty: t.warranty.decision,
      billing: t.billing,
      quoteTotal: t.quote?.total ?? null,
      respondBy: t.sla.respondBy,
      resolveBy: t.sla.resolveBy,
      occurrences: t.occurrences,
      technician: t.technician,
      action: h.action,
      by: h.by,
      note: h.note ?? null,
    },
  }
}
