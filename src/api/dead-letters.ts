// /api/dead-letters: what devices sent that was refused, and why.
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { deviceId } from '../devices/index.js'
import type { Database } from '../store/index.js'
import { pageLimit } from './fields.js'

export const deadLetterRoutes: FastifyPluginAsyncZod<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/dead-letters',
    { schema: { querystring: z.object({ deviceId: deviceId.optional(), limit: pageLimit(1000, 100) }) } },
    async (req) => {
      const { rows } = await db.query<{ id: string; time: Date; device_id: string | null; topic: string; reason: string; payload_head: string }>(
        `SELECT id, time, device_id, topic, reason, payload_head FROM dead_letters
         WHERE $1::text IS NULL OR device_id = $1 ORDER BY n DESC LIMIT $2`,
        [req.query.deviceId ?? null, req.query.limit],
      )
      return {
        deadLetters: rows.map((r) => ({ id: r.id, time: r.time.toISOString(), deviceId: r.device_id, topic: r.topic, reason: r.reason, payloadHead: r.payload_head })),
      }
    },
  )
}
