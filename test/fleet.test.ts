// GET /api/fleet, the console's fleet at a glance, against what was really published over MQTT: devices heard
// from within their model's offline window or silent since, unfinished tickets by priority, detections per hour.
import { describe, expect, it } from 'vitest'
import type { Fleet } from '../src/api/fleet.js'
import { ManualClock } from './support/clock.js'
import { backends, eventually, startTestInstance, testConfig } from './support/faultline.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'
import { startsWithin } from './support/waits.js'

const HOUR = 3_600_000
/** the refrigerator's offline window: a 5-minute heartbeat, 3 missed */
const FRIDGE_WINDOW = 15 * 60_000

describe.each(backends())('GET /api/fleet (%s backend)', (backend) => {
  it('counts devices online, silent and never seen, unfinished tickets by priority, and detections per hour', startsWithin(1), async () => {
    const now = Date.now()
    const clock = new ManualClock(now)
    const fl = await startTestInstance(await testConfig(backend), clock)
    const publish = async (id: string, faults: { code: string; ts: number }[]) => {
      const device = await connectDevice(tcpUrl(fl.faultline.mqttPort), id, await fl.registerDevice(id))
      for (const f of faults) await device.publishAsync(`devices/${id}/events`, JSON.stringify({ type: 'fault', ...f }), { qos: 1 })
    }
    // Three hours ago two faults of one fridge (major E1 → P2, minor F1 → P3), an hour ago one of another; a third never connects.
    await publish('fridge-a', [
      { code: 'E1', ts: now - 3 * HOUR },
      { code: 'F1', ts: now - 3 * HOUR + 60_000 },
    ])
    await publish('fridge-b', [{ code: 'E1', ts: now - HOUR }])
    await fl.registerDevice('fridge-never')

    const fleet = async () => (await fl.api<Fleet>('GET', '/api/fleet')).body
    const settled = await eventually(async () => {
      const f = await fleet()
      return f.devices.online === 2 && f.openTickets.P2 === 2 && f.openTickets.P3 === 1 ? f : undefined
    })
    expect(settled.devices).toEqual({ online: 2, silent: 0, neverSeen: 1 })
    expect(settled.openTickets).toEqual({ P1: 0, P2: 2, P3: 1, P4: 0 })
    // Every one of the last 24 hours, oldest first, the current one last; each detection in the hour it happened.
    const hours = settled.faultsPerHour
    expect(hours).toHaveLength(24)
    expect(Date.parse(hours.at(-1)!.hour)).toBe(Math.floor(now / HOUR) * HOUR)
    const countAt = (t: number) => hours.find((h) => h.hour === new Date(Math.floor(t / HOUR) * HOUR).toISOString())?.count
    expect(countAt(now - 3 * HOUR + 60_000)).toBe(2)
    expect(countAt(now - HOUR)).toBe(1)
    expect(hours.reduce((sum, h) => sum + h.count, 0)).toBe(3)

    // A resolved ticket no longer counts as open.
    const { body } = await fl.api('GET', '/api/tickets?deviceId=fridge-b')
    const number = body.tickets[0].number as string
    // out of warranty (bought 2025-06-01): the customer approves the quote before the work (src/billing)
    expect((await fl.api('POST', `/api/tickets/${number}/approval`, { decision: 'approved', by: 'Li Na', channel: 'phone' })).status).toBe(200)
    for (const step of [
      { to: 'acknowledged', by: 'desk' },
      { to: 'assigned', by: 'desk', technician: 'Wang Fang' },
      { to: 'in_progress', by: 'Wang Fang' },
      { to: 'resolved', by: 'Wang Fang', resolution: 'replaced the condenser fan motor' },
    ]) {
      expect((await fl.api('POST', `/api/tickets/${number}/transitions`, step)).status).toBe(200)
    }
    expect((await fleet()).openTickets).toEqual({ P1: 0, P2: 1, P3: 1, P4: 0 })

    // Past the model's offline window with nothing heard, both fridges count as silent. Last seen is the real receive
    // time (a loaded machine may start Faultline long after `now`): the clock moves past it, not past `now`.
    clock.set(new Date(Date.now() + FRIDGE_WINDOW + 60_000).toISOString())
    expect((await fleet()).devices).toEqual({ online: 0, silent: 2, neverSeen: 1 })
  })
})
