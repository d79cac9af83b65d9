// The messages of GET /ws/faults: the one definition of the contract (issue 10). The JSON Schema in schemas/ is
// generated from it (`npm run schemas`), the README describes it. Clients must ignore types they do not know:
// every ticket history entry is an event, so new kinds of entries (SLA warnings, assignments) are new types.
import { z } from 'zod'
import { severity } from '../catalog/index.js'
import type { Detection } from '../detect/index.js'
import { priorities, type TicketDraft } from '../rules/index.js'

export const streamEventTypes = [
  'detection.raised',
  'detection.cleared',
  'ticket.opened',
  'ticket.occurrence',
  'ticket.transitioned',
  'ticket.changed',
  'maintenance.opened',
] as const
export type StreamEventType = (typeof streamEventTypes)[number]

const instant = z.iso.datetime({ offset: true })

/** What a detector reported; `limit` is the threshold rule's, for a breach. */
export const streamDetection = z.object({
  condition: z.string(),
  trigger: z.enum(['fault_code', 'threshold', 'offline']) satisfies z.ZodType<Detection['trigger']>,
  code: z.string().nullable(),
  ruleId: z.string().nullable(),
  title: z.string(),
  component: z.string().nullable(),
  severity,
  value: z.number().nullable(),
  limit: z.number().nullable(),
})

/** The ticket after the history entry, and the entry (`action`, `by`, `note`). */
export const streamTicket = z.object({
  id: z.number().int(),
  number: z.string(),
  kind: z.enum(['repair', 'maintenance']) satisfies z.ZodType<TicketDraft['kind']>,
  // Any status the API shows; a string, so a status added later does not break the contract.
  status: z.string(),
  priority: z.enum(priorities),
  title: z.string(),
  condition: z.string(),
  warranty: z.enum(['in_warranty', 'out_of_warranty', 'excluded']) satisfies z.ZodType<TicketDraft['warranty']['decision']>,
  billing: z.enum(['free', 'chargeable']) satisfies z.ZodType<TicketDraft['billing']>,
  quoteTotal: z.number().nullable(),
  respondBy: instant,
  resolveBy: instant,
  occurrences: z.number().int(),
  technician: z.string().nullable(),
  action: z.string(),
  by: z.string(),
  note: z.string().nullable(),
})

/** A stored event: one JSON text frame. */
export const streamEvent = z.object({
  id: z.number().int().positive().describe('strictly increasing in commit order: resume with after=<the last id seen>'),
  type: z.string().describe(`one of ${streamEventTypes.join(', ')}; ignore types you do not know`),
  at: instant.describe('when it happened'),
  deviceId: z.string(),
  model: z.string(),
  region: z.string().nullable(),
  site: z.string().nullable(),
  severity: severity.nullable(),
  priority: z.enum(priorities).nullable(),
  detection: streamDetection.optional(),
  ticket: streamTicket.optional(),
})
export type StreamEvent = z.infer<typeof streamEvent>
/** An event before it is stored (the outbox gives it its id), of one of today's types. */
export type NewStreamEvent = Omit<StreamEvent, 'id' | 'type'> & { type: StreamEventType }

/** Control frames: not stored, no id. */
export const heartbeatFrame = z.object({ type: z.literal('heartbeat'), at: instant })
export const caughtUpFrame = z.object({
  type: z.literal('caught_up'),
  at: instant,
  lastId: z.number().int().describe('the backfill is sent; live events follow'),
})
export const gapFrame = z.object({
  type: z.literal('gap'),
  at: instant,
  firstMissedId: z.number().int().describe('events from this id on were not sent: reconnect with after=firstMissedId-1'),
})

export const streamMessage = z.union([streamEvent, heartbeatFrame, caughtUpFrame, gapFrame])
export type StreamMessage = z.infer<typeof streamMessage>
