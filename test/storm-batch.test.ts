// A storm arrives as batches (issue 13): detections that reach the rules stage while it is busy are applied
// together in one transaction. Still exactly one ticket per condition, and on the live stream every device's
// detection.raised then its ticket.opened, ids strictly increasing. Real MQTT, WebSocket and database, each backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StreamEvent, StreamMessage } from '../src/stream/index.js'
import { backends, eventually, startTest, type TestInstance } from './support/faultline.js'
import { metricValue } from './support/metrics.js'
import { isPuback, rawConnect } from './support/mqtt-wire.js'
import { connectStream, isType } from './support/stream-client.js'

const DEVICES = 200
const FRIDGE = 'BCD-516WDVL'
/** A storm of 200 on a loaded 2-core CI machine: connecting, publishing, ticketing. */
const STORM_BUDGET_MS = 180_000
const isEvent = (m: StreamMessage): m is StreamEvent => 'id' in m

describe.each(backends())('a storm in batches on the %s backend', (backend) => {
  let fl: TestInstance
  beforeAll(async () => {
    fl = await startTest(backend)
  })
  afterAll(() => fl?.close(), STORM_BUDGET_MS)

  it(
    '200 devices raising at once: fewer transactions than detections, one ticket each, each stream event once and in order',
    { timeout: 2 * STORM_BUDGET_MS },
    async () => {
      const ids = Array.from({ length: DEVICES }, (_, i) => `batch-${String(i).padStart(3, '0')}`)
      const tokens: string[] = []
      for (const id of ids) tokens.push(await fl.registerDevice(id, { model: FRIDGE, purchasedAt: '2026-01-10' }))
      const deadline = Date.now() + STORM_BUDGET_MS
      const remaining = () => Math.max(1, deadline - Date.now())
      const stream = await connectStream(fl.faultline.httpPort)
      await stream.waitFor(isType('caught_up'))
      const clients = await Promise.all(ids.map((id, i) => rawConnect(fl.faultline.mqttPort, id, tokens[i]!, undefined, remaining())))

      await Promise.all(
        clients.map(async (c, i) => {
          c.send({
            cmd: 'publish',
            topic: `devices/${ids[i]}/events`,
            qos: 1,
            dup: false,
            retain: false,
            messageId: 1,
            payload: Buffer.from(JSON.stringify({ type: 'fault', code: 'E7' })),
          })
          await c.waitFor(isPuback(1), remaining())
        }),
      )
      const opened = () => stream.messages.filter(isType('ticket.opened')).length
      await eventually(async () => (opened() >= DEVICES ? true : undefined), remaining())

      // Batched: some transaction applied more than one detection (old code: one transaction each, and no metric).
      const transactions = await metricValue(fl.faultline.httpPort, 'faultline_rules_batch_detections_count')
      expect(await metricValue(fl.faultline.httpPort, 'faultline_rules_batch_detections_sum')).toBe(DEVICES)
      expect(transactions).toBeGreaterThan(0)
      expect(transactions).toBeLessThan(DEVICES)

      const events = stream.messages.filter(isEvent)
      const eventIds = events.map((e) => e.id)
      expect(eventIds).toEqual([...eventIds].sort((a, b) => a - b))
      expect(new Set(eventIds).size).toBe(eventIds.length)
      for (const id of ids) {
        const own = events.filter((e) => e.deviceId === id).map((e) => e.type)
        expect(own, id).toEqual(['detection.raised', 'ticket.opened'])
      }
      const tickets = await Promise.all(ids.map(async (id) => (await fl.api('GET', `/api/tickets?deviceId=${id}`)).body.tickets))
      expect(tickets.map((t: unknown[]) => t.length)).toEqual(ids.map(() => 1))
      expect(new Set(tickets.map((t: { number: string }[]) => t[0]!.number)).size).toBe(DEVICES)
      await Promise.all(clients.map((c) => c.close()))
      await stream.close()
    },
  )
})
