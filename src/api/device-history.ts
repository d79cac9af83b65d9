// /api/devices/:id/events and /api/devices/:id/status: what a device reported, as stored, oldest first, a page
// at a time (`next` is the cursor).
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { deviceId, type DeviceRegistry } from '../devices/index.js'
import { BadCursor, deviceEvent, statusReport, type Readings } from '../readings/index.js'
import { instantParam } from '../store/index.js'
import { byDeviceId, requireDevice } from './devices.js'
import { errors, HttpError } from './errors.js'
import { pageLimit } from './fields.js'
import { timeRange } from './time-range.js'

const query = z.object({
  from: instantParam.optional(),
  to: instantParam.optional(),
  cursor: z.string().max(500).optional(),
  limit: pageLimit(10_000, 1000),
})
type Query = z.infer<typeof query>

const nextCursor = z.string().nullable()
const eventsPage = z.strictObject({ deviceId, events: z.array(deviceEvent), next: nextCursor })
const statusPage = z.strictObject({ deviceId, status: z.array(statusReport), next: nextCursor })
const failures = errors(400, 404, 503)

export const deviceHistoryRoutes: FastifyPluginAsyncZod<{ readings: Readings; registry: DeviceRegistry }> = async (app, { readings, registry }) => {
  /** The device's page of one history; a cursor not given out by us is a 400 naming it. */
  async function page<T>(deviceId: string, q: Query, read: (h: Parameters<Readings['deviceEvents']>[0]) => Promise<{ items: T[]; next: string | null }>) {
    await requireDevice(registry, deviceId)
    try {
      return await read({ deviceId, ...timeRange(q), after: q.cursor, limit: q.limit })
    } catch (err) {
      if (err instanceof BadCursor) throw new HttpError(400, 'bad_request', `querystring.cursor: ${err.message}`)
      throw err
    }
  }

  app.get('/devices/:id/events', { schema: { params: byDeviceId, querystring: query, response: { 200: eventsPage, ...failures } } }, async (req) => {
    const { items, next } = await page(req.params.id, req.query, readings.deviceEvents)
    return { deviceId: req.params.id, events: items, next }
  })

  app.get('/devices/:id/status', { schema: { params: byDeviceId, querystring: query, response: { 200: statusPage, ...failures } } }, async (req) => {
    const { items, next } = await page(req.params.id, req.query, readings.deviceStatus)
    return { deviceId: req.params.id, status: items, next }
  })
}
