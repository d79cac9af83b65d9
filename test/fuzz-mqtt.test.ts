// A seeded fuzz of every MQTT payload a device may send: random, boundary and hostile values in every field of
// telemetry (one sample and backlogs), events and status, in every form, plus raw bytes and unknown topics,
// published at QoS 1 and QoS 0 over real MQTT to one Faultline per backend. Throughout, /healthz answers; at the
// end every message is either stored (telemetry, device_events, device_status) or dead-lettered, counted exactly.
import path from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { openEmbeddedDatabase } from '../src/store/embedded/index.js'
import { openServerDatabase } from '../src/store/server/index.js'
import { backends, startTestInstance, testConfig, type TestInstance } from './support/faultline.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'

const SEED = 20261201
const MESSAGES = 200
const DEVICE = 'fuzz-1'

/**
 * Every message that carries a valid time gets its own second, `base + i s` (+ j ms for sample j of a backlog),
 * so stored rows name the message they came from and two messages never collapse into one row.
 */
const base = Date.now() - 20 * 60_000 - ((Date.now() - 20 * 60_000) % 1000)
const validTs = (i: number, j = 0) => fc.constantFrom(base + i * 1000 + j, new Date(base + i * 1000 + j).toISOString())

const hostileStrings = [
  '',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\ufffd',
  'é',
  '💥',
  'x'.repeat(5000),
  '__proto__',
  'constructor',
  'toString',
  '"',
  '\\',
]
const hostileTs: unknown[] = [
  8_640_000_000_000_001,
  Number.MAX_SAFE_INTEGER,
  -1,
  -8.64e15,
  0,
  1.5,
  base + 0.5,
  1e300,
  '0000-01-01T00:00:00Z',
  '+275760-09-13T00:00:00.001Z',
  '2026-02-31T00:00:00Z',
  '2026-13-01T00:00:00Z',
  'NaN',
  'yesterday',
  '',
  true,
  null,
  [],
  {},
  new Date(base + 3_600_000).toISOString(),
]

const anyJson = fc.jsonValue({ maxDepth: 3 })
const hostile = fc.oneof(
  anyJson,
  fc.constantFrom<unknown>(...hostileStrings, ...hostileTs),
  fc.double(),
  fc.integer(),
  fc.string({ unit: 'binary', maxLength: 40 }),
)
const ts = (i: number, j = 0) => fc.oneof({ weight: 3, arbitrary: validTs(i, j) }, { weight: 1, arbitrary: fc.constantFrom(...hostileTs) })
const seq = fc.oneof(fc.nat(), fc.constantFrom<unknown>(Number.MAX_SAFE_INTEGER, 2 ** 63, -1, 1.5, '1', null))
const metricName = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.]{0,63}$/) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', 'valueOf', '', '1abc', 'a-b', 'x'.repeat(65), 'température', 'a\u0000'),
  },
)
const metricValue = fc.oneof({ weight: 4, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) }, { weight: 1, arbitrary: hostile })
const metrics = fc.dictionary(metricName, metricValue, { minKeys: 0, maxKeys: 8 })
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined })

/** JSON nested `depth` levels, written as text: JSON.stringify of the deep ones would overflow the stack. */
const deep = fc.integer({ min: 1, max: 6000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth))

const sample = (i: number, j = 0) => fc.record({ ts: ts(i, j), seq: maybe(seq), metrics }, { requiredKeys: ['ts', 'metrics'] })

type Message = { channel: string; payload: Buffer }
const json = (channel: string) => (value: unknown) => ({ channel, payload: Buffer.from(JSON.stringify(value)) })

const message = (i: number): fc.Arbitrary<Message> =>
  fc.oneof(
    sample(i).map(json('telemetry')),
    fc
      .array(fc.nat(8), { minLength: 1, maxLength: 5 })
      .chain((js) => fc.tuple(...js.map((_, j) => sample(i, j))))
      .map(json('telemetry')),
    fc
      .record(
        {
          ts: ts(i),
          seq: maybe(seq),
          type: fc.oneof(fc.constantFrom('fault', 'fault_cleared'), hostile),
          code: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/), hostile),
          detail: maybe(fc.oneof(fc.string(), hostile)),
        },
        { requiredKeys: ['ts', 'type', 'code'] },
      )
      .map(json('events')),
    fc
      .record(
        {
          ts: ts(i),
          online: maybe(fc.oneof(fc.boolean(), hostile)),
          fw: maybe(fc.oneof(fc.string({ maxLength: 64 }), hostile)),
          extra: maybe(fc.dictionary(fc.oneof(fc.string(), metricName), anyJson, { maxKeys: 5 })),
        },
        { requiredKeys: ['ts'] },
      )
      .map(({ extra, ...status }) => ({ ...extra, ...status }))
      .map(json('status')),
    // deep, wide and long status details, the raw text around a valid time
    fc
      .tuple(
        ts(i),
        fc.oneof(deep, fc.constantFrom(`"${'y'.repeat(70_000)}"`, JSON.stringify(Object.fromEntries(Array.from({ length: 1100 }, (_, k) => [`k${k}`, k]))))),
      )
      .map(([t, x]) => ({ channel: 'status', payload: Buffer.from(`{"ts":${JSON.stringify(t)},"x":${x}}`) })),
    // not JSON, invalid UTF-8, truncated JSON
    fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ channel: 'telemetry', payload: Buffer.from(bytes) })),
    fc
      .constantFrom(
        Buffer.from([0xff, 0xfe, 0x7b]),
        Buffer.from('{"metrics":{"a":'),
        Buffer.from(`{"ts":${base + i * 1000},"metrics":{"a":1},"x":"\xff"}`, 'latin1'),
      )
      .map((payload) => ({ channel: 'status', payload })),
    // a topic a device may not publish to under its own prefix
    fc.tuple(fc.stringMatching(/^[a-z0-9_]{1,12}$/), sample(i)).map(([channel, s]) => ({ channel: `x${channel}`, payload: Buffer.from(JSON.stringify(s)) })),
  )

const messages: Message[] = Array.from({ length: MESSAGES }, (_, i) => fc.sample(message(i), { seed: SEED + i, numRuns: 1 })[0]!)

/** Counts, read from the database once Faultline has closed (so everything accepted is written). */
async function outcomes(config: TestInstance['config']): Promise<{ stored: number; deadLetters: number; lost: string[] }> {
  const db = config.databaseUrl ? await openServerDatabase(config.databaseUrl, () => {}) : await openEmbeddedDatabase(path.join(config.dataDir, 'pglite'))
  try {
    // A stored message is one second since `base`, whichever table (or tables, for none overlap) it is in.
    const { rows } = await db.query<{ stored: number; dead: number }>(
      `SELECT (SELECT count(DISTINCT floor((extract(epoch FROM time) * 1000 - $2) / 1000)) FROM (
                 SELECT time FROM telemetry WHERE device_id = $1 UNION ALL
                 SELECT time FROM device_events WHERE device_id = $1 UNION ALL
                 SELECT time FROM device_status WHERE device_id = $1) AS t)::int AS stored,
              (SELECT count(*) FROM dead_letters WHERE device_id = $1)::int AS dead`,
      [DEVICE, base],
    )
    // What a miscount is made of: the messages found neither stored (by their second) nor by their payload's head.
    const seconds = new Set(
      (
        await db.query<{ s: number }>(
          `SELECT DISTINCT floor((extract(epoch FROM time) * 1000 - $2) / 1000)::int AS s FROM (
           SELECT time FROM telemetry WHERE device_id = $1 UNION ALL SELECT time FROM device_events WHERE device_id = $1
           UNION ALL SELECT time FROM device_status WHERE device_id = $1) AS t`,
          [DEVICE, base],
        )
      ).rows.map((r) => r.s),
    )
    const heads = new Set((await db.query<{ h: string }>('SELECT payload_head AS h FROM dead_letters WHERE device_id = $1', [DEVICE])).rows.map((r) => r.h))
    const headOf = (m: Message) => m.payload.subarray(0, 256).toString('utf8').replaceAll('\u0000', '\uFFFD')
    const lost = messages.flatMap((m, i) => (seconds.has(i) || heads.has(headOf(m)) ? [] : [`${i} ${m.channel}: ${headOf(m).slice(0, 120)}`]))
    return { stored: rows[0]!.stored, deadLetters: rows[0]!.dead, lost }
  } finally {
    await db.close()
  }
}

describe.each(backends())('MQTT fuzz on the %s backend', (backend) => {
  let fl: TestInstance | undefined
  afterAll(() => fl?.close())

  it(`stores or dead-letters each of ${MESSAGES} generated messages (seed ${SEED}), never crashing or hanging`, async () => {
    const config = await testConfig(backend)
    fl = await startTestInstance(config)
    const token = await fl.registerDevice(DEVICE)
    const url = tcpUrl(fl.faultline.mqttPort)
    const [qos1, qos0] = await Promise.all([connectDevice(url, DEVICE, token), connectDevice(url, `${DEVICE}`, token, { clientId: `${DEVICE}-qos0` })])

    // /healthz answers throughout: a probe every 100 ms, each given 5 s.
    const health: number[] = []
    let probing = true
    const prober = (async () => {
      while (probing) {
        const res = await fetch(`http://127.0.0.1:${fl!.faultline.httpPort}/healthz`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined)
        health.push(res?.status ?? 0)
        await new Promise((r) => setTimeout(r, 100))
      }
    })()

    try {
      for (const [i, m] of messages.entries()) {
        const topic = `devices/${DEVICE}/${m.channel}`
        if (i % 2 === 0) await qos1.publishAsync(topic, m.payload, { qos: 1 })
        else qos0.publish(topic, m.payload, { qos: 0 })
      }
      // A QoS 1 message after them on each connection: once it is acknowledged, everything before it is accepted.
      const last = (i: number) => JSON.stringify({ ts: base + i * 1000, metrics: { last: 1 } })
      await Promise.all([
        qos1.publishAsync(`devices/${DEVICE}/telemetry`, last(MESSAGES), { qos: 1 }),
        qos0.publishAsync(`devices/${DEVICE}/telemetry`, last(MESSAGES + 1), { qos: 1 }),
      ])
      expect(qos1.connected && qos0.connected).toBe(true)
    } finally {
      probing = false
      await prober
      await Promise.all([qos1.endAsync(), qos0.endAsync()])
    }
    expect(health.length).toBeGreaterThan(0)
    expect(health.filter((s) => s !== 200)).toEqual([])

    await fl.close()
    fl = undefined
    const { stored, deadLetters, lost } = await outcomes(config)
    expect(lost).toEqual([])
    expect(stored + deadLetters).toBe(MESSAGES + 2)
    // The fuzz is only worth something if it reaches both ends.
    expect(stored).toBeGreaterThan(MESSAGES / 10)
    expect(deadLetters).toBeGreaterThan(MESSAGES / 10)
  }, 180_000) // the embedded engine alone takes tens of seconds to start and reopen on a loaded machine
})
