// /api/dead-letters: what devices sent that was refused, and why.
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { deviceId } from '../devices/index.js'
import { deadLetter, type Readings } from '../readings/index.js'
import { errors } from './errors.js'
import { pageLimit } from './fields.js'

export const deadLetterRoutes: FastifyPluginAsyncZod<{ readings: Readings }> = async (app, { readings }) => {
  app.get(
    '/dead-letters',
    {
      schema: {
        querystring: z.object({ deviceId: deviceId.optional(), limit: pageLimit(1000, 100) }),
        response: { 200: z.strictObject({ deadLetters: z.array(deadLetter) }), ...errors(400, 503) },
      },
    },
    async (req) => ({ deadLetters: await readings.deadLetters({ deviceId: req.query.deviceId, limit: req.query.limit }) }),
  )
}
