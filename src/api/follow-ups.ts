// /api/tickets/:id/follow-up and /visits (issue 12): the customer's answer to the follow-up call, which closes the
// ticket or reopens it for the supervisor, and the technician's visits, a further one on the same ticket when the
// first did not fix it.
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { followUpChannels, ratings, visitOutcomes, visitSchema, type FollowUps, type Visits } from '../followup/index.js'
import { isoInstant, storableText } from '../store/index.js'
import { ticketSchema } from '../tickets/index.js'
import { errors } from './errors.js'
import { actor, ticketChangeError, ticketRef } from './tickets.js'

const comment = storableText.max(2000)

// 002: 满意 / 一般 / 不满意 with the customer's words; or 1-5 (004's satisfaction 4.5/5)
export const followUpAnswer = z
  .strictObject({
    rating: z.enum(ratings).optional(),
    score: z.number().int().min(1).max(5).optional(),
    comment: comment.optional(),
    by: actor,
    channel: z.enum(followUpChannels).optional(),
  })
  .refine((a) => (a.rating === undefined) !== (a.score === undefined), {
    path: ['rating'],
    message: 'one of the two: rating (satisfied, neutral or dissatisfied) or score (1 to 5)',
  })

const newVisit = z
  .strictObject({
    by: actor,
    technician: storableText.trim().min(1).max(100).optional(),
    startedAt: isoInstant,
    endedAt: isoInstant.optional(),
    outcome: z.enum(visitOutcomes),
    /** were the parts the repair needed at hand (004: 备件满足率) */
    partsAvailable: z.boolean().optional(),
    note: comment.optional(),
  })
  .refine((v) => v.endedAt === undefined || Date.parse(v.endedAt) >= Date.parse(v.startedAt), { path: ['endedAt'], message: 'must not be before startedAt' })

const failures = { ...errors(400, 404, 409, 503) }

export const followUpRoutes: FastifyPluginAsyncZod<{ followUps: FollowUps; visits: Visits }> = async (app, { followUps, visits }) => {
  app.post('/tickets/:id/follow-up', { schema: { params: ticketRef, body: followUpAnswer, response: { 200: ticketSchema, ...failures } } }, async (req) => {
    const { rating, score, ...rest } = req.body
    try {
      return await followUps.answer(req.params.id, rating ? { rating, ...rest } : { score: score!, ...rest })
    } catch (err) {
      throw ticketChangeError(err, req.params.id)
    }
  })

  app.post('/tickets/:id/visits', { schema: { params: ticketRef, body: newVisit, response: { 201: visitSchema, ...failures } } }, async (req, reply) => {
    const v = req.body
    try {
      const visit = await visits.record(req.params.id, {
        by: v.by,
        technician: v.technician ?? null,
        startedAt: v.startedAt,
        endedAt: v.endedAt ?? null,
        outcome: v.outcome,
        partsAvailable: v.partsAvailable ?? null,
        note: v.note ?? null,
      })
      return reply.code(201).send(visit)
    } catch (err) {
      throw ticketChangeError(err, req.params.id)
    }
  })
}
