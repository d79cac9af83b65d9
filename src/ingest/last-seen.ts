// Keeps devices.last_seen_at current from the accepted stream, one statement per second for all devices.
import { bufferTime, concatMap, lastValueFrom, map, type Observable } from 'rxjs'
import type { Logger } from 'pino'
import type { DeviceRegistry } from '../devices/index.js'
import type { IngestRecord } from './records.js'

/** Resolves when the accepted stream ends and its last update is written (or failed, and was logged). */
export function recordLastSeen(accepted$: Observable<IngestRecord>, registry: DeviceRegistry, log: Logger): Promise<void> {
  // Latest receive time per device not yet stored. Folded in as records arrive, so an update held up by a slow
  // or absent database keeps one entry per device rather than every record meanwhile.
  const pending = new Map<string, number>()
  const note = (deviceId: string, at: number) => pending.set(deviceId, Math.max(pending.get(deviceId) ?? 0, at))
  return lastValueFrom(
    accepted$.pipe(
      bufferTime(1_000),
      map((records) => {
        for (const r of records) if (r.kind !== 'dead_letter') note(r.deviceId, r.receivedAt)
      }),
      concatMap(async () => {
        if (pending.size === 0) return
        const update = new Map(pending)
        pending.clear()
        // A failed update (a database outage) is kept and goes with the next one: a device heard only during
        // an outage is not left looking silent once the database is back.
        await registry.markSeen(update).catch((err: Error) => {
          for (const [deviceId, at] of update) note(deviceId, at)
          log.debug({ err: err.message, devices: update.size }, 'last-seen update failed; kept for the next one')
        })
      }),
    ),
    { defaultValue: undefined },
  )
}
