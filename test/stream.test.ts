// The live fault stream, GET /ws/faults (issue 10): real WebSocket clients over real HTTP to a real Faultline,
// faults published over MQTT, on each backend.
import { mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { z } from 'zod'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { createLogger, startFaultline } from '../src/main.js'
import { openStore } from '../src/store/index.js'
import { streamMessage, TOO_SLOW, type NewStreamEvent, type StreamEvent, type StreamMessage } from '../src/stream/index.js'
import { compileFilter } from '../src/stream/filter.js'
import { appendStreamEvents, readAfter } from '../src/stream/outbox.js'
import { closeWhenTestEnds } from './support/cleanup.js'
import { spawnFaultline } from './support/child-faultline.js'
import { ManualClock } from './support/clock.js'
import { API_TOKEN, backends, eventually, startTest, startTestInstance, testConfig, type TestInstance } from './support/faultline.js'
import { metricValue } from './support/metrics.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'
import { connectStream, isType, type StreamClient } from './support/stream-client.js'
import { sharedClusterUrl } from './support/postgres.js'

const FRIDGE = 'BCD-516WDVL'
const isEvent = (m: StreamMessage): m is StreamEvent => 'id' in m
const fault = (client: MqttClient, id: string, code: string, ts = Date.now()) =>
  client.publishAsync(`devices/${id}/events`, JSON.stringify({ ts, type: 'fault', code }), { qos: 1 })
const eventsOf = (c: StreamClient) => c.messages.filter(isEvent)
/** The backfill a fresh client gets with `query`: every event up to caught_up. */
async function backfill(httpPort: number, query: string): Promise<StreamEvent[]> {
  const c = await connectStream(httpPort, query)
  await c.waitFor(isType('caught_up'))
  await c.close()
  return c.messages.slice(0, c.messages.findIndex(isType('caught_up'))).filter(isEvent)
}
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => ({ status: 101, body: undefined }),
    (err: { status: number; body: unknown }) => err,
  )

describe.each(backends())('the live fault stream on the %s backend', (backend) => {
  let fl: TestInstance
  beforeAll(async () => {
    fl = await startTest(backend)
  })
  afterAll(() => fl?.close())

  async function device(id: string, extra: Record<string, unknown> = {}): Promise<MqttClient> {
    const token = await fl.registerDevice(id, { model: FRIDGE, purchasedAt: '2025-01-10', region: 'east', site: 'store-7', ...extra })
    return connectDevice(tcpUrl(fl.faultline.mqttPort), id, token)
  }

  it('a fault published over MQTT arrives as detection.raised then ticket.opened, and after= resumes with exactly what was missed', async () => {
    const stream = await connectStream(fl.faultline.httpPort, '?device=st-1')
    await stream.waitFor(isType('caught_up'))
    const client = await device('st-1')
    await fault(client, 'st-1', 'E1')
    const raised = await stream.waitFor(isType('detection.raised'))
    const opened = await stream.waitFor(isType('ticket.opened'))
    expect(raised).toMatchObject({
      type: 'detection.raised',
      deviceId: 'st-1',
      model: FRIDGE,
      region: 'east',
      site: 'store-7',
      severity: 'major',
      priority: null,
      detection: { condition: 'fault:E1', trigger: 'fault_code', code: 'E1', title: 'Condenser fan motor fault', component: 'fan_motor', severity: 'major' },
    })
    expect(opened).toMatchObject({
      type: 'ticket.opened',
      deviceId: 'st-1',
      priority: 'P2',
      ticket: { kind: 'repair', status: 'open', priority: 'P2', condition: 'fault:E1', action: 'opened', by: 'faultline', occurrences: 1 },
    })
    expect((opened as StreamEvent).id).toBeGreaterThan((raised as StreamEvent).id)

    // Away: a transition and another fault happen meanwhile; back with after=, exactly those, in order, then live.
    const seen = (opened as StreamEvent).id
    await stream.close()
    const { body: ticket } = await fl.api('GET', `/api/tickets/${(opened as StreamEvent).ticket!.id}`)
    expect((await fl.api('POST', `/api/tickets/${ticket.id}/transitions`, { to: 'acknowledged', by: 'duty' })).status).toBe(200)
    await fault(client, 'st-1', 'E2')
    const back = await connectStream(fl.faultline.httpPort, `?device=st-1&after=${seen}`)
    await back.waitFor((m) => m.type === 'ticket.opened' && isEvent(m) && m.ticket!.condition !== 'fault:E1')
    const caughtUp = back.messages.findIndex(isType('caught_up'))
    const events = back.messages.filter(isEvent)
    expect(events.map((e) => e.type)).toEqual(['ticket.transitioned', 'detection.raised', 'ticket.opened'])
    expect(events[0]).toMatchObject({ ticket: { status: 'acknowledged', action: 'acknowledged', by: 'duty' } })
    const ids = events.map((e) => e.id)
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    expect(ids[0]).toBeGreaterThan(seen)
    expect(caughtUp).toBeGreaterThanOrEqual(0)
  })

  it('takes the token from the header, ?token= or the bearer subprotocol, and refuses anything else with 401 before the upgrade', async () => {
    const port = fl.faultline.httpPort
    await (await connectStream(port)).close()
    await (await connectStream(port, `?token=${API_TOKEN}`, {})).close()
    const viaProtocol = await connectStream(port, '', { protocols: ['bearer', API_TOKEN] })
    expect(viaProtocol.socket.protocol).toBe('bearer')
    await viaProtocol.close()
    expect(await refusal(connectStream(port, '', {}))).toMatchObject({ status: 401, body: { error: 'unauthorized' } })
    expect(await refusal(connectStream(port, '?token=wrong-token-0123456789', {}))).toMatchObject({ status: 401 })
    expect(await refusal(connectStream(port, '', { headers: { authorization: 'Bearer wrong-token-0123456789' } }))).toMatchObject({ status: 401 })
    expect(await refusal(connectStream(port, '', { protocols: ['bearer', 'wrong-token-0123456789'] }))).toMatchObject({ status: 401 })
    // No token and a bad filter: the stranger is refused, not told about parameters.
    expect(await refusal(connectStream(port, '?colour=red', {}))).toMatchObject({ status: 401 })
  })

  it('refuses an unknown parameter or a bad value with 400 and the usual error body, before the upgrade', async () => {
    const port = fl.faultline.httpPort
    for (const query of [
      '?colour=red',
      '?minPriority=P9',
      '?minSeverity=awful',
      '?types=ticket.opened,ticket.exploded',
      '?after=-1',
      '?last=0',
      '?since=yesterday',
      '?after=1&last=5',
    ]) {
      expect(await refusal(connectStream(port, query)), query).toMatchObject({ status: 400, body: { error: 'bad_request', message: expect.any(String) } })
    }
  })

  it('filters by device, minimum priority and severity and event types, the same in the backfill and live', async () => {
    const port = fl.faultline.httpPort
    const highPriority = await connectStream(port, '?device=st-f&minPriority=P2')
    const criticalRaises = await connectStream(port, '?device=st-f&minSeverity=critical&types=detection.raised')
    const everything = await connectStream(port, '?device=st-f')
    const client = await device('st-f')
    await device('st-other').then((other) => fault(other, 'st-other', 'E7'))
    for (const code of ['E1', 'E7', 'F1']) await fault(client, 'st-f', code)
    await everything.waitFor((m) => m.type === 'ticket.opened' && isEvent(m) && m.ticket!.condition === 'fault:F1')
    // A last event that passes every filter: once it arrives, all before it have (frames come in id order).
    await fault(client, 'st-f', 'E8')
    const openedE8 = (m: StreamMessage) => isEvent(m) && m.type === 'ticket.opened' && m.ticket!.condition === 'fault:E8'
    await everything.waitFor(openedE8)
    await highPriority.waitFor(openedE8)
    await criticalRaises.waitFor((m) => isEvent(m) && m.type === 'detection.raised' && m.detection!.code === 'E8')

    const summary = (events: StreamEvent[]) => events.map((e) => `${e.type} ${e.detection?.code ?? e.ticket?.condition} ${e.severity} ${e.priority}`)
    expect(eventsOf(everything).every((e) => e.deviceId === 'st-f')).toBe(true)
    expect(summary(eventsOf(highPriority))).toEqual([
      'ticket.opened fault:E1 major P2',
      'ticket.opened fault:E7 critical P1',
      'ticket.opened fault:E8 critical P1',
    ])
    expect(summary(eventsOf(criticalRaises))).toEqual(['detection.raised E7 critical null', 'detection.raised E8 critical null'])
    // The backfill from storage applies the same filters.
    expect(summary(await backfill(port, '?device=st-f&minPriority=P2&after=0'))).toEqual(summary(eventsOf(highPriority)))
    expect(summary(await backfill(port, '?device=st-f&minSeverity=critical&types=detection.raised&after=0'))).toEqual(summary(eventsOf(criticalRaises)))
    expect(await backfill(port, '?device=st-f&after=0')).toEqual(eventsOf(everything))
    // Every frame is what the published schema says.
    for (const m of everything.messages) expect(streamMessage.safeParse(m).success, JSON.stringify(m)).toBe(true)
  })

  it('last= and since= backfill from storage, then caught_up, then live', async () => {
    const port = fl.faultline.httpPort
    const client = await device('st-b')
    const all = await connectStream(port, '?device=st-b')
    for (const code of ['E1', 'E2', 'E6']) await fault(client, 'st-b', code)
    await all.waitFor((m) => isEvent(m) && m.type === 'ticket.opened' && m.ticket!.condition === 'fault:E6')
    const stored = eventsOf(all)
    // Each fault's detection is on the stream before its ticket (recorded first, src/ticketing/stage.ts).
    const told = stored.map((e) => `${e.type} ${e.detection?.code ?? e.ticket?.condition}`)
    expect([...told].sort()).toEqual([
      'detection.raised E1',
      'detection.raised E2',
      'detection.raised E6',
      'ticket.opened fault:E1',
      'ticket.opened fault:E2',
      'ticket.opened fault:E6',
    ])
    for (const code of ['E1', 'E2', 'E6']) expect(told.indexOf(`detection.raised ${code}`)).toBeLessThan(told.indexOf(`ticket.opened fault:${code}`))

    expect(await backfill(port, '?device=st-b&last=2')).toEqual(stored.slice(-2))
    expect(await backfill(port, '?device=st-b&last=100')).toEqual(stored)
    const third = stored[2]!
    expect(await backfill(port, `?device=st-b&since=${encodeURIComponent(third.at)}`)).toEqual(stored.filter((e) => Date.parse(e.at) >= Date.parse(third.at)))

    // And live after the backfill, with nothing repeated.
    const resumed = await connectStream(port, '?device=st-b&last=1')
    await resumed.waitFor(isType('caught_up'))
    await fault(client, 'st-b', 'E7')
    await resumed.waitFor((m) => isEvent(m) && m.type === 'ticket.opened' && m.ticket!.condition === 'fault:E7')
    const ids = eventsOf(resumed).map((e) => e.id)
    expect(ids[0]).toBe(stored.at(-1)!.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect(eventsOf(resumed).map((e) => e.type)).toEqual(['ticket.opened', 'detection.raised', 'ticket.opened'])
  })
})

describe.each(backends())('a stream client on the %s backend', (backend) => {
  it('that stalls gets a gap with the first missed id and is closed; devices are still acknowledged; it resumes from storage losing nothing', async () => {
    const fl = await startTest(backend, {}, { streamSession: { maxBufferedBytes: 64 * 1024 } })
    const port = fl.faultline.httpPort
    const token = await fl.registerDevice('st-slow', { model: FRIDGE, purchasedAt: '2025-01-10' })
    const client = await connectDevice(tcpUrl(fl.faultline.mqttPort), 'st-slow', token)
    const slow = await connectStream(port, '?device=st-slow')
    await slow.waitFor(isType('caught_up'))
    // The client stops reading: the kernel's buffers fill, then the server's.
    ;(slow.socket as unknown as { _socket: { pause(): void } })._socket.pause()
    // Big events (2.8 kB frames), until the kernel's buffers (about 4 MB on loopback) and the 64 kB allowed are full.
    const note = 'x'.repeat(2000)
    let reports = 0
    while ((await metricValue(port, 'faultline_stream_gaps_total')) === 0) {
      expect(reports, 'no gap after this many events').toBeLessThan(5_000)
      const answers = await Promise.all(
        Array.from({ length: 20 }, () =>
          fl.api('POST', '/api/tickets', { deviceId: 'st-slow', by: 'hotline', title: `report ${reports++} ${'y'.repeat(180)}`, note }),
        ),
      )
      // Each report is a ticket, or the count below would blame the stream for a refusal.
      for (const a of answers) expect(a, 'every report opens a ticket').toMatchObject({ status: 201 })
    }
    // Ingestion does not wait for the stalled client: QoS 1 publishes are acknowledged and stored.
    for (let i = 0; i < 20; i++) await client.publishAsync('devices/st-slow/telemetry', JSON.stringify({ metrics: { fridge_temp: 4 + i / 100 } }), { qos: 1 })
    await eventually(async () => {
      const { body } = await fl.api('GET', '/api/devices/st-slow/telemetry?metric=fridge_temp')
      return body.points.length === 20 ? true : undefined
    })
    expect(await metricValue(port, 'faultline_stream_dropped_total')).toBeGreaterThan(0)

    ;(slow.socket as unknown as { _socket: { resume(): void } })._socket.resume()
    const gap = (await slow.waitFor(isType('gap'))) as Extract<StreamMessage, { type: 'gap' }>
    const { code, reason } = await slow.closed
    expect(code).toBe(TOO_SLOW)
    expect(reason).toBe(`too slow: resume with after=${gap.firstMissedId - 1}`)
    const received = eventsOf(slow)
    expect(received.at(-1)!.id).toBeLessThan(gap.firstMissedId)

    // Resumed where it stopped: every report's ticket.opened, each once, in order.
    const rest = await backfill(port, `?device=st-slow&after=${gap.firstMissedId - 1}`)
    const titles = [...received, ...rest].filter((e) => e.type === 'ticket.opened').map((e) => e.ticket!.title)
    expect(titles).toHaveLength(reports)
    expect(new Set(titles).size).toBe(reports)
    await fl.close()
  }, 300_000)

  it('gets a heartbeat at the configured interval while nothing happens', async () => {
    const fl = await startTest(backend, {}, { streamSession: { heartbeatMs: 100 } })
    const c = await connectStream(fl.faultline.httpPort)
    await c.waitFor(isType('caught_up'))
    const first = c.messages.length
    await c.waitFor(isType('heartbeat'), first)
    const second = c.messages.length
    const beat = await c.waitFor(isType('heartbeat'), second)
    expect(Date.parse(beat.at)).toBeGreaterThan(Date.now() - 60_000)
    await c.close()
    await fl.close()
  })

  it('resuming past events that retention deleted starts at the oldest kept, after a gap', async () => {
    const clock = new ManualClock(Date.now())
    const fl = await startTestInstance(await testConfig(backend, { FAULTLINE_STREAM_RETENTION: '7d' }), clock)
    const port = fl.faultline.httpPort
    await fl.registerDevice('st-old', { model: FRIDGE, purchasedAt: '2025-01-10' })
    const report = (title: string) => fl.api('POST', '/api/tickets', { deviceId: 'st-old', by: 'hotline', title })
    await report('old')
    const [old] = await backfill(port, '?after=0')
    expect(old).toMatchObject({ type: 'ticket.opened', ticket: { title: 'old' } })
    clock.set(new Date(clock.now() + 8 * 86_400_000).toISOString())
    await report('new')
    // Expired by the hub's periodic sweep: waited for, not slept.
    const resumed = await eventually(async () => {
      const c = await connectStream(port, '?after=0')
      await c.waitFor(isType('caught_up'))
      await c.close()
      return c.messages[0]?.type === 'gap' ? c.messages : undefined
    })
    expect(resumed[0]).toMatchObject({ type: 'gap', firstMissedId: 1 })
    expect(resumed.filter(isEvent).map((e) => e.ticket!.title)).toEqual(['new'])
    // A client that had seen the expired event misses nothing: no gap.
    const current = await connectStream(port, `?after=${old!.id}`)
    await current.waitFor(isType('caught_up'))
    expect(current.messages.filter(isType('gap'))).toEqual([])
    await fl.close()
  })
})

describe('the stream token in a URL', () => {
  it('is never logged, whether the socket is accepted, refused or its query is bad', async () => {
    const lines: string[] = []
    const log = pino(
      { level: 'trace' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString())
          done()
        },
      }),
    )
    const config = await testConfig('embedded', { FAULTLINE_LOG_LEVEL: 'trace' })
    const faultline = await startFaultline(config, log)
    closeWhenTestEnds(() => faultline.close())
    const port = faultline.httpPort
    const c = await connectStream(port, `?token=${API_TOKEN}&last=5`, {})
    await c.waitFor(isType('caught_up'))
    c.socket.terminate()
    await refusal(connectStream(port, `?token=${API_TOKEN}&colour=red`, {}))
    await refusal(connectStream(port, '?token=wrong-token-0123456789', {}))
    await faultline.close()
    expect(lines.length).toBeGreaterThan(0)
    expect(lines.join('')).not.toContain(API_TOKEN)
    expect(lines.join('')).not.toContain('wrong-token-0123456789')
  })
})

describe('the stream message JSON Schema', () => {
  it('is the one generated from the zod envelope (npm run schemas)', () => {
    const file = JSON.parse(readFileSync(new URL('../schemas/stream-message.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>
    const { $id: _id, title: _title, ...schema } = file
    expect(schema).toEqual(z.toJSONSchema(streamMessage, { io: 'output' }))
  })
})

describe.runIf(sharedClusterUrl)('the stream on a PostgreSQL server', () => {
  it('never lets a reader see an id before a smaller one still uncommitted (ids in commit order)', async () => {
    const { db } = await openStore(await testConfig('server'), createLogger('silent'))
    closeWhenTestEnds(() => db.close())
    const event = (deviceId: string): NewStreamEvent => ({
      type: 'ticket.changed',
      at: new Date().toISOString(),
      deviceId,
      model: FRIDGE,
      region: null,
      site: null,
      severity: null,
      priority: null,
    })
    const everything = compileFilter({})
    let commitFirst!: () => void
    let firstAppended!: () => void
    const appended = new Promise<void>((resolve) => (firstAppended = resolve))
    const first = db.transaction(async (tx) => {
      await appendStreamEvents(tx, [event('first')])
      firstAppended()
      await new Promise<void>((resolve) => (commitFirst = resolve))
    })
    await appended
    let secondDone = false
    const second = db.transaction((tx) => appendStreamEvents(tx, [event('second')])).then(() => (secondDone = true))
    // The second either waits for the first's lock, or (with ids in insert order only) commits past it.
    await eventually(async () => {
      const { rows } = await db.query<{ waiting: number }>(
        `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      )
      return secondDone || rows[0]!.waiting > 0 ? true : undefined
    })
    try {
      expect((await readAfter(db, 0, everything, 10)).map((e) => e.event.deviceId)).toEqual([])
    } finally {
      // committed however the check went, so a failure leaves no transaction open
      commitFirst()
      await Promise.all([first, second])
    }
    const stored = (await readAfter(db, 0, everything, 10)).map((e) => e.event)
    expect(stored.map((e) => e.deviceId)).toEqual(['first', 'second'])
    expect(stored[1]!.id).toBeGreaterThan(stored[0]!.id)
  })

  it('hands out ids strictly increasing in commit order while several rules lanes and the API change tickets at once', async () => {
    const fl = await startTest('server')
    const port = fl.faultline.httpPort
    const live = await connectStream(port)
    await live.waitFor(isType('caught_up'))
    const devices = Array.from({ length: 8 }, (_, i) => `st-lane-${i}`)
    const clients = await Promise.all(
      devices.map(async (id) => connectDevice(tcpUrl(fl.faultline.mqttPort), id, await fl.registerDevice(id, { model: FRIDGE }))),
    )
    const codes = ['E1', 'E2', 'E6', 'E7', 'E8', 'F1', 'F2', 'F3']
    await Promise.all(clients.map((c, i) => Promise.all(codes.map((code) => fault(c, devices[i]!, code)))))
    // Transitions through the API while the lanes still open tickets.
    const transitions = Promise.all(
      devices.map(async (id) => {
        const { body } = await eventually(async () => {
          const r = await fl.api('GET', `/api/tickets?deviceId=${id}`)
          return r.body.tickets.length > 0 ? r : undefined
        })
        for (const t of body.tickets) await fl.api('POST', `/api/tickets/${t.id}/transitions`, { to: 'acknowledged', by: 'duty' })
      }),
    )
    await transitions
    const expected = devices.length * codes.length * 2
    await eventually(async () => (eventsOf(live).filter((e) => e.type !== 'ticket.transitioned').length >= expected ? true : undefined))
    const marker = await fl.api('POST', '/api/tickets', { deviceId: devices[0], by: 'hotline', title: 'marker' })
    await live.waitFor((m) => isEvent(m) && m.ticket?.id === marker.body.id)
    const ids = eventsOf(live).map((e) => e.id)
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]!)
    // The live tail skipped nothing storage has: the same events as a backfill of everything.
    expect(await backfill(port, '?after=0')).toEqual(eventsOf(live))
    await fl.close()
  })

  // The hub's safety-net poll is off in these: only a NOTIFY can wake it.
  const notifiedOnly = { streamPollMs: 3_600_000 }

  it('reaches a client of another Faultline process on the same database, woken by its NOTIFY', async () => {
    const fl = await startTest('server', {}, notifiedOnly)
    const other = await spawnFaultline({ DATABASE_URL: fl.config.databaseUrl!, FAULTLINE_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'faultline-stream-')) })
    try {
      const stream = await connectStream(fl.faultline.httpPort, '?device=st-two')
      await stream.waitFor(isType('caught_up'))
      const token = await other.registerDevice('st-two', { model: FRIDGE })
      const client = await connectDevice(tcpUrl(other.mqttPort), 'st-two', token)
      await fault(client, 'st-two', 'E1')
      await stream.waitFor(isType('detection.raised'))
      const opened = await stream.waitFor(isType('ticket.opened'))
      expect(opened).toMatchObject({ deviceId: 'st-two', ticket: { condition: 'fault:E1' } })
    } finally {
      await other.stop()
      await fl.close()
    }
  })

  it('listens again once its listening connection is lost, and reads what was committed meanwhile', async () => {
    const fl = await startTest('server', {}, notifiedOnly)
    const stream = await connectStream(fl.faultline.httpPort, '?device=st-relisten')
    await stream.waitFor(isType('caught_up'))
    const token = await fl.registerDevice('st-relisten', { model: FRIDGE })
    const client = await connectDevice(tcpUrl(fl.faultline.mqttPort), 'st-relisten', token)
    const { db } = await openStore(fl.config, createLogger('silent'))
    closeWhenTestEnds(() => db.close())
    const { rows } = await db.query<{ ended: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'faultline-listen'`,
    )
    expect(rows.map((r) => r.ended)).toEqual([true])
    await fault(client, 'st-relisten', 'E1')
    await stream.waitFor(isType('ticket.opened'))
    await fault(client, 'st-relisten', 'E7')
    await stream.waitFor((m) => isEvent(m) && m.type === 'ticket.opened' && m.ticket!.condition === 'fault:E7')
    await fl.close()
  })
})
