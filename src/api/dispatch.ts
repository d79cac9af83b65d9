// Assignment by people beside automatic dispatch: a supervisor reassigns with a reason (002: 手动调整工单分配,
// 并注明调整原因), a technician declines with one (dispatch then offers the ticket to the next), and the tickets
// nobody could take are listed for the supervisor.
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { AssignmentRefused, technicianIdSchema, UnknownTechnician, type Dispatcher } from '../dispatch/index.js'
import { storableText } from '../store/index.js'
import { TicketNotFound, ticketWithHistorySchema, type TicketRepository } from '../tickets/index.js'
import { errors, HttpError, notFound } from './errors.js'
import { actor, ticketRef } from './tickets.js'

const reason = storableText.trim().min(1).max(2000)
const assignment = z.strictObject({ technicianId: technicianIdSchema, reason, by: actor })
const declining = z.strictObject({ reason, by: actor })
const failures = errors(400, 503)

const flagged = z.object({
  tickets: z.array(
    z.object({ id: z.number(), number: z.string(), priority: z.string(), region: z.string().nullable(), reason: z.string(), since: z.string() }),
  ),
})

/** PostgreSQL's check_violation: the load trigger refused a technician over capacity (a race lost to another process). */
const overCapacity = (err: unknown) => (err as { code?: string }).code === '23514'

export const dispatchRoutes: FastifyPluginAsyncZod<{ dispatcher: Dispatcher; tickets: TicketRepository }> = async (app, { dispatcher, tickets }) => {
  const change = async (ref: string, write: () => Promise<void>) => {
    try {
      await write()
    } catch (err) {
      if (err instanceof TicketNotFound) throw notFound(`ticket ${ref}`)
      if (err instanceof UnknownTechnician) throw new HttpError(400, 'bad_request', err.message)
      if (err instanceof AssignmentRefused) throw new HttpError(409, 'conflict', err.message)
      if (overCapacity(err)) throw new HttpError(409, 'conflict', (err as Error).message)
      throw err
    }
    return (await tickets.get(ref))!
  }

  app.post(
    '/tickets/:id/assign',
    { schema: { params: ticketRef, body: assignment, response: { 200: ticketWithHistorySchema, ...errors(404, 409), ...failures } } },
    (req) => change(req.params.id, () => dispatcher.assign(req.params.id, req.body)),
  )
  app.post(
    '/tickets/:id/decline',
    { schema: { params: ticketRef, body: declining, response: { 200: ticketWithHistorySchema, ...errors(404, 409), ...failures } } },
    (req) => change(req.params.id, () => dispatcher.decline(req.params.id, req.body)),
  )
  app.get('/dispatch/unassigned', { schema: { response: { 200: flagged, ...failures } } }, async () => ({ tickets: await dispatcher.flagged() }))
}
