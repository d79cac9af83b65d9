import { asyncScheduler, connect, merge, type OperatorFunction, type SchedulerLike } from 'rxjs'
import type { Catalog } from '../catalog/index.js'
import type { DeviceRecord } from '../ingest/index.js'
import type { Detection, DetectorState, ModelOf } from './detection.js'
import { faultEvents } from './fault-events.js'
import { offline } from './offline.js'
import { suppressFlapping } from './suppress-flapping.js'
import { sustainedBreaches } from './sustained-breaches.js'

export type { Detection, Transition } from './detection.js'
export { faultEvents } from './fault-events.js'
export { sustainedBreaches, replayWindowMs } from './sustained-breaches.js'
export { offline, offlineWindowMs } from './offline.js'
export { suppressFlapping } from './suppress-flapping.js'

export interface DetectionOptions {
  catalog: Catalog
  modelOf: ModelOf
  /** what to resume from after a restart; see DetectorState */
  initial?: DetectorState
  /** more than `maxTransitions` changes of a condition within `windowMs` is flapping */
  flapping?: { windowMs: number; maxTransitions: number }
  scheduler?: SchedulerLike
}

/** A raise and its clear pass at once; raising again within 15 minutes is flapping. */
export const defaultFlapping = { windowMs: 15 * 60_000, maxTransitions: 2 }

/** Every detector over one stream of validated records, merged, with flapping conditions collapsed. */
export function detections({
  catalog,
  modelOf,
  initial = {},
  flapping = defaultFlapping,
  scheduler = asyncScheduler,
}: DetectionOptions): OperatorFunction<DeviceRecord, Detection> {
  return (source) =>
    source.pipe(
      connect((records) =>
        merge(
          records.pipe(faultEvents(catalog, modelOf, initial)),
          records.pipe(sustainedBreaches(catalog, modelOf, initial)),
          records.pipe(offline(catalog, modelOf, initial, scheduler)),
        ),
      ),
      suppressFlapping(flapping.windowMs, flapping.maxTransitions, scheduler),
    )
}
export { loadDetectorState } from './restore.js'
export { raisedPerHour, storeDetections, unactedAmong, claimDetection, unactedDetections } from './fault-log.js'
