// Webhook notifications (issue 12): a real receiver (http.createServer) behind a real Faultline, tickets changed
// over the API, a clock the test sets for the retries' backoff; on each backend.
import { createHmac, timingSafeEqual } from 'node:crypto'
import http from 'node:http'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { webhookPayload, type WebhookPayload } from '../src/notify/index.js'
import { startFaultline, type StartOptions } from '../src/main.js'
import { apiClient, registerDevice, type ApiCall } from './support/api-client.js'
import { closeWhenTestEnds } from './support/cleanup.js'
import { ManualClock } from './support/clock.js'
import { API_TOKEN, backends, eventually, startTestInstance, testConfig, type Backend } from './support/faultline.js'
import { metricValue } from './support/metrics.js'
import { sharedClusterUrl } from './support/postgres.js'

interface Received {
  raw: string
  headers: http.IncomingHttpHeaders
  payload: WebhookPayload
  /** what the receiver answered: a status, or nothing (it hung) */
  answered: number | 'hung'
}

/** A webhook receiver: records every request, answers what `answer` says (a status, or 'hang': never answers). */
async function receiver() {
  const requests: Received[] = []
  const r = {
    requests,
    answer: (): number | 'hang' => 200,
    /** how long each answer waits */
    delayMs: 0,
    url: '',
    /** the payloads it answered 2xx, in arrival order */
    delivered: () => requests.filter((q) => typeof q.answered === 'number' && q.answered < 300).map((q) => q.payload),
  }
  const server = http.createServer((req, res) => {
    let raw = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => (raw += c))
    req.on('end', () => {
      const answer = r.answer()
      requests.push({ raw, headers: req.headers, payload: webhookPayload.parse(JSON.parse(raw)), answered: answer === 'hang' ? 'hung' : answer })
      if (answer !== 'hang') setTimeout(() => res.writeHead(answer).end(), r.delayMs)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  r.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`
  closeWhenTestEnds(() => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))))
  return r
}

const START = Date.parse('2026-12-01T08:00:00Z')
/** Fast enough for a test to wait on; the request timeout stays the production one unless a test shortens it. */
const FAST: StartOptions = { webhooks: { pollMs: 50 } }

/** A Faultline whose log the test reads: the secret must never be in it. */
async function startLogged(backend: Backend, clock: ManualClock, options: StartOptions, env: Record<string, string> = {}) {
  const config = await testConfig(backend, env)
  let log = ''
  const sink = new Writable({ write: (chunk, _enc, done) => ((log += String(chunk)), done()) })
  const faultline = await startFaultline(config, pino({ level: 'trace' }, sink), clock, options)
  closeWhenTestEnds(() => faultline.close())
  const api = apiClient(`http://127.0.0.1:${faultline.httpPort}`, API_TOKEN)
  return { faultline, config, api, log: () => log }
}

/** A ticket by API for a device of its own (one open ticket per device and condition), in warranty: no quote waits for approval. */
async function openTicket(api: ApiCall, device: string) {
  await registerDevice(api, device, { customer: { name: `Customer ${device}`, phone: '+86 138 0000 0000' }, purchasedAt: '2026-06-01' })
  const res = await api('POST', '/api/tickets', { deviceId: device, code: 'E1', by: 'desk:li' })
  expect(res.status).toBe(201)
  return res.body as { id: number; number: string }
}

const move = async (api: ApiCall, ticket: { id: number }, to: string, extra: Record<string, unknown> = {}) =>
  expect((await api('POST', `/api/tickets/${ticket.id}/transitions`, { to, by: 'dispatcher:zhao', ...extra })).status).toBe(200)

/** Every history action of each ticket, in its order: what the webhook owes. */
async function historyOf(api: ApiCall, tickets: { id: number }[]) {
  return Object.fromEntries(
    await Promise.all(
      tickets.map(async (t) => [t.id, ((await api('GET', `/api/tickets/${t.id}`)).body.history as { action: string }[]).map((h) => h.action)] as const),
    ),
  )
}
/** The actions delivered per ticket, in arrival order. */
const deliveredByTicket = (payloads: WebhookPayload[]) => {
  const by: Record<number, string[]> = {}
  for (const p of payloads) (by[p.event.ticket!.id] ??= []).push(p.event.ticket!.action)
  return by
}

const expectSigned = (r: Received, secret: string) => {
  const expected = `sha256=${createHmac('sha256', secret).update(r.raw).digest('hex')}`
  const given = String(r.headers['x-faultline-signature'])
  expect(given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected))).toBe(true)
  expect(r.headers['x-faultline-event-id']).toBe(String(r.payload.id))
  expect(Number(r.headers['x-faultline-timestamp'])).toBeGreaterThan(0)
}

describe.each(backends())('webhooks on the %s backend', (backend) => {
  const clock = new ManualClock(START)
  let fl: Awaited<ReturnType<typeof startLogged>>
  beforeAll(async () => {
    fl = await startLogged(backend, clock, FAST)
  })
  afterAll(() => fl?.faultline.close())

  const create = async (url: string, extra: Record<string, unknown> = {}) => {
    const res = await fl.api('POST', '/api/webhooks', { url, ...extra })
    expect(res.status).toBe(201)
    return res.body as { webhook: { id: number }; secret: string }
  }
  const webhook = async (id: number) => (await fl.api('GET', `/api/webhooks/${id}`)).body

  it('a receiver failing for a minute receives every event afterwards, once each, in order per ticket', async () => {
    const rx = await receiver()
    rx.answer = () => 500
    const { webhook: w, secret } = await create(rx.url)
    const failingFrom = clock.now()
    const tickets = [await openTicket(fl.api, 'wh-a1'), await openTicket(fl.api, 'wh-a2')]
    // The first event is tried and refused; the cursor stays on it.
    const first = await eventually(async () => rx.requests[0])
    expect(first.answered).toBe(500)
    // The receiver answers before the deliverer records the refusal: wait for the record, not just the request.
    await eventually(async () => ((await webhook(w.id)).delivery.attempts > 0 ? true : undefined))
    // A minute of clock time: each retry falls due, fails, and waits longer; tickets keep changing meanwhile.
    const changes = [
      () => move(fl.api, tickets[0]!, 'acknowledged'),
      () => move(fl.api, tickets[1]!, 'assigned', { technician: 'Wang Gang' }),
      async () => tickets.push(await openTicket(fl.api, 'wh-a3')),
      () => move(fl.api, tickets[0]!, 'assigned', { technician: 'Wang Gang' }),
      () => move(fl.api, tickets[1]!, 'in_progress'),
      () => move(fl.api, tickets[1]!, 'resolved', { resolution: 'Replaced the fan motor' }),
    ]
    let retries = 0
    // Bounded: 1 s doubling reaches a minute in six retries; jitter at most doubles their count.
    for (; retries < 20; retries++) {
      const state = (await webhook(w.id)).delivery
      expect(state.nextAttemptAt, 'a retry is pending while the receiver fails').not.toBeNull()
      const due = Date.parse(state.nextAttemptAt)
      if (due > failingFrom + 60_000) break
      await changes.shift()?.()
      clock.set(new Date(due).toISOString())
      await eventually(async () => ((await webhook(w.id)).delivery.attempts > state.attempts ? true : undefined))
    }
    for (const change of changes) await change()
    expect(retries).toBeGreaterThanOrEqual(4)
    // Every refused attempt was at the first event: nothing later was sent while it was owed.
    expect(new Set(rx.requests.map((r) => r.payload.id))).toEqual(new Set([first.payload.id]))
    const failing = await webhook(w.id)
    expect(failing.delivery).toMatchObject({ lastError: 'HTTP 500', failingSince: new Date(failingFrom).toISOString() })
    expect(failing.delivery.lag).toBeGreaterThan(0)

    rx.answer = () => 200
    clock.set(failing.delivery.nextAttemptAt)
    const owed = await historyOf(fl.api, tickets)
    const total = Object.values(owed).flat().length
    await eventually(async () => (rx.delivered().length >= total ? true : undefined))
    const delivered = rx.delivered()
    const ids = delivered.map((p) => p.id)
    // Once each (no id twice), in id order overall, and per ticket exactly its history in its order.
    expect(ids).toHaveLength(total)
    expect([...ids].sort((a, b) => a - b)).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
    expect(deliveredByTicket(delivered)).toEqual(owed)
    for (const r of rx.requests) expectSigned(r, secret)
    await eventually(async () => ((await webhook(w.id)).delivery.attempts === 0 ? true : undefined))
    expect((await webhook(w.id)).delivery).toMatchObject({ lastError: null, failingSince: null, nextAttemptAt: null })
    // The attempt log shows the refusals and the successes.
    const log = (await fl.api('GET', `/api/webhooks/${w.id}/deliveries?limit=500`)).body.deliveries as { statusCode: number; attempt: number }[]
    expect(log.filter((d) => d.statusCode === 500)).toHaveLength(retries + 1)
    expect(log.filter((d) => d.statusCode === 200)).toHaveLength(total)
    expect(log.find((d) => d.statusCode === 200)).toBeDefined()
    expect(await metricValue(fl.faultline.httpPort, 'faultline_webhook_deliveries_total', { outcome: 'refused' })).toBeGreaterThanOrEqual(retries + 1)
    await fl.api('DELETE', `/api/webhooks/${w.id}`)
  })

  it('notifies who the documents say, with the ticket number and the customer contact; signed with the secret only', async () => {
    const rx = await receiver()
    const secret = 'whsec-given-0123456789'
    const created = await create(rx.url, { secret })
    expect(created.secret).toBe(secret)
    const t = await openTicket(fl.api, 'wh-b1')
    await move(fl.api, t, 'assigned', { technician: 'Wang Gang' })
    const eta = new Date(clock.now() + 3_600_000).toISOString()
    expect((await fl.api('POST', `/api/tickets/${t.id}/en-route`, { by: 'tech:wang', eta })).status).toBe(200)
    await move(fl.api, t, 'in_progress')
    await move(fl.api, t, 'resolved', { resolution: 'Replaced the fan motor' })
    const got = await eventually(async () => (rx.delivered().length >= 7 ? rx.delivered() : undefined))
    expect(got.map((p) => [p.kind, p.audience, p.event.type])).toEqual([
      ['ticket_opened', ['customer', 'supervisor'], 'ticket.opened'],
      ['technician_assigned', ['customer', 'technician'], 'ticket.transitioned'],
      ['technician_on_the_way', ['customer'], 'ticket.changed'],
      ['ticket_changed', ['supervisor'], 'ticket.transitioned'],
      ['repair_completed', ['customer', 'supervisor'], 'ticket.transitioned'],
      // the bill (src/billing), free in warranty
      ['ticket_changed', ['supervisor'], 'ticket.changed'],
      // the follow-up call scheduled by the resolution (src/followup): the customer is asked (002: 客户满意度评价)
      ['follow_up', ['customer'], 'ticket.changed'],
    ])
    expect(got[0]).toMatchObject({ ticketNumber: t.number, contact: { name: 'Customer wh-b1', phone: '+86 138 0000 0000' } })
    expect(got[1]!.event.ticket).toMatchObject({ technician: 'Wang Gang', status: 'assigned' })
    // The customer is told when to expect the technician; the status stays what it was.
    expect(got[2]!.event.ticket).toMatchObject({ action: 'en_route', status: 'assigned', by: 'tech:wang', note: `expected by ${eta}` })
    const r = rx.requests[0]!
    expectSigned(r, secret)
    const wrong = `sha256=${createHmac('sha256', 'whsec-wrong-0123456789').update(r.raw).digest('hex')}`
    expect(r.headers['x-faultline-signature']).not.toBe(wrong)
    // The secret: answered at creation only, never in a list, a get, the attempt log or the log.
    for (const path of ['/api/webhooks', `/api/webhooks/${created.webhook.id}`, `/api/webhooks/${created.webhook.id}/deliveries`]) {
      const res = await fl.api('GET', path)
      expect(res.status).toBe(200)
      expect(JSON.stringify(res.body)).not.toContain(secret)
    }
    expect(fl.log()).not.toBe('')
    expect(fl.log()).not.toContain(secret)
    await fl.api('DELETE', `/api/webhooks/${created.webhook.id}`)
  })

  it('sends the customer the quote a diagnosis asks them to approve, then the decision (004: 客户确认)', async () => {
    const rx = await receiver()
    const { webhook: w } = await create(rx.url)
    // out of warranty on the clock's day: chargeable, its quote waits for the customer
    await registerDevice(fl.api, 'wh-q1', { customer: { name: 'Customer wh-q1', phone: '+86 139 0000 0000' }, purchasedAt: '2024-06-01' })
    const t = (await fl.api('POST', '/api/tickets', { deviceId: 'wh-q1', code: 'E1', by: 'desk:li' })).body as { number: string }
    expect((await fl.api('POST', `/api/tickets/${t.number}/diagnosis`, { by: 'Wang Gang', cause: 'fan blade cracked' })).status).toBe(200)
    expect((await fl.api('POST', `/api/tickets/${t.number}/approval`, { decision: 'approved', by: 'Customer wh-q1', channel: 'sms' })).status).toBe(200)
    const got = await eventually(async () => (rx.delivered().length >= 4 ? rx.delivered() : undefined))
    expect(got.map((p) => [p.kind, p.audience, p.event.ticket!.action])).toEqual([
      ['ticket_opened', ['customer', 'supervisor'], 'opened'],
      ['ticket_changed', ['supervisor'], 'diagnosed'],
      ['quote_to_approve', ['customer'], 'awaiting_approval'],
      ['ticket_changed', ['supervisor'], 'quote_approved'],
    ])
    expect(got[2]).toMatchObject({ ticketNumber: t.number, contact: { name: 'Customer wh-q1', phone: '+86 139 0000 0000' } })
    await fl.api('DELETE', `/api/webhooks/${w.id}`)
  })

  it('pausing holds deliveries and resuming sends them; deleting stops them', async () => {
    const [kept, paused, deleted] = [await receiver(), await receiver(), await receiver()]
    const hooks = { kept: await create(kept.url), paused: await create(paused.url), deleted: await create(deleted.url) }
    const t1 = await openTicket(fl.api, 'wh-c1')
    await eventually(async () => (deleted.delivered().length === 1 && paused.delivered().length === 1 ? true : undefined))
    expect((await fl.api('POST', `/api/webhooks/${hooks.paused.webhook.id}/pause`)).body.active).toBe(false)
    expect((await fl.api('DELETE', `/api/webhooks/${hooks.deleted.webhook.id}`)).body.delivery.cursor).toBe(paused.delivered()[0]!.id)
    expect((await fl.api('GET', `/api/webhooks/${hooks.deleted.webhook.id}`)).status).toBe(404)
    await move(fl.api, t1, 'acknowledged')
    // Once the kept webhook has the new event, a pass over it has run: the paused and deleted ones had none.
    await eventually(async () => (kept.delivered().length === 2 ? true : undefined))
    expect(paused.delivered()).toHaveLength(1)
    expect(deleted.delivered()).toHaveLength(1)
    expect((await webhook(hooks.paused.webhook.id)).delivery.lag).toBeGreaterThan(0)
    expect((await fl.api('POST', `/api/webhooks/${hooks.paused.webhook.id}/resume`)).body.active).toBe(true)
    await eventually(async () => (paused.delivered().length === 2 ? true : undefined))
    expect(paused.delivered().map((p) => p.event.ticket!.action)).toEqual(['opened', 'acknowledged'])
    expect(deleted.requests).toHaveLength(1)
    for (const h of [hooks.kept, hooks.paused]) await fl.api('DELETE', `/api/webhooks/${h.webhook.id}`)
  })

  it('retry now sends the held event at once, before its backoff is over', async () => {
    const rx = await receiver()
    rx.answer = () => 503
    const { webhook: w } = await create(rx.url)
    await openTicket(fl.api, 'wh-d1')
    await eventually(async () => ((await webhook(w.id)).delivery.attempts === 1 ? true : undefined))
    expect(Date.parse((await webhook(w.id)).delivery.nextAttemptAt)).toBeGreaterThan(clock.now())
    rx.answer = () => 204
    const retried = await fl.api('POST', `/api/webhooks/${w.id}/retry`)
    expect(retried.status).toBe(200)
    await eventually(async () => (rx.delivered().length === 1 ? true : undefined))
    expect(rx.requests.map((r) => r.answered)).toEqual([503, 204])
    expect((await fl.api('POST', '/api/webhooks/999999/retry')).status).toBe(404)
    await fl.api('DELETE', `/api/webhooks/${w.id}`)
  })

  it('refuses bad input with a clear 400', async () => {
    const before = (await fl.api('GET', '/api/webhooks')).body.webhooks
    const bad = [
      [{ url: 'ftp://example.com/hook' }, 'url'],
      [{ url: 'javascript:alert(1)' }, 'url'],
      [{ url: 'not a url' }, 'url'],
      [{}, 'url'],
      [{ url: 'http://127.0.0.1/x', events: ['ticket.nope'] }, 'events'],
      [{ url: 'http://127.0.0.1/x', events: [] }, 'events'],
      [{ url: 'http://127.0.0.1/x', secret: 'short' }, 'secret'],
      [{ url: 'http://127.0.0.1/x', extra: 1 }, 'extra'],
    ] as const
    for (const [body, field] of bad) {
      const res = await fl.api('POST', '/api/webhooks', body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.message).toContain(field)
    }
    expect((await fl.api('POST', '/api/webhooks', { url: 'ftp://example.com/hook' })).body.message).toContain('http:// or https://')
    for (const path of ['/api/webhooks/abc', '/api/webhooks/0', '/api/webhooks/1/deliveries?limit=0', '/api/webhooks/1/deliveries?x=1']) {
      expect((await fl.api('GET', path)).status, path).toBe(400)
    }
    expect((await fl.api('GET', '/api/webhooks/999999')).status).toBe(404)
    expect((await fl.api('DELETE', '/api/webhooks/999999')).status).toBe(404)
    // Nothing refused was created.
    expect((await fl.api('GET', '/api/webhooks')).body.webhooks).toEqual(before)
  })
})

describe.each(backends())('a webhook request on the %s backend', (backend) => {
  it('that hangs times out, is recorded, and is retried when its backoff is over', async () => {
    const clock = new ManualClock(START)
    const fl = await startTestInstance(await testConfig(backend), clock, { webhooks: { pollMs: 50, timeoutMs: 500 } })
    const rx = await receiver()
    rx.answer = () => (rx.requests.length === 0 ? 'hang' : 200)
    const { webhook: w } = (await fl.api('POST', '/api/webhooks', { url: rx.url })).body
    await openTicket(fl.api, 'wh-e1')
    const held = await eventually(async () => {
      const d = (await fl.api('GET', `/api/webhooks/${w.id}`)).body.delivery
      return d.attempts === 1 ? d : undefined
    })
    expect(held.lastError).toBe('no answer within 500 ms')
    expect(rx.delivered()).toHaveLength(0)
    clock.set(held.nextAttemptAt)
    await eventually(async () => (rx.delivered().length === 1 ? true : undefined))
    expect(rx.requests.map((r) => [r.payload.id, r.answered])).toEqual([
      [rx.requests[0]!.payload.id, 'hung'],
      [rx.requests[0]!.payload.id, 200],
    ])
    // The answer is recorded once it has come back: the receiver may have sent it a moment before.
    const log = await eventually(async () => {
      const { deliveries } = (await fl.api('GET', `/api/webhooks/${w.id}/deliveries`)).body
      return deliveries.length === 2 ? deliveries : undefined
    })
    expect(log.map((d: { attempt: number; statusCode: number | null; error: string | null }) => [d.attempt, d.statusCode, d.error])).toEqual([
      [2, 200, null],
      [1, null, 'no answer within 500 ms'],
    ])
  })
})

describe.each(backends())('closing Faultline on the %s backend', (backend) => {
  it('while a webhook request is in flight ends it and closes, the event still owed', async () => {
    const fl = await startTestInstance(await testConfig(backend), new ManualClock(START), FAST)
    const rx = await receiver()
    rx.answer = () => 'hang'
    const { webhook: w } = (await fl.api('POST', '/api/webhooks', { url: rx.url })).body
    await openTicket(fl.api, 'wh-g1')
    await eventually(async () => rx.requests[0])
    const db = fl.config.databaseUrl
    await fl.close()
    // Aborted by the close, not by the receiver: recorded as no attempt, so the next start sends it first.
    if (db) {
      const again = await startTestInstance(await testConfig('server', { DATABASE_URL: db }), new ManualClock(START), FAST)
      expect((await again.api('GET', `/api/webhooks/${w.id}`)).body.delivery).toMatchObject({ attempts: 0, lastError: null, lag: 1 })
    }
  })
})

describe.runIf(sharedClusterUrl)('webhooks with two Faultline processes on one database', () => {
  it('deliver each event once, in order', async () => {
    const clock = new ManualClock(START)
    const one = await startTestInstance(await testConfig('server'), clock, FAST)
    const two = await startTestInstance(await testConfig('server', { DATABASE_URL: one.config.databaseUrl! }), clock, FAST)
    const rx = await receiver()
    // Slow enough that both processes are woken while a delivery is in flight.
    rx.delayMs = 20
    await one.api('POST', '/api/webhooks', { url: rx.url })
    const tickets = []
    for (let i = 0; i < 10; i++) {
      const fl = i % 2 === 0 ? one : two
      const t = await openTicket(fl.api, `wh-f${i}`)
      await move(fl.api, t, 'acknowledged')
      tickets.push(t)
    }
    const total = Object.values(await historyOf(one.api, tickets)).flat().length
    await eventually(async () => (rx.requests.length >= total ? true : undefined))
    const ids = rx.requests.map((r) => r.payload.id)
    expect(ids).toHaveLength(total)
    expect(new Set(ids).size).toBe(total)
    expect([...ids].sort((a, b) => a - b)).toEqual(ids)
    expect(deliveredByTicket(rx.delivered())).toEqual(await historyOf(one.api, tickets))
  })
})
