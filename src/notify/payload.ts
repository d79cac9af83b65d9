// What a webhook receives: a stream event as a notification of the after-sales documents (issue 12; 000, 002,
// 004): who is told (customer, technician, supervisor) what happened, with the ticket number and the customer's
// contact, so an integrator's SMS or WeChat gateway can send it as it comes.
import { z } from 'zod'
import { streamEvent, type StreamEvent } from '../stream/index.js'
import type { Ticket } from '../tickets/index.js'

export const audiences = ['customer', 'technician', 'supervisor'] as const

/**
 * The one map from a ticket history action (matched by name, whatever event type carries it) to a notification.
 * 002: the number on intake and the assignment; 004: the quote approved before work (获取客户的明确授权), the
 * technician's arrival announced; 000/002: completion confirmed, the follow-up call within a week.
 */
const byAction = {
  opened: { kind: 'ticket_opened', audience: ['customer', 'supervisor'] },
  assigned: { kind: 'technician_assigned', audience: ['customer', 'technician'] },
  awaiting_approval: { kind: 'quote_to_approve', audience: ['customer'] },
  en_route: { kind: 'technician_on_the_way', audience: ['customer'] },
  resolved: { kind: 'repair_completed', audience: ['customer', 'supervisor'] },
  follow_up: { kind: 'follow_up', audience: ['customer'] },
} as const satisfies Record<string, { kind: string; audience: readonly (typeof audiences)[number][] }>

/** Any other ticket action (a status, a cleared condition, what later work adds) goes to the supervisor as a change. */
const otherTicketChange = { kind: 'ticket_changed', audience: ['supervisor'] } as const
/** A detection carries no ticket: the supervisor's. */
const detection = { kind: 'detection', audience: ['supervisor'] } as const

type Notification = (typeof byAction)[keyof typeof byAction] | typeof otherTicketChange | typeof detection
export const notificationKinds = [otherTicketChange.kind, detection.kind, ...Object.values(byAction).map((n) => n.kind)] as const

export const webhookPayload = z.object({
  id: z.number().int().describe('the stream event id: the same on every attempt, so a receiver drops a repeat by it'),
  kind: z.enum(notificationKinds),
  audience: z.array(z.enum(audiences)),
  ticketNumber: z.string().nullable(),
  contact: z.object({ name: z.string(), phone: z.string().optional(), address: z.string().optional() }).nullable(),
  event: streamEvent,
})
export type WebhookPayload = z.infer<typeof webhookPayload>
export type Contact = Ticket['customer']

function notificationOf(e: StreamEvent): Notification {
  if (!e.ticket) return detection
  return Object.hasOwn(byAction, e.ticket.action) ? byAction[e.ticket.action as keyof typeof byAction] : otherTicketChange
}

export function payloadOf(e: StreamEvent, contact: Contact): WebhookPayload {
  const { kind, audience } = notificationOf(e)
  return { id: e.id, kind, audience: [...audience], ticketNumber: e.ticket?.number ?? null, contact, event: e }
}
