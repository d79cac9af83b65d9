// A forged history cursor is a 400 naming the cursor, never a 500: every part of the row key it holds is checked
// for what the database can compare (issue 8, item 12: every field of every route), on each backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends, startTest, type TestInstance } from './support/faultline.js'

const cursorOf = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url')
const AT = '2026-01-01T00:00:00.000Z'

/** Keys each route would take but for one part: times JS parses and PostgreSQL does not, unstorable text, a type that is none. */
const forged: Record<'events' | 'status', unknown[][]> = {
  events: [
    ['0', 'E1', 'fault'], // Date.parse reads "0" as the year 2000
    ['1', 'E1', 'fault'],
    ['+275760-09-13T00:00:00Z', 'E1', 'fault'],
    ['-271821-04-20T00:00:00Z', 'E1', 'fault'],
    ['1969-12-31T23:59:59.999Z', 'E1', 'fault'],
    [AT, 'E\u0000', 'fault'],
    [AT, 'E\ud800', 'fault'],
    [AT, 'E1', 'Fault'],
    [AT, 'E1'],
    [AT, 1, 'fault'],
  ],
  status: [['0'], ['1'], ['+275760-09-13T00:00:00Z'], ['-271821-04-20T00:00:00Z'], [AT, 'extra'], [1_700_000_000_000], []],
}

describe.each(backends())('history cursors on the %s backend', (backend) => {
  let fl: TestInstance
  beforeAll(async () => {
    fl = await startTest(backend)
    await fl.registerDevice('cur-1')
  })
  afterAll(() => fl?.close())

  for (const route of ['events', 'status'] as const) {
    it(`/api/devices/:id/${route} answers a forged cursor with a 400 naming it`, async () => {
      const answers = await Promise.all(
        forged[route].map(async (key) => {
          const res = await fl.api('GET', `/api/devices/cur-1/${route}?cursor=${cursorOf(key)}`)
          return { key, status: res.status, message: res.body.message }
        }),
      )
      expect(answers).toEqual(forged[route].map((key) => ({ key, status: 400, message: 'querystring.cursor: not a cursor this route gave out' })))
      // A well-formed key is still taken.
      const real = route === 'events' ? [AT, 'E1', 'fault'] : [AT]
      expect((await fl.api('GET', `/api/devices/cur-1/${route}?cursor=${cursorOf(real)}`)).status).toBe(200)
    })
  }
})
