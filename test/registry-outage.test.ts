// Authentication rides out a database outage (issue 8, item 9): registered devices are known from memory, so a
// reconnect storm while the database is down is let in, and its QoS 1 publishes are acknowledged from the
// write-ahead log; a wrong token is still refused, and what could only be answered by the database says so.
import type mqttPacket from 'mqtt-packet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bareConnect, connectPacket } from './support/bare-mqtt.js'
import { backends, eventually, startTest } from './support/faultline.js'
import { metricValue } from './support/metrics.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'
import { throwawayCluster, type ThrowawayCluster } from './support/postgres.js'

/** The CONNACK return code a CONNECT gets. */
async function connackOf(port: number, packet: mqttPacket.Packet): Promise<number | undefined> {
  const raw = await bareConnect(port)
  try {
    raw.send(packet)
    return ((await raw.next('connack')) as mqttPacket.IConnackPacket).returnCode
  } finally {
    raw.destroy()
  }
}

describe.skipIf(!backends().includes('server'))('device authentication during a database outage', () => {
  let cluster: ThrowawayCluster
  beforeAll(async () => {
    cluster = await throwawayCluster()
  })
  afterAll(() => cluster?.destroy())

  it('lets registered devices that never connected before in, acknowledges their QoS 1, and still refuses a wrong token', async () => {
    const fl = await startTest('server', { DATABASE_URL: cluster.url })
    let down = false
    try {
      const ids = Array.from({ length: 20 }, (_, i) => `dark-${i}`)
      const tokens = await Promise.all(ids.map((id) => fl.registerDevice(id)))
      const tcp = tcpUrl(fl.faultline.mqttPort)
      const metric = (reason: string) => metricValue(fl.faultline.httpPort, 'faultline_mqtt_auth_failures_total', { reason })

      cluster.stop()
      down = true
      // The database is gone (its readiness check says so), and every device connects at once.
      expect((await (await fetch(`http://127.0.0.1:${fl.faultline.httpPort}/readyz`)).json()).database).not.toBe('ok')
      const clients = await Promise.all(ids.map((id, i) => connectDevice(tcp, id, tokens[i]!)))
      await Promise.all(clients.map((c, i) => c.publishAsync(`devices/${ids[i]}/telemetry`, JSON.stringify({ metrics: { dark: i } }), { qos: 1 })))

      const wrong = await metric('wrong_token')
      expect(await connackOf(fl.faultline.mqttPort, connectPacket('dark-0', 'f'.repeat(64)))).toBe(5)
      expect(await metric('wrong_token')).toBe(wrong + 1)
      // A device memory does not know can only be judged by the database: "server unavailable", not "not authorized".
      expect(await connackOf(fl.faultline.mqttPort, connectPacket('dark-unknown', 'f'.repeat(64)))).toBe(3)

      cluster.start()
      down = false
      // Nothing acknowledged during the outage is lost.
      for (const [i, id] of ids.entries()) {
        const points = await eventually(async () => {
          const res = await fl.api('GET', `/api/devices/${id}/telemetry?metric=dark`)
          return res.status === 200 && res.body.points.length === 1 ? res.body.points : undefined
        }, 30_000)
        expect(points[0].value).toBe(i)
      }
      await Promise.all(clients.map((c) => c.endAsync()))
    } finally {
      if (down) cluster.start()
      await fl.close()
    }
  })
})
