// What devices send that Faultline must refuse: each class of bad input lands in the dead-letter table with a
// reason naming it, and never costs another message, another client, or the writer. An oversized packet costs
// only the connection that sent it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends, eventually, startTest, type TestInstance } from './support/faultline.js'
import { metricValue } from './support/metrics.js'
import { connectDevice, tcpUrl, wsUrl } from './support/mqtt.js'
import { bareConnect, connectPacket } from './support/bare-mqtt.js'
import { readStored } from './support/stored.js'

interface DeadLetter {
  id: unknown
  time: string
  deviceId: string
  topic: string
  reason: string
  payloadHead: string
}

const KiB = 1024
const telemetry = (metrics: Record<string, number>, ts?: number) => JSON.stringify(ts === undefined ? { metrics } : { ts, metrics })

/** Closes the instance, but gives up after a while rather than hang the run when a test left the writer stuck. */
const closeWithin = (fl: TestInstance | undefined, ms = 10_000) =>
  fl && Promise.race([fl.close(), new Promise<void>((resolve) => setTimeout(resolve, ms).unref())])

function helpers(get: () => TestInstance) {
  const metric = (name: string, labels?: Record<string, string>) => metricValue(get().faultline.httpPort, name, labels)
  const points = async (id: string) => (await get().api('GET', `/api/devices/${id}/telemetry?limit=100000`)).body.points as { metric: string; value: number }[]
  const deadLetters = async (id: string, query = '') => {
    const res = await get().api('GET', `/api/dead-letters?deviceId=${id}${query}`)
    expect(res.status).toBe(200)
    return res.body.deadLetters as DeadLetter[]
  }
  /** Waits until this metric of the device is stored: everything the client published before it is in the pipeline too. */
  const stored = (id: string, name: string) => eventually(async () => ((await points(id)).some((p) => p.metric === name) ? true : undefined))
  return { metric, points, deadLetters, stored }
}

describe.each(backends())('bad input on the %s backend', (backend) => {
  let fl: TestInstance
  let tcp: string
  beforeAll(async () => {
    fl = await startTest(backend)
    tcp = tcpUrl(fl.faultline.mqttPort)
  })
  afterAll(() => closeWithin(fl))
  const { metric, points, deadLetters, stored } = helpers(() => fl)

  it('dead-letters each class of bad message with a reason naming the class, its topic and the head of its payload', async () => {
    const client = await connectDevice(tcp, 'bad-1', await fl.registerDevice('bad-1'))
    const reasons = ['invalid_json', 'schema', 'too_large', 'timestamp', 'unknown_topic']
    const before = Object.fromEntries(await Promise.all(reasons.map(async (r) => [r, await metric('faultline_dead_letters_total', { reason: r })])))
    const now = Date.now()
    const large = '{"metrics":{"big":1},"pad":"' + 'x'.repeat(70 * KiB) + '"}'
    const bad: [topic: string, payload: string, reason: RegExp][] = [
      ['devices/bad-1/telemetry', '{"metrics":{"temp":', /^invalid_json: /],
      ['devices/bad-1/telemetry', '{"metrics":{"temp":"warm"}}', /^schema: /],
      // 1e999 parses to Infinity: valid JSON, not a storable number (its field path: the next test)
      ['devices/bad-1/telemetry', '{"metrics":{"temp":1e999}}', /^schema: /],
      ['devices/bad-1/telemetry', large, new RegExp(`^too_large: ${Buffer.byteLength(large)} bytes, the limit is 65536$`)],
      ['devices/bad-1/telemetry', telemetry({ future: 1 }, now + 3600_000), /^timestamp: .* ahead of the receive time$/],
      ['devices/bad-1/telemetry', telemetry({ ancient: 1 }, now - 40 * 24 * 3600_000), /^timestamp: .* old$/],
      ['devices/bad-1/foo', telemetry({ misplaced: 1 }), /^unknown_topic: devices\/bad-1\/foo: /],
    ]
    for (const [topic, payload] of bad) await client.publishAsync(topic, payload, { qos: 1 })
    await client.publishAsync('devices/bad-1/telemetry', telemetry({ good: 1 }), { qos: 1 })
    await stored('bad-1', 'good')
    expect(client.connected).toBe(true)
    await client.endAsync()

    const letters = await eventually(async () => {
      const all = await deadLetters('bad-1')
      return all.length >= bad.length ? all : undefined
    })
    expect(letters).toHaveLength(bad.length)
    for (const [topic, payload, reason] of bad) {
      const head = payload.slice(0, 256) // ASCII payloads: the first 256 bytes are the first 256 characters
      const letter = letters.find((l) => l.payloadHead === head)
      expect(letter, `dead letter for ${payload.slice(0, 40)}`).toBeDefined()
      expect(letter).toMatchObject({ deviceId: 'bad-1', topic })
      expect(letter!.reason).toMatch(reason)
    }
    // None of them was stored as telemetry, in part or at all.
    expect((await points('bad-1')).map((p) => p.metric)).toEqual(['good'])

    const expected = { invalid_json: 1, schema: 2, too_large: 1, timestamp: 2, unknown_topic: 1 }
    for (const r of reasons) {
      expect(await metric('faultline_dead_letters_total', { reason: r }), r).toBe(before[r] + expected[r as keyof typeof expected])
    }
  })

  it('names the offending field path in a schema dead letter, for each channel and for a backlog array', async () => {
    const client = await connectDevice(tcp, 'bad-2', await fl.registerDevice('bad-2'))
    const cases: [topic: string, payload: string, reason: RegExp][] = [
      ['devices/bad-2/telemetry', '{"metrics":{"temp":"warm"}}', /^schema: metrics\.temp: /],
      ['devices/bad-2/telemetry', '{"metrics":{"temp":1e999}}', /^schema: metrics\.temp: .*(finite|Infinity)/],
      ['devices/bad-2/telemetry', '{"metrics":{"temp":4},"extra":true}', /^schema: .*Unrecognized key: "extra"/],
      ['devices/bad-2/telemetry', '[{"metrics":{"temp":4}},{"metrics":{"temp":null}}]', /^schema: 1\.metrics\.temp: /],
      ['devices/bad-2/events', '{"type":"fault","code":"E 1"}', /^schema: code: /],
      ['devices/bad-2/status', '{"online":"yes"}', /^schema: online: /],
    ]
    for (const [topic, payload] of cases) await client.publishAsync(topic, payload, { qos: 1 })
    await client.publishAsync('devices/bad-2/telemetry', telemetry({ good: 1 }), { qos: 1 })
    await stored('bad-2', 'good')
    await client.endAsync()

    const letters = await deadLetters('bad-2')
    expect(letters).toHaveLength(cases.length)
    const reasons = cases.map(([, payload]) => letters.find((l) => l.payloadHead === payload)?.reason)
    expect(reasons).toEqual(cases.map(([, , reason]) => expect.stringMatching(reason)))
  })

  it('keeps every good message when good and bad ones are interleaved, on two clients at once', async () => {
    const devices = ['mix-1', 'mix-2']
    const clients = await Promise.all(devices.map(async (id) => connectDevice(tcp, id, await fl.registerDevice(id))))
    const closes = clients.map(() => 0)
    clients.forEach((c, i) => c.on('close', () => closes[i]!++))
    const t0 = Date.now() - 60_000
    await Promise.all(
      clients.map(async (client, i) => {
        const id = devices[i]!
        for (let n = 0; n < 20; n++) {
          await client.publishAsync(`devices/${id}/telemetry`, telemetry({ n }, t0 + n * 1000), { qos: 1 })
          const bad = ['not json', '{"metrics":{}}', '{"metrics":{"n":1e999}}', '{"type":"nope"}'][n % 4]!
          await client.publishAsync(`devices/${id}/${n % 4 === 3 ? 'events' : 'telemetry'}`, bad, { qos: n % 2 === 0 ? 1 : 0 })
        }
        await client.publishAsync(`devices/${id}/telemetry`, telemetry({ last: 1 }), { qos: 1 })
      }),
    )
    for (const id of devices) await stored(id, 'last')
    for (const [i, id] of devices.entries()) {
      const values = (await points(id)).filter((p) => p.metric === 'n').map((p) => p.value)
      expect(values).toEqual(Array.from({ length: 20 }, (_, n) => n))
      expect(await eventually(async () => ((await deadLetters(id)).length === 20 ? 20 : undefined))).toBe(20)
      expect(clients[i]!.connected).toBe(true)
    }
    expect(closes).toEqual([0, 0])
    await Promise.all(clients.map((c) => c.endAsync()))
  })

  it('closes the connection that sends a packet above 4× the payload limit, and only that one', async () => {
    const big = await connectDevice(tcp, 'huge-1', await fl.registerDevice('huge-1'))
    const other = await connectDevice(tcp, 'huge-2', await fl.registerDevice('huge-2'))
    const closed = new Promise<void>((resolve) => big.once('close', () => resolve()))
    const payload = '{"metrics":{"x":1},"pad":"' + 'x'.repeat(300 * KiB) + '"}'
    const outcome = big.publishAsync('devices/huge-1/telemetry', payload, { qos: 1 }).then(
      () => 'acknowledged',
      () => 'failed',
    )
    await other.publishAsync('devices/huge-2/telemetry', telemetry({ during: 1 }), { qos: 1 })
    await closed
    expect(await outcome).toBe('failed')
    await other.publishAsync('devices/huge-2/telemetry', telemetry({ after: 1 }), { qos: 1 })
    await stored('huge-2', 'after')
    expect((await points('huge-2')).map((p) => p.metric).sort()).toEqual(['after', 'during'])
    expect(other.connected).toBe(true)
    // Cut before it was read whole: neither stored nor dead-lettered.
    expect(await points('huge-1')).toEqual([])
    expect(await deadLetters('huge-1')).toEqual([])
    await other.endAsync()
  })

  it('cuts a connection as soon as a fixed header announces an oversized packet, without waiting for its bytes', async () => {
    const token = await fl.registerDevice('huge-3')
    const bare = await bareConnect(fl.faultline.mqttPort)
    bare.send(connectPacket('huge-3', token))
    expect(await bare.next('connack')).toMatchObject({ returnCode: 0 })
    // PUBLISH QoS 0 announcing 300 KiB (remaining length as a varint), followed by only a few bytes of it.
    const remaining = 300 * KiB
    const varint = [(remaining & 0x7f) | 0x80, ((remaining >> 7) & 0x7f) | 0x80, remaining >> 14]
    bare.write(Buffer.from([0x30, ...varint, 0x00, 0x05, ...Buffer.from('devic')]))
    await bare.closed
    expect(bare.received.map((p) => p.cmd)).toEqual(['connack'])
  })

  it('closes a WebSocket connection that sends an oversized packet, while a TCP client keeps publishing', async () => {
    const ws = await connectDevice(wsUrl(fl.faultline.httpPort), 'huge-4', await fl.registerDevice('huge-4'))
    const tcpClient = await connectDevice(tcp, 'huge-5', await fl.registerDevice('huge-5'))
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()))
    void ws.publishAsync('devices/huge-4/telemetry', 'x'.repeat(300 * KiB), { qos: 1 }).catch(() => {})
    await closed
    await tcpClient.publishAsync('devices/huge-5/telemetry', telemetry({ after: 1 }), { qos: 1 })
    await stored('huge-5', 'after')
    expect(await deadLetters('huge-4')).toEqual([])
    await tcpClient.endAsync()
  })

  it('returns at most `limit` dead letters, newest first, and refuses a limit outside 1..1000', async () => {
    const client = await connectDevice(tcp, 'lim-1', await fl.registerDevice('lim-1'))
    for (let i = 0; i < 5; i++) await client.publishAsync('devices/lim-1/telemetry', `garbage ${i}`, { qos: 1 })
    await client.publishAsync('devices/lim-1/telemetry', telemetry({ good: 1 }), { qos: 1 })
    await stored('lim-1', 'good')
    await client.endAsync()

    const all = await eventually(async () => {
      const l = await deadLetters('lim-1')
      return l.length === 5 ? l : undefined
    })
    expect(all.map((l) => l.payloadHead)).toEqual(['garbage 4', 'garbage 3', 'garbage 2', 'garbage 1', 'garbage 0'])
    const page = await deadLetters('lim-1', '&limit=2')
    expect(page.map((l) => l.payloadHead)).toEqual(['garbage 4', 'garbage 3'])
    expect((await fl.api('GET', '/api/dead-letters?limit=1')).body.deadLetters).toHaveLength(1)
    for (const limit of ['0', '1001', 'abc']) {
      const res = await fl.api('GET', `/api/dead-letters?deviceId=lim-1&limit=${limit}`)
      expect(res.status, `limit=${limit}`).toBe(400)
      expect(res.body.issues.map((i: { field: string }) => i.field)).toEqual(['querystring.limit'])
    }
  })
})

// NUL cannot be stored in PostgreSQL text or jsonb. A message that jams the writer would take every later
// test down with it: the raw NUL and each escaped NUL case get an instance of their own.
describe.each(backends())('a raw NUL byte on the %s backend', (backend) => {
  let fl: TestInstance
  beforeAll(async () => {
    fl = await startTest(backend)
  })
  afterAll(() => closeWithin(fl))
  const { deadLetters, stored } = helpers(() => fl)

  it('dead-letters a payload with a raw NUL byte, keeping its head with the NUL replaced', async () => {
    const client = await connectDevice(tcpUrl(fl.faultline.mqttPort), 'nul-1', await fl.registerDevice('nul-1'))
    const payload = Buffer.concat([Buffer.from('{"metrics":{"a":1}}'), Buffer.from([0]), Buffer.from('tail')])
    await client.publishAsync('devices/nul-1/telemetry', payload, { qos: 1 })
    await client.publishAsync('devices/nul-1/telemetry', telemetry({ after: 1 }), { qos: 1 })
    await stored('nul-1', 'after')
    await client.endAsync()
    const letters = await eventually(async () => {
      const l = await deadLetters('nul-1')
      return l.length === 1 ? l : undefined
    })
    expect(letters[0]!.reason).toMatch(/^invalid_json: /)
    expect(letters[0]!.payloadHead).toBe('{"metrics":{"a":1}}\uFFFDtail')
  })
})

// JSON's \u0000 escape is valid JSON and passes the schemas, but PostgreSQL's text and jsonb refuse NUL: decode
// stores each such string with U+FFFD in its place (src/ingest/decode.ts). Each case asserts the message's own
// fate, read from the database after close, and that nothing else of the device's went anywhere.
interface Fate {
  events: { type: string; code: string; detail: string | null }[]
  status: { online: boolean | null; fw: string | null; details: unknown }[]
  deadLetters: { reason: string; payload_head: string }[]
}
const none: Fate = { events: [], status: [], deadLetters: [] }
const escapedNul: [what: string, channel: string, payload: string, fate: Fate][] = [
  [
    'an event detail',
    'events',
    '{"type":"fault","code":"E1","detail":"open\\u0000circuit"}',
    { ...none, events: [{ type: 'fault', code: 'E1', detail: 'open\uFFFDcircuit' }] },
  ],
  ['a status fw', 'status', '{"online":true,"fw":"2.1\\u0000"}', { ...none, status: [{ online: true, fw: '2.1\uFFFD', details: {} }] }],
  ['a status detail value', 'status', '{"online":true,"note":"a\\u0000b"}', { ...none, status: [{ online: true, fw: null, details: { note: 'a\uFFFDb' } }] }],
  // An escaped backslash before "u0000" is the device's text, kept as sent; an escaped NUL after it is still replaced.
  [
    'a backslash before u0000',
    'events',
    '{"type":"fault","code":"E1","detail":"C:\\\\u0000 then \\\\\\u0000"}',
    { ...none, events: [{ type: 'fault', code: 'E1', detail: 'C:\\u0000 then \\\uFFFD' }] },
  ],
  // The replacement is no letter: a metric name with it breaks the name's pattern, and says so.
  [
    'a metric name',
    'telemetry',
    '{"metrics":{"a\\u0000b":1}}',
    { ...none, deadLetters: [{ reason: 'schema: metrics.a\uFFFDb: Invalid key in record', payload_head: '{"metrics":{"a\\u0000b":1}}' }] },
  ],
]
describe.each(backends().flatMap((b) => escapedNul.map((c) => [b, ...c] as const)))(
  'an escaped NUL on the %s backend, in %s',
  (backend, _what, channel, payload, fate) => {
    let fl: TestInstance
    beforeAll(async () => {
      fl = await startTest(backend)
    })
    afterAll(() => closeWithin(fl, 3_000))
    const { metric, points, stored } = helpers(() => fl)

    it('is stored with U+FFFD for the NUL, or dead-lettered, exactly once, without jamming the writer for the messages after it', async () => {
      const client = await connectDevice(tcpUrl(fl.faultline.mqttPort), 'nul-2', await fl.registerDevice('nul-2'))
      try {
        await client.publishAsync(`devices/nul-2/${channel}`, payload, { qos: 1 })
        await client.publishAsync('devices/nul-2/telemetry', telemetry({ after: 1 }), { qos: 1 })
      } finally {
        await client.endAsync(true)
      }
      await stored('nul-2', 'after')
      expect((await points('nul-2')).map((p) => p.metric)).toEqual(['after'])
      expect(await metric('faultline_write_retries_total')).toBe(0)
      await fl.close()
      const read = await readStored(fl.config, async (db) => ({
        events: (await db.query('SELECT type, code, detail FROM device_events WHERE device_id = $1', ['nul-2'])).rows,
        status: (await db.query('SELECT online, fw, details FROM device_status WHERE device_id = $1', ['nul-2'])).rows,
        deadLetters: (await db.query('SELECT reason, payload_head FROM dead_letters WHERE device_id = $1', ['nul-2'])).rows,
      }))
      expect(read).toEqual(fate)
    })
  },
)
