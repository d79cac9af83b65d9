// GET /api/devices/:id/events and /status: what a device published over MQTT reads back exactly as stored,
// field by field, time-ranged and paged with a cursor, on each backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { backends, eventually, startTest, type TestInstance } from './support/faultline.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'

/** two hours ago: inside the default 24 h range, not in the future of the range's `to` */
const T0 = Date.now() - 2 * 3_600_000
const iso = (ms: number) => new Date(ms).toISOString()
/** a range wide enough for everything these tests publish */
const ALL = `from=${T0 - 60_000}&to=${T0 + 3_600_000}`

describe.each(backends())('device events and status on the %s backend', (backend) => {
  let fl: TestInstance
  let client: MqttClient
  /** the receive times lie between these: before the first publish, after the last ack */
  let sentFrom = 0
  let ackedBy = 0
  beforeAll(async () => {
    fl = await startTest(backend)
    client = await connectDevice(tcpUrl(fl.faultline.mqttPort), 'hist-1', await fl.registerDevice('hist-1'))
    sentFrom = Date.now()
    const publish = (channel: string, payload: unknown) => client.publishAsync(`devices/hist-1/${channel}`, JSON.stringify(payload), { qos: 1 })
    await publish('events', { ts: T0, seq: 7, type: 'fault', code: 'E1', detail: 'fan stalled' })
    await publish('events', { ts: T0, type: 'fault', code: 'E2' }) // same time, another code: its own row
    await publish('events', { ts: iso(T0 + 60_000), type: 'fault_cleared', code: 'E1' })
    await publish('status', { ts: T0, online: true, fw: '2.4.1', rssi: -61, board: { rev: 'C' } })
    await publish('status', { ts: T0 + 30_000 })
    ackedBy = Date.now()
    await eventually(async () => {
      const [events, status] = await Promise.all([fl.api('GET', `/api/devices/hist-1/events?${ALL}`), fl.api('GET', `/api/devices/hist-1/status?${ALL}`)])
      return events.body.events.length === 3 && status.body.status.length === 2 ? true : undefined
    })
  })
  afterAll(async () => {
    await client?.endAsync()
    await fl?.close()
  })

  /** Receive times are Faultline's: within the publishing window, the same for the fields of one row. */
  const received = (rows: { receivedAt: string }[]) => {
    for (const r of rows) expect(Date.parse(r.receivedAt)).toBeGreaterThanOrEqual(sentFrom - 1)
    for (const r of rows) expect(Date.parse(r.receivedAt)).toBeLessThanOrEqual(ackedBy + 1)
    return rows.map(({ receivedAt: _, ...rest }) => rest)
  }

  it('events: every stored field, oldest first, ties in code order', async () => {
    const res = await fl.api('GET', `/api/devices/hist-1/events?${ALL}`)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ deviceId: 'hist-1', next: null })
    expect(received(res.body.events)).toEqual([
      { time: iso(T0), type: 'fault', code: 'E1', seq: 7, detail: 'fan stalled' },
      { time: iso(T0), type: 'fault', code: 'E2', seq: null, detail: null },
      { time: iso(T0 + 60_000), type: 'fault_cleared', code: 'E1', seq: null, detail: null },
    ])
  })

  it('status: online, firmware and every other key the device sent', async () => {
    const res = await fl.api('GET', `/api/devices/hist-1/status?${ALL}`)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ deviceId: 'hist-1', next: null })
    expect(received(res.body.status)).toEqual([
      { time: iso(T0), online: true, fw: '2.4.1', details: { rssi: -61, board: { rev: 'C' } } },
      { time: iso(T0 + 30_000), online: null, fw: null, details: {} },
    ])
  })

  it('pages with a cursor: each row once, across rows of the same time', async () => {
    const seen: string[] = []
    let url = `/api/devices/hist-1/events?${ALL}&limit=1`
    for (let pages = 0; pages < 5; pages++) {
      const res = await fl.api('GET', url)
      expect(res.status).toBe(200)
      seen.push(...res.body.events.map((e: { time: string; code: string; type: string }) => `${e.time} ${e.code} ${e.type}`))
      if (res.body.next === null) break
      url = `/api/devices/hist-1/events?${ALL}&limit=1&cursor=${res.body.next}`
    }
    expect(seen).toEqual([`${iso(T0)} E1 fault`, `${iso(T0)} E2 fault`, `${iso(T0 + 60_000)} E1 fault_cleared`])

    const first = await fl.api('GET', `/api/devices/hist-1/status?${ALL}&limit=1`)
    expect(first.body.status.map((s: { time: string }) => s.time)).toEqual([iso(T0)])
    const second = await fl.api('GET', `/api/devices/hist-1/status?${ALL}&limit=1&cursor=${first.body.next}`)
    expect(second.body.status.map((s: { time: string }) => s.time)).toEqual([iso(T0 + 30_000)])
  })

  it('time-ranged like telemetry: from inclusive, to exclusive; a reversed range or a forged cursor is a 400', async () => {
    const events = await fl.api('GET', `/api/devices/hist-1/events?from=${iso(T0 + 1)}&to=${T0 + 60_001}`)
    expect(events.body.events.map((e: { code: string; type: string }) => e.code + e.type)).toEqual(['E1fault_cleared'])
    const status = await fl.api('GET', `/api/devices/hist-1/status?from=${T0}&to=${T0 + 30_000}`)
    expect(status.body.status.map((s: { time: string }) => s.time)).toEqual([iso(T0)])
    // The default range is the last 24 h, up to now.
    expect((await fl.api('GET', '/api/devices/hist-1/events')).body.events).toHaveLength(3)
    expect((await fl.api('GET', `/api/devices/hist-1/status?to=${T0}`)).body.status).toEqual([])

    const reversed = await fl.api('GET', `/api/devices/hist-1/status?from=${T0 + 1}&to=${T0}`)
    expect(reversed).toMatchObject({ status: 400, body: { error: 'bad_request', message: 'querystring.from: must not be after to' } })
    const forged = await fl.api('GET', `/api/devices/hist-1/events?${ALL}&cursor=bm90LWEtY3Vyc29y`)
    expect(forged).toMatchObject({ status: 400, body: { error: 'bad_request' } })
  })

  it('an unknown device is a 404', async () => {
    for (const route of ['events', 'status']) {
      expect(await fl.api('GET', `/api/devices/nobody/${route}`)).toMatchObject({
        status: 404,
        body: { error: 'not_found', message: 'device nobody does not exist' },
      })
    }
  })
})
