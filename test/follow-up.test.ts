// The follow-up call and the visits of a repair (issue 12; 000 二.5: 一周内回访 and 重新派单; 002 二.4: 满意 closes,
// 一般/不满意 goes back to the supervisor; 004 (四)3: close only when solved and the customer satisfied). Over HTTP,
// on each backend, on a hand-set clock: the answer closes or reopens, an unanswered call closes at its deadline
// and not before, two processes close it once, and a repair not fixed at the first visit gets a second visit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config/index.js'
import type { FollowUp, Visit } from '../src/followup/index.js'
import type { Ticket } from '../src/tickets/index.js'
import { ManualClock } from './support/clock.js'
import { backends, eventually, startTestInstance, testConfig, type TestInstance } from './support/faultline.js'
import { metricValue } from './support/metrics.js'
import { freshDatabase } from './support/postgres.js'
import { startsWithin } from './support/waits.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const WEEK = 7 * DAY
const iso = (ms: number) => new Date(ms).toISOString()
/** The watchers look this often here: the tests wait for passes, not for time. No dispatch: people assign. */
const ENV = { FAULTLINE_SLA_INTERVAL_MS: '20', FAULTLINE_DISPATCH: 'off' }

type HistoryEntry = { action: string; by: string; status: string; note?: string; details?: Record<string, unknown> }
type Detail = Ticket & { history: HistoryEntry[]; visits: Visit[]; followUps: FollowUp[] }

const passes = (fl: TestInstance) => metricValue(fl.faultline.httpPort, 'faultline_follow_up_passes_total')
const expiredHere = (fl: TestInstance) => metricValue(fl.faultline.httpPort, 'faultline_follow_ups_expired_total')

/** Resolves once a whole follow-up pass has begun and ended after this call: what it would close is closed. */
async function afterAPass(fl: TestInstance) {
  const seen = await passes(fl)
  // the pass under way may have read the clock before it was set; the one after it has not
  await eventually(async () => ((await passes(fl)) >= seen + 2 ? true : undefined))
}

async function detail(fl: TestInstance, id: number): Promise<Detail> {
  const res = await fl.api<Detail>('GET', `/api/tickets/${id}`)
  expect(res.status).toBe(200)
  return res.body
}

const move = (fl: TestInstance, id: number, to: string, extra: Record<string, unknown> = {}) =>
  fl.api<Ticket>('POST', `/api/tickets/${id}/transitions`, { to, by: 'desk', ...extra })
/** The ticket as answered, or the error's body */
const answer = (fl: TestInstance, id: number, body: Record<string, unknown>) =>
  fl.api<Ticket & { message?: string }>('POST', `/api/tickets/${id}/follow-up`, { by: 'call-centre', ...body })

/** A phone report of the fridge's E1 (P2), taken to work by a technician. */
const report = (fl: TestInstance, deviceId: string) => fl.api<Ticket>('POST', '/api/tickets', { deviceId, by: 'hotline', code: 'E1' })
async function openTicket(fl: TestInstance, deviceId: string): Promise<Ticket> {
  // in warranty on every clock here: free repair work waits for no approval of a quote (src/billing)
  await fl.registerDevice(deviceId, { purchasedAt: '2026-05-01' })
  const res = await report(fl, deviceId)
  expect(res.status).toBe(201)
  for (const [to, extra] of [
    ['assigned', { technician: 'tech-li' }],
    ['in_progress', {}],
  ] as const)
    expect((await move(fl, res.body.id, to, extra)).status).toBe(200)
  return res.body
}
async function resolve(fl: TestInstance, id: number): Promise<Ticket> {
  const res = await move(fl, id, 'resolved', { resolution: 'replaced the fan motor' })
  expect(res.status).toBe(200)
  return res.body
}
const resolvedTicket = async (fl: TestInstance, deviceId: string) => resolve(fl, (await openTicket(fl, deviceId)).id)

describe.each(backends())('follow-up calls and visits on the %s backend', (backend) => {
  const clock = new ManualClock(Date.parse('2026-06-01T08:00:00Z'))
  let fl: TestInstance
  /** each test starts two weeks after the last: what earlier tests left waiting has expired by then */
  let fortnight = 0
  const nextStart = () => {
    const t = Date.parse('2026-06-01T08:00:00Z') + ++fortnight * 2 * WEEK
    clock.set(iso(t))
    return t
  }
  beforeAll(async () => {
    fl = await startTestInstance(await testConfig(backend, ENV), clock)
  })
  afterAll(() => fl?.close())

  it('a dissatisfied answer reopens the ticket for the supervisor with the comment, open again; satisfied after the second round closes it', async () => {
    const t0 = nextStart()
    const opened = await openTicket(fl, 'fu-loop')
    clock.set(iso(t0 + HOUR))
    const resolved = await resolve(fl, opened.id)
    // resolving schedules the call, due a week later (FAULTLINE_FOLLOW_UP_WITHIN's default, 000: 一周内), and says so
    let t = await detail(fl, opened.id)
    expect(t.followUps).toEqual([
      expect.objectContaining({ round: 1, dueAt: iso(t0 + HOUR + WEEK), answeredAt: null, rating: null, score: null, outcome: null, closedAt: null }),
    ])
    expect(t.history.filter((h) => h.action === 'follow_up')).toMatchObject([
      { by: 'faultline', status: 'resolved', details: { round: 1, dueAt: iso(t0 + HOUR + WEEK) } },
    ])
    expect(resolved.resolvedAt).toBe(iso(t0 + HOUR))

    clock.set(iso(t0 + 2 * HOUR))
    const reopened = await answer(fl, opened.id, { rating: 'dissatisfied', comment: '还是不制冷', channel: 'phone' })
    expect(reopened.status).toBe(200)
    expect(reopened.body).toMatchObject({ status: 'reopened', satisfaction: 1, comment: '还是不制冷', resolvedAt: null })
    // open again for its SLA: the resolve deadline is unmet again (P2: 24 h from the opening)
    expect(reopened.body.sla.state.resolve).toBe('on_track')
    t = await detail(fl, opened.id)
    expect(t.followUps[0]).toMatchObject({
      round: 1,
      answeredAt: iso(t0 + 2 * HOUR),
      rating: 'dissatisfied',
      score: 1,
      comment: '还是不制冷',
      by: 'call-centre',
      channel: 'phone',
      outcome: 'reopened',
      closedAt: iso(t0 + 2 * HOUR),
    })
    expect(t.history.slice(-2)).toMatchObject([
      {
        action: 'follow_up_answered',
        by: 'call-centre',
        status: 'resolved',
        note: '还是不制冷',
        details: { round: 1, rating: 'dissatisfied', score: 1, channel: 'phone' },
      },
      { action: 'reopened', by: 'call-centre', status: 'reopened', note: 'dissatisfied at the follow-up call, for the supervisor: 还是不制冷' },
    ])
    // open again for dedupe (tickets_one_open): the same fault reported again is this ticket, not a new one
    const again = await report(fl, 'fu-loop')
    expect(again.body).toMatchObject({ id: opened.id, occurrences: 2, status: 'reopened' })
    expect((await fl.api('GET', '/api/tickets?status=reopened&deviceId=fu-loop')).body.tickets.map((x: Ticket) => x.id)).toEqual([opened.id])
    // and counted open by the gauge
    expect(await metricValue(fl.faultline.httpPort, 'faultline_open_tickets', { priority: 'P2', kind: 'repair' })).toBeGreaterThanOrEqual(1)

    // the supervisor re-dispatches to a technician of the directory (002: 安排二次服务); the next resolution is round 2
    const hours = { timeZone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '23:59' }
    const tech = { id: 'tech-wang', name: 'Wang Gang', team: 'east', skills: [{ category: 'refrigerator', level: 3 }], regions: ['east'], capacity: 3, hours }
    const registered = await fl.api('POST', '/api/technicians', tech)
    expect(registered.status, JSON.stringify(registered.body)).toBe(201)
    const assigned = await fl.api<Ticket>('POST', `/api/tickets/${opened.id}/assign`, { technicianId: 'tech-wang', reason: '二次上门', by: 'supervisor-zhao' })
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(200)
    expect(assigned.body).toMatchObject({ status: 'assigned', technicianId: 'tech-wang' })
    expect((await move(fl, opened.id, 'in_progress')).status).toBe(200)
    clock.set(iso(t0 + DAY))
    await resolve(fl, opened.id)
    expect((await detail(fl, opened.id)).followUps.map((f) => [f.round, f.dueAt, f.outcome])).toEqual([
      [1, iso(t0 + HOUR + WEEK), 'reopened'],
      [2, iso(t0 + DAY + WEEK), null],
    ])
    clock.set(iso(t0 + 2 * DAY))
    const closed = await answer(fl, opened.id, { rating: 'satisfied', comment: '满意', channel: 'sms' })
    expect(closed.body).toMatchObject({ status: 'closed', satisfaction: 5, closedAt: iso(t0 + 2 * DAY) })
    expect((await detail(fl, opened.id)).followUps[1]).toMatchObject({ round: 2, rating: 'satisfied', score: 5, outcome: 'closed', channel: 'sms' })
    // nothing waits any more
    expect((await answer(fl, opened.id, { rating: 'satisfied' })).status).toBe(409)
  })

  it('a 1-5 score is kept as given and its rating derived (5-4 satisfied, 3 neutral, 2-1 dissatisfied); closing by transition follows the same rule', async () => {
    nextStart()
    for (const [score, rating, status] of [
      [5, 'satisfied', 'closed'],
      [4, 'satisfied', 'closed'],
      [3, 'neutral', 'reopened'],
      [2, 'dissatisfied', 'reopened'],
      [1, 'dissatisfied', 'reopened'],
    ] as const) {
      const t = await resolvedTicket(fl, `fu-score-${score}`)
      const res = await answer(fl, t.id, { score })
      expect(res.body).toMatchObject({ status, satisfaction: score })
      expect((await detail(fl, t.id)).followUps).toMatchObject([{ rating, score, outcome: status }])
    }
    // 002's word neutral is a 3, and reopens
    const neutral = await resolvedTicket(fl, 'fu-neutral')
    expect((await answer(fl, neutral.id, { rating: 'neutral', comment: '维修及时,但服务态度有待提升' })).body).toMatchObject({
      status: 'reopened',
      satisfaction: 3,
    })

    // the old route: closing a resolved ticket with satisfaction 2 was final; it is the follow-up's answer now
    const old = await resolvedTicket(fl, 'fu-old-route')
    const low = await move(fl, old.id, 'closed', { satisfaction: 2, comment: 'still noisy' })
    expect(low.status).toBe(200)
    expect(low.body).toMatchObject({ status: 'reopened', satisfaction: 2, comment: 'still noisy' })
    expect((await detail(fl, old.id)).followUps).toMatchObject([{ rating: 'dissatisfied', score: 2, by: 'desk', outcome: 'reopened' }])
    const high = await resolvedTicket(fl, 'fu-old-route-ok')
    expect((await move(fl, high.id, 'closed', { satisfaction: 4 })).body).toMatchObject({ status: 'closed', satisfaction: 4 })
  })

  it('an unanswered call closes the ticket at its deadline, not a tick before, with the reason recorded', async () => {
    const t0 = nextStart()
    const t = await resolvedTicket(fl, 'fu-silent')
    const expiredBefore = await expiredHere(fl)
    clock.set(iso(t0 + WEEK - 1))
    await afterAPass(fl)
    expect(await detail(fl, t.id)).toMatchObject({ status: 'resolved', followUps: [{ outcome: null }] })

    clock.set(iso(t0 + WEEK))
    const closed = await eventually(async () => {
      const d = await detail(fl, t.id)
      return d.status === 'closed' ? d : undefined
    })
    expect(closed).toMatchObject({ satisfaction: null, closedAt: iso(t0 + WEEK) })
    expect(closed.followUps).toEqual([
      expect.objectContaining({ round: 1, dueAt: iso(t0 + WEEK), answeredAt: null, rating: null, outcome: 'expired', closedAt: iso(t0 + WEEK) }),
    ])
    expect(closed.history.slice(-2)).toMatchObject([
      { action: 'follow_up_expired', by: 'faultline', status: 'resolved', note: `unanswered by ${iso(t0 + WEEK)}`, details: { round: 1 } },
      { action: 'closed', by: 'faultline', status: 'closed', note: 'no answer to the follow-up call by its deadline' },
    ])
    expect((await expiredHere(fl)) - expiredBefore).toBe(1)
    // closed is closed: a late answer is refused
    expect((await answer(fl, t.id, { rating: 'dissatisfied' })).status).toBe(409)
  })

  it('a resolved ticket taken back to work by hand ends its call: the watcher does not close it while it is worked on', async () => {
    const t0 = nextStart()
    const t = await resolvedTicket(fl, 'fu-by-hand')
    expect((await move(fl, t.id, 'in_progress', { note: 'customer rang: still leaking' })).status).toBe(200)
    expect((await detail(fl, t.id)).followUps).toMatchObject([{ round: 1, answeredAt: null, outcome: 'reopened', closedAt: iso(t0) }])
    clock.set(iso(t0 + WEEK + HOUR))
    await afterAPass(fl)
    expect((await detail(fl, t.id)).status).toBe('in_progress')
    // a follow-up answer needs a resolved ticket
    expect((await answer(fl, t.id, { score: 5 })).status).toBe(409)
  })

  it('a repair not fixed at the first visit gets a second visit on the same ticket; the detail lists both, the history each', async () => {
    const t0 = nextStart()
    const t = await openTicket(fl, 'fu-visits')
    const first = await fl.api<Visit>('POST', `/api/tickets/${t.id}/visits`, {
      by: 'tech-li',
      technician: 'tech-li',
      startedAt: iso(t0),
      endedAt: iso(t0 + HOUR),
      outcome: 'parts_needed',
      partsAvailable: false,
      note: '需更换压缩机, 备件缺货',
    })
    expect(first.status).toBe(201)
    expect(first.body).toMatchObject({ seq: 1, outcome: 'parts_needed', partsAvailable: false, startedAt: iso(t0), endedAt: iso(t0 + HOUR) })
    const second = await fl.api<Visit>('POST', `/api/tickets/${t.number}/visits`, {
      by: 'tech-li',
      technician: 'tech-li',
      startedAt: iso(t0 + 2 * DAY),
      outcome: 'fixed',
      partsAvailable: true,
    })
    expect(second.body).toMatchObject({ seq: 2, outcome: 'fixed', endedAt: null, note: null })
    const d = await detail(fl, t.id)
    expect(d.visits.map((v) => [v.seq, v.outcome, v.partsAvailable, v.technician])).toEqual([
      [1, 'parts_needed', false, 'tech-li'],
      [2, 'fixed', true, 'tech-li'],
    ])
    expect(d.history.filter((h) => h.action === 'visit_recorded')).toMatchObject([
      { by: 'tech-li', note: '需更换压缩机, 备件缺货', details: { seq: 1, outcome: 'parts_needed' } },
      { by: 'tech-li', details: { seq: 2, outcome: 'fixed' } },
    ])
    // one ticket for the device, not one per visit
    expect((await fl.api('GET', '/api/tickets?deviceId=fu-visits')).body.tickets).toHaveLength(1)
    expect((await move(fl, t.id, 'cancelled')).status).toBe(200)
    const late = await fl.api('POST', `/api/tickets/${t.id}/visits`, { by: 'tech-li', startedAt: iso(t0 + 3 * DAY), outcome: 'fixed' })
    expect(late.status).toBe(409)
    expect((await fl.api('POST', '/api/tickets/999999/visits', { by: 'x', startedAt: iso(t0), outcome: 'fixed' })).status).toBe(404)
  })

  it('refuses bad bodies with a 400 naming the field, a follow-up on a ticket not resolved with a 409, an unknown ticket with a 404', async () => {
    nextStart()
    const open = await openTicket(fl, 'fu-bad')
    const badAnswers: [Record<string, unknown>, string][] = [
      [{}, 'body.rating'],
      [{ rating: 'satisfied', score: 5 }, 'body.rating'],
      [{ rating: 'great' }, 'body.rating'],
      [{ score: 6 }, 'body.score'],
      [{ score: 0 }, 'body.score'],
      [{ score: 2.5 }, 'body.score'],
      [{ score: '5' }, 'body.score'],
      [{ score: 5, channel: 'pigeon' }, 'body.channel'],
      [{ score: 5, by: ' ' }, 'body.by'],
      [{ score: 5, stars: 5 }, 'body'],
      [{ score: 5, comment: 'x'.repeat(2001) }, 'body.comment'],
    ]
    for (const [body, field] of badAnswers) {
      const res = await answer(fl, open.id, body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.message, JSON.stringify(body)).toContain(field)
    }
    const t0 = clock.now()
    const badVisits: [Record<string, unknown>, string][] = [
      [{ startedAt: iso(t0) }, 'body.outcome'],
      [{ startedAt: iso(t0), outcome: 'done' }, 'body.outcome'],
      [{ outcome: 'fixed' }, 'body.startedAt'],
      [{ startedAt: 'yesterday', outcome: 'fixed' }, 'body.startedAt'],
      [{ startedAt: iso(t0), endedAt: iso(t0 - 1), outcome: 'fixed' }, 'body.endedAt'],
      [{ startedAt: iso(t0), outcome: 'fixed', partsAvailable: 'yes' }, 'body.partsAvailable'],
      [{ startedAt: iso(t0), outcome: 'fixed', seq: 7 }, 'body'],
    ]
    for (const [body, field] of badVisits) {
      const res = await fl.api('POST', `/api/tickets/${open.id}/visits`, { by: 'tech-li', ...body })
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.message, JSON.stringify(body)).toContain(field)
    }
    // reopened is the follow-up's outcome, and closing is its answer: neither takes other fields through a transition
    expect((await move(fl, open.id, 'reopened')).status).toBe(400)
    expect((await move(fl, open.id, 'closed', { satisfaction: 5, note: 'x' })).status).toBe(400)
    // nothing was recorded by any of them
    expect(await detail(fl, open.id)).toMatchObject({ status: 'in_progress', visits: [], followUps: [] })

    const notResolved = await answer(fl, open.id, { rating: 'satisfied' })
    expect(notResolved.status).toBe(409)
    expect(notResolved.body.message).toContain('in_progress')
    expect((await move(fl, open.id, 'closed', { satisfaction: 5 })).status).toBe(409)
    expect((await answer(fl, 999999, { rating: 'satisfied' })).status).toBe(404)
    expect((await answer(fl, 0, { rating: 'satisfied' })).status).toBe(400)
  })

  it('lists reopened with its Chinese label: from resolved by the follow-up, on to the supervisor’s re-dispatch', async () => {
    const res = await fl.api('GET', '/api/tickets/statuses')
    const byStatus = new Map(res.body.statuses.map((s: { status: string }) => [s.status, s]))
    expect(byStatus.get('reopened')).toEqual({
      status: 'reopened',
      label: 'Reopened for the supervisor',
      zh: '主管复核',
      next: ['assigned', 'in_progress', 'cancelled'],
    })
    expect(byStatus.get('resolved')).toMatchObject({ next: ['closed', 'reopened', 'in_progress'] })
  })
})

describe('FAULTLINE_FOLLOW_UP_WITHIN', () => {
  it('is a positive duration, 7 days by default; anything else is named at start', () => {
    expect(loadConfig({}, []).followUpWithinMs).toBe(WEEK)
    expect(loadConfig({ FAULTLINE_FOLLOW_UP_WITHIN: '72h' }, ['--follow-up-within', '3d']).followUpWithinMs).toBe(3 * DAY)
    for (const bad of ['soon', '0d', '-1d', '7']) {
      expect(() => loadConfig({ FAULTLINE_FOLLOW_UP_WITHIN: bad }, []), bad).toThrow(ConfigError)
    }
  })
})

describe.runIf(backends().includes('server'))('two Faultline processes on one database', () => {
  it('close each unanswered ticket once between them', startsWithin(2), async () => {
    const t0 = Date.parse('2026-09-01T08:00:00Z')
    const DATABASE_URL = await freshDatabase()
    const clocks = [new ManualClock(t0), new ManualClock(t0)]
    const [a, b] = [
      await startTestInstance(await testConfig('server', { ...ENV, DATABASE_URL, FAULTLINE_FOLLOW_UP_WITHIN: '3d' }), clocks[0]),
      await startTestInstance(await testConfig('server', { ...ENV, DATABASE_URL, FAULTLINE_FOLLOW_UP_WITHIN: '3d' }), clocks[1]),
    ] as [TestInstance, TestInstance]
    const tickets: Ticket[] = []
    for (let i = 0; i < 30; i++) tickets.push(await resolvedTicket(a, `fu-two-${i}`))
    // 004: 1-3 working days; the setting moves the deadline
    expect((await detail(a, tickets[0]!.id)).followUps[0]!.dueAt).toBe(iso(t0 + 3 * DAY))
    for (const clock of clocks) clock.set(iso(t0 + 3 * DAY))
    await Promise.all([afterAPass(a), afterAPass(b)])
    for (const t of tickets) {
      const d = await detail(b, t.id)
      expect(d.status).toBe('closed')
      expect(d.history.filter((h) => ['follow_up_expired', 'closed'].includes(h.action)).map((h) => h.action)).toEqual(['follow_up_expired', 'closed'])
    }
    expect((await expiredHere(a)) + (await expiredHere(b))).toBe(tickets.length)
    await Promise.all([a.close(), b.close()])
  })
})
