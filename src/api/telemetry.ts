// /api/devices/:id/telemetry: raw points, or buckets of avg/min/max/count.
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { metricName } from '../../schemas/messages.js'
import { deviceId, type DeviceRegistry } from '../devices/index.js'
import { instantParam } from '../store/index.js'
import { telemetryBucket, telemetryPoint, type Readings } from '../readings/index.js'
import { byDeviceId, requireDevice } from './devices.js'
import { errors } from './errors.js'
import { pageLimit } from './fields.js'
import { timeRange } from './time-range.js'

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const
const bucketSpec = z
  .string()
  .regex(/^[1-9][0-9]{0,4}[smhd]$/, 'a bucket is a number and a unit: 30s, 1m, 15m, 1h, 1d')
  .transform((b) => Number.parseInt(b, 10) * UNIT_SECONDS[b.at(-1) as keyof typeof UNIT_SECONDS])

const query = z.object({
  metric: metricName.optional(),
  from: instantParam.optional(),
  to: instantParam.optional(),
  bucket: bucketSpec.optional(),
  limit: pageLimit(100_000, 10_000),
})

/** Raw points, or with `bucket` the buckets and their size. */
const telemetry = z.union([
  z.strictObject({ deviceId, points: z.array(telemetryPoint) }),
  z.strictObject({ deviceId, bucketSeconds: z.number(), points: z.array(telemetryBucket) }),
])

export const telemetryRoutes: FastifyPluginAsyncZod<{ readings: Readings; registry: DeviceRegistry }> = async (app, { readings, registry }) => {
  app.get(
    '/devices/:id/telemetry',
    { schema: { params: byDeviceId, querystring: query, response: { 200: telemetry, ...errors(400, 404, 503) } } },
    async (req) => {
      await requireDevice(registry, req.params.id)
      const { metric, bucket, limit } = req.query
      const q = { deviceId: req.params.id, metric, ...timeRange(req.query), limit }
      if (bucket === undefined) return { deviceId: req.params.id, points: await readings.telemetryPoints(q) }
      return { deviceId: req.params.id, bucketSeconds: bucket, points: await readings.telemetryBuckets(q, bucket) }
    },
  )
}
