// A QoS 1 message without `ts` whose PUBACK never reached the device, resent (DUP, same packet id) after Faultline
// was killed and restarted, lands once (issue 8, item 11): the write-ahead log keeps the first delivery's receive
// time with its packet id, and the restart rebuilds the map from it. MQTT spoken by hand over TCP, Faultline a
// child process killed with SIGKILL, then restarted on the same data dir.
import { describe, expect, it } from 'vitest'
import { spawnFaultline, type ChildFaultline } from './support/child-faultline.js'
import { backends, eventually, startTestInstance, testConfig, type TestInstance } from './support/faultline.js'
import { metricValue } from './support/metrics.js'
import { isPuback, rawConnect } from './support/mqtt-wire.js'

describe.each(backends())('a redelivery after a crash on the %s backend', (backend) => {
  it('stores a timestamp-less QoS 1 message once when it is resent with DUP after a SIGKILL and a restart', async () => {
    const config = await testConfig(backend)
    const topic = 'devices/redo-1/telemetry'
    const payload = Buffer.from(JSON.stringify({ metrics: { redo_temp: 6.5 } }))
    let child: ChildFaultline | undefined
    let restarted: TestInstance | undefined
    try {
      child = await spawnFaultline({ FAULTLINE_DATA_DIR: config.dataDir, ...(config.databaseUrl ? { DATABASE_URL: config.databaseUrl } : {}) })
      const token = await child.registerDevice('redo-1')
      const first = await rawConnect(child.mqttPort, 'redo-1', token)
      first.send({ cmd: 'publish', qos: 1, dup: false, retain: false, messageId: 21, topic, payload })
      // Durable once the PUBACK is sent; the device is taken never to have read it (lost with the crash).
      await first.waitFor(isPuback(21))
      child.process.kill('SIGKILL')
      await child.exited
      await first.close()

      restarted = await startTestInstance(config)
      const again = await rawConnect(restarted.faultline.mqttPort, 'redo-1', token)
      again.send({ cmd: 'publish', qos: 1, dup: true, retain: false, messageId: 21, topic, payload })
      await again.waitFor(isPuback(21))
      await again.close()
      // The replayed first delivery and the resend have both been through the writer (1 row each) before the read.
      const httpPort = restarted.faultline.httpPort
      await eventually(async () => ((await metricValue(httpPort, 'faultline_rows_written_total')) >= 2 ? true : undefined), 30_000)
      const res = await restarted.api('GET', `/api/devices/redo-1/telemetry?metric=redo_temp&from=0&to=${Date.now() + 3_600_000}`)
      expect(res.body.points).toHaveLength(1)
    } finally {
      child?.process.kill('SIGKILL')
      await child?.exited
      await restarted?.close()
    }
  })
})
