// What the detectors resume from after a restart, read back from the database (see DetectorState).
import type { Catalog } from '../catalog/index.js'
import { switchedOffSince, telemetrySince } from '../readings/index.js'
import type { Database } from '../store/index.js'
import type { DetectorState } from './detection.js'
import { latestTransitions } from './fault-log.js'
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
  const [transitions, recentTelemetry, switchedOffAt] = await Promise.all([
    latestTransitions(db),
    telemetrySince(db, since, [...watchedMetrics(catalog)]),
    switchedOffSince(db, [...lastSeen.keys()]),
  ])
  return {
    transitions,
    // Switched off and not heard from since (last seen is the latest receive time of anything it sent).
    switchedOff: new Set([...switchedOffAt].filter(([deviceId, at]) => at >= lastSeen.get(deviceId)!).map(([deviceId]) => deviceId)),
    // While Faultline was down no device could reach it: each gets a full offline window from the restart,
    // rather than every device that was quiet meanwhile being reported offline at once.
    lastSeen: new Map([...lastSeen].map(([deviceId, seen]) => [deviceId, Math.max(seen, now)])),
    recentTelemetry,
  }
}
