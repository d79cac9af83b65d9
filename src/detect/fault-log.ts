// fault_events, owned here: every detection as the detectors reported it. The rules stage records each as
// soon as it is seen (with its stream event, in one statement) and acts on it afterwards: `acted` says it has
// been, so a detection is acted on once, and one recorded before a crash is acted on after the restart.
import type { Queryable } from '../store/index.js'
import type { Detection, Transition } from './detection.js'

/** A fault_events row as read back (the columns of a Detection). */
interface FaultEventRow {
  time: Date
  device_id: string
  condition: string
  state: Detection['state']
  trigger: Detection['trigger']
  severity: Detection['severity']
  title: string
  component: string | null
  code: string | null
  rule_id: string | null
  value: number | null
  detail: string | null
}

/**
 * The CTEs that store the detections not stored before, not yet acted on, for a statement of the caller's (its
 * `$1` is theirs): `kept` holds the positions (n, from 1) of those it stored. A redelivery, a replay or a second
 * Faultline stores nothing.
 */
export function storeDetections(detections: readonly Detection[]): { ctes: string; params: unknown[] } {
  return {
    ctes: `src AS MATERIALIZED (
       SELECT n, to_timestamp((d->>'time')::float8 / 1000) AS time, d->>'deviceId' AS device_id, d->>'condition' AS condition, d->>'state' AS state,
         d->>'trigger' AS trigger, d->>'severity' AS severity, d->>'title' AS title, d->>'component' AS component, d->>'code' AS code,
         d->>'ruleId' AS rule_id, (d->>'value')::float8 AS value, d->>'detail' AS detail
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS r(d, n)),
     inserted AS (
       INSERT INTO fault_events (time, device_id, condition, state, trigger, severity, title, component, code, rule_id, value, detail, acted)
       SELECT time, device_id, condition, state, trigger, severity, title, component, code, rule_id, value, detail, false FROM src ORDER BY n
       ON CONFLICT DO NOTHING RETURNING device_id, condition, state, time),
     kept AS (SELECT n FROM src JOIN inserted USING (device_id, condition, state, time))`,
    // A Detection's optional fields that are absent read as NULL.
    params: [JSON.stringify(detections)],
  }
}

/**
 * The positions (from 0) of the detections that are stored and not yet acted on. Its own statement: one stored
 * by a statement still running when another began (a retry after an answer that never came) is not in that
 * one's snapshot.
 */
export async function unactedAmong(db: Pick<Queryable, 'query'>, detections: readonly Detection[]): Promise<number[]> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT n FROM jsonb_to_recordset($1::jsonb) AS r(n int, "deviceId" text, condition text, state text, time float8)
     JOIN fault_events f ON f.device_id = r."deviceId" AND f.condition = r.condition AND f.state = r.state AND f.time = to_timestamp(r.time / 1000)
     WHERE NOT f.acted`,
    [JSON.stringify(detections.map((d, n) => ({ n, ...d })))],
  )
  return rows.map((r) => Number(r.n))
}

/** Marks a recorded detection acted on, in the transaction that acts on it; false when it already was. */
export async function claimDetection(tx: Queryable, d: Detection): Promise<boolean> {
  const claimed = await tx.query(
    `UPDATE fault_events SET acted = true
     WHERE device_id = $1 AND condition = $2 AND state = $3 AND time = to_timestamp($4::float8 / 1000) AND NOT acted`,
    [d.deviceId, d.condition, d.state, d.time],
  )
  return claimed.rowCount > 0
}

/** Detections recorded and not acted on (Faultline stopped in between), oldest first. */
export async function unactedDetections(db: Queryable): Promise<Detection[]> {
  const { rows } = await db.query<FaultEventRow>(
    `SELECT time, device_id, condition, state, trigger, severity, title, component, code, rule_id, value, detail
     FROM fault_events WHERE NOT acted ORDER BY time`,
  )
  return rows.map((r) => ({
    deviceId: r.device_id,
    trigger: r.trigger,
    condition: r.condition,
    state: r.state,
    time: r.time.getTime(),
    severity: r.severity,
    title: r.title,
    ...(r.component !== null && { component: r.component }),
    ...(r.code !== null && { code: r.code }),
    ...(r.rule_id !== null && { ruleId: r.rule_id }),
    ...(r.value !== null && { value: r.value }),
    ...(r.detail !== null && { detail: r.detail }),
  }))
}

/** The newest stored detection of each device and condition. */
export async function latestTransitions(db: Queryable): Promise<Transition[]> {
  const { rows } = await db.query<{ device_id: string; condition: string; state: Transition['state']; time: Date }>(
    `SELECT DISTINCT ON (device_id, condition) device_id, condition, state, time
     FROM fault_events ORDER BY device_id, condition, time DESC`,
  )
  return rows.map((r) => ({ deviceId: r.device_id, condition: r.condition, state: r.state, time: r.time.getTime() }))
}

/** Detections raised per hour from `from` to `to` (epoch ms), oldest first, every hour named (0 where none). */
export async function raisedPerHour(db: Queryable, from: number, to: number): Promise<{ hour: string; count: number }[]> {
  const { rows } = await db.query<{ hour: Date; count: string }>(
    `SELECT h.hour, count(f.time) AS count
     FROM generate_series(date_trunc('hour', to_timestamp($1 / 1000.0)), to_timestamp($2 / 1000.0), interval '1 hour') AS h(hour)
     LEFT JOIN fault_events f ON f.state = 'raised' AND f.time >= h.hour AND f.time < h.hour + interval '1 hour'
     GROUP BY h.hour ORDER BY h.hour`,
    [from, to],
  )
  return rows.map((r) => ({ hour: r.hour.toISOString(), count: Number(r.count) }))
}
