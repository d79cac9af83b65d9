// Ticket numbers are taken autonomously on a server (issue 13): a transaction that opened a ticket and has not
// committed yet does not hold the day's counter, so a ticket opened meanwhile on another lane commits without
// waiting for it. Numbers stay unique and in the order they were taken.
import { describe, expect, it } from 'vitest'
import { loadCatalog } from '../src/catalog/index.js'
import type { Detection } from '../src/detect/index.js'
import { DeviceRegistry } from '../src/devices/index.js'
import { createLogger } from '../src/main.js'
import { defaultSlaPolicy, defaultUnknownModelPolicy, draftRepairTicket, faultOf } from '../src/rules/index.js'
import { openStore, type Database } from '../src/store/index.js'
import { inStreamTransaction } from '../src/stream/index.js'
import { TicketRepository, type DetectionOutcome } from '../src/tickets/index.js'
import { closeWhenTestEnds } from './support/cleanup.js'
import { testConfig } from './support/faultline.js'
import { sharedClusterUrl } from './support/postgres.js'

describe.runIf(sharedClusterUrl)('ticket numbers on a PostgreSQL server', () => {
  it('are not held by a transaction that took one until it commits', async () => {
    const config = await testConfig('server')
    const { db } = await openStore(config, createLogger('silent'))
    closeWhenTestEnds(() => db.close())
    const registry = new DeviceRegistry(db)
    for (const id of ['tn-1', 'tn-2']) await registry.register({ id, model: 'BCD-516WDVL', serial: `SN-${id}`, purchasedAt: '2025-06-01' })
    const catalog = await loadCatalog(config.catalogDir)
    const clock = { now: () => Date.now() }
    const tickets = new TicketRepository(db, clock, 'UTC')
    const policy = { ...defaultSlaPolicy(), unknownModel: defaultUnknownModelPolicy, clockSkewMs: 300_000 }
    const rulesLane: Pick<Database, 'transaction'> = { transaction: (fn) => db.priorityTransaction(fn) }
    /** Opens the device's ticket; with `hold`, says when it has (number taken) and commits once released. */
    const raise = async (deviceId: string, hold?: { opened: () => void; release: Promise<void> }): Promise<DetectionOutcome> => {
      const d: Detection = {
        deviceId,
        trigger: 'fault_code',
        condition: 'fault:E1',
        state: 'raised',
        time: Date.now(),
        severity: 'major',
        title: 'E1',
        code: 'E1',
      }
      const device = (await registry.get(deviceId))!
      return inStreamTransaction(rulesLane, async (tx) => {
        const outcome = await tickets.applyDetection(tx, d, (repeatOf) =>
          draftRepairTicket(faultOf(d), device, catalog.get(device.model), clock.now(), policy, repeatOf),
        )
        hold?.opened()
        await hold?.release
        return outcome
      })
    }

    let commitFirst!: () => void
    let firstOpened!: () => void
    const opened = new Promise<void>((resolve) => (firstOpened = resolve))
    const first = raise('tn-1', { opened: firstOpened, release: new Promise<void>((resolve) => (commitFirst = resolve)) })
    // The first has taken its number and is held open; the second opens its ticket and commits meanwhile
    // (with the counter held to the first's commit, it would wait for it: given 10 s, then the first is let go).
    await opened
    let second: DetectionOutcome | undefined
    try {
      second = await Promise.race([raise('tn-2'), new Promise<undefined>((r) => setTimeout(r, 10_000))])
    } finally {
      commitFirst()
    }
    const held = await first
    expect(second?.action).toBe('opened')
    expect(held.action).toBe('opened')
    const number = (o: DetectionOutcome | undefined) => (o && 'ticket' in o ? o.ticket!.number : '')
    expect(number(held) < number(second)).toBe(true)
    const { rows } = await db.query<{ number: string }>(`SELECT number FROM tickets ORDER BY number`)
    expect(rows.map((r) => r.number)).toEqual([number(held), number(second)])
  })
})
