// Document 004's KPIs and the daily, weekly and monthly reports (issue 12): a fixture of 100 repairs with known
// outcomes, made through the HTTP API on a hand-set clock, on each backend; every expected figure is worked out
// below from the fixture's own definition, never read back from the database.
import { mkdir, writeFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from './support/clock.js'
import { API_TOKEN, backends, startTestInstance, testConfig, type TestInstance } from './support/faultline.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const iso = (ms: number) => new Date(ms).toISOString()
/** 2026-03-02 09:00 in Shanghai, the deployment's zone: every fixture ticket opens that local day. */
const T0 = Date.parse('2026-03-02T01:00:00Z')
/** when the KPIs are read: past ticket 100's respond deadline, before ticket 99's resolve deadline */
const AS_OF = Date.parse('2026-03-04T00:00:00Z')

/** test/fixtures/kpis-catalog: each repair below uses one part and an hour, so its bill is, in cents, */
const FRIDGE = 'KPI-FRIDGE'
const WASHER = 'KPI-WASHER'
const bills = {
  // labour 80.00/h, the sensor 25.00, call-out 30.00 + transport 10.00, disposal 5.00
  [FRIDGE]: { part: 'KF-SENSOR', labour: 8000, parts: 2500, transport: 4000, other: 500 },
  // labour 60.00/h, the pump 50.00, call-out 20.00, nothing else
  [WASHER]: { part: 'KW-PUMP', labour: 6000, parts: 5000, transport: 2000, other: 0 },
}
const channels = ['phone', 'wechat', 'web', 'email', 'walk_in'] as const
/** id, name, and team or provider: two of the maker's own, one each of two providers */
const technicians = [
  { id: 'wang', name: 'Wang Wei', team: 'east' },
  { id: 'li', name: 'Li Na', team: 'west' },
  { id: 'zhao', name: 'Zhao Lei', providerId: 'quickfix' },
  { id: 'qian', name: 'Qian Hui', providerId: 'coolserve' },
] as const

type Visit = { outcome: 'fixed' | 'not_fixed' | 'parts_needed' | 'customer_absent'; partsAvailable?: boolean }
/** One resolution of a ticket: the visits before it, when (after opening), and the follow-up call's answer. */
type Round = { visits: Visit[]; resolveAfter: number; answer?: { score: number } | { rating: 'satisfied' } }

/**
 * The fixture, ticket i = 1…100:
 * - priority by block: P1 1–25, P2 26–50, P3 51–70 and 96–100, P4 71–95 (96–100 are repeats: reported as info, a
 *   P4, raised one level for repeating, rules/repair-ticket.ts);
 * - 91–95 are reported with fault code F1 and resolved; 96–100 report F1 again on the same fridges (91's … 95's)
 *   the same evening: 91–95 are repeat repairs within 7 days;
 * - model: fridges 1–60 and 91–100, washers 61–90; region: the device's number odd east, even west;
 * - channel: phone, wechat, web, email, walk_in in turn (i = 1 phone, 2 wechat, …);
 * - technician: wang, li, zhao, qian in turn, except 100, which nobody takes;
 * - responded (assigned) 10 min after opening, except 1–3 (40 min: past P1's 30), 26 (3 h: past P2's 2 h) and
 *   100 (never: its 8 h passes before AS_OF); work starts 5 min after;
 * - visits: one, fixed, except 3, 4 and 5 (parts needed and not at hand, fixed at a second), 6 (the customer was
 *   out, fixed at the second: the first attempt), 27 (not fixed, then fixed); whether the parts were at hand is
 *   said for 1–50 only; 99 and 100 have none yet;
 * - resolved 2 h after opening, except 3 (waits for parts from 1 h to 4 h, resolved at 6 h: within 4 h + the 3 h
 *   paused), 4, 5 and 26 (5 h: past P1's 4 h, within P2's 24 h), 27 (30 h: past P2's 24 h), 99 (still being
 *   worked on, 72 h ahead) and 100;
 * - the follow-up call an hour after: 4 (1–10), 5 (13–90; satisfied for 13–50); 11 answers 1, is reopened, fixed at
 *   a second visit and resolved at 5 h, then answers 5; 12 answers 3 and stays reopened; 91–98 have not answered.
 */
function fixture(i: number) {
  const repeatOf = i > 95 ? i - 5 : undefined
  const device = repeatOf ?? i
  const parts = i <= 50 ? { partsAvailable: ![3, 4, 5].includes(i) } : {}
  const firstVisits: Visit[] = [4, 5, 3].includes(i)
    ? [
        { outcome: 'parts_needed', ...parts },
        { outcome: 'fixed', partsAvailable: true },
      ]
    : i === 6
      ? [{ outcome: 'customer_absent' }, { outcome: 'fixed', ...parts }]
      : i === 27
        ? [
            { outcome: 'not_fixed', ...parts },
            { outcome: 'fixed', ...parts },
          ]
        : [{ outcome: 'fixed', ...parts }]
  const resolveAfter = i === 3 ? 6 * HOUR : i === 4 || i === 5 || i === 26 ? 5 * HOUR : i === 27 ? 30 * HOUR : 2 * HOUR
  const answer =
    i > 90 ? undefined : i <= 10 ? { score: 4 } : i === 11 ? { score: 1 } : i === 12 ? { score: 3 } : i <= 50 ? { rating: 'satisfied' as const } : { score: 5 }
  const rounds: Round[] =
    i >= 99
      ? []
      : [
          { visits: firstVisits, resolveAfter, answer },
          ...(i === 11 ? [{ visits: [{ outcome: 'fixed', ...parts }], resolveAfter: 5 * HOUR, answer: { score: 5 } } as Round] : []),
        ]
  return {
    i,
    device: `kpi-${device}`,
    model: (device <= 60 || device > 90 ? FRIDGE : WASHER) as keyof typeof bills,
    region: device % 2 === 1 ? 'east' : 'west',
    priority: i <= 25 ? 'P1' : i <= 50 ? 'P2' : i <= 70 || i > 95 ? 'P3' : 'P4',
    severity: i <= 25 ? 'critical' : i <= 50 ? 'major' : i <= 70 ? 'minor' : 'info',
    code: i > 90 ? 'F1' : undefined,
    repeatOf,
    channel: channels[(i - 1) % 5]!,
    technician: i === 100 ? undefined : technicians[(i - 1) % 4]!,
    openedAt: i > 95 ? T0 + 10 * HOUR + (i - 96) * 3 * MINUTE : T0 + (i - 1) * 3 * MINUTE,
    respondAfter: i === 100 ? undefined : i <= 3 ? 40 * MINUTE : i === 26 ? 3 * HOUR : 10 * MINUTE,
    pause: i === 3 ? { from: HOUR, to: 4 * HOUR } : undefined,
    rounds,
  }
}
const tickets = Array.from({ length: 100 }, (_, k) => fixture(k + 1))

type Rate = { numerator: number; denominator: number; value: number | null }
type Mean = { totalMs: number; count: number; meanMs: number | null }
type Group = {
  key: string | null
  tickets: number
  firstTimeFix: Rate & { target: number; meetsTarget: boolean | null }
  partsFill: Rate & { target: number; meetsTarget: boolean | null }
  repeatRepair: Rate & { target: number; meetsTarget: boolean | null }
  satisfaction: Rate & { target: number; meetsTarget: boolean | null }
  timeToRespond: Mean & { target: number; meetsTarget: boolean | null }
  timeToRepair: Mean & { target: number; meetsTarget: boolean | null }
  sla: Record<string, { respond: Rate; resolve: Rate }>
  firstResponseByChannel: Record<string, Mean & { target: number | null; meetsTarget: boolean | null }>
  cost: Record<
    string,
    { bills: number; totalCents: number } & Record<'labour' | 'parts' | 'transport' | 'other', { cents: number; share: number | null; target: number }>
  >
}
type Report = { from: string; to: string; groupBy: string | null; asOf: string; groups: Group[] }

const rate = (numerator: number, denominator: number): Rate => ({ numerator, denominator, value: denominator === 0 ? null : numerator / denominator })
const mean = (totalMs: number, count: number): Mean => ({ totalMs, count, meanMs: count === 0 ? null : totalMs / count })

describe.each(backends())('KPIs on the %s backend', (backend) => {
  const clock = new ManualClock(T0)
  let fl: TestInstance
  /** fixture number → ticket id */
  const ids = new Map<number, number>()
  const ok = async (method: string, url: string, body?: unknown, status = 200) => {
    const res = await fl.api(method, url, body)
    expect(res.status, `${method} ${url}: ${JSON.stringify(res.body)}`).toBe(status)
    return res.body
  }
  const move = (id: number, to: string, extra: Record<string, unknown> = {}) => ok('POST', `/api/tickets/${id}/transitions`, { to, by: 'desk', ...extra })
  const kpis = async (query: string): Promise<Report> => ok('GET', `/api/kpis?${query}`)
  const DAY = `from=${iso(Date.parse('2026-03-01T16:00:00Z'))}&to=${iso(Date.parse('2026-03-02T16:00:00Z'))}`

  beforeAll(async () => {
    // dispatch off: people assign, as the fixture says; no escalation: a breach leaves the priority as it is
    const config = await testConfig(backend, {
      FAULTLINE_CATALOG_DIR: 'test/fixtures/kpis-catalog',
      FAULTLINE_TIME_ZONE: 'Asia/Shanghai',
      FAULTLINE_DISPATCH: 'off',
      FAULTLINE_SLA_ESCALATE: 'none',
    })
    fl = await startTestInstance(config, clock)
    for (const id of ['quickfix', 'coolserve']) {
      await ok(
        'POST',
        '/api/providers',
        { id, name: id, certifiedCategories: ['refrigerator', 'washing_machine'], qualifiedUntil: '2027-12-31', hourlyRate: 60, callOutFee: 0 },
        201,
      )
    }
    for (const t of technicians) {
      await ok(
        'POST',
        '/api/technicians',
        {
          ...t,
          capacity: 10,
          skills: [{ category: 'refrigerator', level: 3 }],
          regions: ['east', 'west'],
          hours: { timeZone: 'Asia/Shanghai', days: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '23:59' },
        },
        201,
      )
    }
    for (const t of tickets) {
      clock.set(iso(t.openedAt))
      if (!t.repeatOf) await fl.registerDevice(t.device, { model: t.model, region: t.region })
      const opened = await ok(
        'POST',
        '/api/tickets',
        { deviceId: t.device, by: 'desk', channel: t.channel, severity: t.severity, title: `fixture ticket ${t.i}`, ...(t.code ? { code: t.code } : {}) },
        201,
      )
      // the fixture as created is the fixture as defined
      expect(opened).toMatchObject({ priority: t.priority, channel: t.channel, model: t.model, region: t.region })
      const id = opened.id as number
      ids.set(t.i, id)
      expect(opened.repeatOf?.id ?? null).toBe(t.repeatOf === undefined ? null : ids.get(t.repeatOf))
      if (t.respondAfter === undefined) continue
      clock.set(iso(t.openedAt + t.respondAfter))
      await ok('POST', `/api/tickets/${id}/assign`, { technicianId: t.technician!.id, reason: 'fixture', by: 'supervisor' })
      clock.set(iso(t.openedAt + t.respondAfter + 5 * MINUTE))
      await move(id, 'on_site')
      if (t.pause) {
        clock.set(iso(t.openedAt + t.pause.from))
        await move(id, 'waiting_parts')
        clock.set(iso(t.openedAt + t.pause.to))
        await move(id, 'in_progress')
      }
      let answeredAt: number | undefined
      for (const round of t.rounds) {
        if (answeredAt !== undefined) {
          // back from the supervisor to work (002: 安排二次服务)
          clock.set(iso(answeredAt + 10 * MINUTE))
          await move(id, 'in_progress', { by: 'supervisor' })
        }
        clock.set(iso(t.openedAt + round.resolveAfter))
        for (const [k, visit] of round.visits.entries()) {
          const startedAt = t.openedAt + round.resolveAfter - (round.visits.length - k) * 20 * MINUTE
          await ok(
            'POST',
            `/api/tickets/${id}/visits`,
            { by: t.technician!.id, technician: t.technician!.name, startedAt: iso(startedAt), endedAt: iso(startedAt + 15 * MINUTE), ...visit },
            201,
          )
        }
        await move(id, 'resolved', { resolution: 'fixed', partsUsed: [{ partNo: bills[t.model].part, qty: 1 }], labourHours: 1 })
        if (!round.answer) continue
        answeredAt = t.openedAt + round.resolveAfter + HOUR
        clock.set(iso(answeredAt))
        await ok('POST', `/api/tickets/${id}/follow-up`, { by: 'hotline', ...round.answer })
      }
    }
    clock.set(iso(AS_OF))
  }, 300_000)
  afterAll(() => fl?.close())

  it('the overall KPIs of the 100 tickets are the ones worked out by hand', async () => {
    const report = await kpis(DAY)
    expect(report).toMatchObject({ from: '2026-03-01T16:00:00.000Z', to: '2026-03-02T16:00:00.000Z', groupBy: null, asOf: iso(AS_OF) })
    expect(report.groups).toHaveLength(1)
    const [all] = report.groups
    // 1–98 had a visit at which to work; 3, 4, 5 and 27 took a second, 11 a second after its follow-up (6's
    // first, the customer out, was no attempt)
    expect(all!.firstTimeFix).toEqual({ ...rate(93, 98), target: 0.95, meetsTarget: false })
    // said for 1–50 at their first attempt: at hand but for 3, 4 and 5
    expect(all!.partsFill).toEqual({ ...rate(47, 50), target: 0.98, meetsTarget: false })
    // 1–98 resolved but 12, reopened; 91–95 reported again within the week by 96–100
    expect(all!.repeatRepair).toEqual({ ...rate(5, 97), target: 0.05, meetsTarget: false })
    // 1–90 answered, 11 twice: 10 × 4 + 1 + 3 + 78 × 5 + 5 = 439
    expect(all!.satisfaction).toEqual({ ...rate(439, 91), target: 4.5, meetsTarget: true })
    // 1–99 responded: 1–3 at 40 min, 26 at 180 min, the other 95 at 10 min: 120 + 180 + 950 = 1250 min
    expect(all!.timeToRespond).toEqual({ ...mean(1250 * MINUTE, 99), target: 30 * MINUTE, meetsTarget: true })
    // 1–98 resolved but 12: 3 at 6 h, 4, 5, 11 and 26 at 5 h, 27 at 30 h, the other 91 at 2 h: 6 + 20 + 30 + 182 =
    // 238 h, 2.5 h on average
    expect(all!.timeToRepair).toEqual({ ...mean(238 * HOUR, 97), target: 4 * HOUR, meetsTarget: true })
    expect(all!.tickets).toBe(100)
    expect(all!.sla).toEqual({
      // 1–3 responded late; 4, 5 and 11 (again) resolved late, 12 is unresolved past its 4 h, 3 in time thanks to
      // the 3 h it waited for parts
      P1: { respond: rate(22, 25), resolve: rate(21, 25) },
      // 26 responded late, 27 resolved late
      P2: { respond: rate(24, 25), resolve: rate(24, 25) },
      // 100's respond deadline passed unmet; 99 and 100 are not resolved and their 72 h are still ahead
      P3: { respond: rate(24, 25), resolve: rate(23, 23) },
      P4: { respond: rate(25, 25), resolve: rate(25, 25) },
    })
    // a bill for each of 1–98 (11's second resolution billed again, 12's stands): 68 fridges (1–60, 91–98), 30 washers
    const cents = (part: 'labour' | 'parts' | 'transport' | 'other') => 68 * bills[FRIDGE][part] + 30 * bills[WASHER][part]
    const total = 68 * 15_000 + 30 * 13_000
    expect(all!.cost).toEqual({
      CNY: {
        bills: 98,
        totalCents: total,
        labour: { cents: cents('labour'), share: 724_000 / total, target: 0.6 },
        parts: { cents: cents('parts'), share: 320_000 / total, target: 0.25 },
        transport: { cents: cents('transport'), share: 332_000 / total, target: 0.1 },
        other: { cents: cents('other'), share: 34_000 / total, target: 0.05 },
      },
    })
    expect(all!.firstResponseByChannel).toEqual({
      // 1, 6, …, 96: 1 at 40 min, 26 at 180, 18 at 10: 400 min over 20, past the hotline's 15 min
      phone: { ...mean(400 * MINUTE, 20), target: 15 * MINUTE, meetsTarget: false },
      // 2, 7, …, 97 and 3, 8, …, 98: one at 40 min and 19 at 10 each
      wechat: { ...mean(230 * MINUTE, 20), target: null, meetsTarget: null },
      web: { ...mean(230 * MINUTE, 20), target: null, meetsTarget: null },
      // 4, 9, …, 99: 20 at 10 min
      email: { ...mean(200 * MINUTE, 20), target: 30 * MINUTE, meetsTarget: true },
      // 5, 10, …, 100: 100 never responded
      walk_in: { ...mean(190 * MINUTE, 19), target: null, meetsTarget: null },
      iot: { ...mean(0, 0), target: null, meetsTarget: null },
      scan: { ...mean(0, 0), target: null, meetsTarget: null },
    })
    await mkdir('test-artifacts/kpis', { recursive: true })
    await writeFile(`test-artifacts/kpis/fixture${backend === 'embedded' ? '' : `-${backend}`}.json`, JSON.stringify(report, null, 2) + '\n')
  })

  /** The counts of every group, added up: each groupBy splits the cohort, every ticket in exactly one group. */
  const additive = (groups: Group[]) => {
    const total = (pick: (g: Group) => number) => groups.reduce((sum, g) => sum + pick(g), 0)
    return {
      tickets: total((g) => g.tickets),
      attempted: total((g) => g.firstTimeFix.denominator),
      fixedFirst: total((g) => g.firstTimeFix.numerator),
      partsKnown: total((g) => g.partsFill.denominator),
      partsAtHand: total((g) => g.partsFill.numerator),
      repeated: total((g) => g.repeatRepair.numerator),
      resolved: total((g) => g.repeatRepair.denominator),
      score: total((g) => g.satisfaction.numerator),
      answers: total((g) => g.satisfaction.denominator),
      respondMs: total((g) => g.timeToRespond.totalMs),
      responded: total((g) => g.timeToRespond.count),
      repairMs: total((g) => g.timeToRepair.totalMs),
      bills: total((g) => g.cost.CNY?.bills ?? 0),
      labourCents: total((g) => g.cost.CNY?.labour.cents ?? 0),
      otherCents: total((g) => g.cost.CNY?.other.cents ?? 0),
      respondMet: total((g) => Object.values(g.sla).reduce((s, p) => s + p.respond.numerator, 0)),
      resolveDecided: total((g) => Object.values(g.sla).reduce((s, p) => s + p.resolve.denominator, 0)),
    }
  }

  it.each([
    // fridges 1–60 and 91–100, washers 61–90
    ['model', { [FRIDGE]: 70, [WASHER]: 30 }],
    // odd devices east: 48 of 1–95, and 96, 98, 100 (repeating 91, 93, 95)
    ['region', { east: 51, west: 49 }],
    // in turn from 1; 100 taken by nobody
    ['technician', { 'Li Na': 25, 'Qian Hui': 24, 'Wang Wei': 25, 'Zhao Lei': 25, null: 1 }],
    // wang and li are the maker's own
    ['provider', { coolserve: 24, internal: 50, quickfix: 25, null: 1 }],
    ['priority', { P1: 25, P2: 25, P3: 25, P4: 25 }],
    ['channel', { email: 20, phone: 20, walk_in: 20, web: 20, wechat: 20 }],
  ] as const)('grouped by %s, every ticket is in one group and the counts add up to the overall ones', async (groupBy, sizes) => {
    const [overall, grouped] = await Promise.all([kpis(DAY), kpis(`${DAY}&groupBy=${groupBy}`)])
    expect(grouped.groupBy).toBe(groupBy)
    // sorted by key, the tickets with none last
    expect(grouped.groups.map((g) => [String(g.key), g.tickets])).toEqual(Object.entries(sizes))
    expect(additive(grouped.groups)).toEqual(additive(overall.groups))
  })

  it('a group holds only its own tickets: P1 alone, the provider that took 3, 7, …, 99', async () => {
    const { groups } = await kpis(`${DAY}&groupBy=priority`)
    const p1 = groups.find((g) => g.key === 'P1')!
    // 1–3 at 40 min, 4–25 at 10: 120 + 220 = 340 min
    expect(p1.timeToRespond).toMatchObject(mean(340 * MINUTE, 25))
    // 1–25 but 12: 3 at 6 h, 4, 5 and 11 at 5 h, 20 at 2 h: 6 + 15 + 40 = 61 h
    expect(p1.timeToRepair).toMatchObject(mean(61 * HOUR, 24))
    expect(p1.firstTimeFix).toMatchObject(rate(21, 25))
    expect(p1.sla).toEqual({
      P1: { respond: rate(22, 25), resolve: rate(21, 25) },
      P2: { respond: rate(0, 0), resolve: rate(0, 0) },
      P3: { respond: rate(0, 0), resolve: rate(0, 0) },
      P4: { respond: rate(0, 0), resolve: rate(0, 0) },
    })
    expect(p1.repeatRepair).toMatchObject(rate(0, 24))

    const quickfix = (await kpis(`${DAY}&groupBy=provider`)).groups.find((g) => g.key === 'quickfix')!
    // zhao took 3, 7, …, 99: 3 responded at 40 min, the other 24 at 10
    const taken = tickets.filter((t) => t.technician?.id === 'zhao')
    expect(taken.map((t) => t.i)).toEqual(Array.from({ length: 25 }, (_, k) => 3 + 4 * k))
    expect(quickfix.timeToRespond).toMatchObject(mean(40 * MINUTE + 24 * 10 * MINUTE, 25))
    // of zhao's, 99 is unresolved; 91 and 95 (both 3 more than a multiple of 4) were repeated
    expect(quickfix.repeatRepair).toMatchObject(rate(2, 24))
  })

  it('the daily report of 2 March is that Shanghai day, as JSON and as CSV', async () => {
    const daily = await ok('GET', '/api/reports/daily?date=2026-03-02')
    expect(daily).toEqual(await kpis(DAY))
    const res = await fl.api<string>('GET', '/api/reports/daily?date=2026-03-02&format=csv&groupBy=channel')
    expect(res.status).toBe(200)
    const lines = res.body
      .trimEnd()
      .split('\r\n')
      .map((l) => l.split(','))
    const header = lines[0]!
    // a header and one row per channel that had tickets
    expect(lines).toHaveLength(6)
    const column = (name: string) => lines.slice(1).map((row) => row[header.indexOf(name)])
    expect(column('key')).toEqual(['email', 'phone', 'walk_in', 'web', 'wechat'])
    expect(column('from')).toEqual(Array(5).fill('2026-03-01T16:00:00.000Z'))
    expect(column('tickets')).toEqual(Array(5).fill('20'))
    expect(column('firstResponseByChannel.phone.totalMs')).toEqual(['0', String(400 * MINUTE), '0', '0', '0'])
    expect(column('firstResponseByChannel.walk_in.count')).toEqual(['0', '0', '19', '0', '0'])
    // phone: 1 and 6 gave 4, 11 gave 1 and then 5, 16, 21, …, 86 gave 5; 91 and 96 have not answered
    expect(column('satisfaction.numerator')[1]).toBe(String(4 + 4 + 1 + 5 + 15 * 5))
    expect(column('satisfaction.value')[1]).toBe(String(89 / 19))
  })
})

describe.each(backends())('reports on the %s backend', (backend) => {
  const clock = new ManualClock(T0)
  let fl: TestInstance
  beforeAll(async () => {
    fl = await startTestInstance(await testConfig(backend, { FAULTLINE_TIME_ZONE: 'Asia/Shanghai', FAULTLINE_DISPATCH: 'off' }), clock)
    await fl.registerDevice('report-fridge', { region: 'east' })
    // the last millisecond of Thursday 30 April in Shanghai, and the first of Friday 1 May
    for (const at of ['2026-04-30T15:59:59.999Z', '2026-04-30T16:00:00.000Z']) {
      clock.set(at)
      const res = await fl.api('POST', '/api/tickets', { deviceId: 'report-fridge', by: 'desk', title: `reported at ${at}`, severity: 'minor' })
      expect(res.status).toBe(201)
    }
    clock.set('2026-05-02T00:00:00Z')
  })
  afterAll(() => fl?.close())

  const tickets = async (url: string) => {
    const res = await fl.api('GET', url)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    return { from: res.body.from, to: res.body.to, tickets: (res.body as Report).groups.map((g) => g.tickets) }
  }

  it('a day, a week and a month are calendar periods in the deployment zone, each from its local midnight', async () => {
    expect(await tickets('/api/reports/daily?date=2026-04-30')).toEqual({ from: '2026-04-29T16:00:00.000Z', to: '2026-04-30T16:00:00.000Z', tickets: [1] })
    expect(await tickets('/api/reports/daily?date=2026-05-01')).toEqual({ from: '2026-04-30T16:00:00.000Z', to: '2026-05-01T16:00:00.000Z', tickets: [1] })
    // ISO weeks begin on Monday: 27 April to 3 May holds both
    expect(await tickets('/api/reports/weekly?date=2026-05-03')).toEqual({ from: '2026-04-26T16:00:00.000Z', to: '2026-05-03T16:00:00.000Z', tickets: [2] })
    expect(await tickets('/api/reports/weekly?date=2026-05-04')).toMatchObject({ from: '2026-05-03T16:00:00.000Z', tickets: [0] })
    expect(await tickets('/api/reports/monthly?date=2026-04-01')).toEqual({ from: '2026-03-31T16:00:00.000Z', to: '2026-04-30T16:00:00.000Z', tickets: [1] })
    expect(await tickets('/api/reports/monthly?date=2026-05-31')).toEqual({ from: '2026-04-30T16:00:00.000Z', to: '2026-05-31T16:00:00.000Z', tickets: [1] })
  })

  it('a grouped report of a period without tickets has no group; an overall one has its row, at zero', async () => {
    expect(await tickets('/api/reports/daily?date=2026-06-01&groupBy=region')).toMatchObject({ tickets: [] })
    const csv = await fl.api<string>('GET', '/api/reports/daily?date=2026-06-01&format=csv')
    expect(csv.status).toBe(200)
    expect(csv.body.split('\r\n')).toHaveLength(3)
    const grouped = await fl.api<string>('GET', '/api/reports/monthly?date=2026-04-15&format=csv&groupBy=region')
    expect(grouped.body.split('\r\n').filter(Boolean)).toHaveLength(2)
  })

  it('answers CSV as text/csv, an attachment named for its period', async () => {
    const res = await fetch(`http://127.0.0.1:${fl.faultline.httpPort}/api/reports/weekly?date=2026-04-30&format=csv&groupBy=model`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="faultline-weekly-2026-04-30-by-model.csv"')
    const [header, row] = (await res.text()).split('\r\n')
    expect(header!.split(',').slice(0, 6)).toEqual(['from', 'to', 'groupBy', 'asOf', 'key', 'tickets'])
    expect(row!.split(',').slice(0, 6)).toEqual([
      '2026-04-26T16:00:00.000Z',
      '2026-05-03T16:00:00.000Z',
      'model',
      '2026-05-02T00:00:00.000Z',
      'BCD-516WDVL',
      '2',
    ])
  })

  it.each([
    ['an unknown parameter', '/api/kpis?from=2026-04-01T00:00:00Z&to=2026-05-01T00:00:00Z&group=model', 'querystring'],
    ['an unknown groupBy', '/api/kpis?from=2026-04-01T00:00:00Z&to=2026-05-01T00:00:00Z&groupBy=colour', 'querystring.groupBy'],
    ['no range', '/api/kpis?groupBy=model', 'querystring.from'],
    ['a range that ends before it begins', '/api/kpis?from=2026-05-01T00:00:00Z&to=2026-04-01T00:00:00Z', 'querystring.to'],
    ['an empty range', '/api/kpis?from=2026-05-01T00:00:00Z&to=2026-05-01T00:00:00Z', 'querystring.to'],
    ['an unknown period', '/api/reports/yearly?date=2026-04-01', 'params.period'],
    ['a date that is not one', '/api/reports/daily?date=2026-02-30', 'querystring.date'],
    ['a period that would end past 9999', '/api/reports/monthly?date=9999-12-31', 'querystring.date'],
    ['an unknown format', '/api/reports/daily?date=2026-04-01&format=xlsx', 'querystring.format'],
    ['an unknown report parameter', '/api/reports/daily?date=2026-04-01&from=2026-04-01T00:00:00Z', 'querystring'],
  ])('%s is a 400 saying which parameter', async (_, url, field) => {
    const res = await fl.api('GET', url)
    expect(res.status).toBe(400)
    expect(res.body.message).toMatch(new RegExp(`^${field.replace('.', '\\.')}`))
  })
})
