// Payloads built to break the gateway rather than to be wrong: timestamps no Date holds, JSON nested deep enough
// to overflow a recursive walk or the embedded engine, reserved names, and the same things already in the
// write-ahead log when Faultline starts. Each ends as a dead letter with a reason; nothing stops, hangs or leaks.
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Config } from '../src/config/index.js'
import { IngestPipeline } from '../src/ingest/index.js'
import { createMetrics } from '../src/metrics.js'
import { createLogger } from '../src/main.js'
import type { Database } from '../src/store/index.js'
import { backends, eventually, startTest, startTestInstance, testConfig, type TestInstance } from './support/faultline.js'
import { metricValue } from './support/metrics.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'

interface DeadLetter {
  id: string
  reason: string
  payloadHead: string
}

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)
/** Past the largest time a Date holds (8.64e15 ms): still a non-negative integer, so the schema lets it through. */
const BEYOND_DATE = 8_640_000_000_000_001

async function deadLetters(fl: TestInstance, deviceId: string): Promise<DeadLetter[]> {
  const res = await fl.api('GET', `/api/dead-letters?deviceId=${deviceId}&limit=1000`)
  expect(res.status).toBe(200)
  return res.body.deadLetters
}

/** Waits until the device has exactly n dead letters (and not more, once the writer is idle). */
async function deadLettersOf(fl: TestInstance, deviceId: string, n: number): Promise<DeadLetter[]> {
  const letters = await eventually(async () => {
    const all = await deadLetters(fl, deviceId)
    return all.length >= n ? all : undefined
  })
  expect(letters).toHaveLength(n)
  return letters
}

async function telemetryMetrics(fl: TestInstance, deviceId: string): Promise<string[]> {
  const res = await fl.api('GET', `/api/devices/${deviceId}/telemetry?from=0&to=${Date.now() + 3_600_000}&limit=1000`)
  expect(res.status).toBe(200)
  return (res.body.points as { metric: string }[]).map((p) => p.metric)
}

const stored = (fl: TestInstance, deviceId: string, metric: string) =>
  eventually(async () => ((await telemetryMetrics(fl, deviceId)).includes(metric) ? true : undefined))

describe.each(backends())('hostile payloads on the %s backend', (backend) => {
  let fl: TestInstance
  let tcp: string
  beforeAll(async () => {
    fl = await startTest(backend, { FAULTLINE_WRITER_QUEUE_ROWS: '50' })
    tcp = tcpUrl(fl.faultline.mqttPort)
  })
  afterAll(() => fl?.close())

  it('dead-letters, as "timestamp", every ts no Date holds or the window refuses, whatever its form, and a last will carrying one', async () => {
    const client = await connectDevice(tcp, 'ts-1', await fl.registerDevice('ts-1'))
    const now = Date.now()
    const badTimes: unknown[] = [
      BEYOND_DATE,
      Number.MAX_SAFE_INTEGER,
      -1,
      -BEYOND_DATE,
      1.5,
      now + 0.5,
      '0000-01-01T00:00:00Z',
      '+275760-09-13T00:00:00.001Z',
      '2026-02-31T00:00:00Z',
      'NaN',
      '',
      'yesterday',
      true,
      null,
      {},
      [now],
      1e300,
    ]
    const payloads = badTimes.flatMap((ts) => [
      ['devices/ts-1/telemetry', JSON.stringify({ ts, metrics: { t: 1 } })],
      [
        'devices/ts-1/telemetry',
        JSON.stringify([
          { ts: now, metrics: { t: 1 } },
          { ts, metrics: { t: 2 } },
        ]),
      ],
      ['devices/ts-1/events', JSON.stringify({ ts, type: 'fault', code: 'E1' })],
      ['devices/ts-1/status', JSON.stringify({ ts, online: true })],
    ])
    for (const [topic, payload] of payloads) await client.publishAsync(topic!, payload!, { qos: 1 })
    await client.publishAsync('devices/ts-1/telemetry', JSON.stringify({ metrics: { good: 1 } }), { qos: 1 })
    expect(client.connected).toBe(true)
    await client.endAsync()

    // A last will is decoded like any publish, once the connection is gone.
    const willing = await connectDevice(tcp, 'ts-will', await fl.registerDevice('ts-will'), {
      will: { topic: 'devices/ts-will/status', payload: Buffer.from(JSON.stringify({ ts: BEYOND_DATE, online: false })), qos: 1, retain: false },
    })
    willing.stream.destroy() // not a clean DISCONNECT: the broker publishes the will

    const letters = await deadLettersOf(fl, 'ts-1', payloads.length)
    for (const l of letters) expect(l.reason).toMatch(/^timestamp: /)
    const [will] = await deadLettersOf(fl, 'ts-will', 1)
    expect(will!.reason).toBe(`timestamp: ${BEYOND_DATE} is more than 300000 ms ahead of the receive time`)
    await stored(fl, 'ts-1', 'good')
    expect((await fl.api('GET', '/healthz')).status).toBe(200)
  })

  it('dead-letters free-form JSON past the bounds (deep, wide, long) and reserved names, and stores the rest', async () => {
    const client = await connectDevice(tcp, 'deep-1', await fl.registerDevice('deep-1'))
    const hostile = [
      // ~2 KB, 1,000 levels: acknowledged and then the embedded engine ran out of memory
      ['devices/deep-1/status', `{"online":true,"x":${nested(1000)}}`, /^schema: x\.0\.0…: nested deeper than 32 levels$/],
      ['devices/deep-1/status', `{"x":${nested(33)}}`, /nested deeper than 32 levels/],
      [
        'devices/deep-1/status',
        JSON.stringify({ x: Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [`k${i}`, i])) }),
        /^schema: x: an object of more than 1024 keys$/,
      ],
      ['devices/deep-1/status', JSON.stringify({ x: 'y'.repeat(4097) }), /^schema: x: a string longer than 4096 characters$/],
      ['devices/deep-1/telemetry', '{"metrics":{"__proto__":1,"a":2}}', /^schema: metrics\.__proto__: "__proto__" is a reserved name$/],
      ['devices/deep-1/telemetry', '{"metrics":{"constructor":1,"a":2}}', /^schema: metrics\.constructor: "constructor" is a reserved name$/],
      ['devices/deep-1/status', '{"__proto__":{"online":false}}', /^schema: __proto__: "__proto__" is a reserved name$/],
      ['devices/deep-1/status', '{"info":{"toString":1}}', /^schema: info\.toString: "toString" is a reserved name$/],
    ] as const
    for (const [topic, payload] of hostile) await client.publishAsync(topic, payload, { qos: 1 })
    // At the bounds, accepted and stored
    await client.publishAsync('devices/deep-1/status', `{"x":${nested(31)}}`, { qos: 1 })
    await client.publishAsync('devices/deep-1/telemetry', '{"metrics":{"good":1}}', { qos: 1 })
    await stored(fl, 'deep-1', 'good')
    expect(client.connected).toBe(true)
    await client.endAsync()
    const letters = await deadLettersOf(fl, 'deep-1', hostile.length)
    for (const [, payload, reason] of hostile) {
      expect(letters.find((l) => l.payloadHead === payload.slice(0, 256))?.reason, payload.slice(0, 40)).toMatch(reason)
    }
    expect(await telemetryMetrics(fl, 'deep-1')).toEqual(['good'])
  })

  it('acknowledges and dead-letters more 5,000-level messages than the write queue has rows, and keeps ingesting', async () => {
    const client = await connectDevice(tcp, 'deep-2', await fl.registerDevice('deep-2'))
    const n = 60 // more than FAULTLINE_WRITER_QUEUE_ROWS: one leaked row each would stop ingest
    for (let i = 0; i < n; i++) await client.publishAsync('devices/deep-2/status', `{"i":${i},"x":${nested(5000)}}`, { qos: 1 })
    await client.publishAsync('devices/deep-2/telemetry', '{"metrics":{"after":1}}', { qos: 1 })
    await stored(fl, 'deep-2', 'after')
    expect(client.connected).toBe(true)
    await client.endAsync()
    expect(await deadLettersOf(fl, 'deep-2', n)).toSatisfy((ls: DeadLetter[]) => ls.every((l) => l.reason.startsWith('schema: ')))
    await eventually(async () => ((await metricValue(fl.faultline.httpPort, 'faultline_write_queue_rows')) === 0 ? true : undefined))
    const ready = await fl.api('GET', '/readyz')
    expect(ready.body).toMatchObject({ status: 'ready', writer: 'ok' })
  })
})

/** A write-ahead log segment written by hand: what a crash right after the PUBACKs would leave. */
function writeWal(config: Config, entries: unknown[][]): void {
  const dir = path.join(config.dataDir, 'wal')
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, '000000000000.wal'), entries.map((e) => JSON.stringify(e) + '\n').join(''))
}

describe.each(backends())('a hostile write-ahead log on the %s backend', (backend) => {
  it('starts, dead-letters what cannot be stored, and stores each dead letter once however often the log is replayed', async () => {
    const config = await testConfig(backend)
    const receivedAt = Date.now()
    const base = { deviceId: 'wal-1', time: receivedAt, receivedAt }
    // Written as a string: JSON.stringify of a record this deep would itself overflow the stack.
    const deepStatus = `{"kind":"status","deviceId":"wal-1","time":${receivedAt},"receivedAt":${receivedAt},"details":{"x":${nested(1000)}}}`
    const entries = [
      [{ ...base, kind: 'telemetry', metrics: { good: 1 } }],
      [{ ...base, kind: 'telemetry', time: BEYOND_DATE, metrics: { far: 1 } }],
      [{ ...base, kind: 'telemetry', metrics: { constructor: 1 } }],
      // passes every bound, but bigint cannot hold it: the database refuses it (SQLSTATE 22003)
      [{ ...base, kind: 'event', type: 'fault', code: 'E1', seq: 1e20 }],
    ]
    const segment = () => {
      writeWal(config, entries)
      const file = path.join(config.dataDir, 'wal', '000000000000.wal')
      writeFileSync(file, `[${deepStatus}]\n`, { flag: 'a' })
    }
    let fl: TestInstance | undefined
    try {
      for (let start = 0; start < 2; start++) {
        segment() // the same entries again: as if the first start had crashed before releasing them
        fl = await startTestInstance(config)
        const reg = await fl.api('POST', '/api/devices', { id: 'wal-1', model: 'BCD-516WDVL', serial: 'S-1', purchasedAt: '2025-01-01' })
        expect([201, 409]).toContain(reg.status)
        const letters = await deadLettersOf(fl, 'wal-1', 4)
        expect(letters.map((l) => l.reason.replace(/:.*/s, '')).sort()).toEqual(['schema', 'schema', 'storage_refused', 'timestamp'])
        expect(letters.find((l) => l.reason.startsWith('storage_refused'))!.reason).toMatch(/bigint|out of range/)
        expect(await telemetryMetrics(fl, 'wal-1')).toEqual(['good'])
        await fl.close()
        fl = undefined
      }
    } finally {
      await fl?.close()
    }
  })
})

/** A database that records each statement's parameters, and throws what `refuse` returns for a statement. */
function scriptedDatabase(refuse: (params: unknown[][]) => Error | undefined) {
  const committed: unknown[][][] = []
  const tx = {
    query: async (_sql: string, params: unknown[][]) => {
      const err = refuse(params)
      if (err) throw err
      committed.push(params)
      return { rows: [] }
    },
  }
  const db = { backend: 'embedded', batchRows: 100, writeConcurrency: 1, transaction: (fn: (t: typeof tx) => Promise<unknown>) => fn(tx), query: tx.query }
  return { db: db as unknown as Database, committed }
}

describe('the writer, when the database cannot take a batch', () => {
  const now = Date.now()
  const record = (deviceId: string) => ({ kind: 'telemetry' as const, deviceId, time: now, receivedAt: now, metrics: { a: 1 } })
  const start = async (db: Database) =>
    IngestPipeline.start(
      db,
      { walDir: path.join((await testConfig('embedded')).dataDir, 'wal'), queueRows: 100, flushMs: 1 },
      createLogger('silent'),
      createMetrics(),
    )

  it.each([
    ['a RangeError (the embedded engine out of stack)', () => new RangeError('Maximum call stack size exceeded')],
    ['a WASM trap (the embedded engine out of memory)', () => new WebAssembly.RuntimeError('unreachable')],
    ['SQLSTATE 54001 (statement too complex)', () => Object.assign(new Error('stack depth limit exceeded'), { code: '54001' })],
  ])('splits the batch on %s and dead-letters only the record it refuses', async (_, error) => {
    const { db, committed } = scriptedDatabase((params) => (params[1]?.includes('bad') ? error() : undefined))
    const pipeline = await start(db)
    await pipeline.accept([record('good'), record('bad')], true)
    await pipeline.settled()
    await pipeline.close()
    expect(committed.filter((p) => p[1]?.includes('good'))).toHaveLength(1)
    const deadLetters = committed.filter((p) => p.length === 6) // dead_letters' six columns
    expect(deadLetters).toHaveLength(1)
    expect(deadLetters[0]![3]).toEqual(['devices/bad/telemetry'])
    expect(String(deadLetters[0]![4])).toMatch(/^storage_refused: /)
  })

  it('retries an outage (a dropped connection) until it passes, and dead-letters nothing', async () => {
    let failures = 2
    const { db, committed } = scriptedDatabase(() =>
      failures-- > 0 ? Object.assign(new Error('Connection terminated unexpectedly'), { code: '08006' }) : undefined,
    )
    const pipeline = await start(db)
    await pipeline.accept([record('good')], true)
    await pipeline.settled()
    await pipeline.close()
    expect(committed).toHaveLength(1)
    // The device ids of the telemetry statement, as the array literal the writer sends (src/ingest/array-literal.ts).
    expect(String(committed[0]![1])).toBe('{"good"}')
  })
})

describe('the writer readiness check', () => {
  it('says ok while rows move, and names the stall and the rows waiting once nothing has been written for the stall time', async () => {
    const config = await testConfig('embedded')
    // A database that takes every write and never answers: the writer makes no progress.
    const stuck = { backend: 'embedded', batchRows: 10, writeConcurrency: 1, transaction: () => new Promise(() => {}), query: () => new Promise(() => {}) }
    const pipeline = await IngestPipeline.start(
      stuck as unknown as Database,
      { walDir: path.join(config.dataDir, 'wal'), queueRows: 100, flushMs: 1 },
      createLogger('silent'),
      createMetrics(),
    )
    expect(pipeline.progress(30_000)).toBe('ok') // nothing waiting
    const t0 = Date.now()
    await pipeline.accept([{ kind: 'telemetry', deviceId: 'd', time: t0, receivedAt: t0, metrics: { a: 1, b: 2 } }], true)
    expect(pipeline.progress(30_000, t0 + 29_000)).toBe('ok')
    expect(pipeline.progress(30_000, Date.now() + 31_000)).toMatch(/^no progress for 3[01] s, 2 rows waiting$/)
  })
})
