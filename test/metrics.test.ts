// GET /metrics over real HTTP after doing the thing each figure counts (issue 10): prom-client's process and Node
// figures, MQTT clients connected, write batches, open tickets by priority and kind, HTTP requests by route pattern.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SCRAPE_READ_TIMEOUT_MS } from '../src/metrics.js'
import { backends, eventually, startTest, type TestInstance } from './support/faultline.js'
import { metricSamples, metricValue } from './support/metrics.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'
import { throwawayCluster, type ThrowawayCluster } from './support/postgres.js'
import { startsWithin } from './support/waits.js'

/** Polls /metrics until `name{labels}` reads `value`. */
const metricReaches = (fl: TestInstance, name: string, labels: Record<string, string>, value: number) =>
  eventually(async () => ((await metricValue(fl.faultline.httpPort, name, labels)) === value ? true : undefined))

/** A fault E1 from a registered refrigerator: a P2 repair ticket (the catalog says major). */
async function raiseFault(fl: TestInstance, deviceId: string): Promise<void> {
  const client = await connectDevice(tcpUrl(fl.faultline.mqttPort), deviceId, await fl.registerDevice(deviceId))
  await client.publishAsync(`devices/${deviceId}/events`, JSON.stringify({ type: 'fault', code: 'E1' }), { qos: 1 })
  await client.endAsync()
}

const P2_REPAIR = { priority: 'P2', kind: 'repair' }

describe.each(backends())('/metrics on the %s backend', (backend) => {
  let fl: TestInstance
  beforeAll(async () => {
    fl = await startTest(backend)
  })
  afterAll(() => fl?.close())

  it("has prom-client's process and Node figures under their standard names", async () => {
    const names = new Set((await metricSamples(fl.faultline.httpPort)).map((s) => s.name))
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(names).toContain(name)
    }
  })

  it('counts an authenticated MQTT client while it is connected, and not a refused one', async () => {
    const clients = 'faultline_mqtt_connected_clients'
    const token = await fl.registerDevice('metrics-client')
    expect(await metricValue(fl.faultline.httpPort, clients)).toBe(0)
    await expect(connectDevice(tcpUrl(fl.faultline.mqttPort), 'metrics-client', 'wrong-token')).rejects.toThrow(/Not authorized/i)
    expect(await metricValue(fl.faultline.httpPort, clients)).toBe(0)
    const client = await connectDevice(tcpUrl(fl.faultline.mqttPort), 'metrics-client', token)
    expect(await metricValue(fl.faultline.httpPort, clients)).toBe(1)
    await client.endAsync()
    await metricReaches(fl, clients, {}, 0)
  })

  it('observes each committed write batch: its duration and its rows, the rows adding up to those written', async () => {
    const client = await connectDevice(tcpUrl(fl.faultline.mqttPort), 'metrics-writer', await fl.registerDevice('metrics-writer'))
    const rowsBefore = await metricValue(fl.faultline.httpPort, 'faultline_rows_written_total')
    for (let i = 0; i < 20; i++) await client.publishAsync('devices/metrics-writer/telemetry', JSON.stringify({ metrics: { temp: i, door: 0 } }), { qos: 1 })
    await eventually(async () => ((await metricValue(fl.faultline.httpPort, 'faultline_rows_written_total')) >= rowsBefore + 40 ? true : undefined))
    const value = async (name: string) => metricValue(fl.faultline.httpPort, name)
    const batches = await value('faultline_write_batch_rows_count')
    expect(batches).toBeGreaterThan(0)
    expect(await value('faultline_write_batch_duration_seconds_count')).toBe(batches)
    expect(await value('faultline_write_batch_duration_seconds_sum')).toBeGreaterThan(0)
    expect(await value('faultline_write_batch_rows_sum')).toBe(await value('faultline_rows_written_total'))
  })

  it('counts an opened ticket under its priority and kind until it is cancelled, the others showing 0', async () => {
    const before = await metricValue(fl.faultline.httpPort, 'faultline_open_tickets', P2_REPAIR)
    await raiseFault(fl, 'metrics-fault')
    await metricReaches(fl, 'faultline_open_tickets', P2_REPAIR, before + 1)
    const series = (await metricSamples(fl.faultline.httpPort)).filter((s) => s.name === 'faultline_open_tickets')
    // Every priority and kind is a series, 0 when none is open: a series that vanishes reads as "no data", not "none open".
    expect(series).toHaveLength(8)
    expect(series.find((s) => s.labels.priority === 'P1' && s.labels.kind === 'maintenance')?.value).toBe(0)

    const { body } = await fl.api('GET', '/api/tickets?deviceId=metrics-fault')
    const cancel = await fl.api('POST', `/api/tickets/${body.tickets[0].number}/transitions`, { to: 'cancelled', by: 'ops' })
    expect(cancel.status).toBe(200)
    expect(await metricValue(fl.faultline.httpPort, 'faultline_open_tickets', P2_REPAIR)).toBe(before)
  })

  it('times HTTP requests by route pattern, method and status, never by the raw URL', async () => {
    const requests = (labels: Record<string, string>) => metricValue(fl.faultline.httpPort, 'faultline_http_request_duration_seconds_count', labels)
    const found = { route: '/api/tickets/:id', method: 'GET', status_code: '404' }
    const unknown = { route: 'unknown', method: 'GET', status_code: '404' }
    const [foundBefore, unknownBefore] = [await requests(found), await requests(unknown)]
    expect((await fl.api('GET', '/api/tickets/SR20990101-0042')).status).toBe(404)
    expect((await fl.api('GET', '/api/tickets/SR20990101-0043')).status).toBe(404)
    expect((await fl.api('GET', '/no/such/route-4711')).status).toBe(404)
    expect(await requests(found)).toBe(foundBefore + 2)
    expect(await requests(unknown)).toBe(unknownBefore + 1)
    const raw = (await metricSamples(fl.faultline.httpPort)).filter((s) => /SR2099|4711/.test(s.labels.route ?? ''))
    expect(raw).toEqual([])
  })
})

describe.runIf(backends().includes('server'))('/metrics through a database outage', () => {
  let cluster: ThrowawayCluster
  beforeAll(async () => {
    cluster = await throwawayCluster()
  })
  afterAll(() => cluster?.destroy())

  it('answers a scrape in bounded time with the last open-ticket figures while the server answers nothing, or refuses', startsWithin(1), async () => {
    const fl = await startTest('server', { DATABASE_URL: cluster.url })
    const openP2 = () => metricValue(fl.faultline.httpPort, 'faultline_open_tickets', P2_REPAIR)
    await raiseFault(fl, 'outage-fault')
    await metricReaches(fl, 'faultline_open_tickets', P2_REPAIR, 1)
    cluster.freeze()
    try {
      // Without a bound the scrape would wait for the driver's 35 s query timeout.
      for (let scrape = 0; scrape < 2; scrape++) {
        const started = Date.now()
        expect(await openP2()).toBe(1)
        expect(Date.now() - started).toBeLessThan(SCRAPE_READ_TIMEOUT_MS + 5_000)
      }
    } finally {
      cluster.thaw()
    }
    // A reading that fails (connections refused) keeps the last figures too: Prometheus sees no false "none open".
    cluster.stop()
    try {
      await eventually(async () => ((await fl.api('GET', '/api/tickets')).status === 503 ? true : undefined))
      expect(await openP2()).toBe(1)
      expect(await openP2()).toBe(1)
    } finally {
      cluster.start()
    }
    // Once the database answers, the figures follow it again.
    const { body } = await eventually(async () => {
      const res = await fl.api('GET', '/api/tickets?deviceId=outage-fault')
      return res.status === 200 ? res : undefined
    })
    expect((await fl.api('POST', `/api/tickets/${body.tickets[0].number}/transitions`, { to: 'cancelled', by: 'ops' })).status).toBe(200)
    await metricReaches(fl, 'faultline_open_tickets', P2_REPAIR, 0)
    await fl.close()
  })
})
