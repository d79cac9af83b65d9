// The reason Faultline exists: a device reports or shows a fault, and exactly one warranty-checked,
// prioritised ticket opens on its own. Over real MQTT, read back through the API, on each backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { backends, eventually, startTest, type TestInstance } from './support/faultline.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'
import type { Ticket } from '../src/tickets/index.js'

const FRIDGE = 'BCD-516WDVL'
const DAY = 86_400_000
/** YYYY-MM-DD of a UTC date `months` months and `days` days before today */
const dateBefore = (months: number, days = 0) => {
  const d = new Date()
  d.setUTCMonth(d.getUTCMonth() - months)
  d.setUTCDate(d.getUTCDate() - days)
  return d.toISOString().slice(0, 10)
}
const today = () => new Date().toISOString().slice(0, 10)

describe.each(backends())('repair tickets on the %s backend', (backend) => {
  let fl: TestInstance
  beforeAll(async () => {
    fl = await startTest(backend)
  })
  afterAll(() => fl?.close())

  async function device(id: string, purchasedAt: string, extra: Record<string, unknown> = {}): Promise<MqttClient> {
    const token = await fl.registerDevice(id, { model: FRIDGE, purchasedAt, customer: { name: 'Wang Fang', phone: '138-0000-0000' }, region: 'east', ...extra })
    return connectDevice(tcpUrl(fl.faultline.mqttPort), id, token)
  }
  const fault = (client: MqttClient, id: string, code: string, type = 'fault', ts = Date.now()) =>
    client.publishAsync(`devices/${id}/events`, JSON.stringify({ ts, type, code }), { qos: 1 })
  const ticketsOf = async (id: string) => (await fl.api('GET', `/api/tickets?deviceId=${id}`)).body.tickets as Ticket[]
  const oneTicket = (id: string, check: (t: Ticket) => boolean = () => true) =>
    eventually(async () => {
      const tickets = await ticketsOf(id)
      return tickets.length === 1 && check(tickets[0]!) ? tickets[0] : undefined
    })

  it('a known fault code opens one in-warranty ticket: free, P2 with its SLA, deduplicated', async () => {
    const client = await device('rf-in', dateBefore(3))
    await fault(client, 'rf-in', 'E1')
    await fault(client, 'rf-in', 'E1') // the same fault again while open: not a second ticket
    const t = await oneTicket('rf-in')
    expect(t).toMatchObject({
      kind: 'repair',
      trigger: 'fault_code',
      deviceId: 'rf-in',
      model: FRIDGE,
      serial: 'SN-rf-in',
      code: 'E1',
      condition: 'fault:E1',
      title: 'Condenser fan motor fault',
      component: 'fan_motor',
      priority: 'P2',
      status: 'open',
      billing: 'free',
      quote: null,
      customer: { name: 'Wang Fang', phone: '138-0000-0000' },
      region: 'east',
      occurrences: 1,
    })
    // 002 二.1: SR20240501001, a per-day sequence of at least three digits
    expect(t.number).toMatch(/^SR\d{8}\d{3,}$/)
    // a detection comes in through IoT (000 一.1)
    expect(t.channel).toBe('iot')
    expect(t.urgency).toBeNull()
    expect(t.warranty.decision).toBe('in_warranty')
    const created = Date.parse(t.createdAt)
    expect(Date.parse(t.sla.respondBy) - created).toBe(2 * 3600_000)
    expect(Date.parse(t.sla.resolveBy) - created).toBe(24 * 3600_000)
    await client.endAsync()
  })

  it('out of warranty: chargeable, with a quote of parts, labour and call-out', async () => {
    const client = await device('rf-out', dateBefore(30))
    await fault(client, 'rf-out', 'E1')
    const t = await oneTicket('rf-out')
    expect(t.warranty.decision).toBe('out_of_warranty')
    expect(t.billing).toBe('chargeable')
    // fan motor 156.00 + 1 h × 80.00 + call-out 50.00
    expect(t.quote).toMatchObject({
      currency: 'CNY',
      parts: [{ partNo: '0064001403', qty: 1, unitPrice: 156, amount: 156 }],
      labourHours: 1,
      labourRate: 80,
      labour: 80,
      callOut: 50,
      total: 286,
    })
    await client.endAsync()
  })

  it('a component with longer coverage: compressor fault in warranty after the unit is out; critical is P1', async () => {
    const client = await device('rf-comp', dateBefore(60))
    await fault(client, 'rf-comp', 'E8')
    const t = await oneTicket('rf-comp')
    expect(t).toMatchObject({ component: 'compressor', priority: 'P1', billing: 'free', quote: null })
    expect(t.warranty.decision).toBe('in_warranty')
    expect(Date.parse(t.sla.respondBy) - Date.parse(t.createdAt)).toBe(30 * 60_000)
    await client.endAsync()
  })

  it('the day coverage ends is covered, the day after is not', async () => {
    const last = await device('rf-lastday', dateBefore(12))
    const after = await device('rf-dayafter', dateBefore(12, 1))
    await fault(last, 'rf-lastday', 'F5')
    await fault(after, 'rf-dayafter', 'F5')
    const covered = await oneTicket('rf-lastday')
    const expired = await oneTicket('rf-dayafter')
    expect(covered.warranty).toMatchObject({ decision: 'in_warranty', coverageEnds: today() })
    expect(expired.warranty.decision).toBe('out_of_warranty')
    expect(expired.warranty.coverageEnds).toBe(new Date(Date.now() - DAY).toISOString().slice(0, 10))
    await Promise.all([last.endAsync(), after.endAsync()])
  })

  it('an extended warranty keeps the unit covered', async () => {
    const client = await device('rf-ext', dateBefore(20), { warrantyExtendedUntil: dateBefore(-6) })
    await fault(client, 'rf-ext', 'E1')
    expect((await oneTicket('rf-ext')).warranty.decision).toBe('in_warranty')
    await client.endAsync()
  })

  it('a phone report with an excluded cause, in term: excluded, chargeable, quoted', async () => {
    await fl.registerDevice('rf-phone', { model: FRIDGE, purchasedAt: dateBefore(2) })
    const res = await fl.api('POST', '/api/tickets', {
      deviceId: 'rf-phone',
      by: 'call-centre:li',
      code: 'E6',
      cause: 'liquid_damage',
      note: 'juice spilled on the display',
    })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ trigger: 'manual', code: 'E6', priority: 'P2', billing: 'chargeable', cause: 'liquid_damage' })
    expect(res.body.warranty.decision).toBe('excluded')
    expect(res.body.quote.total).toBe(236 + 80 + 50)
    const unknown = await fl.api('POST', '/api/tickets', { deviceId: 'nobody', by: 'x', title: 'noise' })
    expect(unknown.status).toBe(400)
  })

  it('a sustained threshold breach opens one ticket and clears past the clearing limit; a short spike opens none', async () => {
    const client = await device('rf-warm', dateBefore(1))
    const spiky = await device('rf-spike', dateBefore(1))
    const t0 = Date.now() - 3 * 3600_000
    // A backlog uploaded after a reconnect: judged by its own timestamps, a minute apart.
    const warm = Array.from({ length: 45 }, (_, i) => ({ ts: t0 + i * 60_000, metrics: { fridge_temp: i < 40 ? 10.5 : 5 } }))
    const spike = Array.from({ length: 30 }, (_, i) => ({ ts: t0 + i * 60_000, metrics: { fridge_temp: i >= 5 && i < 15 ? 11 : 4 } }))
    await client.publishAsync('devices/rf-warm/telemetry', JSON.stringify(warm), { qos: 1 })
    await spiky.publishAsync('devices/rf-spike/telemetry', JSON.stringify(spike), { qos: 1 })
    const t = await oneTicket('rf-warm', (x) => x.clearedAt !== null)
    expect(t).toMatchObject({ trigger: 'threshold', condition: 'threshold:fridge_warm', ruleId: 'fridge_warm', priority: 'P2', occurrences: 1 })
    expect(t.firstSeen).toBe(new Date(t0).toISOString())
    expect(t.clearedAt).toBe(new Date(t0 + 40 * 60_000).toISOString())
    // Everything rf-spike sent is stored, and no ticket came of it.
    await eventually(async () => ((await fl.api('GET', `/api/devices/rf-spike/telemetry?from=${t0}`)).body.points.length === 30 ? true : undefined))
    expect(await ticketsOf('rf-spike')).toEqual([])
    await Promise.all([client.endAsync(), spiky.endAsync()])
  })

  it('moves through its lifecycle, refuses illegal moves naming the allowed ones, and a repeat within 7 days is escalated', async () => {
    const client = await device('rf-life', dateBefore(6))
    const t0 = Date.now() - 60_000
    await fault(client, 'rf-life', 'E2', 'fault', t0)
    const first = await oneTicket('rf-life')
    const move = (to: string, body: Record<string, unknown> = {}) =>
      fl.api('POST', `/api/tickets/${first.number}/transitions`, { to, by: 'dispatcher:zhao', ...body })

    const illegal = await move('resolved', { resolution: 'x' })
    expect(illegal.status).toBe(409)
    expect(illegal.body).toMatchObject({ error: 'illegal_transition', from: 'open', allowed: ['acknowledged', 'assigned', 'cancelled'] })
    expect((await move('assigned')).status).toBe(400) // needs the technician
    expect((await move('acknowledged')).status).toBe(200)
    expect((await move('assigned', { technician: 'tech-07' })).body.technician).toBe('tech-07')
    expect((await move('in_progress')).status).toBe(200)
    const resolved = await move('resolved', { resolution: 'replaced evaporator fan', partsUsed: [{ partNo: '0064001418', qty: 1 }], labourHours: 1.2 })
    expect(resolved.body).toMatchObject({ status: 'resolved', resolution: 'replaced evaporator fan', labourHours: 1.2 })
    // One spelling in a ticket's JSON, the quote's: labour.
    expect(JSON.stringify(resolved.body)).not.toMatch(/labor/)

    // The fault clears, then comes back two minutes later: a repeat repair, one level more urgent.
    await fault(client, 'rf-life', 'E2', 'fault_cleared', t0 + 30_000)
    await fault(client, 'rf-life', 'E2', 'fault', t0 + 50_000)
    const repeat = await eventually(async () => (await ticketsOf('rf-life')).find((t) => t.id !== first.id))
    expect(repeat).toMatchObject({ priority: 'P1', repeatOf: { id: first.id, number: first.number }, status: 'open' })

    const closed = await move('closed', { satisfaction: 4, comment: 'quick, polite' })
    expect(closed.body).toMatchObject({ status: 'closed', satisfaction: 4, comment: 'quick, polite' })
    const detail = (await fl.api('GET', `/api/tickets/${first.id}`)).body
    // resolving scheduled the follow-up call and computed the bill (Faultline's entries); closing is the call's answer
    const people = detail.history.filter((h: { action: string }) => !['follow_up', 'billed'].includes(h.action))
    expect(detail.history.map((h: { action: string }) => h.action)).toEqual([
      'opened',
      'acknowledged',
      'assigned',
      'in_progress',
      'resolved',
      'follow_up',
      'billed',
      'follow_up_answered',
      'closed',
    ])
    expect(people.slice(1).every((h: { by: string; at: string }) => h.by === 'dispatcher:zhao' && Date.parse(h.at) > 0)).toBe(true)
    expect((await fl.api('POST', `/api/tickets/${first.id}/transitions`, { to: 'in_progress', by: 'x' })).body.allowed).toEqual([])
    await client.endAsync()
  })

  it('lists with filters and a cursor, and serves the catalog', async () => {
    // Three tickets of its own, by phone: a compressor fault (P1), an excluded cause, a fan fault; newest first.
    await fl.registerDevice('rf-list', { model: FRIDGE, purchasedAt: dateBefore(2) })
    const report = async (body: Record<string, unknown>) => {
      const res = await fl.api('POST', '/api/tickets', { deviceId: 'rf-list', by: 'call-centre:li', ...body })
      expect(res.status).toBe(201)
      return res.body.id as number
    }
    const compressor = await report({ code: 'E8' })
    const spilled = await report({ code: 'E6', cause: 'liquid_damage' })
    const fan = await report({ code: 'E1' })
    const ids = async (query: string) => (await fl.api('GET', `/api/tickets?${query}`)).body.tickets.map((t: Ticket) => t.id)

    expect(await ids('deviceId=rf-list')).toEqual([fan, spilled, compressor])
    expect(await ids('deviceId=rf-list&priority=P1')).toEqual([compressor])
    expect(await ids('deviceId=rf-list&priority=P1,P2')).toEqual([fan, spilled, compressor])
    expect(await ids('deviceId=rf-list&warranty=excluded')).toEqual([spilled])
    // Across devices, a filter returns only what matches, this device's matching ticket among them.
    const p1 = (await fl.api('GET', '/api/tickets?priority=P1&limit=500')).body.tickets
    expect(p1.every((t: Ticket) => t.priority === 'P1')).toBe(true)
    expect(p1.map((t: Ticket) => t.id)).toContain(compressor)
    const excluded = (await fl.api('GET', '/api/tickets?warranty=excluded&limit=500')).body.tickets
    expect(excluded.every((t: Ticket) => t.warranty.decision === 'excluded')).toBe(true)
    expect(excluded.filter((t: Ticket) => t.deviceId === 'rf-list').map((t: Ticket) => t.id)).toEqual([spilled])

    const page1 = (await fl.api('GET', '/api/tickets?deviceId=rf-list&limit=2')).body
    expect(page1.tickets.map((t: Ticket) => t.id)).toEqual([fan, spilled])
    const page2 = (await fl.api('GET', `/api/tickets?deviceId=rf-list&limit=2&cursor=${page1.next}`)).body
    expect(page2).toMatchObject({ tickets: [{ id: compressor }], next: null })
    expect((await fl.api('GET', '/api/tickets?status=bogus')).status).toBe(400)

    const catalog = (await fl.api('GET', '/api/catalog')).body.models
    expect(catalog.length).toBeGreaterThanOrEqual(4)
    const fridge = (await fl.api('GET', `/api/catalog/${FRIDGE}`)).body
    expect(fridge.faultCodes.E1.parts[0].partNo).toBe('0064001403')
    expect((await fl.api('GET', '/api/catalog/NOPE')).status).toBe(404)
  })
})

describe.each(backends())('offline detection on the %s backend', (backend) => {
  let fl: TestInstance
  beforeAll(async () => {
    fl = await startTest(backend, { FAULTLINE_CATALOG_DIR: 'test/fixtures/catalog' })
  })
  afterAll(() => fl?.close())

  it('a device gone silent gets one offline ticket, cleared when it is heard from again', async () => {
    const token = await fl.registerDevice('pump-1', { model: 'TP-1', purchasedAt: dateBefore(1) })
    const client = await connectDevice(tcpUrl(fl.faultline.mqttPort), 'pump-1', token)
    await client.publishAsync('devices/pump-1/telemetry', JSON.stringify({ metrics: { flow: 1.2 } }), { qos: 1 })
    const t = await eventually(async () => (await fl.api('GET', '/api/tickets?deviceId=pump-1')).body.tickets[0])
    expect(t).toMatchObject({ trigger: 'offline', condition: 'offline', title: 'Device offline', priority: 'P3', clearedAt: null })
    await client.publishAsync('devices/pump-1/telemetry', JSON.stringify({ metrics: { flow: 1.1 } }), { qos: 1 })
    // This ticket's own history, not a count over all devices; the device may well go offline again right after.
    const history = await eventually(async () => {
      const actions = (await fl.api('GET', `/api/tickets/${t.id}`)).body.history.map((h: { action: string }) => h.action)
      return actions.length >= 2 ? actions : undefined
    })
    expect(history.slice(0, 2)).toEqual(['opened', 'condition_cleared'])
    expect((await fl.api('GET', '/api/tickets?deviceId=pump-1')).body.tickets).toHaveLength(1)
    await client.endAsync()
  })

  it('a lost connection publishes the last will, and the device is offline one heartbeat later', async () => {
    const token = await fl.registerDevice('pump-2', { model: 'TP-1', purchasedAt: dateBefore(1) })
    const client = await connectDevice(tcpUrl(fl.faultline.mqttPort), 'pump-2', token, {
      will: { topic: 'devices/pump-2/status', payload: Buffer.from('{"online":false}'), qos: 1, retain: false },
    })
    await client.publishAsync('devices/pump-2/status', JSON.stringify({ online: true, fw: '1.0.3' }), { qos: 1 })
    client.stream.destroy() // not a clean DISCONNECT: the broker publishes the will
    const t = await eventually(async () => (await fl.api('GET', '/api/tickets?deviceId=pump-2')).body.tickets[0])
    expect(t.trigger).toBe('offline')
    client.end(true)
  })

  it('a device its owner switches off (it says online: false itself) is not a fault', async () => {
    const switchedOff = await connectDevice(
      tcpUrl(fl.faultline.mqttPort),
      'pump-3',
      await fl.registerDevice('pump-3', { model: 'TP-1', purchasedAt: dateBefore(1) }),
      {
        will: { topic: 'devices/pump-3/status', payload: Buffer.from('{"online":false}'), qos: 1, retain: false },
      },
    )
    await switchedOff.publishAsync('devices/pump-3/status', JSON.stringify({ online: false }), { qos: 1 })
    await switchedOff.endAsync() // a clean DISCONNECT: no will
    // A device of the same model that loses its connection afterwards: once its ticket is there, a ticket
    // for the switched-off one would have been due (its grace started first) and opened before it.
    const lost = await connectDevice(
      tcpUrl(fl.faultline.mqttPort),
      'pump-4',
      await fl.registerDevice('pump-4', { model: 'TP-1', purchasedAt: dateBefore(1) }),
      {
        will: { topic: 'devices/pump-4/status', payload: Buffer.from('{"online":false}'), qos: 1, retain: false },
      },
    )
    await lost.publishAsync('devices/pump-4/status', JSON.stringify({ online: true }), { qos: 1 })
    lost.stream.destroy()
    await eventually(async () => (await fl.api('GET', '/api/tickets?deviceId=pump-4')).body.tickets[0])
    expect((await fl.api('GET', '/api/tickets?deviceId=pump-3')).body.tickets).toEqual([])
    lost.end(true)
  })
})
