// /api/tickets: the repair and maintenance tickets, their lifecycle, and tickets opened by hand.
import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { BillingRefusal, type Billing } from '../billing/index.js'
import { exclusionCause, severity, type Catalog } from '../catalog/index.js'
import type { Clock } from '../clock.js'
import { deviceId, newDevice, type DeviceRegistry } from '../devices/index.js'
import { FollowUpRefused, VisitRefused, type FollowUps, type Visits } from '../followup/index.js'
import { channels, draftRepairTicket, faultDateProblem, phoneReportFault, priorities, timeZoneOf, urgency, type TicketPolicy } from '../rules/index.js'
import { instantParam, int64Id, isoInstant, storableText } from '../store/index.js'
import {
  allowedTransitions,
  IllegalTransition,
  statuses,
  statusLabels,
  ticketSchema,
  TicketNotFound,
  ticketNumberPattern,
  TransitionConflict,
  type TicketRepository,
} from '../tickets/index.js'
import { errors, HttpError, notFound } from './errors.js'
import { pageLimit } from './fields.js'
import { ticketDetail, ticketDetailOf } from './ticket-detail.js'

/** `status=open,assigned`: any of several values */
const anyOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .transform((s) => s.split(',').map((v) => v.trim()))
    .pipe(z.array(z.enum(values)).min(1))

const searchText = storableText.trim().min(1).max(200)

// Strict: a misspelt filter is a 400, never silently ignored into a list of everything (issue 12).
const ticketQuery = z
  .strictObject({
    status: anyOf(statuses).optional(),
    priority: anyOf(priorities).optional(),
    deviceId: deviceId.optional(),
    kind: z.enum(['repair', 'maintenance']).optional(),
    warranty: z.enum(['in_warranty', 'out_of_warranty', 'excluded']).optional(),
    channel: anyOf(channels).optional(),
    /** the customer's phone, exactly as recorded */
    phone: searchText.optional(),
    /** part of the customer's name */
    customer: searchText.optional(),
    model: searchText.optional(),
    region: searchText.optional(),
    technician: searchText.optional(),
    /** a deadline not met has passed */
    overdue: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
    /** a deadline not met falls before this instant */
    dueBefore: instantParam.optional(),
    /** opened at or after (ISO-8601 or epoch ms) */
    openedFrom: instantParam.optional(),
    /** opened before */
    openedTo: instantParam.optional(),
    cursor: z.coerce.number().int().positive().optional(),
    limit: pageLimit(500, 50),
  })
  .refine((q) => !q.openedFrom || !q.openedTo || q.openedFrom <= q.openedTo, { path: ['openedTo'], message: 'must not be before openedFrom' })

// Any number Faultline has issued, whatever the template then (002's SR20240501001, the earlier SR20261123-0001).
export const ticketRef = z.object({
  id: z.union([int64Id, z.string().regex(ticketNumberPattern)], { error: 'a ticket id (1 to 9223372036854775807) or number such as SR20240501001' }),
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
    // the follow-up's outcomes: closing is its answer (POST /follow-up says more), reopening only its answer
    if (t.to === 'closed') {
      for (const field of ['technician', 'resolution', 'partsUsed', 'labourHours', 'note'] as const) {
        if (t[field] !== undefined)
          ctx.addIssue({ code: 'custom', path: [field], message: 'closing takes only the satisfaction and comment of the follow-up call' })
      }
    }
    if (t.to === 'reopened') {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'a ticket is reopened by the follow-up call: POST /api/tickets/:id/follow-up with the answer' })
    }
  })

// 003: urgency reassessed as the problem develops, or raised because the customer insists
const priorityChange = z.strictObject({
  priority: z.enum(priorities),
  reason: storableText.trim().min(1).max(2000),
  by: actor,
})

const enRoute = z.strictObject({
  by: actor,
  /** when the technician should arrive */
  eta: isoInstant.optional(),
  note: storableText.trim().min(1).max(2000).optional(),
})

const statusList = z.object({
  statuses: z.array(z.object({ status: z.enum(statuses), label: z.string(), zh: z.string(), next: z.array(z.enum(statuses)) })),
})

/**
 * An appliance nobody registered, as the customer describes it (002 二.1 产品信息; 000 二.1: purchase date and term
 * decide the warranty): the device record is created from it. The contact phone is required: it is how the
 * customer is reached and found again.
 */
const appliance = newDevice
  .pick({ model: true, serial: true, purchasedAt: true, site: true, region: true, timeZone: true, brand: true, proofOfPurchase: true })
  .extend({
    customer: newDevice.shape.customer.unwrap().extend({ phone: storableText.trim().min(1).max(64) }),
  })

const manualTicket = z
  .strictObject({
    /** a registered device, or */
    deviceId: deviceId.optional(),
    /** an appliance that is not registered */
    appliance: appliance.optional(),
    /** how the report came in; `iot` is the devices' own */
    channel: z.enum(channels).exclude(['iot']).default('phone'),
    /** the customer's own (002: 紧急 / 普通, the default / 低) */
    urgency: urgency.default('normal'),
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
  .refine((r) => (r.deviceId === undefined) !== (r.appliance === undefined), {
    path: ['deviceId'],
    message: 'one of the two: deviceId (a registered device) or appliance (one that is not registered)',
  })

/** What every ticket route may answer besides its success: a bad request, a wrong token, a database outage. */
// 401 is added to every /api route by the OpenAPI hook (guardedByBearer).
const failures = errors(400, 503)

/** A ticket change's refusal as the HTTP answer it is; anything else as it came. */
export function ticketChangeError(err: unknown, ref: string): unknown {
  if (err instanceof TicketNotFound) return notFound(`ticket ${ref}`)
  if (err instanceof IllegalTransition) return new HttpError(409, 'illegal_transition', err.message, { from: err.from, allowed: err.allowed })
  if (err instanceof TransitionConflict || err instanceof FollowUpRefused || err instanceof VisitRefused) return new HttpError(409, 'conflict', err.message)
  // an unknown part (400), repair work on a quote not approved (409)
  if (err instanceof BillingRefusal) return new HttpError(err.status, err.code, err.message)
  return err
}

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
  followUps: FollowUps
  visits: Visits
  billing: Billing
}> = async (app, { tickets, registry, catalog, clock, policy, followUps, visits, billing }) => {
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
      channel: q.channel,
      phone: q.phone,
      customer: q.customer,
      model: q.model,
      region: q.region,
      technician: q.technician,
      openedFrom: q.openedFrom?.getTime(),
      openedTo: q.openedTo?.getTime(),
      before: q.cursor,
      limit: q.limit,
    })
    return { tickets: page, next: page.length === q.limit ? page.at(-1)!.id : null }
  })

  // The manager's words for each status (002), and where each may go next.
  app.get('/tickets/statuses', { schema: { response: { 200: statusList, ...failures } } }, async () => ({
    statuses: statuses.map((status) => ({ status, ...statusLabels[status], next: [...allowedTransitions[status]] })),
  }))

  // The ticket, its history, its money (src/billing), its visits and follow-up calls (src/followup).
  app.get('/tickets/:id', { schema: { params: ticketRef, response: { 200: ticketDetail, ...errors(404), ...failures } } }, async (req) => {
    const ticket = await ticketDetailOf({ billing, visits, followUps }, req.params.id)
    if (!ticket) throw notFound(`ticket ${req.params.id}`)
    return ticket
  })

  app.post(
    '/tickets/:id/transitions',
    { schema: { params: ticketRef, body: transition, response: { 200: ticketSchema, ...errors(404, 409), ...failures } } },
    async (req) => {
      const t = req.body
      try {
        // Closing is the follow-up call's answer, by the same rule: a low score reopens for the supervisor (002).
        if (t.to === 'closed') return await followUps.answer(req.params.id, { score: t.satisfaction!, comment: t.comment, by: t.by })
        return await tickets.transition(req.params.id, t, followUps.settleOnMove(t.to))
      } catch (err) {
        throw ticketChangeError(err, req.params.id)
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
        throw ticketChangeError(err, req.params.id)
      }
    },
  )

  app.post(
    '/tickets/:id/en-route',
    { schema: { params: ticketRef, body: enRoute, response: { 200: ticketSchema, ...errors(404, 409), ...failures } } },
    async (req) => {
      const { eta, ...trip } = req.body
      if (eta !== undefined && Date.parse(eta) < clock.now() - policy.clockSkewMs)
        throw new HttpError(400, 'bad_request', 'body.eta: an arrival time in the past')
      try {
        return await tickets.announceEnRoute(req.params.id, { ...trip, ...(eta !== undefined && { eta: Date.parse(eta) }) })
      } catch (err) {
        throw ticketChangeError(err, req.params.id)
      }
    },
  )

  // A report from any channel goes through the same warranty and priority rules as a detection.
  app.post('/tickets', { schema: { body: manualTicket, response: { 201: ticketSchema, ...failures } } }, async (req, reply) => {
    const { appliance, ...body } = req.body
    // The appliance may be known after all (registered, or an earlier walk-in): its record decides, not a second one.
    const known = body.deviceId ? await registry.get(body.deviceId) : await registry.findBySerial(appliance!.model, appliance!.serial)
    if (body.deviceId && !known) throw new HttpError(400, 'bad_request', `body.deviceId: device ${body.deviceId} is not registered`)
    const facts = known ?? appliance!
    const now = clock.now()
    const at = body.at ? Date.parse(body.at) : now
    // Checked before anything is written: a report that cannot be right creates no device either.
    const wrongDate = faultDateProblem({ at, now, purchasedAt: facts.purchasedAt, timeZone: timeZoneOf(facts, policy), clockSkewMs: policy.clockSkewMs })
    if (wrongDate) throw new HttpError(400, 'bad_request', `${body.at || known ? 'body.at' : 'body.appliance.purchasedAt'}: ${wrongDate}`)
    const model = catalog.get(facts.model)
    const fault = phoneReportFault({ ...body, at }, model)
    if (!fault) throw new HttpError(400, 'bad_request', 'body.title: needed when the fault code is absent or unknown to the model')
    // A device created from a report gets MQTT credentials nobody is shown: it connects only once someone issues
    // it a token (POST /api/devices/:id/token), which is what registering it for telemetry means.
    const device = known ?? (await registry.register({ id: `appliance-${randomUUID()}`, ...appliance! })).device
    const ticket = await tickets.open(
      { deviceId: device.id, ...fault },
      (repeatOf) => draftRepairTicket(fault, device, model, clock.now(), policy, repeatOf),
      body.by,
      body.note,
    )
    return reply.code(201).send(ticket)
  })
}
