// A condition that keeps raising and clearing is one problem, not a stream of tickets.
import { asyncScheduler, Observable, type MonoTypeOperatorFunction, type SchedulerLike, type Subscription } from 'rxjs'
import { formatDuration } from '../catalog/index.js'
import { conditionKey } from '../conditions.js'
import { type Detection } from './detection.js'

interface Track {
  /** detection times of the recent changes, newest last */
  changes: number[]
  /** the state last let through */
  passed?: Detection['state']
  /** set while flapping: the newest change held back, and the quiet timer that settles it */
  held?: Detection
  settle?: Subscription
}

/**
 * Lets a condition's first `maxTransitions` changes within `windowMs` through. The next one marks it flapping:
 * it is let through only if it raises a condition last let through as cleared (with a note that it flaps),
 * and from then on changes are held back until the condition has been quiet for `windowMs`; then its settled
 * state is let through if it differs from the last one let through.
 *
 * Changes are counted by their own times, so a replayed backlog is not mistaken for flapping; the quiet period
 * is waited out on the scheduler, since it waits for what has not arrived yet.
 */
export function suppressFlapping(windowMs: number, maxTransitions: number, scheduler: SchedulerLike = asyncScheduler): MonoTypeOperatorFunction<Detection> {
  return (source) =>
    new Observable<Detection>((subscriber) => {
      const tracks = new Map<string, Track>()
      const pass = (track: Track, detection: Detection) => {
        track.passed = detection.state
        subscriber.next(detection)
      }
      const settle = (key: string, track: Track) => {
        track.settle?.unsubscribe()
        tracks.delete(key)
        if (track.held && track.held.state !== track.passed) subscriber.next(track.held)
      }
      const settleLater = (key: string, track: Track) => {
        track.settle?.unsubscribe()
        track.settle = scheduler.schedule(() => settle(key, track), windowMs)
      }

      const subscription = source.subscribe({
        next(detection) {
          const key = conditionKey(detection.deviceId, detection.condition)
          const track = tracks.get(key) ?? { changes: [] }
          tracks.set(key, track)
          track.changes = [...track.changes.filter((t) => t > detection.time - windowMs), detection.time].slice(-(maxTransitions + 1))

          if (track.held) {
            track.held = detection
            settleLater(key, track)
          } else if (track.changes.length > maxTransitions) {
            track.held = detection
            if (detection.state === 'raised' && track.passed !== 'raised') {
              const note = `flapping: more than ${maxTransitions} changes within ${formatDuration(windowMs)}`
              pass(track, { ...detection, detail: detection.detail ? `${detection.detail}; ${note}` : note })
            }
            settleLater(key, track)
          } else {
            pass(track, detection)
          }
        },
        error: (err) => subscriber.error(err),
        complete() {
          // Nothing more will come: what is held back has settled.
          for (const [key, track] of tracks) settle(key, track)
          subscriber.complete()
        },
      })
      return () => {
        subscription.unsubscribe()
        for (const track of tracks.values()) track.settle?.unsubscribe()
      }
    })
}
