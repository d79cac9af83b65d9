// The records ingest accepts: what the write-ahead log holds, the writer stores and the detectors watch.
// Times are epoch milliseconds: cheap to keep, to log to disk and to compare.
import { createHash, randomUUID } from 'node:crypto'

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

/** The furthest a JavaScript Date reaches either side of 1970: a time beyond it cannot even be printed. */
export const MAX_DATE_MS = 8.64e15

/** Rows a record puts in the database: the writer's unit of batching and of backpressure. */
export function rowCount(record: IngestRecord): number {
  return record.kind === 'telemetry' ? Object.keys(record.metrics).length : 1
}

/** PostgreSQL text cannot hold NUL; everything else is kept as it came. */
const storable = (text: string) => text.replaceAll('\u0000', '\uFFFD')

/** A dead letter, its texts made storable, with an id of its own (random unless given). */
export function deadLetter(fields: Omit<DeadLetterRecord, 'kind' | 'id'>, id: string = randomUUID()): DeadLetterRecord {
  return {
    kind: 'dead_letter',
    id,
    deviceId: fields.deviceId,
    topic: storable(fields.topic),
    reason: storable(fields.reason),
    payloadHead: storable(fields.payloadHead),
    time: fields.time,
  }
}

/** The topic segment a record of each kind arrived on (decode.ts's channelOf goes the other way, topic to channel). */
const topicSegmentOf = { telemetry: 'telemetry', event: 'events', status: 'status', dead_letter: 'dead-letter' } as const

/** The record as JSON; one too deep to serialize is named by its envelope (the rest is what was refused). */
function serialized(record: IngestRecord): string {
  try {
    return JSON.stringify(record)
  } catch {
    return `${JSON.stringify({ kind: record.kind, deviceId: record.deviceId, time: record.time, receivedAt: (record as { receivedAt?: number }).receivedAt })}…`
  }
}

/** A UUID that is a function of its input: the same logged record always names the same dead letter. */
function uuidOf(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

/**
 * The dead letter for a record already in the write-ahead log that cannot be stored (`cause` names the class,
 * `why` the detail). Its id derives from the record and the cause, so a replay of the log stores it once.
 * Its time is the receive time: the device's own time may be what the database refused.
 */
export function refusedRecord(record: IngestRecord, cause: string, why: string): DeadLetterRecord {
  const json = serialized(record)
  return deadLetter(
    {
      deviceId: record.deviceId,
      topic: `devices/${record.deviceId}/${topicSegmentOf[record.kind]}`,
      reason: `${cause}: ${why}`,
      payloadHead: json.slice(0, 256),
      time: record.kind === 'dead_letter' ? record.time : record.receivedAt,
    },
    uuidOf(`${cause}\n${json}`),
  )
}
