// End to end: a registered device publishes over MQTT (TCP, WebSocket, and Debian's mosquitto_pub),
// and its points come back from the telemetry endpoint, on each backend.
import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends, eventually, startTest, type TestInstance } from './support/faultline.js'
import { connectDevice, tcpUrl, wsUrl } from './support/mqtt.js'

const hasMosquittoPub = spawnSync('mosquitto_pub', ['--help']).error === undefined

describe.each(backends())('gateway on the %s backend', (backend) => {
  let fl: TestInstance
  beforeAll(async () => {
    fl = await startTest(backend)
  })
  afterAll(() => fl?.close())

  const points = async (id: string, query = '') =>
    (await fl.api('GET', `/api/devices/${id}/telemetry?${query}`)).body.points as { time: string; metric: string; value: number }[]

  it('stores telemetry published over TCP and reads it back', async () => {
    const token = await fl.registerDevice('tcp-1')
    const client = await connectDevice(tcpUrl(fl.faultline.mqttPort), 'tcp-1', token)
    const t0 = Date.now() - 60_000
    for (let i = 0; i < 10; i++) {
      await client.publishAsync('devices/tcp-1/telemetry', JSON.stringify({ ts: t0 + i * 1000, seq: i, metrics: { temp: 4 + i / 10, door: i % 2 } }), {
        qos: 1,
      })
    }
    await client.endAsync()
    // QoS 1 acknowledged means durable, not yet necessarily in the database: wait for the writer.
    const temp = await eventually(async () => {
      const p = await points('tcp-1', 'metric=temp')
      return p.length === 10 ? p : undefined
    })
    expect(temp[0]).toEqual({ time: new Date(t0).toISOString(), metric: 'temp', value: 4 })
    expect(temp[9]?.value).toBeCloseTo(4.9)
    expect(await points('tcp-1', 'metric=door')).toHaveLength(10)
  })

  it('stores telemetry published over WebSocket, a backlog array included', async () => {
    const token = await fl.registerDevice('ws-1')
    const client = await connectDevice(wsUrl(fl.faultline.httpPort), 'ws-1', token)
    const t0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000 // on the hour, so buckets align
    const backlog = Array.from({ length: 120 }, (_, i) => ({ ts: new Date(t0 + i * 30_000).toISOString(), metrics: { pressure: 7 + (i % 3) } }))
    await client.publishAsync('devices/ws-1/telemetry', JSON.stringify(backlog), { qos: 1 })
    await client.endAsync()
    const all = await eventually(async () => {
      const p = await points('ws-1', `from=${t0}`)
      return p.length === 120 ? p : undefined
    })
    expect(all.map((p) => p.value).slice(0, 4)).toEqual([7, 8, 9, 7])

    const buckets = (await fl.api('GET', `/api/devices/ws-1/telemetry?metric=pressure&from=${t0}&bucket=15m`)).body
    expect(buckets.bucketSeconds).toBe(900)
    expect(buckets.points.reduce((n: number, b: { count: number }) => n + b.count, 0)).toBe(120)
    for (const b of buckets.points) {
      expect(b.min).toBeGreaterThanOrEqual(7)
      expect(b.max).toBeLessThanOrEqual(9)
    }
    const minutes = (await fl.api('GET', `/api/devices/ws-1/telemetry?metric=pressure&from=${t0}&bucket=1m`)).body.points
    expect(minutes).toHaveLength(60)
    expect(minutes[0]).toMatchObject({ min: 7, max: 8, count: 2, avg: 7.5 })
  })

  // Debian's mosquitto-clients: .ci/run installs it; a plain `npm test` elsewhere skips this one without it.
  it.runIf(hasMosquittoPub || process.env.CI)('takes a publish from mosquitto_pub, a non-JavaScript MQTT 3.1.1 client', async () => {
    const token = await fl.registerDevice('mosq-1')
    // Asynchronously: Faultline runs in this process and must keep serving while mosquitto_pub waits for its PUBACK.
    await promisify(execFile)('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(fl.faultline.mqttPort),
      '-V',
      'mqttv311',
      '-q',
      '1',
      '-u',
      'mosq-1',
      '-P',
      token,
      '-t',
      'devices/mosq-1/telemetry',
      '-m',
      '{"metrics":{"rpm":1450}}',
    ])
    const stored = await eventually(async () => {
      const p = await points('mosq-1')
      return p.length === 1 ? p : undefined
    })
    expect(stored[0]).toMatchObject({ metric: 'rpm', value: 1450 })
  })

  it('stores events and status, and records when the device was last seen', async () => {
    const token = await fl.registerDevice('ev-1')
    const client = await connectDevice(tcpUrl(fl.faultline.mqttPort), 'ev-1', token)
    await client.publishAsync('devices/ev-1/events', JSON.stringify({ type: 'fault', code: 'E1', detail: 'sensor open' }), { qos: 1 })
    // Last seen is the receive time of the latest message: stamped between these two readings of the clock.
    const beforeStatus = Date.now()
    await client.publishAsync('devices/ev-1/status', JSON.stringify({ online: true, fw: '2.1.0', rssi: -61 }), { qos: 1 })
    const statusAcked = Date.now()
    await client.endAsync()
    // Written once a second: the event's receive time may show first; the status's must follow, and no later one.
    const device = await eventually(async () => {
      const d = (await fl.api('GET', '/api/devices/ev-1')).body
      return d.lastSeenAt && Date.parse(d.lastSeenAt) >= beforeStatus ? d : undefined
    })
    expect(Date.parse(device.lastSeenAt)).toBeLessThanOrEqual(statusAcked)
  })
})
