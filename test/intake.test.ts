// Intake from every channel (issue 12; documents 000, 002, 003): a report for an appliance nobody registered opens a
// numbered ticket in 002's format and creates the device; every ticket says how it came in; the customer's urgency
// feeds the priority; fault dates are checked, and judged in the customer's own calendar. Over HTTP, on each
// backend, with a clock the test sets.
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addMonths } from '../src/calendar.js'
import { loadCatalog } from '../src/catalog/index.js'
import {
  defaultSlaPolicy,
  defaultUnknownModelPolicy,
  draftMaintenanceTicket,
  draftRepairTicket,
  faultDateProblem,
  type TicketDevice,
} from '../src/rules/index.js'
import type { Ticket } from '../src/tickets/index.js'
import { ManualClock } from './support/clock.js'
import { backends, startTestInstance, testConfig, type TestInstance } from './support/faultline.js'

const FRIDGE = 'BCD-516WDVL'
const NOW = '2026-12-02T04:00:00Z'
const customer = { name: 'Zhang San', phone: '139-1111-2222', address: '18 Huaihai Road, Shanghai' }

describe.each(backends())('intake on the %s backend', (backend) => {
  const clock = new ManualClock(Date.parse(NOW))
  let fl: TestInstance
  beforeAll(async () => {
    fl = await startTestInstance(await testConfig(backend), clock)
    await fl.registerDevice('rf-1', { model: FRIDGE, purchasedAt: '2026-06-01', customer: { name: 'Li Wei', phone: '138-0000-0001' } })
  })
  afterAll(() => fl?.close())

  const report = (body: Record<string, unknown>) => fl.api<Ticket & { message: string }>('POST', '/api/tickets', { by: 'front-desk', ...body })

  it('a walk-in report for an unregistered appliance opens a numbered ticket in the 002 format and creates the device', async () => {
    const appliance = { model: FRIDGE, serial: 'WALKIN-0001', purchasedAt: '2026-06-01', proofOfPurchase: 'INV-2026-0601-88', region: 'east', customer }
    const res = await report({ channel: 'walk_in', appliance, code: 'E1' })
    expect(res.status).toBe(201)
    // 002 二.1: SR + the day + a three-digit sequence
    expect(res.body.number).toMatch(/^SR20261202\d{3}$/)
    expect(res.body).toMatchObject({ channel: 'walk_in', urgency: 'normal', trigger: 'manual', model: FRIDGE, serial: 'WALKIN-0001', customer, region: 'east' })
    expect(res.body.warranty).toMatchObject({ decision: 'in_warranty', chargeable: false })
    expect(res.body.warranty.basis).toBeUndefined()

    const device = await fl.api('GET', `/api/devices/${res.body.deviceId}`)
    expect(device.status).toBe(200)
    expect(device.body).toMatchObject({ model: FRIDGE, serial: 'WALKIN-0001', purchasedAt: '2026-06-01', proofOfPurchase: 'INV-2026-0601-88', customer })
    // The same appliance again is the device already on record, not a second one.
    const again = await report({ channel: 'phone', appliance, title: 'Ice maker does not fill' })
    expect(again.status).toBe(201)
    expect(again.body.deviceId).toBe(res.body.deviceId)
    expect(again.body.number).not.toBe(res.body.number)
  })

  it('records the channel of every report, and refuses iot, which is the devices’ own', async () => {
    for (const channel of ['phone', 'wechat', 'scan', 'web', 'email', 'walk_in']) {
      const res = await report({ channel, deviceId: 'rf-1', title: `reported by ${channel}` })
      expect(res.status, channel).toBe(201)
      expect((await fl.api<Ticket>('GET', `/api/tickets/${res.body.number}`)).body.channel, channel).toBe(channel)
    }
    // Without a channel a manual report is a phone call, as the route always was.
    expect((await report({ deviceId: 'rf-1', title: 'no channel named' })).body.channel).toBe('phone')
    expect((await report({ channel: 'iot', deviceId: 'rf-1', title: 'claims to be a device' })).status).toBe(400)
    expect((await report({ channel: 'fax', deviceId: 'rf-1', title: 'unknown channel' })).status).toBe(400)
  })

  it('judges a model the catalog does not know by the default policy, and says so', async () => {
    const inTerm = await report({
      channel: 'scan',
      appliance: { model: 'ACME-X1', brand: 'Acme', serial: 'AX1-0001', purchasedAt: '2026-03-01', customer },
      title: 'Does not start',
    })
    expect(inTerm.status).toBe(201)
    expect(inTerm.body.warranty).toMatchObject({ decision: 'in_warranty', basis: 'default_policy', coverageEnds: '2027-03-01', chargeable: false })
    expect(inTerm.body.warranty.reason).toContain('model ACME-X1 is not in the catalog: judged by the default policy (appliance, 12 months)')
    expect((await fl.api('GET', `/api/devices/${inTerm.body.deviceId}`)).body).toMatchObject({ model: 'ACME-X1', brand: 'Acme' })

    const outOfTerm = await report({
      channel: 'wechat',
      appliance: { model: 'ACME-X1', serial: 'AX1-0002', purchasedAt: '2024-03-01', customer },
      title: 'Does not start',
    })
    expect(outOfTerm.body.warranty).toMatchObject({ decision: 'out_of_warranty', basis: 'default_policy', chargeable: true })
    // the default policy's prices: one hour's diagnosis at 80.00 and the 50.00 call-out
    expect(outOfTerm.body.quote).toMatchObject({ currency: 'CNY', parts: [], labourHours: 1, labour: 80, callOut: 50, total: 130 })
  })

  it("feeds the customer's urgency into the priority: urgent raises one level, low never lowers what the fault demands", async () => {
    // E1 is a major fault: P2 (004). Each report is a condition of its own: a second E1 would join the first ticket.
    const e1 = async (urgency: string | undefined, deviceId: string) => {
      await fl.registerDevice(deviceId, { model: FRIDGE, purchasedAt: '2026-06-01' })
      return report({ deviceId, code: 'E1', ...(urgency === undefined ? {} : { urgency }) })
    }
    expect((await e1('紧急', 'rf-urgent')).body).toMatchObject({ priority: 'P1', urgency: 'urgent' })
    expect((await e1('urgent', 'rf-urgent-en')).body).toMatchObject({ priority: 'P1', urgency: 'urgent' })
    expect((await e1('低', 'rf-low')).body).toMatchObject({ priority: 'P2', urgency: 'low' })
    expect((await e1(undefined, 'rf-normal')).body).toMatchObject({ priority: 'P2', urgency: 'normal' })
    const urgent = (await fl.api<{ tickets: Ticket[] }>('GET', '/api/tickets?deviceId=rf-urgent')).body
    expect(Date.parse(urgent.tickets[0]!.sla.respondBy) - Date.parse(NOW)).toBe(30 * 60_000)
    expect((await e1('asap', 'rf-bad-urgency')).status).toBe(400)
  })

  it('refuses a fault dated before the purchase, or in the future beyond the clock skew, with a clear 400', async () => {
    const before = await report({ deviceId: 'rf-1', title: 'before it was bought', at: '2026-05-31T12:00:00Z' })
    expect(before.status).toBe(400)
    expect(before.body.message).toBe('body.at: the fault is dated 2026-05-31 (UTC), before the purchase on 2026-06-01')

    const future = await report({ deviceId: 'rf-1', title: 'a year ahead', at: '2027-12-02T04:00:00Z' })
    expect(future.status).toBe(400)
    expect(future.body.message).toContain('in the future')
    expect((await report({ deviceId: 'rf-1', title: 'an hour ahead', at: '2026-12-02T05:00:00Z' })).status).toBe(400)
    // a device clock a minute fast is within FAULTLINE_MAX_FUTURE_MS (5 min)
    expect((await report({ deviceId: 'rf-1', title: 'a minute ahead', at: '2026-12-02T04:01:00Z' })).status).toBe(201)

    // An appliance bought "next week" creates no device along with its refused ticket.
    const unbought = await report({ channel: 'walk_in', appliance: { model: FRIDGE, serial: 'NOT-YET-1', purchasedAt: '2026-12-09', customer }, title: 'x' })
    expect(unbought.status).toBe(400)
    expect(unbought.body.message).toContain('body.appliance.purchasedAt: the fault is dated 2026-12-02 (UTC), before the purchase on 2026-12-09')
    const devices = (await fl.api<{ devices: { serial: string }[] }>('GET', '/api/devices?limit=1000')).body.devices
    expect(devices.map((d) => d.serial)).not.toContain('NOT-YET-1')
  })

  it('judges the warranty in the customer’s calendar: 03:30 in Shanghai the day after coverage ended is out of warranty', async () => {
    // Bought 2025-12-02 with 12 months: the last covered day is 2026-12-02. 19:30 UTC on that day is 03:30 on
    // 2026-12-03 in Shanghai.
    const bought = { model: FRIDGE, purchasedAt: '2025-12-02' }
    await fl.registerDevice('rf-shanghai', { ...bought, timeZone: 'Asia/Shanghai' })
    await fl.registerDevice('rf-utc', bought)
    clock.set('2026-12-02T20:00:00Z')
    try {
      const at = '2026-12-02T19:30:00Z'
      const shanghai = await report({ deviceId: 'rf-shanghai', code: 'E1', at })
      expect(shanghai.body.warranty).toMatchObject({ decision: 'out_of_warranty', coverageEnds: '2026-12-02', chargeable: true })
      expect(shanghai.body.warranty.reason).toContain('fault on 2026-12-03')
      // the same instant on a device in the deployment's calendar (UTC here) is still the last covered day
      expect((await report({ deviceId: 'rf-utc', code: 'E1', at })).body.warranty).toMatchObject({ decision: 'in_warranty' })
      expect((await fl.api('GET', '/api/devices/rf-shanghai')).body.timeZone).toBe('Asia/Shanghai')
    } finally {
      clock.set(NOW)
    }
    const badZone = await fl.api('POST', '/api/devices', { id: 'rf-mars', model: FRIDGE, serial: 'M-1', purchasedAt: '2025-01-01', timeZone: 'Mars/Olympus' })
    expect(badZone.status).toBe(400)
    expect(badZone.body.message).toContain('timeZone')
  })

  it('takes either a registered device or an appliance, and a new appliance needs the contact phone', async () => {
    const both = await report({ deviceId: 'rf-1', appliance: { model: FRIDGE, serial: 'B-1', purchasedAt: '2026-01-01', customer }, title: 'x' })
    expect(both.status).toBe(400)
    expect((await report({ title: 'neither' })).status).toBe(400)
    const noPhone = await report({ appliance: { model: FRIDGE, serial: 'B-2', purchasedAt: '2026-01-01', customer: { name: 'Zhang San' } }, title: 'x' })
    expect(noPhone.status).toBe(400)
    expect(noPhone.body.message).toContain('phone')
  })
})

// The same calendar for every path a ticket opens by: a detection through the ticketing stage and a service plan
// draft their tickets with these functions, so a device's zone must reach both.
describe("the rules date a device's faults in its own calendar", () => {
  const policy = { ...defaultSlaPolicy(), unknownModel: defaultUnknownModelPolicy, clockSkewMs: 300_000 }
  const device: TicketDevice = { id: 'rf-sh', model: FRIDGE, serial: 'S', purchasedAt: '2025-12-02', timeZone: 'Asia/Shanghai' }
  const at = Date.parse('2026-12-02T19:30:00Z')

  it('a detection: out of warranty in Shanghai, in warranty for the same device in the deployment’s UTC', async () => {
    const catalog = await loadCatalog(path.resolve(import.meta.dirname, '../config/catalog'))
    const model = catalog.get(FRIDGE)!
    const fault = { trigger: 'fault_code', condition: 'fault:E1', severity: 'major', title: 'E1', code: 'E1', at, channel: 'iot' } as const
    expect(draftRepairTicket(fault, device, model, at, policy).warranty.decision).toBe('out_of_warranty')
    expect(draftRepairTicket(fault, { ...device, timeZone: undefined }, model, at, policy).warranty.decision).toBe('in_warranty')
    // the deployment's zone where the device names none
    expect(draftRepairTicket(fault, { ...device, timeZone: undefined }, model, at, { ...policy, timeZone: 'Asia/Shanghai' }).warranty.decision).toBe(
      'out_of_warranty',
    )
    // a service plan's ticket, on a model that has plans, bought so that its term also ends on 2026-12-02
    const serviced = [...catalog.values()].find((m) => m.servicePlans.length > 0)!
    const boughtFor = { ...device, model: serviced.model, purchasedAt: addMonths('2026-12-02', -serviced.warranty.months) }
    const service = (d: TicketDevice) => draftMaintenanceTicket(serviced.servicePlans[0]!, 'x', { date: '2026-12-03' }, d, serviced, at, policy).warranty
    expect(service(boughtFor).coverageEnds).toBe('2026-12-02')
    expect(service(boughtFor).reason).toContain('2026-12-03')
    expect(service({ ...boughtFor, timeZone: undefined }).reason).not.toContain('2026-12-03')
  })

  it('a fault before the purchase is judged by the purchase day in that calendar', () => {
    // 2025-12-01T17:00Z is 01:00 on 2 December in Shanghai: the day of purchase, not before it
    const check = (timeZone: string) =>
      faultDateProblem({ at: Date.parse('2025-12-01T17:00:00Z'), now: at, purchasedAt: '2025-12-02', timeZone, clockSkewMs: 0 })
    expect(check('Asia/Shanghai')).toBeUndefined()
    expect(check('UTC')).toBe('the fault is dated 2025-12-01 (UTC), before the purchase on 2025-12-02')
  })
})
