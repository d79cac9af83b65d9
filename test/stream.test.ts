// The live fault stream, GET /ws/faults (issue 10): real WebSocket clients over real HTTP to a real Faultline,
// faults published over MQTT, on each backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import type { StreamEvent, StreamMessage } from '../src/stream/index.js'
import { backends, startTest, type TestInstance } from './support/faultline.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'
import { connectStream, isType } from './support/stream-client.js'

const FRIDGE = 'BCD-516WDVL'
const isEvent = (m: StreamMessage): m is StreamEvent => 'id' in m

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
  const fault = (client: MqttClient, id: string, code: string, ts = Date.now()) =>
    client.publishAsync(`devices/${id}/events`, JSON.stringify({ ts, type: 'fault', code }), { qos: 1 })

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
})
