// The records ingest accepts: what the write-ahead log holds, the writer stores and the detectors watch.
// Times are epoch milliseconds: cheap to keep, to log to disk and to compare.
import { randomUUID } from 'node:crypto'

export interface TelemetryRecord {
  kind: 'telemetry'
  deviceId: string
  /** device time (or receive time when the device sent none) */
  time: number
  receivedAt: number
  seq?: number
  metrics: Record<string, number>
}

export interface EventRecord {
  kind: 'event'
  deviceId: string
  time: number
  receivedAt: number
  seq?: number
  type: 'fault' | 'fault_cleared'
  code: string
  detail?: string
}

export interface StatusRecord {
  kind: 'status'
  deviceId: string
  time: number
  receivedAt: number
  online?: boolean
  fw?: string
  /** the broker published it as the device's last will (a lost connection), not the device itself */
  will?: true
  /** any other keys the device sent */
  details: Record<string, unknown>
}

export interface DeadLetterRecord {
  kind: 'dead_letter'
  /** a dead letter has no natural key: this one keeps a replay of the write-ahead log from storing it twice */
  id: string
  deviceId: string | null
  topic: string
  reason: string
  /** the first bytes of the payload, as text with invalid UTF-8 replaced */
  payloadHead: string
  time: number
}

/** What a device said, validated. */
export type DeviceRecord = TelemetryRecord | EventRecord | StatusRecord
export type IngestRecord = DeviceRecord | DeadLetterRecord

/** Rows a record puts in the database: the writer's unit of batching and of backpressure. */
export function rowCount(record: IngestRecord): number {
  return record.kind === 'telemetry' ? Object.keys(record.metrics).length : 1
}

/** PostgreSQL text cannot hold NUL; everything else is kept as it came. */
const storable = (text: string) => text.replaceAll('\u0000', '\uFFFD')

/** A dead letter, its texts made storable, with an id of its own. */
export function deadLetter(fields: Omit<DeadLetterRecord, 'kind' | 'id'>): DeadLetterRecord {
  return {
    kind: 'dead_letter',
    id: randomUUID(),
    deviceId: fields.deviceId,
    topic: storable(fields.topic),
    reason: storable(fields.reason),
    payloadHead: storable(fields.payloadHead),
    time: fields.time,
  }
}
