// Automatic dispatch (issue 11) over real HTTP and MQTT, on each backend, with a clock the test sets: who gets a
// ticket and why, who is passed over and why, what happens when nobody can take it, a decline, a reassignment.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addDays } from '../src/calendar.js'
import type { Ticket } from '../src/tickets/index.js'
import { ManualClock } from './support/clock.js'
import { backends, eventually, startTestInstance, testConfig, type TestInstance } from './support/faultline.js'
import { metricValue } from './support/metrics.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'
import { connectStream } from './support/stream-client.js'

type TicketWithHistory = Ticket & { history: { action: string; by: string; note?: string; details?: { technicianId?: string } }[] }

/** Today (UTC) at HH:MM: the clock runs on today's date so that device timestamps and the clock agree on the day. */
const today = new Date().toISOString().slice(0, 10)
const at = (hhmm: string) => `${today}T${hhmm}:00.000Z`
const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7]
const dayShift = { timeZone: 'UTC', days: EVERY_DAY, from: '08:00', to: '18:00' }
/** a purchase recent enough for the 12-month warranty */
const RECENT = addDays(today, -30)
/** long out of the 12 months (and of the compressor's 120) */
const OLD = '2014-01-01'

describe.each(backends())('dispatch on the %s backend', (backend) => {
  let fl: TestInstance
  const clock = new ManualClock(Date.parse(at('10:00')))
  beforeAll(async () => {
    fl = await startTestInstance(await testConfig(backend, { FAULTLINE_DISPATCH_INTERVAL_MS: '50' }), clock)
  })
  afterAll(() => fl?.close())

  const technician = async (id: string, body: Record<string, unknown>) => {
    const res = await fl.api('POST', '/api/technicians', { id, name: `Tech ${id}`, capacity: 3, hours: dayShift, ...body })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    return res.body
  }
  const fridgeSkill = (level: number, component?: string) => ({ category: 'refrigerator', ...(component ? { component } : {}), level })
  /** A phone report for a device of its own in `region`: the same warranty and priority rules as a detection. */
  const report = async (deviceId: string, region: string, code: string, purchasedAt = RECENT): Promise<number> => {
    await fl.registerDevice(deviceId, { region, purchasedAt })
    const res = await fl.api('POST', '/api/tickets', { deviceId, by: 'call-centre', code })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    return res.body.id as number
  }
  const ticket = async (id: number) => (await fl.api('GET', `/api/tickets/${id}`)).body as TicketWithHistory
  /** The ticket once dispatch has decided `outcome` for it. */
  const decided = (id: number, outcome: string, check: (t: TicketWithHistory) => boolean = () => true) =>
    eventually(async () => {
      const t = await ticket(id)
      return t.dispatch?.outcome === outcome && check(t) ? t : undefined
    })
  /** Waits for two full dispatch passes: whatever dispatch would do at this moment is done by then. */
  const passes = async () => {
    const before = await metricValue(fl.faultline.httpPort, 'faultline_dispatch_passes_total')
    await eventually(async () => ((await metricValue(fl.faultline.httpPort, 'faultline_dispatch_passes_total')) >= before + 2 ? true : undefined))
  }
  const rejectedOf = (t: Ticket) => Object.fromEntries(t.dispatch!.rejected.map((r) => [r.technicianId, r.reason]))
  const actions = (t: TicketWithHistory) => t.history.map((h) => h.action)

  it('with no technician in the directory yet, dispatch stays out of the way: the ticket waits, unflagged', async () => {
    const id = await report('rf-before', 'before', 'E1')
    await passes()
    expect(await ticket(id)).toMatchObject({ status: 'open', technicianId: null, dispatch: null })
    expect(actions(await ticket(id))).toEqual(['opened'])
  })

  it('a refrigerator compressor fault in region east goes to the east refrigeration technician with room, not the west one nor the full one', async () => {
    // The full one: the best skilled, and holding one ticket of one.
    await technician('east-full', { team: 'east', skills: [fridgeSkill(5, 'compressor')], regions: ['east'], capacity: 1 })
    const first = await report('fill-east', 'east', 'E8')
    await decided(first, 'assigned', (t) => t.technicianId === 'east-full')
    await technician('east-fridge', { team: 'east', skills: [fridgeSkill(4, 'compressor')], regions: ['east'], capacity: 2 })
    await technician('west-fridge', { team: 'west', skills: [fridgeSkill(5)], regions: ['west'] })

    const token = await fl.registerDevice('rf-east', { region: 'east', purchasedAt: RECENT })
    const device = await connectDevice(tcpUrl(fl.faultline.mqttPort), 'rf-east', token)
    await device.publishAsync('devices/rf-east/events', JSON.stringify({ type: 'fault', code: 'E8' }), { qos: 1 })
    const opened = await eventually(async () => (await fl.api('GET', '/api/tickets?deviceId=rf-east')).body.tickets[0] as Ticket | undefined)
    const t = await decided(opened.id, 'assigned')
    await device.endAsync()

    expect(t).toMatchObject({ status: 'assigned', technicianId: 'east-fridge', technician: 'Tech east-fridge', component: 'compressor', region: 'east' })
    expect(t.dispatch).toMatchObject({
      outcome: 'assigned',
      by: 'dispatch',
      technicianId: 'east-fridge',
      ticket: { category: 'refrigerator', component: 'compressor', region: 'east', warranty: 'in_warranty' },
    })
    expect(t.dispatch!.candidates.map((c) => c.technicianId)).toEqual(['east-fridge'])
    const [winner] = t.dispatch!.candidates
    // level 4 of 5, the region itself, an empty queue, on shift now: each part with its weight
    expect(winner).toMatchObject({ affiliation: 'internal', openTickets: 0, capacity: 2, parts: { skill: 0.8, region: 1, load: 1, speed: 1 } })
    expect(winner!.score).toBeCloseTo(0.8 * 0.5 + 0.2 + 0.2 + 0.1, 3)
    expect(t.dispatch!.reason).toContain('Tech east-fridge scored')
    expect(rejectedOf(t)).toMatchObject({ 'east-full': 'at capacity (1/1)', 'west-fridge': 'does not cover region east' })
    const assigned = t.history.filter((h) => h.action === 'assigned')
    expect(assigned).toHaveLength(1)
    expect(assigned[0]).toMatchObject({ by: 'dispatch', details: { technicianId: 'east-fridge' } })
    expect((await fl.api('GET', '/api/technicians/east-full')).body).toMatchObject({ availability: 'at_capacity', openTickets: 1, capacity: 1 })
    expect((await fl.api('GET', '/api/technicians/east-fridge')).body).toMatchObject({ availability: 'on_shift', openTickets: 1 })
  })

  it('with nobody on shift before the respond deadline the ticket stays unassigned, flagged once, and is assigned when a shift starts', async () => {
    await technician('night', { team: 'north', skills: [fridgeSkill(3)], regions: ['north'], hours: { ...dayShift, from: '20:00', to: '23:00' } })
    const id = await report('rf-north', 'north', 'E8') // P1: respond within 30 min, by 10:30
    const waiting = await decided(id, 'unassigned')
    expect(waiting).toMatchObject({ status: 'open', technicianId: null })
    expect(waiting.dispatch!.reason).toBe('nobody on shift before the respond deadline')
    expect(rejectedOf(waiting).night).toBe(`off shift until ${at('20:00')}, after the respond deadline ${at('10:30')}`)
    expect((await fl.api('GET', '/api/technicians/night')).body).toMatchObject({ availability: 'off_shift', nextShiftAt: at('20:00') })
    const flagged = (await fl.api('GET', '/api/dispatch/unassigned')).body.tickets
    expect(flagged).toContainEqual(expect.objectContaining({ id, priority: 'P1', region: 'north', reason: 'nobody on shift before the respond deadline' }))

    await passes() // looked at again and again: still one entry for the supervisor
    expect(actions(await ticket(id)).filter((a) => a === 'dispatch_failed')).toHaveLength(1)

    clock.set(at('20:01'))
    const assigned = await decided(id, 'assigned')
    expect(assigned.technicianId).toBe('night')
    expect(actions(assigned).filter((a) => a === 'dispatch_failed')).toHaveLength(1)
    expect(actions(assigned).at(-1)).toBe('assigned')
    expect((await fl.api('GET', '/api/dispatch/unassigned')).body.tickets.map((t: { id: number }) => t.id)).not.toContain(id)
    clock.set(at('10:00'))
  })

  it('passes over an expired provider qualification, leave (flag or dates) and a full queue', async () => {
    const expired = await fl.api('POST', '/api/providers', {
      id: 'old-cert',
      name: 'Old Cert Service Co.',
      certifiedCategories: ['refrigerator'],
      qualifiedUntil: addDays(today, -1),
      hourlyRate: 10,
      callOutFee: 0,
    })
    expect(expired.status).toBe(201)
    await technician('expired', { providerId: 'old-cert', skills: [fridgeSkill(5)], regions: ['south'] })
    await technician('away', { team: 'south', skills: [fridgeSkill(5)], regions: ['south'], onLeave: true })
    await technician('holiday', { team: 'south', skills: [fridgeSkill(5)], regions: ['south'], leave: [{ from: addDays(today, -1), to: addDays(today, 2) }] })
    await technician('no-room', { team: 'south', skills: [fridgeSkill(5)], regions: ['south'], capacity: 0 })
    await technician('south-ok', { team: 'south', skills: [fridgeSkill(2)], regions: ['south'] })

    const t = await decided(await report('rf-south', 'south', 'E1'), 'assigned')
    expect(t.technicianId).toBe('south-ok')
    expect(rejectedOf(t)).toMatchObject({
      expired: `provider old-cert's qualification expired on ${addDays(today, -1)}`,
      away: 'on leave',
      holiday: 'on leave',
      'no-room': 'at capacity (0/0)',
    })
    expect((await fl.api('GET', '/api/technicians/holiday')).body.availability).toBe('on_leave')
  })

  it("in warranty the maker's own staff come before a cheaper, better skilled provider; out of warranty the cheaper one wins", async () => {
    const provider = await fl.api('POST', '/api/providers', {
      id: 'cheap-fix',
      name: 'Cheap Fix Ltd.',
      certifiedCategories: ['refrigerator'],
      qualifiedUntil: addDays(today, 365),
      hourlyRate: 20,
      callOutFee: 0,
    })
    expect(provider.status).toBe(201)
    await technician('cheap-tech', { providerId: 'cheap-fix', skills: [fridgeSkill(5)], regions: ['mid'], capacity: 5 })
    await technician('own-staff', { team: 'mid', skills: [fridgeSkill(3)], regions: ['mid'], capacity: 5 })

    const inWarranty = await decided(await report('rf-mid-new', 'mid', 'E1', RECENT), 'assigned')
    expect(inWarranty.warranty.decision).toBe('in_warranty')
    expect(inWarranty.technicianId).toBe('own-staff')
    expect(inWarranty.dispatch!.rule).toContain('保内工单优先安排内部人员')
    expect(inWarranty.dispatch!.reason).toContain("in warranty the maker's own staff come first, ahead of provider Tech cheap-tech")
    expect(inWarranty.dispatch!.candidates.map((c) => [c.technicianId, c.affiliation])).toEqual([
      ['own-staff', 'internal'],
      ['cheap-tech', 'provider'],
    ])

    const outOfWarranty = await decided(await report('rf-mid-old', 'mid', 'E1', OLD), 'assigned')
    expect(outOfWarranty.warranty.decision).toBe('out_of_warranty')
    expect(outOfWarranty.technicianId).toBe('cheap-tech')
    const [cheap, own] = outOfWarranty.dispatch!.candidates
    // E1: 1 h of labour; the provider 1 × 20 + 0, the maker's own 1 × 80 + 50 call-out
    expect(cheap).toMatchObject({ technicianId: 'cheap-tech', estimatedCost: 20, parts: { cost: 1 } })
    expect(own).toMatchObject({ technicianId: 'own-staff', estimatedCost: 130, parts: { cost: 0.154 } })
    expect(outOfWarranty.dispatch!.rule).toContain('cost and speed decide')
  })

  it('a decline re-dispatches to the next technician, and a supervisor can reassign with a reason', async () => {
    await technician('first-choice', { team: 'dc', skills: [fridgeSkill(5)], regions: ['dc'] })
    await technician('second-choice', { team: 'dc', skills: [fridgeSkill(3)], regions: ['dc'] })
    const id = await report('rf-dc', 'dc', 'E1')
    await decided(id, 'assigned', (t) => t.technicianId === 'first-choice')

    const declined = await fl.api('POST', `/api/tickets/${id}/decline`, { reason: 'no parts in the van', by: 'first-choice' })
    expect(declined.status, JSON.stringify(declined.body)).toBe(200)
    const again = await decided(id, 'assigned', (t) => t.technicianId === 'second-choice')
    expect(rejectedOf(again)['first-choice']).toBe('declined this ticket')
    expect(again.history.find((h) => h.action === 'declined')).toMatchObject({
      by: 'first-choice',
      note: 'no parts in the van',
      details: { technicianId: 'first-choice' },
    })
    expect((await fl.api('GET', '/api/technicians/first-choice')).body.openTickets).toBe(0)

    const moved = await fl.api('POST', `/api/tickets/${id}/assign`, {
      technicianId: 'first-choice',
      reason: 'the customer asked for him: he knows the unit',
      by: 'supervisor-li',
    })
    expect(moved.status, JSON.stringify(moved.body)).toBe(200)
    expect(moved.body).toMatchObject({ technicianId: 'first-choice', dispatch: { outcome: 'manual', by: 'supervisor-li' } })
    expect(moved.body.history.at(-1)).toMatchObject({
      action: 'reassigned',
      by: 'supervisor-li',
      note: 'the customer asked for him: he knows the unit',
      details: { technicianId: 'first-choice', from: 'second-choice' },
    })
    expect((await fl.api('GET', '/api/technicians/second-choice')).body.openTickets).toBe(0)
    expect((await fl.api('GET', '/api/technicians/first-choice')).body.openTickets).toBe(1)

    // Every one of these history entries is on the live stream too, in order, with who did it.
    const stream = await connectStream(fl.faultline.httpPort, '?device=rf-dc&last=100')
    const actionOf = (m: unknown) => (m as { ticket?: { action: string; by: string; technician: string | null } }).ticket
    await stream.waitFor((m) => actionOf(m)?.action === 'reassigned')
    expect(stream.messages.flatMap((m) => (actionOf(m) ? [[actionOf(m)!.action, actionOf(m)!.by, actionOf(m)!.technician]] : []))).toEqual([
      ['opened', 'call-centre', null],
      ['assigned', 'dispatch', 'Tech first-choice'],
      ['declined', 'first-choice', null],
      ['assigned', 'dispatch', 'Tech second-choice'],
      ['reassigned', 'supervisor-li', 'Tech first-choice'],
    ])
    await stream.close()

    // Resolving frees the slot.
    for (const to of ['in_progress', 'resolved']) {
      const res = await fl.api('POST', `/api/tickets/${id}/transitions`, { to, by: 'first-choice', resolution: 'replaced the fan motor' })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
    }
    expect((await fl.api('GET', '/api/technicians/first-choice')).body.openTickets).toBe(0)
  })

  it('a name typed by hand in a transition replaces the directory technician and frees their slot; dispatch leaves it be', async () => {
    await technician('typed', { team: 'typed', skills: [fridgeSkill(3)], regions: ['typed'], capacity: 1 })
    const id = await report('rf-typed', 'typed', 'E1')
    await decided(id, 'assigned', (t) => t.technicianId === 'typed')
    const res = await fl.api('POST', `/api/tickets/${id}/transitions`, { to: 'assigned', by: 'supervisor-li', technician: 'Outside Wang' })
    expect(res.body).toMatchObject({ technician: 'Outside Wang', technicianId: null })
    expect((await fl.api('GET', '/api/technicians/typed')).body.openTickets).toBe(0)
    await passes()
    expect(await ticket(id)).toMatchObject({ technician: 'Outside Wang', technicianId: null, status: 'assigned' })
  })

  it('a ticket reopened after the follow-up call while its technician is full goes back to dispatch (000: 重新派单)', async () => {
    await technician('solo', { team: 'ro', skills: [fridgeSkill(3)], regions: ['ro'], capacity: 1 })
    const first = await report('rf-ro-1', 'ro', 'E1')
    await decided(first, 'assigned', (t) => t.technicianId === 'solo')
    for (const to of ['in_progress', 'resolved']) await fl.api('POST', `/api/tickets/${first}/transitions`, { to, by: 'solo', resolution: 'cleaned the fan' })
    const second = await report('rf-ro-2', 'ro', 'E1')
    await decided(second, 'assigned', (t) => t.technicianId === 'solo')

    const reopened = await fl.api('POST', `/api/tickets/${first}/transitions`, { to: 'in_progress', by: 'follow-up', note: 'still not cooling' })
    expect(reopened.body).toMatchObject({ status: 'in_progress', technicianId: null, technician: null })
    const waiting = await decided(first, 'unassigned')
    expect(waiting.dispatch!.reason).toBe('everyone qualified is at capacity')
    await technician('backup', { team: 'ro', skills: [fridgeSkill(3)], regions: ['ro'] })
    expect(await decided(first, 'assigned')).toMatchObject({ technicianId: 'backup', status: 'in_progress' })
    expect((await fl.api('GET', '/api/technicians/solo')).body.openTickets).toBe(1)
  })

  it('refuses bad technicians and providers with a 400 naming the field, and unknown ones with a 404', async () => {
    const base = { id: 'bad', name: 'Bad', team: 't', skills: [fridgeSkill(3)], regions: ['x'], capacity: 1, hours: dayShift }
    const bad: [Record<string, unknown>, string][] = [
      [{ skills: [{ category: 'toaster', level: 3 }] }, 'body.skills.0.category'],
      [{ skills: [fridgeSkill(3, 'warp_drive')] }, 'body.skills.0.component'],
      [{ capacity: -1 }, 'body.capacity'],
      [{ hours: { ...dayShift, timeZone: 'Mars/Olympus' } }, 'body.hours.timeZone'],
      [{ hours: { ...dayShift, from: '18:00', to: '08:00' } }, 'body.hours.to'],
      [{ providerId: 'acme' }, 'body.team'],
      [{ skills: [fridgeSkill(9)] }, 'body.skills.0.level'],
    ]
    for (const [change, field] of bad) {
      const res = await fl.api('POST', '/api/technicians', { ...base, ...change })
      expect(res.status, JSON.stringify(change)).toBe(400)
      expect(res.body.message).toContain(field)
    }
    const { team: _team, ...noTeam } = base
    const noProvider = await fl.api('POST', '/api/technicians', { ...noTeam, providerId: 'nobody' })
    expect(noProvider).toMatchObject({ status: 400, body: { message: 'body.providerId: no provider nobody' } })
    expect((await fl.api('PATCH', '/api/technicians/first-choice', { capacity: -2 })).status).toBe(400)
    expect(
      (await fl.api('POST', '/api/providers', { id: 'p', name: 'P', certifiedCategories: ['toaster'], qualifiedUntil: today, hourlyRate: 1, callOutFee: 1 }))
        .status,
    ).toBe(400)
    expect((await fl.api('POST', '/api/technicians', { ...base, id: 'first-choice' })).status).toBe(409)

    expect((await fl.api('GET', '/api/technicians/nobody')).status).toBe(404)
    expect((await fl.api('PATCH', '/api/technicians/nobody', { capacity: 2 })).status).toBe(404)
    expect((await fl.api('POST', '/api/technicians/nobody/deactivate')).status).toBe(404)
    expect((await fl.api('GET', '/api/providers/nobody')).status).toBe(404)
    expect((await fl.api('POST', '/api/tickets/987654321/assign', { technicianId: 'first-choice', reason: 'r', by: 'b' })).status).toBe(404)
    expect((await fl.api('POST', '/api/tickets/987654321/decline', { reason: 'r', by: 'b' })).status).toBe(404)
    const id = await report('rf-bad', 'nowhere', 'E1')
    expect((await fl.api('POST', `/api/tickets/${id}/assign`, { technicianId: 'nobody', reason: 'r', by: 'b' })).status).toBe(400)
    // not assigned to anyone: nothing to decline
    expect((await fl.api('POST', `/api/tickets/${id}/decline`, { reason: 'r', by: 'b' })).status).toBe(409)
    const nobody = await decided(id, 'unassigned')
    expect(nobody.dispatch!.reason).toBe('no technician with skill refrigerator/fan_motor in region nowhere')
  })

  it('a deactivated technician leaves dispatch', async () => {
    await technician('leaver', { team: 'gone', skills: [fridgeSkill(5)], regions: ['gone'] })
    expect((await fl.api('POST', '/api/technicians/leaver/deactivate')).body).toMatchObject({ active: false, availability: 'inactive' })
    const t = await decided(await report('rf-gone', 'gone', 'E1'), 'unassigned')
    expect(t.dispatch!.reason).toBe('no technician with skill refrigerator/fan_motor in region gone')
  })
})

describe.each(backends())('dispatch proposing only on the %s backend', (backend) => {
  let fl: TestInstance
  beforeAll(async () => {
    fl = await startTestInstance(
      await testConfig(backend, { FAULTLINE_DISPATCH: 'propose', FAULTLINE_DISPATCH_INTERVAL_MS: '50' }),
      new ManualClock(Date.parse(at('10:00'))),
    )
  })
  afterAll(() => fl?.close())

  it('records the choice without assigning; the supervisor assigns', async () => {
    const res = await fl.api('POST', '/api/technicians', {
      id: 'proposed',
      name: 'Proposed',
      team: 'p',
      skills: [{ category: 'refrigerator', level: 4 }],
      regions: ['p'],
      capacity: 2,
      hours: dayShift,
    })
    expect(res.status).toBe(201)
    await fl.registerDevice('rf-p', { region: 'p', purchasedAt: RECENT })
    const id = (await fl.api('POST', '/api/tickets', { deviceId: 'rf-p', by: 'call-centre', code: 'E1' })).body.id as number
    const t = await eventually(async () => {
      const got = (await fl.api('GET', `/api/tickets/${id}`)).body as TicketWithHistory
      return got.dispatch?.outcome === 'proposed' ? got : undefined
    })
    expect(t).toMatchObject({ status: 'open', technicianId: null, dispatch: { technicianId: 'proposed' } })
    expect(t.history.at(-1)).toMatchObject({ action: 'dispatch_proposed', by: 'dispatch' })
    expect((await fl.api('GET', '/api/technicians/proposed')).body.openTickets).toBe(0)
    const assigned = await fl.api('POST', `/api/tickets/${id}/assign`, { technicianId: 'proposed', reason: 'as proposed', by: 'supervisor-li' })
    expect(assigned.body).toMatchObject({ status: 'assigned', technicianId: 'proposed' })
    expect(assigned.body.history.at(-1)).toMatchObject({ action: 'assigned', by: 'supervisor-li', note: 'as proposed' })
  })
})
