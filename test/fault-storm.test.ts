// A fault storm: 1,000 devices raise the same code within seconds, with redeliveries and repeats, and
// exactly 1,000 tickets open. Then two Faultline processes on one database race on the same fault.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends, eventually, startTest, startTestInstance, testConfig, type TestInstance } from './support/faultline.js'
import { isPuback, rawConnect, type RawMqtt } from './support/mqtt-wire.js'
import { metricValue } from './support/metrics.js'
import { freshDatabase, sharedClusterUrl } from './support/postgres.js'

const DEVICES = 1_000
const FRIDGE = 'BCD-516WDVL'

async function countTickets(fl: TestInstance): Promise<number> {
  let count = 0
  let cursor: number | null = null
  do {
    const page: { tickets: unknown[]; next: number | null } = (await fl.api('GET', `/api/tickets?limit=500${cursor ? `&cursor=${cursor}` : ''}`)).body
    count += page.tickets.length
    cursor = page.next
  } while (cursor !== null)
  return count
}

const faultEvent = (id: string, ts: number, messageId: number, dup = false) => ({
  cmd: 'publish' as const, topic: `devices/${id}/events`, qos: 1 as const, dup, retain: false, messageId,
  payload: Buffer.from(JSON.stringify({ ts, type: 'fault', code: 'E7', detail: 'compressor drive fault' })),
})

describe.each(backends())('a fault storm on the %s backend', (backend) => {
  let fl: TestInstance
  beforeAll(async () => {
    fl = await startTest(backend)
  })
  afterAll(() => fl?.close())

  it('1,000 devices raising the same code, with redeliveries and repeats, open exactly 1,000 tickets', { timeout: 240_000 }, async () => {
    const ids = Array.from({ length: DEVICES }, (_, i) => `storm-${String(i).padStart(4, '0')}`)
    const tokens: string[] = []
    for (const id of ids) tokens.push(await fl.registerDevice(id, { model: FRIDGE, purchasedAt: '2026-01-10' }))
    const clients: RawMqtt[] = await Promise.all(ids.map((id, i) => rawConnect(fl.faultline.mqttPort, id, tokens[i]!)))

    const started = Date.now()
    const ts = started - 1_000
    await Promise.all(
      clients.map(async (c, i) => {
        const id = ids[i]!
        c.send(faultEvent(id, ts, 1))
        c.send(faultEvent(id, ts, 1, true)) // a QoS 1 retry after a lost PUBACK
        c.send(faultEvent(id, ts + 500, 2)) // the device repeats itself while the fault is open
        await Promise.all([c.waitFor(isPuback(1)), c.waitFor(isPuback(2))])
      }),
    )
    // The detectors let one detection per device through (the redelivery and the repeat find the fault open);
    // once the rules stage has applied that many, every ticket there will be is there.
    await eventually(async () => ((await metricValue(fl.faultline.httpPort, 'faultline_detections_total', { action: 'opened' })) >= DEVICES ? true : undefined), 120_000)
    console.log(`fault storm (${backend}): ${DEVICES} tickets in ${Date.now() - started} ms`)
    expect(await metricValue(fl.faultline.httpPort, 'faultline_detections_total', { action: 'occurrence' })).toBe(0)

    expect(await countTickets(fl)).toBe(DEVICES)
    const sample = (await fl.api('GET', '/api/tickets?deviceId=storm-0500')).body.tickets
    expect(sample).toHaveLength(1)
    expect(sample[0]).toMatchObject({ code: 'E7', priority: 'P1', occurrences: 1, warranty: { decision: 'in_warranty' } })
    const numbers = new Set<string>()
    for (let cursor: number | null = null, first = true; first || cursor !== null; first = false) {
      const page: any = (await fl.api('GET', `/api/tickets?limit=500${cursor ? `&cursor=${cursor}` : ''}`)).body
      for (const t of page.tickets) numbers.add(t.number)
      cursor = page.next
    }
    expect(numbers.size).toBe(DEVICES)
    await Promise.all(clients.map((c) => c.close()))
  })
})

describe.runIf(sharedClusterUrl)('two Faultline processes on one database', () => {
  let a: TestInstance
  let b: TestInstance
  beforeAll(async () => {
    const url = await freshDatabase()
    a = await startTestInstance(await testConfig('server', { DATABASE_URL: url }))
    b = await startTestInstance(await testConfig('server', { DATABASE_URL: url }))
  })
  afterAll(async () => {
    await a?.close()
    await b?.close()
  })

  it('racing on the same fault, they open one ticket', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `race-${i}`)
    const tokens: string[] = []
    for (const id of ids) tokens.push(await a.registerDevice(id, { model: FRIDGE, purchasedAt: '2026-01-10' }))
    const ts = Date.now() - 1_000
    // Each device's fault reaches both processes (a reconnect to the other one, a retry): both detect it.
    await Promise.all(
      ids.map(async (id, i) => {
        const [ca, cb] = await Promise.all([rawConnect(a.faultline.mqttPort, id, tokens[i]!, `${id}-a`), rawConnect(b.faultline.mqttPort, id, tokens[i]!, `${id}-b`)])
        ca.send(faultEvent(id, ts, 1))
        cb.send(faultEvent(id, ts, 1))
        cb.send(faultEvent(id, ts + 10, 2)) // and a later report on b only
        await Promise.all([ca.waitFor(isPuback(1)), cb.waitFor(isPuback(1)), cb.waitFor(isPuback(2))])
        await Promise.all([ca.close(), cb.close()])
      }),
    )
    for (const id of ids) {
      const tickets = await eventually(async () => {
        const t = (await a.api('GET', `/api/tickets?deviceId=${id}`)).body.tickets
        return t.length > 0 ? t : undefined
      })
      expect(tickets, id).toHaveLength(1)
    }
    expect(await countTickets(a)).toBe(ids.length)
  })
})
