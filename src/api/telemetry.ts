// /api/devices/:id/telemetry: raw points, or buckets of avg/min/max/count.
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { metricName } from '../../schemas/messages.js'
import type { DeviceRegistry } from '../devices/index.js'
import { instantParam, type Database } from '../store/index.js'
import { byDeviceId } from './devices.js'
import { HttpError, notFound } from './errors.js'
import { pageLimit } from './fields.js'

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

/** Rollups TimescaleDB keeps (real-time: they include rows not yet materialised), by bucket seconds. */
const rollups: Record<number, string> = { 60: 'telemetry_1m', 3600: 'telemetry_1h' }

export const telemetryRoutes: FastifyPluginAsyncZod<{ db: Database; timescale: boolean; registry: DeviceRegistry }> = async (
  app,
  { db, timescale, registry },
) => {
  app.get('/devices/:id/telemetry', { schema: { params: byDeviceId, querystring: query } }, async (req) => {
    if (registry.modelOf(req.params.id) === undefined && !(await registry.get(req.params.id))) throw notFound(`device ${req.params.id}`)
    const { metric, bucket, limit } = req.query
    const to = req.query.to ?? new Date()
    const from = req.query.from ?? new Date(to.getTime() - 24 * 3600_000)
    if (from > to) throw new HttpError(400, 'bad_request', 'querystring.from: must not be after to')
    const params = [req.params.id, metric ?? null, from, to, limit]
    const where = `device_id = $1 AND ($2::text IS NULL OR metric = $2) AND`

    if (bucket === undefined) {
      const { rows } = await db.query<{ time: Date; metric: string; value: number }>(
        `SELECT time, metric, value FROM telemetry WHERE ${where} time >= $3 AND time < $4 ORDER BY time, metric LIMIT $5`,
        params,
      )
      return { deviceId: req.params.id, points: rows.map((r) => ({ time: r.time.toISOString(), metric: r.metric, value: r.value })) }
    }

    const rollup = timescale ? rollups[bucket] : undefined
    const sql = rollup
      ? `SELECT bucket, metric, avg, min, max, count FROM ${rollup}
         WHERE ${where} bucket >= date_bin(make_interval(secs => $6), $3::timestamptz, 'epoch') AND bucket < $4
         ORDER BY bucket, metric LIMIT $5`
      : `SELECT date_bin(make_interval(secs => $6), time, 'epoch') AS bucket, metric,
                avg(value) AS avg, min(value) AS min, max(value) AS max, count(*) AS count
         FROM telemetry WHERE ${where} time >= date_bin(make_interval(secs => $6), $3::timestamptz, 'epoch') AND time < $4
         GROUP BY 1, 2 ORDER BY 1, 2 LIMIT $5`
    const { rows } = await db.query<{ bucket: Date; metric: string; avg: number; min: number; max: number; count: number }>(sql, [...params, bucket])
    return {
      deviceId: req.params.id,
      bucketSeconds: bucket,
      points: rows.map((r) => ({ time: r.bucket.toISOString(), metric: r.metric, avg: r.avg, min: r.min, max: r.max, count: Number(r.count) })),
    }
  })
}
