// The repeat-repair window (返修) as production applies it: the ticket repository's SQL, driven by a manual clock
// through the API, on each backend. A window changed anywhere (the constant or the SQL) fails here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends, startTestInstance, testConfig, type TestInstance } from './support/faultline.js'
import { ManualClock } from './support/clock.js'

const HOUR = 3_600_000
/** Bought in the year before: the repairs are free, so no quote waits for approval (src/billing) */
const IN_TERM = { purchasedAt: '2026-01-01' }
const DAY = 24 * HOUR

describe.each(backends())('repeat repair on the %s backend', (backend) => {
  const clock = new ManualClock(Date.parse('2026-06-01T08:00:00Z'))
  let fl: TestInstance
  beforeAll(async () => {
    fl = await startTestInstance(await testConfig(backend), clock)
  })
  afterAll(() => fl?.close())

  /** A phone report of E1 on the device, dated now by the manual clock. */
  const report = async (deviceId: string) => {
    const res = await fl.api('POST', '/api/tickets', { deviceId, by: 'hotline', code: 'E1', at: new Date(clock.now()).toISOString() })
    expect(res.status).toBe(201)
    return res.body
  }
  /** Takes a ticket to resolved at the clock's current time; returns when it was resolved. */
  const resolve = async (number: string): Promise<number> => {
    for (const step of [{ to: 'assigned', technician: 'tech-01' }, { to: 'in_progress' }, { to: 'resolved', resolution: 'replaced fan motor' }]) {
      const res = await fl.api('POST', `/api/tickets/${number}/transitions`, { by: 'dispatcher', ...step })
      expect(res.status).toBe(200)
    }
    return clock.now()
  }
  const at = (ms: number) => clock.set(new Date(ms).toISOString())

  it('the same fault 6 days 23 hours after its repair is a repeat, one level more urgent', async () => {
    await fl.registerDevice('rr-within', IN_TERM)
    const first = await report('rr-within')
    at(clock.now() + HOUR)
    const resolvedAt = await resolve(first.number)
    at(resolvedAt + 6 * DAY + 23 * HOUR)
    const again = await report('rr-within')
    expect(again.id).not.toBe(first.id)
    expect(again).toMatchObject({ repeatOf: { id: first.id, number: first.number }, priority: 'P1' })
    expect(first.priority).toBe('P2')
  })

  it('the same fault 7 days and 1 minute after its repair is a new fault, not a repeat', async () => {
    await fl.registerDevice('rr-after', IN_TERM)
    const first = await report('rr-after')
    at(clock.now() + HOUR)
    const resolvedAt = await resolve(first.number)
    at(resolvedAt + 7 * DAY + 60_000)
    const again = await report('rr-after')
    expect(again.id).not.toBe(first.id)
    expect(again).toMatchObject({ repeatOf: null, priority: 'P2' })
  })
})
