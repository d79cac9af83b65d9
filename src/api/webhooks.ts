// /api/webhooks: where notifications go (issue 12). A webhook's secret is answered once, at creation; never after.
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Clock } from '../clock.js'
import { deliveryJson, webhookJson, type WebhookDeliverer } from '../notify/index.js'
import { int64Id, storableText } from '../store/index.js'
import { streamEventTypes } from '../stream/index.js'
import { errors, notFound } from './errors.js'
import { pageLimit } from './fields.js'

/** What a new webhook receives unless it says: every ticket event but the repeated occurrences. */
const defaultEvents = ['ticket.opened', 'ticket.transitioned', 'ticket.changed', 'maintenance.opened'] as const

const newWebhook = z.strictObject({
  url: z
    .url({ protocol: /^https?$/, error: 'an absolute http:// or https:// URL' })
    .max(2000)
    .pipe(storableText),
  events: z
    .array(z.enum(streamEventTypes))
    .min(1)
    .max(streamEventTypes.length)
    .default([...defaultEvents]),
  secret: z
    .string()
    .min(16, 'at least 16 characters')
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    .optional()
    .describe('signs every body; generated (64 hex digits) when absent. Answered only here, once'),
})

const byId = z.object({ id: int64Id.transform(Number).pipe(z.number().max(Number.MAX_SAFE_INTEGER)) })
const deliveriesQuery = z.strictObject({ cursor: z.coerce.number().int().positive().optional(), limit: pageLimit(500, 50) })

export const webhookRoutes: FastifyPluginAsyncZod<{ deliverer: WebhookDeliverer; clock: Clock }> = async (app, { deliverer, clock }) => {
  const found = <T>(id: number, w: T | undefined): T => {
    if (w === undefined) throw notFound(`webhook ${id}`)
    return w
  }
  const one = { params: byId, response: { 200: webhookJson, ...errors(400, 404, 503) } }

  app.post(
    '/webhooks',
    { schema: { body: newWebhook, response: { 201: z.object({ webhook: webhookJson, secret: z.string() }), ...errors(400, 503) } } },
    async (req, reply) => reply.code(201).send(await deliverer.store.create(req.body, clock.now())),
  )
  app.get('/webhooks', { schema: { response: { 200: z.object({ webhooks: z.array(webhookJson) }), ...errors(503) } } }, async () => ({
    webhooks: await deliverer.store.list(),
  }))
  app.get('/webhooks/:id', { schema: one }, async (req) => found(req.params.id, await deliverer.store.get(req.params.id)))
  // Answers the webhook as it was: its delivery state is the last word on what it received.
  app.delete('/webhooks/:id', { schema: one }, async (req) => found(req.params.id, await deliverer.store.delete(req.params.id)))
  app.post('/webhooks/:id/pause', { schema: one }, async (req) => found(req.params.id, await deliverer.store.setActive(req.params.id, false)))
  app.post('/webhooks/:id/resume', { schema: one }, async (req) => {
    const w = found(req.params.id, await deliverer.store.setActive(req.params.id, true))
    deliverer.wake()
    return w
  })
  // Retry now: the backoff is forgotten and the held event is sent at once.
  app.post('/webhooks/:id/retry', { schema: one }, async (req) => {
    const w = found(req.params.id, await deliverer.store.retryNow(req.params.id))
    deliverer.wake()
    return w
  })
  app.get(
    '/webhooks/:id/deliveries',
    {
      schema: {
        params: byId,
        querystring: deliveriesQuery,
        response: { 200: z.object({ deliveries: z.array(deliveryJson), next: z.number().int().nullable() }), ...errors(400, 404, 503) },
      },
    },
    async (req) => {
      found(req.params.id, await deliverer.store.get(req.params.id))
      const page = await deliverer.store.deliveries(req.params.id, req.query.limit, req.query.cursor)
      return { deliveries: page, next: page.length === req.query.limit ? page.at(-1)!.id : null }
    },
  )
}
