// Faults before telemetry (issue 13): a fault event has room of its own in admission, so while telemetry fills
// the write queue and waits for it, the fault is acknowledged and ticketed ahead of that backlog. Real MQTT,
// real database, on each backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends, eventually, startTest, type TestInstance } from './support/faultline.js'
import { metricValue } from './support/metrics.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'

const FRIDGE = 'BCD-516WDVL'
/**
 * The write queue holds 3 messages of 3 metrics, and a partial batch is written only after this long: the
 * telemetry that waits for room keeps waiting for it, unless the fault is let in before it.
 */
const FLUSH_MS = 60_000
const telemetry = (n: number) => JSON.stringify({ metrics: { temp: n, door: 0, power: 1 } })

describe.each(backends())('admission on the %s backend', (backend) => {
  let fl: TestInstance
  beforeAll(async () => {
    fl = await startTest(backend, { FAULTLINE_WRITER_QUEUE_ROWS: '10', FAULTLINE_WRITER_FLUSH_MS: String(FLUSH_MS) })
  })
  // Closing writes the held batch, and with it the telemetry still waiting for room.
  afterAll(() => fl?.close(), FLUSH_MS + 60_000)

  it(
    'a fault published while telemetry waits for room in a full queue is acknowledged and ticketed before that telemetry is admitted',
    { timeout: FLUSH_MS + 60_000 },
    async () => {
      const [flooder, faulty] = await Promise.all(
        ['lane-telemetry', 'lane-fault'].map(async (id) =>
          connectDevice(tcpUrl(fl.faultline.mqttPort), id, await fl.registerDevice(id, { model: FRIDGE, purchasedAt: '2026-01-10' })),
        ),
      )
      // Three fill the queue; the fourth waits for room (counted as a backpressure wait before it is acknowledged).
      for (let n = 0; n < 3; n++) await flooder!.publishAsync('devices/lane-telemetry/telemetry', telemetry(n), { qos: 1 })
      let waitingAcknowledged = false
      const waiting = flooder!.publishAsync('devices/lane-telemetry/telemetry', telemetry(3), { qos: 1 }).then(() => (waitingAcknowledged = true))
      await eventually(async () => ((await metricValue(fl.faultline.httpPort, 'faultline_backpressure_waits_total')) >= 1 ? true : undefined))

      await faulty!.publishAsync('devices/lane-fault/events', JSON.stringify({ type: 'fault', code: 'E1' }), { qos: 1 })
      const ticket = await eventually(async () => (await fl.api('GET', '/api/tickets?deviceId=lane-fault')).body.tickets[0])
      expect(ticket).toMatchObject({ deviceId: 'lane-fault', code: 'E1', status: 'open' })
      // The telemetry ahead of it in time is still waiting: the fault did not queue behind it.
      expect(waitingAcknowledged).toBe(false)

      await waiting
      await Promise.all([flooder!.endAsync(), faulty!.endAsync()])
    },
  )
})
