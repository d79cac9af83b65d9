// /api/tickets: the repair and maintenance tickets, their lifecycle, and tickets opened by hand.
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { exclusionCause, severity, type Catalog } from '../catalog/index.js'
import type { Clock } from '../clock.js'
import { deviceId, type DeviceRegistry } from '../devices/index.js'
import { draftRepairTicket, phoneReportFault, priorities, type TicketPolicy } from '../rules/index.js'
import { instantParam, int64Id, isoInstant, storableText } from '../store/index.js'
import {
  allowedTransitions,
  IllegalTransition,
  statuses,
  statusLabels,
  ticketSchema,
  ticketWithHistorySchema,
  TicketNotFound,
  TransitionConflict,
  type TicketRepository,
} from '../tickets/index.js'
import { errors, HttpError, notFound } from './errors.js'
import { pageLimit } from './fields.js'

/** `status=open,assigned`: any of several values */
const anyOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .transform((s) => s.split(',').map((v) => v.trim()))
    .pipe(z.array(z.enum(values)).min(1))

const ticketQuery = z.object({
  status: anyOf(statuses).optional(),
  priority: anyOf(priorities).optional(),
  deviceId: deviceId.optional(),
  kind: z.enum(['repair', 'maintenance']).optional(),
  warranty: z.enum(['in_warranty', 'out_of_warranty', 'excluded']).optional(),
  /** a deadline not met has passed */
  overdue: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  /** a deadline not met falls before this instant */
  dueBefore: instantParam.optional(),
  cursor: z.coerce.number().int().positive().optional(),
  limit: pageLimit(500, 50),
})

export const ticketRef = z.object({
  id: z.union([int64Id, z.string().regex(/^SR\d{8}-\d{4,}$/)], { error: 'a ticket id (1 to 9223372036854775807) or number such as SR20261123-0001' }),
})

export const actor = storableText.trim().min(1).max(100)

const transition = z
  .strictObject({
    to: z.enum(statuses),
    by: actor,
    note: storableText.max(2000).optional(),
    technician: storableText.trim().min(1).max(100).optional(),
    resolution: storableText.trim().min(1).max(2000).optional(),
    partsUsed: z
      .array(z.strictObject({ partNo: storableText.min(1).max(64), qty: z.number().int().positive(), name: storableText.max(200).optional() }))
      .max(100)
      .optional(),
    labourHours: z.number().nonnegative().max(1000).optional(),
    satisfaction: z.number().int().min(1).max(5).optional(),
    comment: storableText.max(2000).optional(),
  })
  .superRefine((t, ctx) => {
    const requires = (field: 'technician' | 'resolution' | 'satisfaction', why: string) => {
      if (t[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: why })
    }
    if (t.to === 'assigned') requires('technician', 'assigning needs the technician')
    if (t.to === 'resolved') requires('resolution', 'resolving needs what was done')
    if (t.to === 'closed') requires('satisfaction', "closing records the customer's satisfaction (1-5) from the follow-up call")
  })

// 003: urgency reassessed as the problem develops, or raised because the customer insists
const priorityChange = z.strictObject({
  priority: z.enum(priorities),
  reason: storableText.trim().min(1).max(2000),
  by: actor,
})

const statusList = z.object({
  statuses: z.array(z.object({ status: z.enum(statuses), label: z.string(), zh: z.string(), next: z.array(z.enum(statuses)) })),
})

const manualTicket = z.strictObject({
  deviceId,
  by: actor,
  code: storableText.min(1).max(64).optional(),
  title: storableText.trim().min(1).max(200).optional(),
  component: storableText.max(64).optional(),
  severity: severity.optional(),
  cause: exclusionCause.optional(),
  note: storableText.max(2000).optional(),
  /** when the fault happened; now if absent */
  at: isoInstant.optional(),
})

/** What every ticket route may answer besides its success: a bad request, a wrong token, a database outage. */
// 401 is added to every /api route by the OpenAPI hook (guardedByBearer).
const failures = errors(400, 503)

const ticketPage = z.object({
  tickets: z.array(ticketSchema),
  /** the cursor of the next page, null on the last */
  next: z.number().nullable(),
})

export const ticketRoutes: FastifyPluginAsyncZod<{
  tickets: TicketRepository
  registry: DeviceRegistry
  catalog: Catalog
  clock: Clock
  policy: TicketPolicy
}> = async (app, { tickets, registry, catalog, clock, policy }) => {
  app.get('/tickets', { schema: { querystring: ticketQuery, response: { 200: ticketPage, ...failures } } }, async (req) => {
    const q = req.query
    const page = await tickets.list({
      status: q.status,
      priority: q.priority,
      deviceId: q.deviceId,
      kind: q.kind,
      warranty: q.warranty,
      overdue: q.overdue,
      dueBefore: q.dueBefore?.getTime(),
      before: q.cursor,
      limit: q.limit,
    })
    return { tickets: page, next: page.length === q.limit ? page.at(-1)!.id : null }
  })

  // The manager's words for each status (002), and where each may go next.
  app.get('/tickets/statuses', { schema: { response: { 200: statusList, ...failures } } }, async () => ({
    statuses: statuses.map((status) => ({ status, ...statusLabels[status], next: [...allowedTransitions[status]] })),
  }))

  app.get('/tickets/:id', { schema: { params: ticketRef, response: { 200: ticketWithHistorySchema, ...errors(404), ...failures } } }, async (req) => {
    const ticket = await tickets.get(req.params.id)
    if (!ticket) throw notFound(`ticket ${req.params.id}`)
    return ticket
  })

  app.post(
    '/tickets/:id/transitions',
    { schema: { params: ticketRef, body: transition, response: { 200: ticketSchema, ...errors(404, 409), ...failures } } },
    async (req) => {
      try {
        return await tickets.transition(req.params.id, req.body)
      } catch (err) {
        if (err instanceof TicketNotFound) throw notFound(`ticket ${req.params.id}`)
        if (err instanceof IllegalTransition) {
          throw new HttpError(409, 'illegal_transition', err.message, { from: err.from, allowed: err.allowed })
        }
        if (err instanceof TransitionConflict) throw new HttpError(409, 'conflict', err.message)
        throw err
      }
    },
  )

  app.post(
    '/tickets/:id/priority',
    { schema: { params: ticketRef, body: priorityChange, response: { 200: ticketSchema, ...errors(404, 409), ...failures } } },
    async (req) => {
      try {
        return await tickets.changePriority(req.params.id, req.body, policy)
      } catch (err) {
        if (err instanceof TicketNotFound) throw notFound(`ticket ${req.params.id}`)
        if (err instanceof TransitionConflict) throw new HttpError(409, 'conflict', err.message)
        throw err
      }
    },
  )

  // A phone report goes through the same warranty and priority rules as a detection.
  app.post('/tickets', { schema: { body: manualTicket, response: { 201: ticketSchema, ...failures } } }, async (req, reply) => {
    const body = req.body
    const device = await registry.get(body.deviceId)
    if (!device) throw new HttpError(400, 'bad_request', `body.deviceId: device ${body.deviceId} is not registered`)
    const model = catalog.get(device.model)
    const fault = phoneReportFault({ ...body, at: body.at ? Date.parse(body.at) : clock.now() }, model)
    if (!fault) throw new HttpError(400, 'bad_request', 'body.title: needed when the fault code is absent or unknown to the model')
    const ticket = await tickets.open(
      { deviceId: device.id, ...fault },
      (repeatOf) => draftRepairTicket(fault, device, model, clock.now(), policy, repeatOf),
      body.by,
      body.note,
    )
    return reply.code(201).send(ticket)
  })
}
