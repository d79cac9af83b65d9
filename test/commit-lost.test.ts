// The connection drops while a detection's COMMIT is in flight, after the database committed it: the ticketing
// stage retries, and the retry must neither record nor act a second time. The detection's own key (fault_events)
// makes a second recording a no-op that appends no second stream event, and its `acted` flag makes a second act
// a duplicate, so the ticket keeps one occurrence per raise and the stream tells each change once.
import { lastValueFrom, of, toArray } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { loadCatalog } from '../src/catalog/index.js'
import type { Detection } from '../src/detect/index.js'
import { DeviceRegistry } from '../src/devices/index.js'
import { createLogger } from '../src/main.js'
import { defaultSlaPolicy, defaultUnknownModelPolicy } from '../src/rules/index.js'
import { openStore, type Database } from '../src/store/index.js'
import { repairTickets } from '../src/ticketing/index.js'
import { TicketRepository } from '../src/tickets/index.js'
import { backends, testConfig } from './support/faultline.js'

describe.each(backends())('a COMMIT whose answer is lost on the %s backend', (backend) => {
  it('is retried without adding a second occurrence or a second ticket', async () => {
    const config = await testConfig(backend)
    const { db } = await openStore(config, createLogger('silent'))
    try {
      await new DeviceRegistry(db).register({ id: 'cl-1', model: 'BCD-516WDVL', serial: 'SN-cl-1', purchasedAt: '2025-06-01' })
      const registry = new DeviceRegistry(db)
      const clock = { now: () => Date.now() }
      const tickets = new TicketRepository(db, clock, 'UTC')
      // Every recording statement and every transaction commits and then reports a lost connection the first time,
      // as a drop between COMMIT and its reply does; its retry is answered.
      const statements = new Set<string>()
      let transactions = 0
      const losesFirstAnswer: Pick<Database, 'query' | 'transaction'> = {
        query: async (sql, params) => {
          const result = await db.query(sql, params)
          const statement = sql + JSON.stringify(params)
          if (!statements.has(statement)) {
            statements.add(statement)
            throw new Error('Connection terminated unexpectedly')
          }
          return result as never
        },
        transaction: async (work) => {
          const result = await db.transaction(work)
          if (transactions++ % 2 === 0) throw new Error('Connection terminated unexpectedly')
          return result
        },
      }
      const raise = (time: number): Detection => ({
        deviceId: 'cl-1',
        trigger: 'fault_code',
        condition: 'fault:E1',
        state: 'raised',
        time,
        severity: 'major',
        title: 'E1',
        code: 'E1',
      })
      const clear = (time: number): Detection => ({ ...raise(time), state: 'cleared' })
      const t0 = Date.now() - 60_000
      const outcomes = await lastValueFrom(
        of(raise(t0), clear(t0 + 1_000), raise(t0 + 2_000)).pipe(
          repairTickets({
            catalog: await loadCatalog(config.catalogDir),
            devices: (ids) => registry.getMany(ids),
            db: losesFirstAnswer,
            tickets,
            clock,
            policy: { ...defaultSlaPolicy(), unknownModel: defaultUnknownModelPolicy, clockSkewMs: 300_000 },
            log: createLogger('silent'),
            lanes: 1,
          }),
          toArray(),
        ),
      )
      // Each first attempt committed; each retry found its detection acted on.
      expect(outcomes.map((o) => o.action)).toEqual(['duplicate', 'duplicate', 'duplicate'])
      expect(statements.size).toBeGreaterThanOrEqual(2)
      const { rows } = await db.query<{ occurrences: number }>(`SELECT occurrences FROM tickets WHERE device_id = 'cl-1'`)
      expect(rows).toEqual([{ occurrences: 2 }])
      const { rows: events } = await db.query<{ type: string; at: Date }>(
        `SELECT type, at FROM stream_events WHERE device_id = 'cl-1' AND type LIKE 'detection.%' ORDER BY id`,
      )
      expect(events.map((e) => [e.type, e.at.getTime()])).toEqual([
        ['detection.raised', t0],
        ['detection.cleared', t0 + 1_000],
        ['detection.raised', t0 + 2_000],
      ])
      const { rows: unacted } = await db.query(`SELECT 1 FROM fault_events WHERE NOT acted`)
      expect(unacted).toEqual([])
    } finally {
      await db.close()
    }
  })
})
