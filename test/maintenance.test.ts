// Preventive maintenance driven by a clock the test sets: calendar, seasonal and usage plans each open exactly
// one ticket at the right moment, across a restart of Faultline, and with a usage counter reset in between.
import { afterEach, describe, expect, it } from 'vitest'
import type { Config } from '../src/config/index.js'
import type { Ticket } from '../src/tickets/index.js'
import { ManualClock } from './support/clock.js'
import { backends, eventually, startTestInstance, testConfig, type TestInstance } from './support/faultline.js'
import { metricValue } from './support/metrics.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'
import { freshDatabase, sharedClusterUrl } from './support/postgres.js'
import { startsWithin } from './support/waits.js'

describe.each(backends())('maintenance tickets on the %s backend', (backend) => {
  let fl: TestInstance | undefined
  afterEach(async () => {
    await fl?.close()
    fl = undefined
  })

  const setup = async (start: string) => {
    const clock = new ManualClock(Date.parse(start))
    const config = await testConfig(backend, { FAULTLINE_CATALOG_DIR: 'test/fixtures/catalog', FAULTLINE_MAINTENANCE_INTERVAL_MS: '40' })
    fl = await startTestInstance(config, clock)
    return { clock, config }
  }
  const restart = async (config: Config, clock: ManualClock) => {
    await fl!.close()
    fl = await startTestInstance(config, clock)
  }
  /** Sets the clock and waits for two full passes over the plans at that time: what is due is open by then. */
  const at = async (clock: ManualClock, iso: string) => {
    clock.set(iso)
    const passes = await metricValue(fl!.faultline.httpPort, 'faultline_maintenance_passes_total')
    await eventually(async () => ((await metricValue(fl!.faultline.httpPort, 'faultline_maintenance_passes_total')) >= passes + 2 ? true : undefined))
  }
  const maintenanceTickets = async (deviceId: string) => (await fl!.api('GET', `/api/tickets?deviceId=${deviceId}&kind=maintenance`)).body.tickets
  const plans = async (deviceId: string) => (await fl!.api('GET', `/api/devices/${deviceId}/maintenance`)).body.plans

  it(
    'calendar: opens one ticket leadDays before it is due, not before, once across a restart; the service restarts the interval',
    startsWithin(2),
    async () => {
      const { clock, config } = await setup('2026-01-10T08:00:00Z')
      await fl!.registerDevice('cal-1', { model: 'TP-CAL', purchasedAt: '2025-12-01', installedAt: '2025-12-31' })
      expect((await plans('cal-1'))[0]).toMatchObject({
        id: 'monthly',
        lastService: null,
        nextDue: { kind: 'calendar', dueDate: '2026-01-30', opensOn: '2026-01-25', open: false },
        ticket: null,
      })

      await at(clock, '2026-01-24T23:59:00Z')
      expect(await maintenanceTickets('cal-1')).toEqual([])
      await at(clock, '2026-01-25T00:01:00Z')
      const [ticket] = await maintenanceTickets('cal-1')
      expect(ticket).toMatchObject({
        kind: 'maintenance',
        trigger: 'schedule',
        planId: 'monthly',
        title: 'Monthly inspection',
        priority: 'P4',
        billing: 'free',
        quote: null,
        tasks: ['Check the shaft seal for weeping', 'Clean the strainer'],
        due: { date: '2026-01-30' },
        status: 'open',
      })
      expect(ticket.warranty.decision).toBe('in_warranty')
      expect(ticket.sla.resolveBy).toBe('2026-01-30T23:59:59.000Z')

      // Down for two weeks: the restart catches up without a second ticket for the same occurrence.
      clock.set('2026-02-08T09:00:00Z')
      await restart(config, clock)
      await at(clock, '2026-02-08T09:01:00Z')
      expect(await maintenanceTickets('cal-1')).toHaveLength(1)

      // Serviced on 12 February: the next one is due 30 days after that.
      clock.set('2026-02-12T10:00:00Z')
      for (const [to, extra] of [
        ['assigned', { technician: 'tech-3' }],
        ['in_progress', {}],
        ['resolved', { resolution: 'seal ok, strainer cleaned' }],
      ] as const) {
        expect((await fl!.api('POST', `/api/tickets/${ticket.id}/transitions`, { to, by: 'dispatch', ...extra })).status).toBe(200)
      }
      expect((await plans('cal-1'))[0]).toMatchObject({
        lastService: { at: '2026-02-12T10:00:00.000Z' },
        nextDue: { dueDate: '2026-03-14', opensOn: '2026-03-09', open: false },
      })
      await at(clock, '2026-03-08T12:00:00Z')
      expect(await maintenanceTickets('cal-1')).toHaveLength(1)
      await at(clock, '2026-03-09T00:01:00Z')
      const tickets = await maintenanceTickets('cal-1')
      expect(tickets).toHaveLength(2)
      expect(tickets[0]).toMatchObject({ due: { date: '2026-03-14' }, status: 'open' })
    },
  )

  it(
    'seasonal: opens one ticket when the lead time before the window begins, once across a restart; a missed window is not owed',
    startsWithin(2),
    async () => {
      const { clock, config } = await setup('2026-05-01T08:00:00Z')
      await fl!.registerDevice('season-1', { model: 'TP-SEASON', purchasedAt: '2025-03-01' })
      await at(clock, '2026-05-21T12:00:00Z')
      expect(await maintenanceTickets('season-1')).toEqual([])
      await at(clock, '2026-05-22T00:01:00Z')
      const [ticket] = await maintenanceTickets('season-1')
      expect(ticket).toMatchObject({ trigger: 'season', planId: 'pre_summer', due: { date: '2026-06-01', until: '2026-06-30' }, billing: 'chargeable' })
      // Not free: this policy does not cover scheduled maintenance, though the unit is in warranty.
      expect(ticket.warranty.decision).toBe('excluded')
      expect(ticket.quote).toMatchObject({ currency: 'EUR', labour: 100, callOut: 60, total: 160 })

      clock.set('2026-06-10T08:00:00Z')
      await restart(config, clock)
      await at(clock, '2026-06-10T08:01:00Z')
      expect(await maintenanceTickets('season-1')).toHaveLength(1)

      // Never serviced, and Faultline was down through the end of June: next year's window is the next one.
      await at(clock, '2026-07-15T08:00:00Z')
      expect((await plans('season-1'))[0].nextDue).toMatchObject({ occurrence: 'season:2027', dueDate: '2027-06-01', open: false })
      expect(await maintenanceTickets('season-1')).toHaveLength(1)
    },
  )

  it(
    'usage: opens one ticket when the counter reaches the interval, across a restart and a counter reset; the service restarts it',
    startsWithin(2),
    async () => {
      const { clock, config } = await setup('2026-04-01T08:00:00Z')
      const token = await fl!.registerDevice('wash-1', { model: 'TP-USAGE', purchasedAt: '2025-10-01' })
      // Readings ten minutes apart in device time: a plausible pace for a cycle counter.
      const t0 = Date.now() - 4 * 3600_000
      const cycles = (values: number[], from: number) => JSON.stringify(values.map((cycles, i) => ({ ts: t0 + (from + i) * 600_000, metrics: { cycles } })))
      const publish = async (payload: string) => {
        const device = await connectDevice(tcpUrl(fl!.faultline.mqttPort), 'wash-1', token)
        await device.publishAsync('devices/wash-1/telemetry', payload, { qos: 1 })
        await device.endAsync()
      }
      const current = (n: number) => eventually(async () => ((await plans('wash-1'))[0].nextDue.current === n ? true : undefined))

      await publish(cycles([0, 300, 600, 950], 0))
      await current(950)
      expect((await plans('wash-1'))[0].nextDue).toMatchObject({ kind: 'usage', dueUsage: 1000, open: false })
      expect(await maintenanceTickets('wash-1')).toEqual([])

      // Faultline restarts; then the controller is replaced and counts again from zero.
      await restart(config, clock)
      await publish(cycles([5, 60], 10))
      await current(1010)
      const [ticket] = await eventually(async () => {
        const t = await maintenanceTickets('wash-1')
        return t.length > 0 ? t : undefined
      })
      expect(ticket).toMatchObject({ trigger: 'usage', planId: 'belt', due: { counter: 'cycles', usage: 1000 }, billing: 'chargeable' })
      expect(ticket.quote.total).toBe(18 + 100 + 60)

      await publish(cycles([120, 200], 20))
      await current(1150)
      expect(await maintenanceTickets('wash-1')).toHaveLength(1)

      // chargeable: the customer approves the quote before the work (src/billing)
      expect((await fl!.api('POST', `/api/tickets/${ticket.id}/approval`, { decision: 'approved', by: 'Li Na', channel: 'phone' })).status).toBe(200)
      for (const [to, extra] of [
        ['assigned', { technician: 'tech-9' }],
        ['in_progress', {}],
        ['resolved', { resolution: 'belt replaced' }],
      ] as const) {
        expect((await fl!.api('POST', `/api/tickets/${ticket.id}/transitions`, { to, by: 'dispatch', ...extra })).status).toBe(200)
      }
      expect((await plans('wash-1'))[0]).toMatchObject({ lastService: { usage: 1150 }, nextDue: { dueUsage: 2150, open: false }, ticket: null })
    },
  )
})

describe.runIf(sharedClusterUrl)('maintenance with two Faultline processes on one database', () => {
  it('opens one ticket per due occurrence, whichever process gets there first', startsWithin(2), async () => {
    const clock = new ManualClock(Date.parse('2026-01-10T08:00:00Z'))
    const url = await freshDatabase()
    const env = { DATABASE_URL: url, FAULTLINE_CATALOG_DIR: 'test/fixtures/catalog', FAULTLINE_MAINTENANCE_INTERVAL_MS: '20' }
    const a = await startTestInstance(await testConfig('server', env), clock)
    const b = await startTestInstance(await testConfig('server', env), clock)
    try {
      for (let i = 0; i < 40; i++) await a.registerDevice(`cal-race-${i}`, { model: 'TP-CAL', purchasedAt: '2025-12-01', installedAt: '2025-12-31' })
      clock.set('2026-01-26T08:00:00Z')
      const all = await eventually(async () => {
        const t = (await a.api('GET', '/api/tickets?kind=maintenance&limit=500')).body.tickets
        return t.length >= 40 ? t : undefined
      })
      // Both keep passing over the plans for a while longer: nothing more opens.
      const passes = await metricValue(b.faultline.httpPort, 'faultline_maintenance_passes_total')
      await eventually(async () => ((await metricValue(b.faultline.httpPort, 'faultline_maintenance_passes_total')) >= passes + 5 ? true : undefined))
      expect((await a.api('GET', '/api/tickets?kind=maintenance&limit=500')).body.tickets).toHaveLength(40)
      expect(new Set(all.map((t: Ticket) => t.deviceId)).size).toBe(40)
    } finally {
      await a.close()
      await b.close()
    }
  })
})
