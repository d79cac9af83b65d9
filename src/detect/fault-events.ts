// Fault codes the devices report themselves: `fault` raises, `fault_cleared` clears.
import { defer, filter, map, type OperatorFunction } from 'rxjs'
import type { Catalog } from '../catalog/index.js'
import type { DeviceRecord, EventRecord } from '../ingest/index.js'
import { conditionKey, faultCondition } from '../conditions.js'
import { seededTransitions, type Detection, type DetectorState, type ModelOf } from './detection.js'

interface FaultState {
  open: boolean
  /** device time of the newest event judged */
  judgedAt: number
}

/**
 * One detection per change of a fault condition. A code the catalog does not know still raises (severity major,
 * the raw code kept). Devices repeat a fault while it lasts: a repeat of an open fault, a clear of a fault not
 * open, and an event no newer than the last one judged for that code (a late or redelivered one) change nothing.
 */
export function faultEvents(catalog: Catalog, modelOf: ModelOf, initial: DetectorState = {}): OperatorFunction<DeviceRecord, Detection> {
  return (source) =>
    defer(() => {
      const states = new Map<string, FaultState>()
      for (const [key, t] of seededTransitions(initial, (c) => c.startsWith(faultCondition('')))) {
        states.set(key, { open: t.state === 'raised', judgedAt: t.time })
      }

      const judge = (event: EventRecord): Detection | undefined => {
        const condition = faultCondition(event.code)
        const key = conditionKey(event.deviceId, condition)
        const previous = states.get(key)
        if (previous && event.time <= previous.judgedAt) return undefined
        const raising = event.type === 'fault'
        states.set(key, { open: raising, judgedAt: event.time })
        if (raising === (previous?.open ?? false)) return undefined

        const model = catalog.get(modelOf(event.deviceId) ?? '')
        const fault = model?.faultCodes.get(event.code)
        return {
          deviceId: event.deviceId,
          trigger: 'fault_code',
          condition,
          state: raising ? 'raised' : 'cleared',
          time: event.time,
          severity: fault?.severity ?? 'major',
          title: fault?.title ?? `Unknown fault code ${event.code}${model ? ` for ${model.model}` : ''}`,
          component: fault?.component,
          code: event.code,
          detail: event.detail,
        }
      }

      return source.pipe(
        filter((record): record is EventRecord => record.kind === 'event'),
        map(judge),
        filter((detection) => detection !== undefined),
      )
    })
}
