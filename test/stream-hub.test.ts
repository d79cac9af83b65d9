// The hub hands out what a notification carries (the events the committing statement appended) without reading
// the outbox again: one round trip less between a fault's commit and its frame (issue 10, publish → stream). A
// notification too big to carry them, or one that does not follow on from the hub's cursor, is read from storage.
import { describe, expect, it } from 'vitest'
import { createLogger } from '../src/main.js'
import { openStore, type Database } from '../src/store/index.js'
import { inStreamTransaction, queueStreamEvent, StreamHub, type NewStreamEvent, type StreamEvent } from '../src/stream/index.js'
import { closeWhenTestEnds } from './support/cleanup.js'
import { backends, eventually, testConfig } from './support/faultline.js'

const event = (deviceId: string, title = 'Condenser fan motor fault'): NewStreamEvent => ({
  type: 'detection.raised',
  at: new Date().toISOString(),
  deviceId,
  model: 'BCD-516WDVL',
  region: 'east',
  site: null,
  severity: 'major',
  priority: null,
  detection: { condition: 'fault:E1', trigger: 'fault_code', code: 'E1', ruleId: null, title, component: 'fan', severity: 'major', value: null, limit: null },
})

describe.each(backends())('the stream hub on the %s backend', (backend) => {
  it('delivers from the notification, reads when it cannot, and hands out every event once in id order', async () => {
    const { db } = await openStore(await testConfig(backend), createLogger('silent'))
    closeWhenTestEnds(() => db.close())
    // Reads of the outbox that found events: the fallback path.
    let readsWithEvents = 0
    const counted: Database = {
      ...db,
      query: async (sql, params) => {
        const result = await db.query(sql, params)
        if (/FROM stream_events\s+WHERE id >/.test(sql) && result.rows.length > 0) readsWithEvents++
        return result as never
      },
    }
    const hub = await StreamHub.start(counted, { pollMs: 600_000, retentionMs: 86_400_000, clock: { now: () => Date.now() }, log: createLogger('silent') })
    closeWhenTestEnds(() => hub.close())
    const got: StreamEvent[] = []
    hub.subscribe((events) => got.push(...events.map((e) => e.event)))
    const append = (...events: NewStreamEvent[]) =>
      inStreamTransaction(db, async (tx) => {
        for (const e of events) queueStreamEvent(tx, e)
      })

    await append(event('hub-1'), event('hub-2'))
    await eventually(async () => (got.length === 2 ? true : undefined))
    expect(got.map((e) => e.deviceId)).toEqual(['hub-1', 'hub-2'])
    expect(got[0]).toEqual({ id: got[0]!.id, ...event('hub-1'), at: got[0]!.at })
    expect(readsWithEvents).toBe(0)

    // Past what a notification carries (8,000 bytes): read from storage, the same events.
    await append(event('hub-big', 'x'.repeat(9_000)))
    await eventually(async () => (got.length === 3 ? true : undefined))
    expect(readsWithEvents).toBe(1)
    expect(got[2]!.detection!.title).toHaveLength(9_000)

    await append(event('hub-3'))
    await eventually(async () => (got.length === 4 ? true : undefined))
    expect(readsWithEvents).toBe(1)
    expect(got.map((e) => e.deviceId)).toEqual(['hub-1', 'hub-2', 'hub-big', 'hub-3'])
    const ids = got.map((e) => e.id)
    expect(ids).toEqual(ids.map((_, i) => ids[0]! + i))
    // What was delivered from notifications is what storage holds.
    const stored = await db.query<{ id: number; at: Date }>(`SELECT id, at FROM stream_events ORDER BY id`)
    expect(stored.rows.map((r) => [r.id, r.at.toISOString()])).toEqual(got.map((e) => [e.id, e.at]))
  })
})
