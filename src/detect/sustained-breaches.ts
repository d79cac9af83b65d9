// Threshold rules: a metric past its limit for long enough, cleared only once past the clearing limit.
import { concat, defer, from, Observable, type OperatorFunction } from 'rxjs'
import { formatDuration, type Catalog, type ThresholdRule } from '../catalog/index.js'
import type { DeviceRecord, TelemetryRecord } from '../ingest/index.js'
import { conditionKey, thresholdCondition } from '../conditions.js'
import { seededTransitions, type Detection, type DetectorState, type ModelOf } from './detection.js'

interface RuleState {
  /** normal; pending: past the limit, not yet for long enough; raised: reported */
  phase: 'normal' | 'pending' | 'raised'
  /** device time the breach began (pending and raised) */
  since: number
  /** device time of the newest point judged */
  judgedAt: number
}

/** How much stored telemetry to replay on start: the longest time any rule's breach must last. */
export function replayWindowMs(catalog: Catalog): number {
  let longest = 0
  for (const model of catalog.values()) for (const rule of model.thresholds) longest = Math.max(longest, rule.for)
  return longest
}

const withUnit = (value: number, rule: ThresholdRule) => `${value}${rule.unit ? ` ${rule.unit}` : ''}`

/**
 * One raised detection per breach, once it has lasted the rule's `for`, and one cleared when a value passes
 * `clearAt`. Points are judged by their own (device) timestamps, so a backlog uploaded after a reconnect is judged
 * as it happened. Per device and rule, a point no newer than the last one judged is ignored: a late point can
 * neither reset a breach nor start one, and a redelivered point changes nothing. Between the limit and the
 * clearing limit a breach, pending or raised, carries on. The raise is dated when the breach began.
 *
 * State is one small record per device and rule. `initial.recentTelemetry` is judged before the live stream (see
 * DetectorState), which is how a breach that began before a restart still counts toward its duration.
 */
export function sustainedBreaches(catalog: Catalog, modelOf: ModelOf, initial: DetectorState = {}): OperatorFunction<DeviceRecord, Detection> {
  return (source) =>
    defer(() => {
      const states = new Map<string, RuleState>()
      for (const [key, t] of seededTransitions(initial, (c) => c.startsWith(thresholdCondition('')))) {
        states.set(key, { phase: t.state === 'raised' ? 'raised' : 'normal', since: t.time, judgedAt: t.time })
      }

      const judge = (point: TelemetryRecord, rule: ThresholdRule, value: number): Detection | undefined => {
        const condition = thresholdCondition(rule.id)
        const key = conditionKey(point.deviceId, condition)
        const state: RuleState = states.get(key) ?? { phase: 'normal', since: point.time, judgedAt: -Infinity }
        if (point.time <= state.judgedAt) return undefined
        state.judgedAt = point.time
        states.set(key, state)

        const beyondLimit = rule.comparison === 'above' ? value > rule.limit : value < rule.limit
        const pastClearing = rule.comparison === 'above' ? value < rule.clearAt : value > rule.clearAt
        const detection = (change: Detection['state'], time: number, detail: string): Detection => ({
          deviceId: point.deviceId,
          trigger: 'threshold',
          condition,
          state: change,
          time,
          severity: rule.severity,
          title: rule.title,
          component: rule.component,
          ruleId: rule.id,
          value,
          detail,
        })

        if (state.phase === 'normal') {
          if (beyondLimit) {
            state.phase = 'pending'
            state.since = point.time
          }
          return undefined
        }
        if (pastClearing) {
          const wasRaised = state.phase === 'raised'
          state.phase = 'normal'
          return wasRaised
            ? detection('cleared', point.time, `${rule.metric} ${withUnit(value, rule)}, past the clearing limit ${withUnit(rule.clearAt, rule)}`)
            : undefined
        }
        if (state.phase === 'pending' && beyondLimit && point.time - state.since >= rule.for) {
          state.phase = 'raised'
          return detection(
            'raised',
            state.since,
            `${rule.metric} ${rule.comparison} ${withUnit(rule.limit, rule)} for ${formatDuration(point.time - state.since)} (now ${withUnit(value, rule)})`,
          )
        }
        return undefined
      }

      // Each record's detections are emitted as it is judged: no array, nor mergeMap's inner subscription, per record.
      const judgeAll = (record: DeviceRecord, emit: (d: Detection) => void) => {
        if (record.kind !== 'telemetry') return
        const rules = catalog.get(modelOf(record.deviceId) ?? '')?.thresholds
        for (const rule of rules ?? []) {
          const value = record.metrics[rule.metric]
          const detection = typeof value === 'number' ? judge(record, rule, value) : undefined
          if (detection) emit(detection)
        }
      }

      const replay = [...(initial.recentTelemetry ?? [])].sort((a, b) => a.time - b.time)
      return new Observable<Detection>((subscriber) =>
        concat(from(replay), source).subscribe({
          next: (record) => judgeAll(record, (d) => subscriber.next(d)),
          error: (err: unknown) => subscriber.error(err),
          complete: () => subscriber.complete(),
        }),
      )
    })
}
