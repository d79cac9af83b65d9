// Ticket numbers (issue 12; document 002 二.1, "SR20240501001"): SR + the day in the deployment's calendar + a
// per-day sequence of at least three digits that widens past 999; the template is a setting; a number of any
// format Faultline has issued is found again, and 002's own example is a well-formed ref (404, not 400).
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config/index.js'
import type { Ticket } from '../src/tickets/index.js'
import { ManualClock } from './support/clock.js'
import { backends, startTestInstance, testConfig } from './support/faultline.js'
import { readStored } from './support/stored.js'
import { startsWithin } from './support/waits.js'

describe.each(backends())('ticket numbers on the %s backend', (backend) => {
  it('follow the template, use the deployment’s day, widen past 999, and old formats are still found', startsWithin(2), async () => {
    // 01:00 on 2 December in Shanghai is still 1 December in UTC: the number carries the Shanghai day.
    const clock = new ManualClock(Date.parse('2026-12-01T17:00:00Z'))
    const config = await testConfig(backend, { FAULTLINE_TIME_ZONE: 'Asia/Shanghai', FAULTLINE_TICKET_NUMBER: 'SR{yyyyMMdd}-{seq:4}' })
    const first = await startTestInstance(config, clock)
    // The first start names the calendar it judges dates in.
    expect((await first.api('GET', '/readyz')).body).toMatchObject({ status: 'ready', timeZone: 'Asia/Shanghai', ticketNumber: 'SR{yyyyMMdd}-{seq:4}' })
    await first.registerDevice('rf-n', { purchasedAt: '2026-01-01' })
    const report = (fl: typeof first, title: string) => fl.api<Ticket>('POST', '/api/tickets', { deviceId: 'rf-n', by: 'hotline', title })
    // the format numbers had before issue 12, as a template
    const old = (await report(first, 'old format')).body
    expect(old.number).toBe('SR20261202-0001')
    await first.close()

    // The day's counter near the end of three digits, then the default template (002's).
    await readStored(config, (db) => db.query(`UPDATE ticket_counters SET last = 997 WHERE day = '2026-12-02'`))
    const fl = await startTestInstance({ ...config, ticketNumber: 'SR{yyyyMMdd}{seq:3}' }, clock)
    const numbers = []
    for (const title of ['998', '999', '1000', '1001']) numbers.push((await report(fl, title)).body.number)
    expect(numbers).toEqual(['SR20261202998', 'SR20261202999', 'SR202612021000', 'SR202612021001'])

    // Every route taking a ticket ref finds a ticket by any number it was issued, or by its id.
    for (const ref of ['SR20261202-0001', String(old.id)]) {
      const found = await fl.api<Ticket>('GET', `/api/tickets/${ref}`)
      expect(found.status, ref).toBe(200)
      expect(found.body.id, ref).toBe(old.id)
    }
    expect((await fl.api('GET', '/api/tickets/SR202612021000')).body.title).toBe('1000')
    const moved = await fl.api<Ticket>('POST', '/api/tickets/SR20261202-0001/transitions', { to: 'acknowledged', by: 'dispatcher' })
    expect(moved.body).toMatchObject({ id: old.id, status: 'acknowledged' })
    // 002's own example is a number Faultline could have issued: not found, not malformed.
    expect((await fl.api('GET', '/api/tickets/SR20240501001')).status).toBe(404)
    expect((await fl.api('POST', '/api/tickets/SR20240501001/transitions', { to: 'acknowledged', by: 'x' })).status).toBe(404)
    expect((await fl.api('GET', '/api/tickets/SR 2024')).status).toBe(400)
  })
})

describe('the ticket number template', () => {
  it.each([
    ['{yyyyMMdd}{seq:3}', 'must start with a letter'],
    ['SR{seq:3}', 'must hold the day'],
    ['SR{yyyy}{MM}{seq:3}', 'must hold the day'],
    ['SR{yyyyMMdd}', 'must end with the sequence'],
    ['SR{seq:3}{yyyyMMdd}', 'must end with the sequence'],
    ['SR {yyyyMMdd}{seq:3}', 'literal text'],
    ['SR{yyyyMMdd}{seq:0}', 'literal text'],
  ])('%s is refused at start: %s', (template, problem) => {
    expect(() => loadConfig({ FAULTLINE_TICKET_NUMBER: template }, [])).toThrow(ConfigError)
    expect(() => loadConfig({ FAULTLINE_TICKET_NUMBER: template }, [])).toThrow(problem)
  })

  it('takes the day as separate fields too', () => {
    expect(loadConfig({ FAULTLINE_TICKET_NUMBER: 'WO-{yyyy}-{MM}{dd}-{seq:5}' }, []).ticketNumber).toBe('WO-{yyyy}-{MM}{dd}-{seq:5}')
    expect(loadConfig({}, []).ticketNumber).toBe('SR{yyyyMMdd}{seq:3}')
  })
})
