// The SQL that stores a batch of accepted records: one multi-row statement per table, idempotent where the
// data has a natural key, so a batch replayed from the write-ahead log after a crash lands once.
import type { Queryable } from '../store/index.js'
import { arrayLiteral, numberElement, textElement } from './array-literal.js'
import type { DeadLetterRecord, EventRecord, IngestRecord, StatusRecord, TelemetryRecord } from './records.js'

const ms = (column: string) => `to_timestamp(${column} / 1000.0)`

async function writeTelemetry(tx: Queryable, records: TelemetryRecord[]): Promise<void> {
  const times: string[] = []
  const devices: string[] = []
  const metrics: string[] = []
  const values: string[] = []
  for (const r of records) {
    const time = numberElement(r.time)
    const device = textElement(r.deviceId)
    for (const metric in r.metrics) {
      times.push(time)
      devices.push(device)
      metrics.push(textElement(metric))
      values.push(numberElement(r.metrics[metric]))
    }
  }
  await tx.query(
    `INSERT INTO telemetry (time, device_id, metric, value)
     SELECT ${ms('t')}, d, m, v FROM unnest($1::float8[], $2::text[], $3::text[], $4::float8[]) AS u(t, d, m, v)
     ON CONFLICT DO NOTHING`,
    [arrayLiteral(times), arrayLiteral(devices), arrayLiteral(metrics), arrayLiteral(values)],
  )
}

async function writeEvents(tx: Queryable, records: EventRecord[]): Promise<void> {
  await tx.query(
    `INSERT INTO device_events (time, device_id, type, code, seq, detail, received_at)
     SELECT ${ms('t')}, d, ty, c, s, dt, ${ms('r')}
     FROM unnest($1::float8[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::float8[]) AS u(t, d, ty, c, s, dt, r)
     ON CONFLICT DO NOTHING`,
    [
      records.map((r) => r.time),
      records.map((r) => r.deviceId),
      records.map((r) => r.type),
      records.map((r) => r.code),
      records.map((r) => r.seq ?? null),
      records.map((r) => r.detail ?? null),
      records.map((r) => r.receivedAt),
    ],
  )
}

async function writeStatus(tx: Queryable, records: StatusRecord[]): Promise<void> {
  await tx.query(
    `INSERT INTO device_status (time, device_id, online, fw, details, received_at, will)
     SELECT ${ms('t')}, d, o, f, j, ${ms('r')}, w
     FROM unnest($1::float8[], $2::text[], $3::boolean[], $4::text[], $5::jsonb[], $6::float8[], $7::boolean[]) AS u(t, d, o, f, j, r, w)
     ON CONFLICT DO NOTHING`,
    [
      records.map((r) => r.time),
      records.map((r) => r.deviceId),
      records.map((r) => r.online ?? null),
      records.map((r) => r.fw ?? null),
      records.map((r) => JSON.stringify(r.details)),
      records.map((r) => r.receivedAt),
      records.map((r) => r.will === true),
    ],
  )
}

async function writeDeadLetters(tx: Queryable, records: DeadLetterRecord[]): Promise<void> {
  await tx.query(
    `INSERT INTO dead_letters (id, time, device_id, topic, reason, payload_head)
     SELECT i, ${ms('t')}, d, tp, rs, p FROM unnest($1::uuid[], $2::float8[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u(i, t, d, tp, rs, p)
     ON CONFLICT DO NOTHING`,
    [
      records.map((r) => r.id),
      records.map((r) => r.time),
      records.map((r) => r.deviceId),
      records.map((r) => r.topic),
      records.map((r) => r.reason),
      records.map((r) => r.payloadHead),
    ],
  )
}

export async function writeRecords(tx: Queryable, records: IngestRecord[]): Promise<void> {
  const byKind = { telemetry: [] as TelemetryRecord[], event: [] as EventRecord[], status: [] as StatusRecord[], dead_letter: [] as DeadLetterRecord[] }
  for (const r of records) (byKind[r.kind] as IngestRecord[]).push(r)
  if (byKind.telemetry.length > 0) await writeTelemetry(tx, byKind.telemetry)
  if (byKind.event.length > 0) await writeEvents(tx, byKind.event)
  if (byKind.status.length > 0) await writeStatus(tx, byKind.status)
  if (byKind.dead_letter.length > 0) await writeDeadLetters(tx, byKind.dead_letter)
}
