// Two Faultline processes on one database dispatching the same 200 tickets at once (issue 11): every ticket is
// decided once, no technician ever holds more than their capacity, and the load counters match the tickets.
// Server backend only: the embedded engine belongs to one process.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Ticket } from '../src/tickets/index.js'
import { ManualClock } from './support/clock.js'
import { eventually, startTestInstance, testConfig, type TestInstance } from './support/faultline.js'
import { freshDatabase, sharedClusterUrl } from './support/postgres.js'
import { readStored } from './support/stored.js'
import { OUTCOME_WAIT_MS, startsWithin } from './support/waits.js'

const TICKETS = 200
const TECHNICIANS = 4
const CAPACITY = 25
const today = new Date().toISOString().slice(0, 10)
const at = (hhmm: string) => Date.parse(`${today}T${hhmm}:00.000Z`)

describe.runIf(sharedClusterUrl)('two processes dispatching on one server database', () => {
  let a: TestInstance
  let b: TestInstance
  // Before the technicians' shift, and before the tickets' respond deadline runs into it: nobody can take them yet.
  const clock = new ManualClock(at('05:00'))
  beforeAll(async () => {
    const env = { DATABASE_URL: await freshDatabase(), FAULTLINE_DISPATCH_INTERVAL_MS: '100' }
    a = await startTestInstance(await testConfig('server', env), clock)
    b = await startTestInstance(await testConfig('server', env), clock)
  }, startsWithin(2).timeout)
  afterAll(async () => {
    await a?.close()
    await b?.close()
  })

  it(
    `${TICKETS} tickets, ${TECHNICIANS} technicians of capacity ${CAPACITY}: ${TECHNICIANS * CAPACITY} assigned, none over capacity, each once`,
    { timeout: 4 * OUTCOME_WAIT_MS },
    async () => {
      for (let i = 0; i < TECHNICIANS; i++) {
        const res = await a.api('POST', '/api/technicians', {
          id: `racer-${i}`,
          name: `Racer ${i}`,
          team: 'race',
          skills: [{ category: 'refrigerator', level: 3 }],
          regions: ['race'],
          capacity: CAPACITY,
          hours: { timeZone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], from: '09:00', to: '17:00' },
        })
        expect(res.status).toBe(201)
      }
      await a.registerDevice('rf-race', { region: 'race' })
      // Phone reports without a code: each its own condition, so all 200 are open at once on one device (P2, by 07:00).
      const ids: number[] = []
      for (let i = 0; i < TICKETS; i++) {
        const via = i % 2 === 0 ? a : b
        const res = await via.api('POST', '/api/tickets', { deviceId: 'rf-race', by: 'call-centre', title: `No cooling #${i}`, component: 'compressor' })
        expect(res.status).toBe(201)
        ids.push(res.body.id as number)
      }
      const list = async () => (await a.api('GET', `/api/tickets?deviceId=rf-race&limit=500`)).body.tickets as Ticket[]
      await eventually(async () => ((await list()).every((t) => t.dispatch?.outcome === 'unassigned') ? true : undefined))

      // The shift starts for both processes at once: each one's next pass races the other's over the same tickets.
      clock.set(new Date(at('09:30')).toISOString())
      // Settled: each ticket has a technician or was refused for want of room (not still waiting for its shift).
      const settled = await eventually(async () => {
        const tickets = await list()
        return tickets.every((t) => t.technicianId !== null || t.dispatch?.reason === 'everyone qualified is at capacity') ? tickets : undefined
      })
      expect(settled.filter((t) => t.technicianId !== null)).toHaveLength(TECHNICIANS * CAPACITY)
      const perTechnician = new Map<string, number>()
      for (const t of settled) if (t.technicianId) perTechnician.set(t.technicianId, (perTechnician.get(t.technicianId) ?? 0) + 1)
      expect([...perTechnician.values()]).toEqual(Array(TECHNICIANS).fill(CAPACITY))

      const stored = await readStored(a.config, async (db) => ({
        load: (await db.query<{ technician_id: string; open_tickets: number }>(`SELECT technician_id, open_tickets FROM technician_load ORDER BY 1`)).rows,
        assignments: (
          await db.query<{ ticket_id: string; n: string }>(`SELECT ticket_id, count(*) AS n FROM ticket_history WHERE action = 'assigned' GROUP BY ticket_id`)
        ).rows,
      }))
      expect(stored.load.map((l) => l.open_tickets)).toEqual(Array(TECHNICIANS).fill(CAPACITY))
      // exactly one assignment per assigned ticket, none for the others
      expect(stored.assignments).toHaveLength(TECHNICIANS * CAPACITY)
      expect(stored.assignments.every((r) => Number(r.n) === 1)).toBe(true)
      expect(new Set(stored.assignments.map((r) => Number(r.ticket_id)))).toEqual(new Set(settled.filter((t) => t.technicianId).map((t) => t.id)))
    },
  )

  it('the database itself refuses a slot over capacity to a second writer racing for the last one', async () => {
    const res = await a.api('POST', '/api/technicians', {
      id: 'last-slot',
      name: 'Last Slot',
      team: 'race',
      skills: [{ category: 'refrigerator', level: 3 }],
      regions: ['nobody-asks'],
      capacity: 1,
      hours: { timeZone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '23:59' },
    })
    expect(res.status).toBe(201)
    // two of the tickets nobody had room for
    const waiting = ((await a.api('GET', '/api/tickets?deviceId=rf-race&limit=500')).body.tickets as Ticket[]).filter((t) => t.technicianId === null)
    const [first, second] = waiting.map((t) => t.id)
    // Two connections, as two processes would have: the second waits on the load row the first holds.
    const one = new pg.Client({ connectionString: a.config.databaseUrl })
    const two = new pg.Client({ connectionString: a.config.databaseUrl })
    await one.connect()
    await two.connect()
    try {
      const take = (c: pg.Client, id: number | undefined) =>
        c.query(`UPDATE tickets SET technician_id = 'last-slot', technician = 'Last Slot', dispatch_state = 'manual' WHERE id = $1`, [id])
      await one.query('BEGIN')
      await two.query('BEGIN')
      await take(one, first)
      const racing = take(two, second).then(
        () => 'taken',
        (err: Error & { code?: string }) => err.code,
      )
      await one.query('COMMIT')
      expect(await racing).toBe('23514') // check_violation: technician last-slot is at capacity
      await two.query('ROLLBACK')
    } finally {
      await one.end()
      await two.end()
    }
    expect((await a.api('GET', '/api/technicians/last-slot')).body).toMatchObject({ openTickets: 1, availability: 'at_capacity' })
  })
})
