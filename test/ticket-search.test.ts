// Ticket search (issue 12; document 002 二.5: 按工单编号、客户名称、处理日期等字段可检索): by the customer's phone or
// name, model, region, technician, channel, status, priority and the day opened, each alone and combined, with
// the cursor; a parameter the API does not know is a 400, never ignored into a list of everything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Ticket } from '../src/tickets/index.js'
import { ManualClock } from './support/clock.js'
import { backends, startTestInstance, testConfig, type TestInstance } from './support/faultline.js'

const T0 = Date.parse('2026-12-02T02:00:00Z')
const HOUR = 3_600_000

describe.each(backends())('ticket search on the %s backend', (backend) => {
  const clock = new ManualClock(T0)
  let fl: TestInstance
  /** the four tickets by name, opened an hour apart */
  const t: Record<'phone' | 'wechat' | 'walkIn' | 'email', Ticket> = {} as never
  beforeAll(async () => {
    fl = await startTestInstance(await testConfig(backend), clock)
    await fl.registerDevice('rf-north', { model: 'BCD-516WDVL', region: 'north', customer: { name: 'Li Wei', phone: '138-0000-0001' } })
    await fl.registerDevice('ac-south', { model: 'KFR-35GW-BP3DN1', region: 'south', customer: { name: 'Wang Fang', phone: '138-0000-0002' } })
    const open = async (at: number, body: Record<string, unknown>) => {
      clock.set(new Date(at).toISOString())
      const res = await fl.api<Ticket>('POST', '/api/tickets', { by: 'desk', at: new Date(at).toISOString(), ...body })
      if (res.status !== 201) throw new Error(JSON.stringify(res.body))
      return res.body
    }
    t.phone = await open(T0, { channel: 'phone', deviceId: 'rf-north', title: 'Noisy', severity: 'minor' })
    t.wechat = await open(T0 + HOUR, { channel: 'wechat', deviceId: 'ac-south', title: 'Not cooling', severity: 'major' })
    t.walkIn = await open(T0 + 2 * HOUR, {
      channel: 'walk_in',
      appliance: { model: 'ACME-X1', serial: 'AX-9', purchasedAt: '2026-01-01', region: 'north', customer: { name: 'Zhao Li', phone: '138-0000-0003' } },
      title: 'Does not start',
      severity: 'minor',
    })
    t.email = await open(T0 + 3 * HOUR, { channel: 'email', deviceId: 'rf-north', title: 'Sparks', severity: 'critical' })
    await fl.api('POST', `/api/tickets/${t.email.number}/transitions`, { to: 'assigned', by: 'dispatcher', technician: 'tech-07' })
  })
  afterAll(() => fl?.close())

  /** The numbers a search answers, newest first. */
  const search = async (query: string) => {
    const res = await fl.api<{ tickets: Ticket[]; next: number | null }>('GET', `/api/tickets?${query}`)
    expect(res.status, query).toBe(200)
    return res.body.tickets.map((x) => x.number)
  }
  const numbers = (...names: (keyof typeof t)[]) => names.map((n) => t[n].number)

  it.each([
    ['phone=138-0000-0001', ['email', 'phone']],
    ['customer=li', ['email', 'walkIn', 'phone']],
    ['customer=WANG%20F', ['wechat']],
    ['model=BCD-516WDVL', ['email', 'phone']],
    ['model=ACME-X1', ['walkIn']],
    ['region=north', ['email', 'walkIn', 'phone']],
    ['technician=tech-07', ['email']],
    ['channel=wechat,walk_in', ['walkIn', 'wechat']],
    ['channel=scan', []],
    ['status=assigned', ['email']],
    ['status=open', ['walkIn', 'wechat', 'phone']],
    ['priority=P1', ['email']],
    ['priority=P3', ['walkIn', 'phone']],
    [`openedFrom=${new Date(T0 + HOUR).toISOString()}&openedTo=${new Date(T0 + 3 * HOUR).toISOString()}`, ['walkIn', 'wechat']],
    [`openedFrom=${T0 + 3 * HOUR}`, ['email']],
    ['region=north&channel=phone', ['phone']],
    ['customer=li&priority=P3&model=ACME-X1', ['walkIn']],
  ] as const)('%s', async (query, expected) => {
    expect(await search(query)).toEqual(numbers(...expected))
  })

  it('pages through the results with the cursor, each ticket once', async () => {
    const seen: string[] = []
    let cursor: number | null = null
    for (let pages = 0; pages < 10; pages++) {
      const page: { tickets: Ticket[]; next: number | null } = (await fl.api('GET', `/api/tickets?region=north&limit=2${cursor ? `&cursor=${cursor}` : ''}`))
        .body
      seen.push(...page.tickets.map((x) => x.number))
      cursor = page.next
      if (cursor === null) break
    }
    expect(seen).toEqual(numbers('email', 'walkIn', 'phone'))
  })

  it('answers a parameter it does not know, or a range that ends before it starts, with a 400 naming it', async () => {
    const unknown = await fl.api('GET', '/api/tickets?colour=red')
    expect(unknown.status).toBe(400)
    expect(unknown.body.message).toContain('colour')
    // a misspelt filter must not quietly list everything
    expect((await fl.api('GET', '/api/tickets?technicain=tech-07')).status).toBe(400)
    const backwards = await fl.api('GET', `/api/tickets?openedFrom=${T0 + HOUR}&openedTo=${T0}`)
    expect(backwards.status).toBe(400)
    expect(backwards.body.message).toContain('openedTo')
    expect((await fl.api('GET', '/api/tickets?channel=fax')).status).toBe(400)
  })
})
