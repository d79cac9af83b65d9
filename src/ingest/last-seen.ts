// Keeps devices.last_seen_at current from the accepted stream, one statement per second for all devices.
import { bufferTime, concatMap, filter, lastValueFrom, type Observable } from 'rxjs'
import type { Logger } from 'pino'
import type { DeviceRegistry } from '../devices/index.js'
import type { IngestRecord } from './records.js'

/** Resolves when the accepted stream ends and its last update is written. */
export function recordLastSeen(accepted$: Observable<IngestRecord>, registry: DeviceRegistry, log: Logger): Promise<void> {
  return lastValueFrom(
    accepted$.pipe(
      bufferTime(1_000),
      filter((records) => records.length > 0),
      concatMap(async (records) => {
        const lastSeen = new Map<string, number>()
        for (const r of records) {
          if (r.kind === 'dead_letter') continue
          lastSeen.set(r.deviceId, Math.max(lastSeen.get(r.deviceId) ?? 0, r.receivedAt))
        }
        // Derived data: a missed update is corrected by the device's next message.
        if (lastSeen.size > 0) await registry.markSeen(lastSeen).catch((err: Error) => log.debug({ err: err.message }, 'last-seen update failed'))
      }),
    ),
    { defaultValue: undefined },
  )
}
