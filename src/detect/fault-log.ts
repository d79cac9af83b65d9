// fault_events, owned here: every detection as the detectors reported it. The ticketing stage stores each in
// the transaction that acts on it (the unique key makes it act once); a restart reads the latest back.
import type { Queryable } from '../store/index.js'
import type { Detection, Transition } from './detection.js'

/** Stores a detection; false when it was already stored (a redelivery, a replay, a second Faultline). */
export async function recordDetection(tx: Queryable, d: Detection): Promise<boolean> {
  const stored = await tx.query(
    `INSERT INTO fault_events (time, device_id, condition, state, trigger, severity, title, component, code, rule_id, value, detail)
     VALUES (to_timestamp($1 / 1000.0), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`,
    [
      d.time,
      d.deviceId,
      d.condition,
      d.state,
      d.trigger,
      d.severity,
      d.title,
      d.component ?? null,
      d.code ?? null,
      d.ruleId ?? null,
      d.value ?? null,
      d.detail ?? null,
    ],
  )
  return stored.rowCount > 0
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
