// What the detectors resume from after a restart, read back from the database (see DetectorState).
import type { Catalog } from '../catalog/index.js'
import type { TelemetryRecord } from '../ingest/records.js'
import type { Database } from '../store/index.js'
import type { DetectorState, Transition } from './detection.js'
import { replayWindowMs } from './sustained-breaches.js'

/** Telemetry a little older than the longest breach duration, so a breach that began just before it is caught. */
const REPLAY_MARGIN_MS = 5 * 60_000

/** Only metrics some threshold rule watches are worth replaying. */
function watchedMetrics(catalog: Catalog): Set<string> {
  const metrics = new Set<string>()
  for (const model of catalog.values()) for (const rule of model.thresholds) metrics.add(rule.metric)
  return metrics
}

export async function loadDetectorState(db: Database, catalog: Catalog, lastSeen: Map<string, number>, now: number): Promise<DetectorState> {
  const since = now - replayWindowMs(catalog) - REPLAY_MARGIN_MS
  const transitions = await db.query<{ device_id: string; condition: string; state: Transition['state']; time: Date }>(
    `SELECT DISTINCT ON (device_id, condition) device_id, condition, state, time
     FROM fault_events ORDER BY device_id, condition, time DESC`,
  )
  const telemetry = await db.query<{ device_id: string; metric: string; value: number; time: Date }>(
    `SELECT device_id, metric, value, time FROM telemetry WHERE time >= to_timestamp($1 / 1000.0) AND metric = ANY($2) ORDER BY time`,
    [since, [...watchedMetrics(catalog)]],
  )
  return {
    transitions: transitions.rows.map((r) => ({ deviceId: r.device_id, condition: r.condition, state: r.state, time: r.time.getTime() })),
    // While Faultline was down no device could reach it: each gets a full offline window from the restart,
    // rather than every device that was quiet meanwhile being reported offline at once.
    lastSeen: new Map([...lastSeen].map(([deviceId, seen]) => [deviceId, Math.max(seen, now)])),
    recentTelemetry: telemetry.rows.map(
      (r): TelemetryRecord => ({ kind: 'telemetry', deviceId: r.device_id, time: r.time.getTime(), receivedAt: r.time.getTime(), metrics: { [r.metric]: r.value } }),
    ),
  }
}
