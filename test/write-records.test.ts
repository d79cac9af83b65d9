// The writer's statements on their own, on each backend: every value comes back as it went in (types, NULLs,
// text that needs escaping, unicode), a large batch lands whole, and a replayed batch lands once.
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { IngestRecord, TelemetryRecord } from '../src/ingest/index.js'
import { deadLetter } from '../src/ingest/records.js'
import { writeRecords } from '../src/ingest/write-records.js'
import { openStore, type Database } from '../src/store/index.js'
import { backends, type Backend } from './support/faultline.js'
import { freshDatabase } from './support/postgres.js'

const T0 = Date.UTC(2026, 11, 2, 3, 0, 0, 123)

/** Text that array literals, quoting and encodings get wrong: each is a device id, a metric, a fault field. */
const awkward = [
  'plain',
  'with "double" quotes',
  'back\\slash\\',
  "it's",
  '{braces},and,commas',
  'NULL',
  'null',
  ' spaced ',
  'tab\there',
  'line\nbreak',
  '冰箱-设备-7',
  'émoji-🚀-device',
  '\\"',
]
const numbers = [0, -1.5, 0.1 + 0.2, 1e308, 5e-324, -2.5e-300, 2 ** 53, 123456789.12345679, -0.000001]

describe.each(backends())('the writer’s statements on the %s backend', (backend: Backend) => {
  let db: Database
  beforeAll(async () => {
    const store = await openStore(
      {
        databaseUrl: backend === 'server' ? await freshDatabase() : undefined,
        dataDir: mkdtempSync(path.join(os.tmpdir(), 'faultline-write-')),
        retentionDays: 365,
      },
      pino({ level: 'silent' }),
    )
    db = store.db
  })
  afterAll(() => db?.close())

  const write = (records: IngestRecord[]) => db.transaction((tx) => writeRecords(tx, records))
  const telemetryOf = async (devices: string[]) =>
    (
      await db.query<{ time: Date; device_id: string; metric: string; value: number }>(
        `SELECT time, device_id, metric, value FROM telemetry WHERE device_id = ANY($1) ORDER BY device_id, metric, time`,
        [devices],
      )
    ).rows.map((r) => ({ time: r.time.getTime(), deviceId: r.device_id, metric: r.metric, value: r.value }))

  it('stores telemetry exactly: awkward device ids and metric names, every double, ms times', async () => {
    const devices = awkward.map((a) => `tel-${a}`)
    const records: TelemetryRecord[] = devices.map((deviceId, i) => ({
      kind: 'telemetry',
      deviceId,
      time: T0 + i,
      receivedAt: T0 + i,
      metrics: Object.fromEntries(numbers.map((v, j) => [j === 0 ? awkward[i]! : `m${j}`, v])),
    }))
    await write(records)
    const expected = records
      .flatMap((r) => Object.entries(r.metrics).map(([metric, value]) => ({ time: r.time, deviceId: r.deviceId, metric, value })))
      .sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0))
    expect(await telemetryOf(devices)).toEqual(expected)
  })

  it('writes a batch of 15,000 rows whole, and the same batch replayed lands once', async () => {
    const records: TelemetryRecord[] = Array.from({ length: 5_000 }, (_, i) => ({
      kind: 'telemetry',
      deviceId: `big-${i % 100}`,
      time: T0 + i,
      receivedAt: T0 + i,
      seq: i,
      metrics: { temp: i / 10, hum: -i, door: i % 2 },
    }))
    await write(records)
    await write(records)
    const { rows } = await db.query<{ n: number; temp: number; hum: number }>(
      `SELECT count(*) AS n, sum(value) FILTER (WHERE metric = 'temp') AS temp, sum(value) FILTER (WHERE metric = 'hum') AS hum FROM telemetry WHERE device_id LIKE 'big-%'`,
    )
    expect(rows[0]!.n).toBe(15_000)
    expect(rows[0]!.temp).toBeCloseTo(
      records.reduce((n, r) => n + r.metrics.temp!, 0),
      6,
    )
    expect(rows[0]!.hum).toBe(-((4_999 * 5_000) / 2))
  })

  it('stores events, status and dead letters with their NULLs and awkward text as they are', async () => {
    const records: IngestRecord[] = awkward.flatMap((a, i): IngestRecord[] => [
      { kind: 'event', deviceId: `ev-${a}`, time: T0 + i, receivedAt: T0 + i + 5, type: 'fault', code: `E-${i}`, detail: `detail ${a}` },
      { kind: 'event', deviceId: `ev-${a}`, time: T0 + i + 1, receivedAt: T0 + i + 6, seq: i, type: 'fault_cleared', code: `E-${i}` },
      { kind: 'status', deviceId: `st-${a}`, time: T0 + i, receivedAt: T0 + i, details: { note: a, nested: { list: [a, 1, null] } } },
      { kind: 'status', deviceId: `st-${a}`, time: T0 + i + 1, receivedAt: T0 + i + 1, online: false, fw: a, will: true, details: {} },
      deadLetter({ deviceId: i % 2 ? null : `dl-${a}`, topic: `devices/${a}/telemetry`, reason: `schema: ${a}`, payloadHead: a, time: T0 + i }),
    ])
    await write(records)
    const events = await db.query<{ device_id: string; code: string; seq: number | null; detail: string | null; time: Date; received_at: Date }>(
      `SELECT device_id, code, seq, detail, time, received_at FROM device_events WHERE device_id LIKE 'ev-%' ORDER BY device_id, time`,
    )
    const wantEvents = records
      .filter((r) => r.kind === 'event')
      .map((r) => ({ device_id: r.deviceId, code: r.code, seq: r.seq ?? null, detail: r.detail ?? null, time: r.time, received_at: r.receivedAt }))
    expect(events.rows.map((r) => ({ ...r, time: r.time.getTime(), received_at: r.received_at.getTime() }))).toEqual(expect.arrayContaining(wantEvents))
    expect(events.rows).toHaveLength(wantEvents.length)

    const status = await db.query<{ device_id: string; online: boolean | null; fw: string | null; details: unknown; will: boolean }>(
      `SELECT device_id, online, fw, details, will FROM device_status WHERE device_id LIKE 'st-%'`,
    )
    const wantStatus = records
      .filter((r) => r.kind === 'status')
      .map((r) => ({ device_id: r.deviceId, online: r.online ?? null, fw: r.fw ?? null, details: r.details, will: r.will === true }))
    expect(status.rows).toEqual(expect.arrayContaining(wantStatus))
    expect(status.rows).toHaveLength(wantStatus.length)

    const letters = await db.query<{ id: string; device_id: string | null; topic: string; reason: string; payload_head: string }>(
      `SELECT id, device_id, topic, reason, payload_head FROM dead_letters WHERE reason LIKE 'schema: %'`,
    )
    const wantLetters = records
      .filter((r) => r.kind === 'dead_letter')
      .map((r) => ({ id: r.id, device_id: r.deviceId, topic: r.topic, reason: r.reason, payload_head: r.payloadHead }))
    expect(letters.rows).toEqual(expect.arrayContaining(wantLetters))
    expect(letters.rows).toHaveLength(wantLetters.length)
  })

  it('refuses a value the database cannot hold as data (a hand-edited log), not as an outage', async () => {
    const bad = { kind: 'telemetry', deviceId: 'bad-1', time: T0, receivedAt: T0, metrics: { temp: 'hot' } } as unknown as TelemetryRecord
    const err = (await write([bad]).catch((e: unknown) => e)) as { code?: string }
    expect(err.code).toMatch(/^22/)
    expect(await telemetryOf(['bad-1'])).toEqual([])
  })
})
