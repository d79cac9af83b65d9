// /api/tickets/:id/diagnosis, /approval and /settlement: the repair's money flow (issue 12, src/billing). Each
// answers the ticket's detail as GET /api/tickets/:id shows it.
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { approvalChannels, BillingRefusal } from '../billing/index.js'
import { exclusionCause } from '../catalog/index.js'
import { storableText } from '../store/index.js'
import { IllegalTransition, TicketNotFound } from '../tickets/index.js'
import { errors, HttpError, notFound } from './errors.js'
import { ticketDetail, ticketDetailOf, type TicketDetailSources } from './ticket-detail.js'
import { actor, ticketRef } from './tickets.js'

const diagnosis = z.strictObject({
  by: actor,
  /** what the technician found */
  cause: storableText.trim().min(1).max(2000),
  /** the catalog's closed list of causes a warranty may exclude */
  exclusion: exclusionCause.optional(),
  /** the estimate after inspection (004 工时核算, 备件成本), when it differs from the fault code's */
  parts: z
    .array(z.strictObject({ partNo: storableText.min(1).max(64), qty: z.number().int().positive() }))
    .max(100)
    .optional(),
  labourHours: z.number().nonnegative().max(1000).optional(),
})

const approval = z.strictObject({
  decision: z.enum(['approved', 'declined']),
  /** the customer's name */
  by: actor,
  channel: z.enum(approvalChannels),
  note: storableText.max(2000).optional(),
  /** the total the customer was shown; refused when the quote has changed since */
  quoteTotal: z.number().nonnegative().optional(),
})

const settlement = z.discriminatedUnion('status', [
  z.strictObject({ status: z.literal('paid'), reference: storableText.trim().min(1).max(200), by: actor }),
  z.strictObject({ status: z.literal('waived'), reason: storableText.trim().min(1).max(2000), by: actor }),
])

const responses = { 200: ticketDetail, ...errors(400, 404, 409, 503) }

export const billingRoutes: FastifyPluginAsyncZod<TicketDetailSources> = async (app, sources) => {
  const { billing } = sources
  /** Runs a step of the money flow and answers the ticket as it then is. */
  const answer = async (id: string, step: () => Promise<void>) => {
    try {
      await step()
    } catch (err) {
      if (err instanceof TicketNotFound) throw notFound(`ticket ${id}`)
      if (err instanceof IllegalTransition) throw new HttpError(409, 'illegal_transition', err.message, { from: err.from, allowed: err.allowed })
      if (err instanceof BillingRefusal) throw new HttpError(err.status, err.code, err.message)
      throw err
    }
    return (await ticketDetailOf(sources, id))!
  }

  app.post('/tickets/:id/diagnosis', { schema: { params: ticketRef, body: diagnosis, response: responses } }, async (req) =>
    answer(req.params.id, () => billing.diagnose(req.params.id, req.body)),
  )
  app.post('/tickets/:id/approval', { schema: { params: ticketRef, body: approval, response: responses } }, async (req) =>
    answer(req.params.id, () => billing.decide(req.params.id, req.body)),
  )
  app.post('/tickets/:id/settlement', { schema: { params: ticketRef, body: settlement, response: responses } }, async (req) => {
    const { by, ...paidOrWaived } = req.body
    return answer(req.params.id, () => billing.settle(req.params.id, paidOrWaived, by))
  })
}
