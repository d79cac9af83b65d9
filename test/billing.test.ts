// The repair's money flow (issue 12): diagnosis re-deciding the warranty, the customer's approval of the quote
// before work (004 客户确认), the final bill at catalog prices (000 费用结算清单) and its settlement. Over HTTP, on
// each backend, with a manual clock. The fixture catalog (test/fixtures/billing-catalog) prices TB-1 at:
//   TB-PUMP 123.45, TB-VALVE 19.99, TB-SEAL 3.07; labour 86.45/h; call-out 60; transport 12.50; disposal 7.30 (EUR).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends, startTestInstance, testConfig, type TestInstance } from './support/faultline.js'
import { ManualClock } from './support/clock.js'

const T0 = '2026-06-01T08:00:00.000Z'
/** Bought 2026-01-01: in its 24-month warranty on T0. */
const IN_TERM = '2026-01-01'
/** Bought 2023-01-01: out of warranty on T0. */
const OUT_OF_TERM = '2023-01-01'

// By hand, in cents, from the fixture's prices: the quote at opening is B1's own repair (one pump, 1.5 h).
const PUMP = 12345
const VALVE = 1999
const CALL_OUT = 6000
const TRANSPORT = 1250
const DISPOSAL = 730
/** 1.5 h × 86.45 = 129.675: halves up to 129.68 */
const QUOTED = PUMP + 12968 + CALL_OUT + TRANSPORT + DISPOSAL

describe.each(backends())('diagnosis, approval, bill and settlement on the %s backend', (backend) => {
  const clock = new ManualClock(Date.parse(T0))
  let fl: TestInstance
  beforeAll(async () => {
    fl = await startTestInstance(await testConfig(backend, { FAULTLINE_CATALOG_DIR: 'test/fixtures/billing-catalog', FAULTLINE_DISPATCH: 'off' }), clock)
  })
  afterAll(() => fl?.close())

  /** A phone report of B1 on a newly registered boiler, dated now; returns the ticket. */
  const report = async (deviceId: string, purchasedAt: string, model = 'TB-1') => {
    if (!(await fl.api('GET', `/api/devices/${deviceId}`)).body?.id) await fl.registerDevice(deviceId, { model, purchasedAt })
    const res = await fl.api('POST', '/api/tickets', { deviceId, by: 'hotline', code: 'B1', at: new Date(clock.now()).toISOString() })
    expect(res.status).toBe(201)
    return res.body
  }
  const move = (number: string, to: string, extra: Record<string, unknown> = {}) =>
    fl.api('POST', `/api/tickets/${number}/transitions`, { to, by: 'Zhang Wei', ...(to === 'assigned' ? { technician: 'Zhang Wei' } : {}), ...extra })
  const moveOk = async (number: string, ...steps: string[]) => {
    for (const to of steps) expect((await move(number, to, to === 'resolved' ? { resolution: 'replaced the pump' } : {})).status).toBe(200)
  }
  const decide = (number: string, decision: 'approved' | 'declined', extra: Record<string, unknown> = {}) =>
    fl.api('POST', `/api/tickets/${number}/approval`, { decision, by: 'Li Na', channel: 'phone', ...extra })
  const detail = async (number: string) => (await fl.api('GET', `/api/tickets/${number}`)).body
  const later = (ms: number) => clock.set(new Date(clock.now() + ms).toISOString())
  const actions = (t: { history: { action: string }[] }) => t.history.map((h) => h.action)

  it('a chargeable repair cannot start before the customer approves its quote; inspection on site can', async () => {
    const t = await report('tb-gate', OUT_OF_TERM)
    expect(t).toMatchObject({ billing: 'chargeable', quote: { total: QUOTED / 100 } })
    await moveOk(t.number, 'assigned', 'on_site')
    for (const to of ['in_progress', 'remote_handling', 'waiting_parts', 'resolved']) {
      const refused = await move(t.number, to, { resolution: 'replaced the pump' })
      expect(refused.status).toBe(409)
      expect(refused.body).toMatchObject({ error: 'approval_required', message: expect.stringContaining("customer's approval of the quote (332.93 EUR)") })
    }
    const waiting = await detail(t.number)
    expect(waiting).toMatchObject({ status: 'on_site', approval: { state: 'pending', last: null }, bill: null })

    later(60_000)
    const approved = await decide(t.number, 'approved', { note: 'go ahead' })
    expect(approved.status).toBe(200)
    expect(approved.body.approval).toEqual({
      state: 'approved',
      last: { at: new Date(clock.now()).toISOString(), decision: 'approved', by: 'Li Na', channel: 'phone', note: 'go ahead', quoteTotalCents: QUOTED },
    })
    expect(approved.body.history.at(-1)).toMatchObject({
      action: 'quote_approved',
      by: 'Li Na',
      status: 'on_site',
      details: { channel: 'phone', quoteTotal: 332.93 },
    })
    expect((await move(t.number, 'in_progress')).status).toBe(200)
    expect((await decide(t.number, 'approved')).status).toBe(409)

    // free work needs nobody's approval
    const free = await report('tb-gate-free', IN_TERM)
    await moveOk(free.number, 'assigned', 'in_progress')
    expect((await detail(free.number)).approval).toEqual({ state: 'not_required', last: null })
    expect((await decide(free.number, 'approved')).status).toBe(409)
  })

  it('the bill of a repair with two parts and 2.5 h matches the catalog prices to the cent', async () => {
    const t = await report('tb-bill', OUT_OF_TERM)
    await moveOk(t.number, 'assigned', 'on_site')
    expect((await decide(t.number, 'approved')).status).toBe(200)
    await moveOk(t.number, 'in_progress')
    later(3_600_000)
    const resolved = await move(t.number, 'resolved', {
      resolution: 'replaced the pump and both diverter valves',
      partsUsed: [
        { partNo: 'TB-PUMP', qty: 1 },
        { partNo: 'TB-VALVE', qty: 2 },
      ],
      labourHours: 2.5,
    })
    expect(resolved.status).toBe(200)
    // 2.5 h × 86.45 = 216.125: halves up to 216.13
    const labour = 21613
    const parts = PUMP + 2 * VALVE
    const total = parts + labour + CALL_OUT + TRANSPORT + DISPOSAL
    expect(total).toBe(45936)
    const { bill, history } = await detail(t.number)
    expect(bill).toEqual({
      ticketId: t.id,
      currency: 'EUR',
      lines: [
        { kind: 'part', description: 'Circulation pump', partNo: 'TB-PUMP', qty: 1, unitCents: PUMP, amountCents: PUMP },
        { kind: 'part', description: 'Diverter valve', partNo: 'TB-VALVE', qty: 2, unitCents: VALVE, amountCents: 2 * VALVE },
        { kind: 'labour', description: 'labour', qty: 2.5, unitCents: 8645, amountCents: labour },
        { kind: 'call_out', description: 'call-out fee', amountCents: CALL_OUT },
        { kind: 'transport', description: 'transport', amountCents: TRANSPORT },
        { kind: 'other', description: 'Disposal of old parts', amountCents: DISPOSAL },
      ],
      labourHours: 2.5,
      labourCents: labour,
      partsCents: parts,
      transportCents: CALL_OUT + TRANSPORT,
      otherCents: DISPOSAL,
      totalCents: total,
      chargedCents: total,
      quotedCents: QUOTED,
      differenceCents: total - QUOTED,
      settlement: 'unpaid',
      settlementReference: null,
      settledBy: null,
      freeReason: null,
      computedAt: new Date(clock.now()).toISOString(),
      settledAt: null,
    })
    // the bill follows the resolution at once; the follow-up call is scheduled after it (src/followup)
    expect(history.slice(-2)).toMatchObject([
      { action: 'billed', by: 'faultline', status: 'resolved', details: { totalCents: total, chargedCents: total } },
      { action: 'follow_up' },
    ])

    // in warranty the customer pays nothing, but the cost of the work is still counted (004's cost split)
    const free = await report('tb-bill-free', IN_TERM)
    await moveOk(free.number, 'assigned', 'in_progress')
    await move(free.number, 'resolved', { resolution: 'replaced the pump', partsUsed: [{ partNo: 'TB-PUMP', qty: 1 }], labourHours: 1 })
    expect((await detail(free.number)).bill).toMatchObject({
      totalCents: PUMP + 8645 + CALL_OUT + TRANSPORT + DISPOSAL,
      chargedCents: 0,
      quotedCents: null,
      settlement: 'not_chargeable',
      freeReason: expect.stringMatching(/^free of charge: fault on 2026-06-01, covered through 2028-01-01/),
    })
  })

  /** A repair taken from report to resolution on an approved quote; returns the ticket. */
  const repaired = async (deviceId: string) => {
    const t = await report(deviceId, OUT_OF_TERM)
    await moveOk(t.number, 'assigned', 'on_site')
    expect((await decide(t.number, 'approved')).status).toBe(200)
    await moveOk(t.number, 'in_progress')
    expect((await move(t.number, 'resolved', { resolution: 'replaced the pump', partsUsed: [{ partNo: 'TB-PUMP', qty: 1 }], labourHours: 1.5 })).status).toBe(
      200,
    )
    return t
  }

  it('a repeat of a paid repair within the window is billed zero with its reason; a repeat of an unpaid one is not', async () => {
    const first = await repaired('tb-repeat')
    const paid = await fl.api('POST', `/api/tickets/${first.number}/settlement`, { status: 'paid', reference: 'POS-20260601-17', by: 'cashier' })
    expect(paid.status).toBe(200)
    later(6 * 86_400_000)
    const again = await report('tb-repeat', OUT_OF_TERM)
    expect(again.repeatOf).toEqual({ id: first.id, number: first.number })
    // the guarantee covers it: no quote to approve before the work
    expect((await detail(again.number)).approval.state).toBe('not_required')
    await moveOk(again.number, 'assigned', 'in_progress')
    await move(again.number, 'resolved', { resolution: 'pump replaced again', partsUsed: [{ partNo: 'TB-PUMP', qty: 1 }], labourHours: 1 })
    expect((await detail(again.number)).bill).toMatchObject({
      totalCents: PUMP + 8645 + CALL_OUT + TRANSPORT + DISPOSAL,
      chargedCents: 0,
      settlement: 'not_chargeable',
      freeReason: `repeat of ${first.number} paid on 2026-06-01, within the 7-day guarantee`,
    })

    const unpaid = await repaired('tb-repeat-unpaid')
    later(86_400_000)
    const repeat = await report('tb-repeat-unpaid', OUT_OF_TERM)
    expect(repeat.repeatOf).toEqual({ id: unpaid.id, number: unpaid.number })
    await moveOk(repeat.number, 'assigned')
    expect((await move(repeat.number, 'in_progress')).status).toBe(409)
    expect((await decide(repeat.number, 'approved')).status).toBe(200)
    await moveOk(repeat.number, 'in_progress')
    await move(repeat.number, 'resolved', { resolution: 'pump replaced again', partsUsed: [{ partNo: 'TB-PUMP', qty: 1 }], labourHours: 1 })
    expect((await detail(repeat.number)).bill).toMatchObject({
      chargedCents: PUMP + 8645 + CALL_OUT + TRANSPORT + DISPOSAL,
      settlement: 'unpaid',
      freeReason: null,
    })
  })

  it('a diagnosis of liquid damage turns an in-warranty ticket chargeable, with a quote, and says who and why', async () => {
    const t = await report('tb-liquid', IN_TERM)
    expect(t).toMatchObject({ billing: 'free', quote: null, warranty: { decision: 'in_warranty' } })
    await moveOk(t.number, 'assigned', 'on_site')
    later(30 * 60_000)
    const res = await fl.api('POST', `/api/tickets/${t.number}/diagnosis`, {
      by: 'Zhang Wei',
      cause: 'water in the control box from a leaking pipe above',
      exclusion: 'liquid_damage',
    })
    expect(res.status).toBe(200)
    const at = new Date(clock.now()).toISOString()
    expect(res.body).toMatchObject({
      status: 'on_site',
      warranty: { decision: 'excluded', chargeable: true, reason: 'cause "liquid_damage" is excluded from coverage' },
      billing: 'chargeable',
      quote: { currency: 'EUR', total: QUOTED / 100, parts: [{ partNo: 'TB-PUMP', qty: 1 }], labourHours: 1.5 },
      approval: { state: 'pending', last: null },
      diagnosis: {
        at,
        by: 'Zhang Wei',
        cause: 'water in the control box from a leaking pipe above',
        exclusion: 'liquid_damage',
        warrantyFrom: { decision: 'in_warranty' },
        warrantyTo: { decision: 'excluded' },
        quoteFrom: null,
        quoteTo: { total: QUOTED / 100 },
      },
    })
    const entries = res.body.history.slice(-3)
    expect(entries).toMatchObject([
      { action: 'diagnosed', by: 'Zhang Wei', at, note: 'water in the control box from a leaking pipe above', details: { exclusion: 'liquid_damage' } },
      {
        action: 'warranty_changed',
        by: 'Zhang Wei',
        note: 'water in the control box from a leaking pipe above: cause "liquid_damage" is excluded from coverage',
        details: { from: 'in_warranty', to: 'excluded', billing: { from: 'free', to: 'chargeable' } },
      },
      { action: 'awaiting_approval', by: 'Zhang Wei', details: { quoteTotal: QUOTED / 100, currency: 'EUR', reapproval: false } },
    ])
    expect((await move(t.number, 'in_progress')).status).toBe(409)
    // the list shows the new decision too
    expect((await fl.api('GET', '/api/tickets?deviceId=tb-liquid&warranty=excluded')).body.tickets).toHaveLength(1)
  })

  it('a diagnosis that changes an approved quote needs the customer to approve again; one that does not, does not', async () => {
    const t = await report('tb-reapprove', OUT_OF_TERM)
    await moveOk(t.number, 'assigned', 'on_site')
    expect((await decide(t.number, 'approved')).status).toBe(200)
    const same = await fl.api('POST', `/api/tickets/${t.number}/diagnosis`, { by: 'Zhang Wei', cause: 'limescale, as reported' })
    expect(same.body).toMatchObject({ approval: { state: 'approved' }, quote: { total: QUOTED / 100 } })
    expect(actions(same.body)).not.toContain('awaiting_approval')

    const changed = await fl.api('POST', `/api/tickets/${t.number}/diagnosis`, {
      by: 'Zhang Wei',
      cause: 'the seal failed with the pump',
      parts: [
        { partNo: 'TB-PUMP', qty: 1 },
        { partNo: 'TB-SEAL', qty: 1 },
      ],
      labourHours: 2,
    })
    expect(changed.status).toBe(200)
    // 2 h × 86.45 = 172.90
    const requoted = PUMP + 307 + 17290 + CALL_OUT + TRANSPORT + DISPOSAL
    expect(changed.body).toMatchObject({
      quote: { total: requoted / 100 },
      approval: { state: 'pending', last: { decision: 'approved', quoteTotalCents: QUOTED } },
    })
    expect(changed.body.history.at(-1)).toMatchObject({ action: 'awaiting_approval', details: { quoteTotal: requoted / 100, reapproval: true } })
    expect((await move(t.number, 'in_progress')).status).toBe(409)
    // the customer is shown the total they approve: an older one is refused
    expect((await decide(t.number, 'approved', { quoteTotal: QUOTED / 100 })).status).toBe(409)
    expect((await decide(t.number, 'approved', { quoteTotal: requoted / 100, channel: 'wechat' })).status).toBe(200)
    await moveOk(t.number, 'in_progress')
    await move(t.number, 'resolved', { resolution: 'pump and seal', partsUsed: [{ partNo: 'TB-PUMP', qty: 1 }], labourHours: 2 })
    expect((await detail(t.number)).bill).toMatchObject({ quotedCents: requoted, differenceCents: PUMP + 17290 + CALL_OUT + TRANSPORT + DISPOSAL - requoted })
  })

  it('a declined quote ends the ticket without repair, billed the call-out fee only, or nothing where the policy waives it', async () => {
    const t = await report('tb-decline', OUT_OF_TERM)
    await moveOk(t.number, 'assigned', 'on_site')
    const declined = await decide(t.number, 'declined', { channel: 'wechat', note: 'too expensive, will replace the boiler' })
    expect(declined.status).toBe(200)
    expect(declined.body).toMatchObject({
      status: 'cancelled',
      approval: { state: 'declined', last: { decision: 'declined', by: 'Li Na', channel: 'wechat' } },
      bill: {
        lines: [{ kind: 'call_out', amountCents: CALL_OUT }],
        labourCents: 0,
        partsCents: 0,
        transportCents: CALL_OUT,
        otherCents: 0,
        totalCents: CALL_OUT,
        chargedCents: CALL_OUT,
        quotedCents: null,
        settlement: 'unpaid',
      },
    })
    expect(actions(declined.body).slice(-3)).toEqual(['quote_declined', 'billed', 'cancelled'])
    expect((await move(t.number, 'in_progress')).status).toBe(409)

    const waived = await report('tb2-decline', OUT_OF_TERM, 'TB-2')
    const res = await decide(waived.number, 'declined')
    expect(res.body).toMatchObject({
      status: 'cancelled',
      bill: { totalCents: 4500, chargedCents: 0, settlement: 'not_chargeable', freeReason: expect.stringContaining('waives') },
    })
  })

  it('an unknown part number is a 400 naming it, and nothing is recorded', async () => {
    const t = await report('tb-unknown', OUT_OF_TERM)
    await moveOk(t.number, 'assigned', 'on_site')
    expect((await decide(t.number, 'approved')).status).toBe(200)
    await moveOk(t.number, 'in_progress')
    const before = await detail(t.number)
    const res = await move(t.number, 'resolved', {
      resolution: 'replaced the pump',
      partsUsed: [
        { partNo: 'TB-PUMP', qty: 1 },
        { partNo: 'TB-NOPE', qty: 1 },
      ],
      labourHours: 1,
    })
    expect(res.status).toBe(400)
    expect(res.body.message).toContain('TB-NOPE')
    expect(res.body.message).not.toContain('TB-PUMP')
    const after = await detail(t.number)
    expect(after).toMatchObject({ status: 'in_progress', partsUsed: null, labourHours: null, bill: null })
    expect(after.history).toEqual(before.history)
    const diagnosis = await fl.api('POST', `/api/tickets/${t.number}/diagnosis`, { by: 'Zhang Wei', cause: 'x', parts: [{ partNo: 'TB-NOPE', qty: 1 }] })
    expect(diagnosis.status).toBe(400)
    expect(diagnosis.body.message).toContain('TB-NOPE')
    expect((await detail(t.number)).history).toEqual(before.history)
  })

  it('a bill is settled once: paid with its reference, or waived with why', async () => {
    const paid = await repaired('tb-paid')
    later(2 * 3_600_000)
    const res = await fl.api('POST', `/api/tickets/${paid.number}/settlement`, { status: 'paid', reference: 'WX-4200001234', by: 'cashier' })
    expect(res.status).toBe(200)
    expect(res.body.bill).toMatchObject({
      settlement: 'paid',
      settlementReference: 'WX-4200001234',
      settledBy: 'cashier',
      settledAt: new Date(clock.now()).toISOString(),
    })
    expect(res.body.history.at(-1)).toMatchObject({ action: 'bill_paid', by: 'cashier', details: { reference: 'WX-4200001234' } })
    const twice = await fl.api('POST', `/api/tickets/${paid.number}/settlement`, { status: 'waived', reason: 'goodwill', by: 'manager' })
    expect(twice.status).toBe(409)

    const waived = await repaired('tb-waived')
    const charged = (await detail(waived.number)).bill.chargedCents
    expect(charged).toBeGreaterThan(0)
    const w = await fl.api('POST', `/api/tickets/${waived.number}/settlement`, { status: 'waived', reason: 'goodwill: second visit was late', by: 'manager' })
    expect(w.body.bill).toMatchObject({
      settlement: 'waived',
      chargedCents: 0,
      freeReason: 'waived by manager: goodwill: second visit was late',
      settledBy: 'manager',
    })
    expect(w.body.history.at(-1)).toMatchObject({ action: 'bill_waived', details: { chargedCents: charged } })

    // nothing to settle: no bill yet, or a free one
    const open = await report('tb-nobill', OUT_OF_TERM)
    expect((await fl.api('POST', `/api/tickets/${open.number}/settlement`, { status: 'paid', reference: 'x', by: 'cashier' })).status).toBe(409)
  })

  it('bad bodies are a 400 naming the field, and change nothing', async () => {
    const t = await report('tb-bad', OUT_OF_TERM)
    const before = await detail(t.number)
    const bad = [
      ['approval', { decision: 'maybe', by: 'Li Na', channel: 'phone' }, 'body.decision'],
      ['approval', { decision: 'approved', by: 'Li Na' }, 'body.channel'],
      ['approval', { decision: 'approved', by: 'Li Na', channel: 'pigeon' }, 'body.channel'],
      ['approval', { decision: 'approved', by: '', channel: 'phone' }, 'body.by'],
      ['approval', { decision: 'approved', by: 'Li Na', channel: 'phone', extra: 1 }, 'body'],
      ['diagnosis', { by: 'Zhang Wei', cause: 'flood', exclusion: 'flood' }, 'body.exclusion'],
      ['diagnosis', { by: 'Zhang Wei' }, 'body.cause'],
      ['diagnosis', { by: 'Zhang Wei', cause: 'x', labourHours: -1 }, 'body.labourHours'],
      ['diagnosis', { by: 'Zhang Wei', cause: 'x', parts: [{ partNo: 'TB-PUMP', qty: 0 }] }, 'body.parts.0.qty'],
      ['settlement', { status: 'paid', by: 'cashier' }, 'body.reference'],
      ['settlement', { status: 'waived', by: 'manager', reason: ' ' }, 'body.reason'],
      ['settlement', { status: 'refunded', by: 'cashier' }, 'body.status'],
    ] as const
    for (const [route, body, field] of bad) {
      const res = await fl.api('POST', `/api/tickets/${t.number}/${route}`, body)
      expect(res.status, `${route} ${JSON.stringify(body)}`).toBe(400)
      expect(res.body.message, `${route} ${JSON.stringify(body)}`).toContain(field)
    }
    expect((await fl.api('POST', `/api/tickets/SR20990101999/approval`, { decision: 'approved', by: 'Li Na', channel: 'phone' })).status).toBe(404)
    expect(await detail(t.number)).toEqual(before)
  })
})
