// The benchmark's /ws/faults client (bench/stream-client.ts), on which the stall case's "no hole" verdict rests:
// paused while events pile up, then back with after=<its last id>, it must hold exactly what a client that kept
// reading holds, each id once. Real Faultline, faults over MQTT, on each backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { StreamClient } from '../bench/stream-client.js'
import { closeWhenTestEnds } from './support/cleanup.js'
import { API_TOKEN, backends, eventually, startTest, type TestInstance } from './support/faultline.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'
import { OUTCOME_WAIT_MS } from './support/waits.js'

describe.each(backends())('the bench stream client on the %s backend', (backend) => {
  let fl: TestInstance
  beforeAll(async () => {
    fl = await startTest(backend)
  })
  afterAll(() => fl?.close())

  it('paused, then resumed with after=, holds every event a reading client holds, none twice', async () => {
    const clients = [0, 1].map(() => new StreamClient({ httpPort: fl.faultline.httpPort, token: API_TOKEN }))
    for (const c of clients) closeWhenTestEnds(() => c.close())
    const [reading, stalled] = clients as [StreamClient, StreamClient]
    await Promise.all(clients.map((c) => c.connect()))
    stalled.pause()
    // Enough events that the stalled socket holds frames its client has not read when it comes back.
    const devices = 40
    const mqtt: MqttClient[] = []
    for (let i = 0; i < devices; i++) {
      const id = `bsc-${i}`
      mqtt.push(await connectDevice(tcpUrl(fl.faultline.mqttPort), id, await fl.registerDevice(id, { model: 'BCD-516WDVL', purchasedAt: '2025-01-10' })))
    }
    for (const c of mqtt) closeWhenTestEnds(() => c.endAsync())
    await Promise.all(mqtt.map((c, i) => c.publishAsync(`devices/bsc-${i}/events`, JSON.stringify({ type: 'fault', code: 'E1' }), { qos: 1 })))
    await eventually(async () => (reading.events.filter((e) => e.type === 'ticket.opened').length === devices ? true : undefined))

    await stalled.reconnect()
    await stalled.holds(reading.lastId, OUTCOME_WAIT_MS)
    expect([...stalled.arrivals.keys()].sort((a, b) => a - b)).toEqual([...reading.arrivals.keys()].sort((a, b) => a - b))
    expect(stalled.duplicates).toBe(0)
    expect(stalled.reconnects).toBe(1)
  })
})
