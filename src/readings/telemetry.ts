// Reading stored telemetry back: raw points, or buckets of avg/min/max/count. Where TimescaleDB keeps a rollup
// for the bucket size it is read instead of the raw table; the caller never needs to know which.
import type { TelemetryRecord } from '../ingest/index.js'
import { z } from 'zod'
import type { Queryable } from '../store/index.js'

export interface TelemetryQuery {
  deviceId: string
  metric?: string
  from: Date
  to: Date
  limit: number
}

export const telemetryPoint = z.strictObject({ time: z.string(), metric: z.string(), value: z.number() })
export type TelemetryPoint = z.infer<typeof telemetryPoint>

export const telemetryBucket = z.strictObject({ time: z.string(), metric: z.string(), avg: z.number(), min: z.number(), max: z.number(), count: z.number() })
export type TelemetryBucket = z.infer<typeof telemetryBucket>

/** Rollups TimescaleDB keeps (real-time: they include rows not yet materialised), by bucket seconds. */
const rollups: Record<number, string> = { 60: 'telemetry_1m', 3600: 'telemetry_1h' }

const where = `device_id = $1 AND ($2::text IS NULL OR metric = $2) AND`
const paramsOf = (q: TelemetryQuery) => [q.deviceId, q.metric ?? null, q.from, q.to, q.limit]

export async function telemetryPoints(db: Queryable, q: TelemetryQuery): Promise<TelemetryPoint[]> {
  const { rows } = await db.query<{ time: Date; metric: string; value: number }>(
    `SELECT time, metric, value FROM telemetry WHERE ${where} time >= $3 AND time < $4 ORDER BY time, metric LIMIT $5`,
    paramsOf(q),
  )
  return rows.map((r) => ({ time: r.time.toISOString(), metric: r.metric, value: r.value }))
}

/** Buckets of `bucketSeconds`, aligned to the epoch; the bucket holding `from` is whole. */
export async function telemetryBuckets(db: Queryable, timescale: boolean, q: TelemetryQuery, bucketSeconds: number): Promise<TelemetryBucket[]> {
  const rollup = timescale ? rollups[bucketSeconds] : undefined
  const sql = rollup
    ? `SELECT bucket, metric, avg, min, max, count FROM ${rollup}
       WHERE ${where} bucket >= date_bin(make_interval(secs => $6), $3::timestamptz, 'epoch') AND bucket < $4
       ORDER BY bucket, metric LIMIT $5`
    : `SELECT date_bin(make_interval(secs => $6), time, 'epoch') AS bucket, metric,
              avg(value) AS avg, min(value) AS min, max(value) AS max, count(*) AS count
       FROM telemetry WHERE ${where} time >= date_bin(make_interval(secs => $6), $3::timestamptz, 'epoch') AND time < $4
       GROUP BY 1, 2 ORDER BY 1, 2 LIMIT $5`
  const { rows } = await db.query<{ bucket: Date; metric: string; avg: number; min: number; max: number; count: number }>(sql, [...paramsOf(q), bucketSeconds])
  return rows.map((r) => ({ time: r.bucket.toISOString(), metric: r.metric, avg: r.avg, min: r.min, max: r.max, count: Number(r.count) }))
}

/** Stored telemetry of `metrics` since `since` (epoch ms), oldest first, one metric per record: for replay. */
export async function telemetrySince(db: Queryable, since: number, metrics: string[]): Promise<TelemetryRecord[]> {
  const { rows } = await db.query<{ device_id: string; metric: string; value: number; time: Date }>(
    `SELECT device_id, metric, value, time FROM telemetry WHERE time >= to_timestamp($1 / 1000.0) AND metric = ANY($2) ORDER BY time`,
    [since, metrics],
  )
  return rows.map((r) => ({ kind: 'telemetry', deviceId: r.device_id, time: r.time.getTime(), receivedAt: r.time.getTime(), metrics: { [r.metric]: r.value } }))
}
