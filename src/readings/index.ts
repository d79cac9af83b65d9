// What devices sent, read back: the reads of the tables src/ingest writes (telemetry, device_events,
// device_status, dead_letters). The API asks here and holds no SQL; whether rollups exist stays inside.
import type { Database } from '../store/index.js'
import { deadLetters } from './dead-letters.js'
import { deviceEvents, deviceStatus, type HistoryQuery } from './device-history.js'
import { telemetryBuckets, telemetryPoints, type TelemetryQuery } from './telemetry.js'

export { BadCursor, deviceEvent, statusReport } from './device-history.js'
export { deadLetter } from './dead-letters.js'
export { switchedOffSince } from './switched-off.js'
export { telemetryBucket, telemetryPoint, telemetrySince } from './telemetry.js'

export type Readings = ReturnType<typeof readings>

export function readings(db: Database, timescale: boolean) {
  return {
    telemetryPoints: (q: TelemetryQuery) => telemetryPoints(db, q),
    telemetryBuckets: (q: TelemetryQuery, bucketSeconds: number) => telemetryBuckets(db, timescale, q, bucketSeconds),
    deviceEvents: (q: HistoryQuery) => deviceEvents(db, q),
    deviceStatus: (q: HistoryQuery) => deviceStatus(db, q),
    deadLetters: (q: Parameters<typeof deadLetters>[1]) => deadLetters(db, q),
  }
}
