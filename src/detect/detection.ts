// What the detectors report, and the state a restarted detector resumes from.
import type { Severity } from '../catalog/index.js'
import { conditionKey } from '../conditions.js'
import type { TelemetryRecord } from '../ingest/index.js'

export interface Detection {
  deviceId: string
  trigger: 'fault_code' | 'threshold' | 'offline'
  /** identifies the condition on the device: `fault:<code>`, `threshold:<ruleId>`, `offline` */
  condition: string
  state: 'raised' | 'cleared'
  /** epoch ms: when the condition began (raised) or ended (cleared), in device time where known */
  time: number
  severity: Severity
  title: string
  component?: string
  /** fault code (raw, also for unknown codes) */
  code?: string
  ruleId?: string
  /** metric value that tripped/cleared a threshold */
  value?: number
  detail?: string
}

/** The model id of a registered device; undefined for a device Faultline does not know. */
export type ModelOf = (deviceId: string) => string | undefined

/** A condition's latest change, as stored: the newest detection of each device and condition will do. */
export type Transition = Pick<Detection, 'deviceId' | 'condition' | 'state' | 'time'>

/**
 * What the detectors resume from after a restart. On start, load:
 * - `transitions`: the newest stored detection per device and condition (at least those still raised, and those
 *   cleared within the replay window). A raised one is not raised again; points and events no newer than a
 *   condition's latest change are not judged again, so the replay below cannot repeat a breach already reported.
 * - `lastSeen`: devices.last_seen_at of every registered device, so a device that went silent while Faultline
 *   was down is reported offline once its window has passed.
 * - `switchedOff`: devices whose last word was their own `online: false` (not a last will): switched off by their
 *   owner, not watched until they next report, as before the restart.
 * - `recentTelemetry`: stored telemetry of the last `replayWindowMs(catalog)` (one metric per record is fine),
 *   replayed before the live stream so a breach that began before the restart counts toward its duration.
 */
export interface DetectorState {
  transitions?: readonly Transition[]
  lastSeen?: ReadonlyMap<string, number>
  switchedOff?: ReadonlySet<string>
  recentTelemetry?: readonly TelemetryRecord[]
}

/** The latest seeded transition of each device's conditions that `belongs` to one detector, by condition key. */
export function seededTransitions(state: DetectorState, belongs: (condition: string) => boolean): Map<string, Transition> {
  const latest = new Map<string, Transition>()
  for (const t of state.transitions ?? []) {
    if (!belongs(t.condition)) continue
    const key = conditionKey(t.deviceId, t.condition)
    const known = latest.get(key)
    if (!known || t.time >= known.time) latest.set(key, t)
  }
  return latest
}
