// What "accepted" promises: a QoS 1 PUBACK means durable (a SIGKILL right after loses nothing), a redelivered
// QoS 1 message lands once, a slow or absent database delays and pushes back but drops nothing, and a graceful
// shutdown writes everything accepted. Real MQTT over TCP, real databases, Faultline as a child process where it dies.
import { readdirSync, readFileSync, existsSync } from 'node:fs'
import path from 'node:path'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Config } from '../src/config/index.js'
import { spawnFaultline } from './support/child-faultline.js'
import { backends, eventually, startTest, startTestInstance, testConfig, type TestInstance } from './support/faultline.js'
import { metricValue } from './support/metrics.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'
import { isPuback, rawConnect } from './support/mqtt-wire.js'
import { throwawayCluster, type ThrowawayCluster } from './support/postgres.js'
import { readStored } from './support/stored.js'
import { startsWithin } from './support/waits.js'

const hasServer = backends().includes('server')

/** Distinct device timestamps, 10 ms apart, safely inside the accepted window. */
const baseTime = () => Math.floor(Date.now() / 1000) * 1000 - 20 * 60_000
const sample = (t0: number, i: number) => JSON.stringify({ ts: t0 + i * 10, seq: i, metrics: { temp: i } })

/** Raw points of a device over a wide window, through the telemetry API. */
async function points(api: TestInstance['api'], deviceId: string, metric?: string): Promise<{ time: string; metric: string; value: number }[]> {
  const q = `from=0&to=${Date.now() + 3_600_000}&limit=100000${metric ? `&metric=${metric}` : ''}`
  const res = await api('GET', `/api/devices/${deviceId}/telemetry?${q}`)
  if (res.status !== 200) throw new Error(`telemetry: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.points
}

const waitForCount = (api: TestInstance['api'], deviceId: string, n: number) =>
  eventually(async () => {
    const p = await points(api, deviceId)
    return p.length >= n ? p : undefined
  })

/** Telemetry rows of a device, read from the database itself while no Faultline runs on it. */
const storedRows = (config: Config, deviceId: string) =>
  readStored(config, async (db) => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM telemetry WHERE device_id = $1', [deviceId])).rows[0]!.n)

const walDir = (dataDir: string) => path.join(dataDir, 'wal')
const walSegments = (dataDir: string) => (existsSync(walDir(dataDir)) ? readdirSync(walDir(dataDir)).filter((f) => f.endsWith('.wal')) : [])
const walEntries = (dataDir: string) =>
  walSegments(dataDir).reduce(
    (n, f) =>
      n +
      readFileSync(path.join(walDir(dataDir), f), 'utf8')
        .split('\n')
        .filter(Boolean).length,
    0,
  )

/** Publishes QoS 1 samples i in [from, to) in parallel batches; resolves when the last PUBACK is in. */
async function publishQos1(client: MqttClient, topic: string, t0: number, from: number, to: number, batch = 250): Promise<void> {
  for (let start = from; start < to; start += batch) {
    const end = Math.min(start + batch, to)
    await Promise.all(Array.from({ length: end - start }, (_, k) => client.publishAsync(topic, sample(t0, start + k), { qos: 1 })))
  }
}

describe.each(backends())('QoS 1 redelivery on the %s backend', (backend) => {
  let fl: TestInstance
  let token: string
  beforeAll(async () => {
    fl = await startTest(backend)
    token = await fl.registerDevice('dup-1')
  })
  afterAll(() => fl?.close())

  const rowsWritten = () => metricValue(fl.faultline.httpPort, 'faultline_rows_written_total')
  /** Waits until the writer has committed (or found already present) at least `rows` more rows than `before`. */
  const writtenPast = (before: number, rows: number) => eventually(async () => ((await rowsWritten()) >= before + rows ? true : undefined))
  const topic = 'devices/dup-1/telemetry'

  it('stores a message resent with DUP and the same packet id once, when it carries a device timestamp', async () => {
    const ts = Date.now() - 60_000
    const payload = Buffer.from(JSON.stringify({ ts, metrics: { ts_temp: 4.5, ts_door: 1 } }))
    const before = await rowsWritten()
    const conn = await rawConnect(fl.faultline.mqttPort, 'dup-1', token)
    conn.send({ cmd: 'publish', qos: 1, dup: false, retain: false, messageId: 7, topic, payload })
    await conn.waitFor(isPuback(7))
    conn.send({ cmd: 'publish', qos: 1, dup: true, retain: false, messageId: 7, topic, payload })
    await eventually(async () => (conn.received.filter(isPuback(7)).length === 2 ? true : undefined))
    await conn.close()
    // Both deliveries went through the writer (2 rows each) before the read.
    await writtenPast(before, 4)
    expect(await points(fl.api, 'dup-1', 'ts_temp')).toEqual([{ time: new Date(ts).toISOString(), metric: 'ts_temp', value: 4.5 }])
    expect(await points(fl.api, 'dup-1', 'ts_door')).toHaveLength(1)
  })

  it('stores a message resent with DUP and the same packet id once, when it has no timestamp (first receive time reused)', async () => {
    const payload = Buffer.from(JSON.stringify({ metrics: { nots_temp: 3, nots_door: 0 } }))
    const before = await rowsWritten()
    const conn = await rawConnect(fl.faultline.mqttPort, 'dup-1', token)
    const sent = Date.now()
    conn.send({ cmd: 'publish', qos: 1, dup: false, retain: false, messageId: 7, topic, payload })
    await conn.waitFor(isPuback(7))
    const acked = Date.now()
    const [first] = await eventually(async () => {
      const p = await points(fl.api, 'dup-1', 'nots_temp')
      return p.length === 1 ? p : undefined
    })
    // Without a ts the point is dated at its receive time, stamped between the send and the PUBACK.
    expect(Date.parse(first!.time)).toBeGreaterThanOrEqual(sent)
    expect(Date.parse(first!.time)).toBeLessThanOrEqual(acked)
    // The resend goes out once the clock has moved past that receive time: a fresh receive time would differ from it.
    await eventually(async () => (Date.now() > Date.parse(first!.time) ? true : undefined))
    conn.send({ cmd: 'publish', qos: 1, dup: true, retain: false, messageId: 7, topic, payload })
    await eventually(async () => (conn.received.filter(isPuback(7)).length === 2 ? true : undefined))
    await conn.close()
    await writtenPast(before, 4)
    expect(await points(fl.api, 'dup-1', 'nots_temp')).toEqual([first])
    expect(await points(fl.api, 'dup-1', 'nots_door')).toHaveLength(1)
  })

  it('stores a timestamp-less message once when the resend comes on a new connection after the first was lost', async () => {
    const payload = Buffer.from(JSON.stringify({ metrics: { reconnect_temp: 8 } }))
    const before = await rowsWritten()
    const lost = await rawConnect(fl.faultline.mqttPort, 'dup-1', token)
    lost.send({ cmd: 'publish', qos: 1, dup: false, retain: false, messageId: 9, topic, payload })
    await lost.waitFor(isPuback(9))
    await lost.close() // the device never saw this PUBACK: it reconnects and resends
    await writtenPast(before, 1)
    const again = await rawConnect(fl.faultline.mqttPort, 'dup-1', token)
    again.send({ cmd: 'publish', qos: 1, dup: true, retain: false, messageId: 9, topic, payload })
    await again.waitFor(isPuback(9))
    await again.close()
    await writtenPast(before, 2)
    expect(await points(fl.api, 'dup-1', 'reconnect_temp')).toHaveLength(1)
  })

  it('stores a new message that reuses a packet id without DUP as a new point', async () => {
    const payload = Buffer.from(JSON.stringify({ metrics: { reuse_temp: 1 } }))
    const conn = await rawConnect(fl.faultline.mqttPort, 'dup-1', token)
    conn.send({ cmd: 'publish', qos: 1, dup: false, retain: false, messageId: 11, topic, payload })
    await conn.waitFor(isPuback(11))
    await eventually(async () => ((await points(fl.api, 'dup-1', 'reuse_temp')).length === 1 ? true : undefined))
    conn.send({ cmd: 'publish', qos: 1, dup: false, retain: false, messageId: 11, topic, payload })
    await eventually(async () => ((await points(fl.api, 'dup-1', 'reuse_temp')).length === 2 ? true : undefined))
    await conn.close()
  })
})

describe.each(backends())('a crash right after the PUBACKs on the %s backend', (backend) => {
  it('loses none of 1,000 acknowledged QoS 1 messages when Faultline is killed with SIGKILL at the last PUBACK', startsWithin(2), async () => {
    const config = await testConfig(backend)
    const child = await spawnFaultline({
      FAULTLINE_DATA_DIR: config.dataDir,
      ...(config.databaseUrl ? { DATABASE_URL: config.databaseUrl } : {}),
      // A writer slow to drain: acknowledged messages sit in the write-ahead log, not yet in the database.
      FAULTLINE_WRITER_FLUSH_MS: '30000',
      FAULTLINE_WRITER_BATCH_ROWS: '100000',
    })
    let restarted: TestInstance | undefined
    try {
      const token = await child.registerDevice('kill-1')
      const client = await connectDevice(tcpUrl(child.mqttPort), 'kill-1', token)
      const t0 = baseTime()
      await publishQos1(client, 'devices/kill-1/telemetry', t0, 0, 1000)
      child.process.kill('SIGKILL')
      expect(await child.exited).toEqual({ code: null, signal: 'SIGKILL' })
      client.end(true)

      // At the kill, the database had few or none of them; the write-ahead log had all of them.
      expect(await storedRows(config, 'kill-1')).toBeLessThan(1000)
      expect(walEntries(config.dataDir)).toBeGreaterThanOrEqual(1000)

      restarted = await startTestInstance(config)
      const stored = await waitForCount(restarted.api, 'kill-1', 1000)
      expect(stored).toHaveLength(1000)
      expect(stored.map((p) => p.value)).toEqual(Array.from({ length: 1000 }, (_, i) => i))
      expect(stored[0]!.time).toBe(new Date(t0).toISOString())
    } finally {
      child.process.kill('SIGKILL')
      await restarted?.close()
    }
  })

  it('stores a dead letter accepted before a crash once, not again on the replay after the restart', startsWithin(2), async () => {
    const config = await testConfig(backend)
    const child = await spawnFaultline({ FAULTLINE_DATA_DIR: config.dataDir, ...(config.databaseUrl ? { DATABASE_URL: config.databaseUrl } : {}) })
    let restarted: TestInstance | undefined
    try {
      const token = await child.registerDevice('dl-1')
      const client = await connectDevice(tcpUrl(child.mqttPort), 'dl-1', token)
      await client.publishAsync('devices/dl-1/telemetry', '{not json', { qos: 1 })
      await eventually(async () => ((await child.api('GET', '/api/dead-letters?deviceId=dl-1')).body.deadLetters.length === 1 ? true : undefined))
      child.process.kill('SIGKILL')
      await child.exited
      client.end(true)

      restarted = await startTestInstance(config)
      // The restart has replayed whatever the log held once the queue is empty again.
      await eventually(async () =>
        walEntries(config.dataDir) === 0 || (await metricValue(restarted!.faultline.httpPort, 'faultline_rows_written_total')) > 0 ? true : undefined,
      )
      await eventually(async () => ((await metricValue(restarted!.faultline.httpPort, 'faultline_write_queue_rows')) === 0 ? true : undefined))
      expect((await restarted.api('GET', '/api/dead-letters?deviceId=dl-1')).body.deadLetters).toHaveLength(1)
    } finally {
      child.process.kill('SIGKILL')
      await restarted?.close()
    }
  })
})

describe.each(backends())('graceful shutdown on the %s backend', (backend) => {
  const slowWriter = { FAULTLINE_WRITER_FLUSH_MS: '60000', FAULTLINE_WRITER_BATCH_ROWS: '100000' }

  it('close() writes all 500 accepted QoS 0 messages at once (not after the flush interval) and leaves no log segment', startsWithin(2), async () => {
    const fl = await startTest(backend, slowWriter)
    const token = await fl.registerDevice('bye-1')
    const client = await connectDevice(tcpUrl(fl.faultline.mqttPort), 'bye-1', token)
    const t0 = baseTime()
    await Promise.all(Array.from({ length: 500 }, (_, i) => client.publishAsync('devices/bye-1/telemetry', sample(t0, i), { qos: 0 })))
    const accepted = () => metricValue(fl.faultline.httpPort, 'faultline_messages_accepted_total', { channel: 'telemetry' })
    await eventually(async () => ((await accepted()) === 500 ? true : undefined))
    expect(await metricValue(fl.faultline.httpPort, 'faultline_rows_written_total')).toBe(0)

    const started = Date.now()
    await fl.close()
    expect(Date.now() - started).toBeLessThan(20_000)
    client.end(true)
    expect(walSegments(fl.config.dataDir)).toEqual([])
    expect(await storedRows(fl.config, 'bye-1')).toBe(500)

    const restarted = await startTestInstance(fl.config)
    try {
      const stored = await points(restarted.api, 'bye-1')
      expect(stored.map((p) => p.value)).toEqual(Array.from({ length: 500 }, (_, i) => i))
    } finally {
      await restarted.close()
    }
  })

  it('SIGTERM: the process stops accepting, writes all 500 accepted QoS 0 messages, and exits 0', startsWithin(2), async () => {
    const config = await testConfig(backend)
    const child = await spawnFaultline({
      FAULTLINE_DATA_DIR: config.dataDir,
      ...(config.databaseUrl ? { DATABASE_URL: config.databaseUrl } : {}),
      ...slowWriter,
    })
    try {
      const token = await child.registerDevice('term-1')
      const client = await connectDevice(tcpUrl(child.mqttPort), 'term-1', token)
      const t0 = baseTime()
      await Promise.all(Array.from({ length: 500 }, (_, i) => client.publishAsync('devices/term-1/telemetry', sample(t0, i), { qos: 0 })))
      await eventually(async () =>
        (await metricValue(child.httpPort, 'faultline_messages_accepted_total', { channel: 'telemetry' })) === 500 ? true : undefined,
      )
      expect(await metricValue(child.httpPort, 'faultline_rows_written_total')).toBe(0)

      child.process.kill('SIGTERM')
      expect(await child.exited).toEqual({ code: 0, signal: null })
      client.end(true)
      expect(child.logs.map((l) => l.msg)).toContain('Faultline stopped; everything accepted is stored')
      expect(walSegments(config.dataDir)).toEqual([])
      expect(await storedRows(config, 'term-1')).toBe(500)
    } finally {
      child.process.kill('SIGKILL')
    }
  })
})

describe.skipIf(!hasServer)('a database outage on the server backend', () => {
  let cluster: ThrowawayCluster
  beforeAll(async () => {
    cluster = await throwawayCluster()
  })
  afterAll(() => cluster?.destroy())

  it('keeps acknowledging QoS 1 from the log while the database is down, retries, and stores everything once it is back', startsWithin(1), async () => {
    const fl = await startTest('server', { DATABASE_URL: cluster.url })
    try {
      const token = await fl.registerDevice('outage-1')
      const client = await connectDevice(tcpUrl(fl.faultline.mqttPort), 'outage-1', token)
      const topic = 'devices/outage-1/telemetry'
      const t0 = baseTime()

      await publishQos1(client, topic, t0, 0, 100)
      await waitForCount(fl.api, 'outage-1', 100)

      cluster.stop()
      // Acknowledged with the database gone: the PUBACKs come from the write-ahead log.
      await publishQos1(client, topic, t0, 100, 200)
      await eventually(async () => ((await metricValue(fl.faultline.httpPort, 'faultline_write_retries_total')) > 0 ? true : undefined))
      expect(await metricValue(fl.faultline.httpPort, 'faultline_write_queue_rows')).toBe(100)
      const notReady = await fetch(`http://127.0.0.1:${fl.faultline.httpPort}/readyz`)
      expect(notReady.status).toBe(503)
      expect(await notReady.json()).toMatchObject({ status: 'not_ready', broker: 'ok' })

      cluster.start()
      await publishQos1(client, topic, t0, 200, 300)
      const stored = await waitForCount(fl.api, 'outage-1', 300)
      expect(stored.map((p) => p.value)).toEqual(Array.from({ length: 300 }, (_, i) => i))
      expect(await metricValue(fl.faultline.httpPort, 'faultline_write_retries_total')).toBeGreaterThan(0)
      await client.endAsync()
    } finally {
      await fl.close()
    }
  })

  it('pushes back when the write queue is full: PUBACKs stall while the database is down, then all complete and are stored', startsWithin(1), async () => {
    const fl = await startTest('server', { DATABASE_URL: cluster.url, FAULTLINE_WRITER_QUEUE_ROWS: '50' })
    try {
      const token = await fl.registerDevice('press-1')
      const client = await connectDevice(tcpUrl(fl.faultline.mqttPort), 'press-1', token)
      const metric = (name: string) => metricValue(fl.faultline.httpPort, name)
      const t0 = baseTime()

      cluster.stop()
      let acked = 0
      const publishes = Array.from({ length: 200 }, (_, i) =>
        client.publishAsync('devices/press-1/telemetry', sample(t0, i), { qos: 1 }).then(() => {
          acked++
        }),
      )
      await eventually(async () => ((await metric('faultline_backpressure_waits_total')) > 0 ? true : undefined))
      // Let the writer fail a few more times with the database still down: no PUBACK beyond the queue's room goes out.
      const retries = await metric('faultline_write_retries_total')
      await eventually(async () => ((await metric('faultline_write_retries_total')) >= retries + 3 ? true : undefined))
      expect(acked).toBeGreaterThan(0)
      expect(acked).toBeLessThanOrEqual(50)
      expect(await metric('faultline_write_queue_rows')).toBeLessThanOrEqual(50)

      cluster.start()
      await Promise.all(publishes)
      expect(acked).toBe(200)
      const stored = await waitForCount(fl.api, 'press-1', 200)
      expect(stored.map((p) => p.value)).toEqual(Array.from({ length: 200 }, (_, i) => i))
      await client.endAsync()
    } finally {
      await fl.close()
    }
  })
})
