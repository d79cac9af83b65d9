// Devices that stop talking. Judged in receive time (the scheduler's clock), not device time: a backlog of old
// points arriving now proves the device is online now.
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs'
import { formatDuration, type Catalog, type OfflineRule } from '../catalog/index.js'
import type { DeviceRecord } from '../ingest/index.js'
import { conditionKey, offlineCondition } from '../conditions.js'
import { seededTransitions, type Detection, type DetectorState, type ModelOf } from './detection.js'

interface Watch {
  /** when the device was last heard from, or said it was leaving */
  lastSeen: number
  /** when it counts as offline unless heard from again */
  due: number
  open: boolean
  /** the last thing heard was the last will the broker published for a lost connection */
  disconnected: boolean
  timer?: Subscription
  timerAt: number
}

/** How long a device of this model may be silent before it counts as offline (also the console's online/silent line). */
export const offlineWindowMs = (rule: OfflineRule) => rule.heartbeat * rule.missedHeartbeats
const roundedDuration = (ms: number) => formatDuration(Math.round(ms / 1000) * 1000)

/**
 * Raises `offline` for a registered device silent for its model's window (heartbeat × missed heartbeats); the
 * next record of any kind clears it. The last will the broker publishes for a lost connection (`online: false`,
 * marked `will`) does not clear and does not wait out the whole window: the connection is gone, so the device
 * is offline one heartbeat later unless it comes back. That one heartbeat of grace keeps a reboot or firmware
 * update from opening a ticket. A device that says `online: false` itself is being switched off by its owner,
 * which is not a fault (issue 9): it is not expected to report, and is not watched, until it next sends
 * anything. The raise is dated when the device was last heard.
 *
 * Seeded with `initial.lastSeen`, devices silent since before a restart are watched from their last contact;
 * seeded `offline` transitions that are raised are not raised again, and devices seeded as switched off stay
 * unwatched until they next report.
 */
export function offline(
  catalog: Catalog,
  modelOf: ModelOf,
  initial: DetectorState = {},
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<DeviceRecord, Detection> {
  return (source) =>
    new Observable<Detection>((subscriber) => {
      const watches = new Map<string, Watch>()
      const ruleOf = (deviceId: string) => catalog.get(modelOf(deviceId) ?? '')?.offline

      const detection = (deviceId: string, rule: OfflineRule, state: Detection['state'], time: number, detail: string): Detection => ({
        deviceId,
        trigger: 'offline',
        condition: offlineCondition,
        state,
        time,
        severity: rule.severity,
        title: 'Device offline',
        detail,
      })

      // One timer per device, moved only when the deadline comes earlier: a busy device does not reschedule
      // on every message, its timer finds the deadline moved on and waits again.
      const watchUntil = (deviceId: string, watch: Watch, due: number) => {
        watch.due = due
        if (watch.timer && watch.timerAt <= due) return
        watch.timer?.unsubscribe()
        watch.timerAt = due
        watch.timer = scheduler.schedule(() => expire(deviceId, watch), Math.max(0, due - scheduler.now()))
      }

      const unwatch = (watch: Watch) => {
        watch.timer?.unsubscribe()
        watch.timer = undefined
        watch.due = watch.timerAt = Infinity
      }

      const expire = (deviceId: string, watch: Watch) => {
        watch.timer = undefined
        const rule = ruleOf(deviceId)
        if (!rule) {
          watches.delete(deviceId) // no longer registered
          return
        }
        if (scheduler.now() < watch.due) return watchUntil(deviceId, watch, watch.due)
        watch.open = true
        const detail = watch.disconnected
          ? `disconnected and not back within ${formatDuration(rule.heartbeat)}`
          : `nothing heard for ${roundedDuration(scheduler.now() - watch.lastSeen)}`
        subscriber.next(detection(deviceId, rule, 'raised', watch.lastSeen, detail))
      }

      const seeded = seededTransitions(initial, (c) => c === offlineCondition)
      const devices = new Set([...(initial.lastSeen?.keys() ?? []), ...[...seeded.values()].map((t) => t.deviceId)])
      for (const deviceId of devices) {
        const rule = ruleOf(deviceId)
        if (!rule) continue
        const transition = seeded.get(conditionKey(deviceId, offlineCondition))
        const lastSeen = initial.lastSeen?.get(deviceId) ?? transition?.time ?? scheduler.now()
        const watch: Watch = { lastSeen, due: Infinity, open: transition?.state === 'raised', disconnected: false, timerAt: Infinity }
        watches.set(deviceId, watch)
        if (!watch.open && !initial.switchedOff?.has(deviceId)) watchUntil(deviceId, watch, lastSeen + offlineWindowMs(rule))
      }

      const subscription = source.subscribe({
        next(record) {
          const rule = ruleOf(record.deviceId)
          if (!rule) return
          const now = scheduler.now()
          const leaving = record.kind === 'status' && record.online === false
          const lost = leaving && record.will === true
          let watch = watches.get(record.deviceId)
          if (!watch) {
            watch = { lastSeen: now, due: Infinity, open: false, disconnected: false, timerAt: Infinity }
            watches.set(record.deviceId, watch)
          }
          if (watch.open) {
            if (lost) return // still gone: a last will is not the device talking
            watch.open = false
            subscriber.next(detection(record.deviceId, rule, 'cleared', now, `heard from again after ${roundedDuration(now - watch.lastSeen)}`))
          }
          watch.lastSeen = now
          watch.disconnected = lost
          if (leaving && !lost) return unwatch(watch) // switched off: nothing is due until it is back
          watchUntil(record.deviceId, watch, now + (lost ? rule.heartbeat : offlineWindowMs(rule)))
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      })
      return () => {
        subscription.unsubscribe()
        for (const watch of watches.values()) watch.timer?.unsubscribe()
      }
    })
}
