// SLA deadlines, watched (issue 11): warnings and breaches each once per deadline, across a restart and with two
// processes; the clock paused while the ticket waits; the business calendar; escalation; a person's priority
// change; the statuses of 002; the overdue and dueBefore filters. Over HTTP, on each backend, on a hand-set clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Ticket } from '../src/tickets/index.js'
import { ManualClock } from './support/clock.js'
import { backends, eventually, startTestInstance, testConfig, type TestInstance } from './support/faultline.js'
import { metricValue } from './support/metrics.js'
import { freshDatabase } from './support/postgres.js'
import { connectStream } from './support/stream-client.js'
import { startsWithin } from './support/waits.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const iso = (ms: number) => new Date(ms).toISOString()
/** The watcher looks this often here: a pass is quick, and the tests wait for passes, not for time. */
const FAST = { FAULTLINE_SLA_INTERVAL_MS: '20' }

type HistoryEntry = { action: string; by: string; status: string; note?: string; details?: Record<string, unknown> }
type TicketWithHistory = Ticket & { history: HistoryEntry[] }

const passes = (fl: TestInstance) => metricValue(fl.faultline.httpPort, 'faultline_sla_passes_total')

/** Resolves once a whole watcher pass has begun and ended after this call: what it would raise is raised. */
async function afterAPass(fl: TestInstance) {
  const seen = await passes(fl)
  // the pass under way may have read the clock before it was set; the one after it has not
  await eventually(async () => ((await passes(fl)) >= seen + 2 ? true : undefined))
}

const alertCount = (fl: TestInstance, level: 'warning' | 'breach', deadline: string, priority: string) =>
  metricValue(fl.faultline.httpPort, 'faultline_sla_alerts_total', { level, deadline, priority })

async function ticket(fl: TestInstance, id: number): Promise<TicketWithHistory> {
  const res = await fl.api<TicketWithHistory>('GET', `/api/tickets/${id}`)
  expect(res.status).toBe(200)
  return res.body
}
const actions = async (fl: TestInstance, id: number, ...wanted: string[]) => (await ticket(fl, id)).history.filter((h) => wanted.includes(h.action))

/** A phone report on a new device: critical opens a P1, major a P2, minor a P3, info a P4. */
async function openTicket(fl: TestInstance, deviceId: string, severity: 'critical' | 'major' | 'minor' | 'info'): Promise<Ticket> {
  await fl.registerDevice(deviceId)
  const res = await fl.api<Ticket>('POST', '/api/tickets', { deviceId, by: 'hotline', title: 'Leaking under the unit', severity })
  expect(res.status).toBe(201)
  return res.body
}

const move = (fl: TestInstance, id: number, to: string, extra: Record<string, unknown> = {}) =>
  fl.api('POST', `/api/tickets/${id}/transitions`, { to, by: 'desk', ...extra })

describe.each(backends())('SLA deadlines on the %s backend', (backend) => {
  it('a P1 is warned at 24 min of its 30 min respond deadline, not before, and breached at 30, each once across a restart', startsWithin(2), async () => {
    const t0 = Date.parse('2026-03-02T08:00:00Z')
    const clock = new ManualClock(t0)
    const config = await testConfig(backend, FAST)
    const first = await startTestInstance(config, clock)
    const opened = await openTicket(first, 'sla-p1', 'critical')
    expect(opened).toMatchObject({ priority: 'P1', sla: { respondBy: iso(t0 + 30 * MINUTE), startBy: iso(t0 + 2 * HOUR), resolveBy: iso(t0 + 4 * HOUR) } })
    expect(opened.sla.respondWarnAt).toBe(iso(t0 + 24 * MINUTE))

    clock.set(iso(t0 + 24 * MINUTE - 1))
    await afterAPass(first)
    expect(await actions(first, opened.id, 'sla_warning', 'sla_breached')).toEqual([])
    expect((await ticket(first, opened.id)).sla.state).toEqual({ respond: 'on_track', start: 'on_track', resolve: 'on_track' })

    clock.set(iso(t0 + 24 * MINUTE))
    const warned = await eventually(async () => {
      const found = await actions(first, opened.id, 'sla_warning')
      return found.length > 0 ? found : undefined
    })
    expect(warned).toMatchObject([{ by: 'faultline', status: 'open', details: { deadline: 'respond', due: iso(t0 + 30 * MINUTE) } }])
    await afterAPass(first)
    expect(await actions(first, opened.id, 'sla_warning', 'sla_breached')).toHaveLength(1)
    expect(await alertCount(first, 'warning', 'respond', 'P1')).toBe(1)
    expect((await ticket(first, opened.id)).sla.state.respond).toBe('at_risk')
    await first.close()

    // Down across the deadline: the breach is reported once, by the pass at start (the next is an hour away), the
    // warning not again.
    clock.set(iso(t0 + 30 * MINUTE))
    const second = await startTestInstance({ ...config, slaIntervalMs: HOUR }, clock)
    const alerts = await actions(second, opened.id, 'sla_warning', 'sla_breached', 'escalated')
    expect(alerts.map((h) => [h.action, h.details?.deadline])).toEqual([
      ['sla_warning', 'respond'],
      ['sla_breached', 'respond'],
      ['escalated', 'respond'],
    ])
    expect(alerts[2]).toMatchObject({ details: { to: 'supervisor' } })
    expect(await alertCount(second, 'breach', 'respond', 'P1')).toBe(1)
    expect(await alertCount(second, 'warning', 'respond', 'P1')).toBe(0)
    expect((await ticket(second, opened.id)).sla.state).toEqual({ respond: 'breached', start: 'on_track', resolve: 'on_track' })
    // every history entry is a live-stream event: the alerts too, once each
    const stream = await connectStream(second.faultline.httpPort, '?last=1000')
    await stream.waitFor((m) => m.type === 'caught_up')
    const events = stream.messages.flatMap((m) => {
      const t = (m as { ticket?: { id: number; action: string } }).ticket
      return m.type === 'ticket.changed' && t?.id === opened.id ? [t.action] : []
    })
    expect(events).toEqual(['sla_warning', 'sla_breached', 'escalated'])
    await stream.close()
    await second.close()
  })

  describe('on one instance', () => {
    const clock = new ManualClock(Date.parse('2026-04-01T00:00:00Z'))
    let fl: TestInstance
    /** each test starts its tickets a day after the last one's, on the clock they all share */
    let day = 0
    const nextDay = () => {
      const t = Date.parse('2026-04-01T08:00:00Z') + ++day * 24 * HOUR
      clock.set(iso(t))
      return t
    }
    beforeAll(async () => {
      fl = await startTestInstance(await testConfig(backend, FAST), clock)
    })
    afterAll(() => fl?.close())

    it('a ticket waiting on parts stops the clock: every deadline moves on by the paused time exactly, and nothing fires meanwhile', async () => {
      const t0 = nextDay()
      const t = await openTicket(fl, 'sla-pause', 'critical')
      expect((await move(fl, t.id, 'assigned', { technician: 'tech-east-1' })).status).toBe(200)
      expect((await move(fl, t.id, 'on_site')).status).toBe(200)
      clock.set(iso(t0 + 3 * HOUR))
      const paused = await move(fl, t.id, 'waiting_parts', { note: '需更换主板配件, 预计3天到货' })
      expect(paused.status).toBe(200)
      expect(paused.body.sla).toMatchObject({ pausedAt: iso(t0 + 3 * HOUR), resolveBy: iso(t0 + 4 * HOUR) })
      // past the resolve warning (3 h 12 min) and the deadline itself while paused: the clock stands still
      clock.set(iso(t0 + 5 * HOUR))
      await afterAPass(fl)
      expect(await actions(fl, t.id, 'sla_warning', 'sla_breached')).toEqual([])
      expect((await ticket(fl, t.id)).sla.state.resolve).toBe('on_track')

      const pausedFor = 2 * HOUR + 17 * MINUTE + 3
      clock.set(iso(t0 + 3 * HOUR + pausedFor))
      const resumed = await move(fl, t.id, 'in_progress', { note: 'parts arrived' })
      expect(resumed.status).toBe(200)
      expect(resumed.body.sla).toMatchObject({
        pausedAt: null,
        pausedMs: pausedFor,
        resolveBy: iso(t0 + 4 * HOUR + pausedFor),
        resolveWarnAt: iso(t0 + 192 * MINUTE + pausedFor),
        respondBy: iso(t0 + 30 * MINUTE + pausedFor),
      })
      const history = await actions(fl, t.id, 'sla_paused', 'sla_resumed')
      expect(history).toMatchObject([
        { action: 'sla_paused', status: 'waiting_parts' },
        { action: 'sla_resumed', status: 'in_progress', details: { pausedMs: pausedFor } },
      ])
      // the moved warning fires at its moved instant, not before
      clock.set(iso(t0 + 192 * MINUTE + pausedFor - 1))
      await afterAPass(fl)
      expect(await actions(fl, t.id, 'sla_warning')).toEqual([])
      clock.set(iso(t0 + 192 * MINUTE + pausedFor))
      await eventually(async () => ((await actions(fl, t.id, 'sla_warning')).length === 1 ? true : undefined))
      expect(await actions(fl, t.id, 'sla_warning')).toMatchObject([{ details: { deadline: 'resolve' } }])
    })

    it('a person changes the priority with a reason: deadlines recomputed from the opening, recorded, and watched anew', async () => {
      const t0 = nextDay()
      const t = await openTicket(fl, 'sla-prio', 'info')
      expect(t.priority).toBe('P4')
      // P4 respond within 24 h: warned at 19.2 h
      clock.set(iso(t0 + 20 * HOUR))
      await eventually(async () => ((await actions(fl, t.id, 'sla_warning')).length === 1 ? true : undefined))

      const changed = await fl.api<Ticket>('POST', `/api/tickets/${t.id}/priority`, { priority: 'P2', reason: '客户强烈要求优先处理', by: 'supervisor' })
      expect(changed.status).toBe(200)
      expect(changed.body).toMatchObject({
        priority: 'P2',
        sla: { respondBy: iso(t0 + 2 * HOUR), startBy: iso(t0 + 8 * HOUR), resolveBy: iso(t0 + 24 * HOUR) },
      })
      expect(await actions(fl, t.id, 'priority_changed')).toMatchObject([
        { by: 'supervisor', note: '客户强烈要求优先处理', details: { from: 'P4', to: 'P2', respondBy: iso(t0 + 2 * HOUR) } },
      ])
      // the new respond and start deadlines have passed: breached once each, though the old one was only warned of
      await eventually(async () => ((await actions(fl, t.id, 'sla_breached')).length === 2 ? true : undefined))
      await afterAPass(fl)
      expect((await actions(fl, t.id, 'sla_breached')).map((h) => h.details?.deadline)).toEqual(['respond', 'start'])

      expect((await fl.api('POST', `/api/tickets/${t.id}/priority`, { priority: 'P2', reason: 'again', by: 'supervisor' })).status).toBe(409)
      expect((await fl.api('POST', `/api/tickets/${t.id}/priority`, { priority: 'P5', reason: 'x', by: 'supervisor' })).status).toBe(400)
      expect((await fl.api('POST', `/api/tickets/${t.id}/priority`, { priority: 'P1', by: 'supervisor' })).status).toBe(400)
      expect((await fl.api('POST', `/api/tickets/${t.id}/priority`, { priority: 'P1', reason: ' ', by: 'supervisor' })).status).toBe(400)
      expect((await fl.api('POST', '/api/tickets/999999/priority', { priority: 'P1', reason: 'x', by: 'supervisor' })).status).toBe(404)
      expect((await move(fl, t.id, 'cancelled')).status).toBe(200)
      expect((await fl.api('POST', `/api/tickets/${t.id}/priority`, { priority: 'P1', reason: 'x', by: 'supervisor' })).status).toBe(409)
    })

    it('lists every status with its Chinese label and where it may go; an illegal move is a 409 naming what is allowed', async () => {
      const res = await fl.api('GET', '/api/tickets/statuses')
      expect(res.status).toBe(200)
      const byStatus = new Map(res.body.statuses.map((s: { status: string }) => [s.status, s]))
      expect(byStatus.get('on_site')).toMatchObject({ zh: '已上门检测', label: 'On site' })
      expect(byStatus.get('remote_handling')).toMatchObject({ zh: '远程处理中' })
      expect(byStatus.get('waiting_parts')).toMatchObject({ zh: '等待配件到货', next: expect.arrayContaining(['in_progress', 'on_site', 'cancelled']) })
      expect(byStatus.get('waiting_customer')).toMatchObject({ zh: '等待客户' })
      expect(byStatus.get('closed')).toMatchObject({ next: [] })

      nextDay()
      const t = await openTicket(fl, 'sla-moves', 'major')
      const early = await move(fl, t.id, 'waiting_parts')
      expect(early.status).toBe(409)
      expect(early.body).toMatchObject({ from: 'open', allowed: ['acknowledged', 'assigned', 'cancelled'] })
      expect((await move(fl, t.id, 'assigned', { technician: 'tech-1' })).status).toBe(200)
      expect((await move(fl, t.id, 'remote_handling')).status).toBe(200)
      expect((await move(fl, t.id, 'waiting_customer')).status).toBe(200)
      // waiting is not fixing: work resumes first
      expect((await move(fl, t.id, 'resolved', { resolution: 'x' })).status).toBe(409)
      expect((await move(fl, t.id, 'on_site')).status).toBe(200)
      expect((await move(fl, t.id, 'resolved', { resolution: 'replaced the seal' })).status).toBe(200)
      expect((await move(fl, t.id, 'on_site')).status).toBe(409)
      expect((await move(fl, t.id, 'paused')).status).toBe(400)
    })

    it('filters the overdue tickets and those due before an instant; bad values are a 400', async () => {
      const t0 = nextDay()
      const p1 = await openTicket(fl, 'sla-due-p1', 'critical')
      const p4 = await openTicket(fl, 'sla-due-p4', 'info')
      const acknowledged = await openTicket(fl, 'sla-due-ack', 'critical')
      expect((await move(fl, acknowledged.id, 'acknowledged')).status).toBe(200)
      const ids = async (query: string) => {
        const res = await fl.api('GET', `/api/tickets?${query}`)
        expect(res.status).toBe(200)
        return (res.body.tickets as Ticket[]).map((t) => t.id).filter((id) => [p1.id, p4.id, acknowledged.id].includes(id))
      }
      clock.set(iso(t0 + 30 * MINUTE))
      // respond deadline reached on the P1; the acknowledged one has met it
      expect(await ids('overdue=true')).toEqual([p1.id])
      expect(await ids(`dueBefore=${encodeURIComponent(iso(t0 + HOUR))}`)).toEqual([p1.id])
      expect(await ids(`dueBefore=${encodeURIComponent(iso(t0 + 3 * HOUR))}`)).toEqual([acknowledged.id, p1.id])
      expect(await ids(`dueBefore=${encodeURIComponent(iso(t0 + 25 * HOUR))}&priority=P4`)).toEqual([p4.id])
      expect(await ids('overdue=false')).toEqual([acknowledged.id, p4.id, p1.id])
      clock.set(iso(t0 + 2 * HOUR))
      expect(await ids('overdue=true')).toEqual([acknowledged.id, p1.id])
      expect((await fl.api('GET', '/api/tickets?overdue=yes')).status).toBe(400)
      expect((await fl.api('GET', '/api/tickets?dueBefore=tomorrow')).status).toBe(400)
    })
  })

  it('on a business calendar: a ticket opened Friday 17:00 with 8 h to resolve is due Monday; a breach raises the priority', async () => {
    const friday = Date.parse('2026-06-05T17:00:00Z')
    const clock = new ManualClock(friday)
    const fl = await startTestInstance(
      await testConfig(backend, {
        ...FAST,
        FAULTLINE_SLA_CALENDAR: JSON.stringify({ hours: '09:00-18:00', days: [1, 2, 3, 4, 5] }),
        FAULTLINE_SLA: JSON.stringify({ P3: { respondWithin: '30m', startWithin: '4h', resolveWithin: '8h' } }),
        FAULTLINE_SLA_ESCALATE: 'priority',
      }),
      clock,
    )
    const t = await openTicket(fl, 'sla-friday', 'minor')
    expect(t).toMatchObject({
      priority: 'P3',
      sla: { respondBy: '2026-06-05T17:30:00.000Z', startBy: '2026-06-08T12:00:00.000Z', resolveBy: '2026-06-08T16:00:00.000Z' },
    })
    // Saturday: the respond deadline has passed; breached once, escalated one level (P3 → P2), deadlines kept
    clock.set('2026-06-06T10:00:00Z')
    const escalated = await eventually(async () => {
      const found = await actions(fl, t.id, 'escalated')
      return found.length > 0 ? found : undefined
    })
    expect(escalated).toMatchObject([{ details: { deadline: 'respond', from: 'P3', to: 'P2' } }])
    await afterAPass(fl)
    const after = await ticket(fl, t.id)
    expect(after.priority).toBe('P2')
    expect(after.sla.resolveBy).toBe('2026-06-08T16:00:00.000Z')
    expect(after.history.filter((h) => h.action === 'sla_breached')).toHaveLength(1)
    expect(await alertCount(fl, 'breach', 'respond', 'P3')).toBe(1)
    await fl.close()
  })
})

describe.runIf(backends().includes('server'))('two Faultline processes on one database', () => {
  it('raise each warning once between them', startsWithin(2), async () => {
    const t0 = Date.parse('2026-05-04T08:00:00Z')
    const DATABASE_URL = await freshDatabase()
    const clocks = [new ManualClock(t0), new ManualClock(t0)]
    const [a, b] = [
      await startTestInstance(await testConfig('server', { ...FAST, DATABASE_URL }), clocks[0]),
      await startTestInstance(await testConfig('server', { ...FAST, DATABASE_URL }), clocks[1]),
    ] as [TestInstance, TestInstance]
    const tickets: Ticket[] = []
    for (let i = 0; i < 30; i++) tickets.push(await openTicket(a, `sla-two-${i}`, 'critical'))
    for (const clock of clocks) clock.set(iso(t0 + 24 * MINUTE))
    await Promise.all([afterAPass(a), afterAPass(b)])
    for (const t of tickets) expect(await actions(a, t.id, 'sla_warning')).toHaveLength(1)
    const raised = (await alertCount(a, 'warning', 'respond', 'P1')) + (await alertCount(b, 'warning', 'respond', 'P1'))
    expect(raised).toBe(tickets.length)
    await Promise.all([a.close(), b.close()])
  })
})
