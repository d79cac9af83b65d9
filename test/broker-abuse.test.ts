// What one device, or a fuzzer, can do to the broker and to other devices (issue 8, items 4, 5 and 6): squat on
// another device's client id, send client ids and usernames of 64 KB on any MQTT protocol level, flood the log
// with refused logins, keep a session open after its token was rotated (here, and on another Faultline sharing
// the database).
import { Writable } from 'node:stream'
import type { MqttClient } from 'mqtt'
import type mqttPacket from 'mqtt-packet'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFaultline } from '../src/main.js'
import { apiClient, registerDevice } from './support/api-client.js'
import { bareConnect, connectPacket } from './support/bare-mqtt.js'
import { API_TOKEN, backends, startTest, startTestInstance, testConfig, type TestInstance } from './support/faultline.js'
import { metricValue } from './support/metrics.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'
import { freshDatabase, sharedClusterUrl } from './support/postgres.js'

const LONG = 65_535

/** CONNECT at an MQTT protocol level: 3 (3.1, "MQIsdp"), 4 (3.1.1) or 5. */
function connectAt(protocolVersion: 3 | 4 | 5, username: string, password: string, clientId: string): mqttPacket.Packet {
  return { ...connectPacket(username, password, clientId), protocolId: protocolVersion === 3 ? 'MQIsdp' : 'MQTT', protocolVersion } as mqttPacket.Packet
}

/** Sends one CONNECT and answers with the CONNACK's return code, or 'closed' when the broker closed without one. */
async function connackOf(port: number, packet: mqttPacket.Packet): Promise<number | 'closed'> {
  const raw = await bareConnect(port)
  try {
    raw.send(packet)
    const connack = (await raw.next('connack').catch(() => undefined)) as mqttPacket.IConnackPacket | undefined
    return connack ? (connack.returnCode ?? connack.reasonCode ?? -1) : 'closed'
  } finally {
    raw.destroy()
  }
}

/** Resolves when the broker has closed the client's connection; rejects if it is still open after timeoutMs. */
function closeOf(client: MqttClient, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still connected after ${timeoutMs} ms`)), timeoutMs)
    client.once('close', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}
const telemetry = JSON.stringify({ metrics: { t: 1 } })

describe.each(backends())('broker abuse on the %s backend', (backend) => {
  let fl: TestInstance
  let tcp: string
  beforeAll(async () => {
    fl = await startTest(backend)
    tcp = tcpUrl(fl.faultline.mqttPort)
  })
  afterAll(() => fl?.close())
  const metric = (name: string, labels?: Record<string, string>) => metricValue(fl.faultline.httpPort, name, labels)

  describe('client ids', () => {
    it("lets no device lock another out by connecting with that device's id as its client id", async () => {
      const ids = Array.from({ length: 5 }, (_, i) => `squat-v${i}`)
      const squatter = await fl.registerDevice('squat-a')
      const victims = await Promise.all(ids.map((id) => fl.registerDevice(id)))
      // While the victims are offline, the squatter holds every one of their ids (and their usual ids).
      const squatting = await Promise.all(ids.map((id) => connectDevice(tcp, 'squat-a', squatter, { clientId: id })))

      const back = await Promise.all(ids.map((id, i) => connectDevice(tcp, id, victims[i]!, { clientId: id })))
      // Every one is in and works, and so do the squatter's own sessions: nobody was taken over.
      await Promise.all(back.map((c, i) => c.publishAsync(`devices/${ids[i]}/telemetry`, telemetry, { qos: 1 })))
      await Promise.all(squatting.map((c) => c.publishAsync('devices/squat-a/telemetry', telemetry, { qos: 1 })))
      expect([...back, ...squatting].map((c) => c.connected)).toEqual(Array(10).fill(true))
      await Promise.all([...back, ...squatting].map((c) => c.endAsync()))
    })

    it("still lets a device's own reconnect with its client id take over its previous session", async () => {
      const token = await fl.registerDevice('own-1')
      const first = await connectDevice(tcp, 'own-1', token, { clientId: 'own-1' })
      const firstClosed = closeOf(first)
      const second = await connectDevice(tcp, 'own-1', token, { clientId: 'own-1' })
      await firstClosed // MQTT 3.1.1, 3.1.4-2: the server disconnects the existing client with that id
      await second.publishAsync('devices/own-1/telemetry', telemetry, { qos: 1 })
      await second.endAsync()
      first.end(true)
    })

    it.each([3, 4, 5] as const)('refuses a 65,535-character client id at MQTT protocol level %s, with valid credentials', async (level) => {
      const token = await fl.registerDevice(`long-id-${level}`)
      const before = await metric('faultline_mqtt_auth_failures_total', { reason: 'client_id_too_long' })
      const code = await connackOf(fl.faultline.mqttPort, connectAt(level, `long-id-${level}`, token, 'c'.repeat(LONG)))
      // 3.1 and 3.1.1: "identifier rejected"; MQTT 5 is refused whatever the id (aedes speaks up to 3.1.1).
      if (level === 5) expect(code).not.toBe(0)
      else expect(code).toBe(2)
      // Counted like any refused CONNECT; MQTT 5 is refused before authentication, as a protocol level.
      if (level !== 5) expect(await metric('faultline_mqtt_auth_failures_total', { reason: 'client_id_too_long' })).toBe(before + 1)
      // 64 characters is the limit, not a bar to every long id.
      if (level !== 5) expect(await connackOf(fl.faultline.mqttPort, connectAt(level, `long-id-${level}`, token, 'c'.repeat(64)))).toBe(0)
    })

    it('refuses a 65,535-character username as an unknown device', async () => {
      const before = await metric('faultline_mqtt_auth_failures_total', { reason: 'unknown_device' })
      expect(await connackOf(fl.faultline.mqttPort, connectAt(4, 'u'.repeat(LONG), 'f'.repeat(64), 'fuzz-1'))).toBe(5)
      expect(await metric('faultline_mqtt_auth_failures_total', { reason: 'unknown_device' })).toBe(before + 1)
    })
  })

  describe('token rotation', () => {
    it('closes, at once, the session opened with the old token, and no other', async () => {
      const old = await fl.registerDevice('rot-1')
      const bystander = await connectDevice(tcp, 'rot-2', await fl.registerDevice('rot-2'))
      const before = await metric('faultline_mqtt_rotated_sessions_ended_total')
      const session = await connectDevice(tcp, 'rot-1', old)
      const closed = closeOf(session)

      try {
        const res = await fl.api('POST', '/api/devices/rot-1/token')
        expect(res.status).toBe(200)
        await closed
        expect(await metric('faultline_mqtt_rotated_sessions_ended_total')).toBe(before + 1)

        // The new token's session stays, as does another device's.
        const renewed = await connectDevice(tcp, 'rot-1', res.body.token)
        await renewed.publishAsync('devices/rot-1/telemetry', telemetry, { qos: 1 })
        await bystander.publishAsync('devices/rot-2/telemetry', telemetry, { qos: 1 })
        expect([renewed.connected, bystander.connected]).toEqual([true, true])
        await renewed.endAsync()
      } finally {
        session.end(true)
        bystander.end(true)
      }
    })
  })
})

describe('refused logins in the log', () => {
  it('are truncated, and one source gets one line per minute while every refusal is counted', async () => {
    const lines: string[] = []
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean))
        done()
      },
    })
    const config = await testConfig('embedded')
    const faultline = await startFaultline(config, pino({ level: 'warn' }, sink))
    try {
      const port = faultline.mqttPort
      const api = apiClient(`http://127.0.0.1:${faultline.httpPort}`, API_TOKEN)
      await registerDevice(api, 'flood-1')
      const failures = () => metricValue(faultline.httpPort, 'faultline_mqtt_auth_failures_total', { reason: 'wrong_token' })

      expect(await connackOf(port, connectAt(4, 'flood-1', 'f'.repeat(64), 'x'.repeat(LONG)))).toBe(2)
      for (let i = 0; i < 50; i++) expect(await connackOf(port, connectAt(4, 'flood-1', 'f'.repeat(64), `flood-${i}`))).toBe(5)
      expect(await failures()).toBe(50)

      const refused = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'MQTT connect refused')
      expect(refused).toHaveLength(1)
      expect(refused[0]).toMatchObject({ reason: 'client_id_too_long', username: 'flood-1', clientId: `${'x'.repeat(64)}… (65535 characters)` })
      expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(1_000)
    } finally {
      await faultline.close()
    }
  })
})

describe.skipIf(!sharedClusterUrl)('token rotation through another Faultline sharing the database', () => {
  let here: TestInstance
  let there: TestInstance
  beforeAll(async () => {
    const DATABASE_URL = await freshDatabase()
    here = await startTestInstance(await testConfig('server', { DATABASE_URL }))
    there = await startTestInstance(await testConfig('server', { DATABASE_URL, FAULTLINE_REGISTRY_REFRESH_MS: '100' }))
  })
  afterAll(async () => {
    await here?.close()
    await there?.close()
  })

  it('closes the session there once the registry refresh sees the rotation made here, and takes the new token there', async () => {
    const old = await here.registerDevice('xrot-1')
    const session = await connectDevice(tcpUrl(there.faultline.mqttPort), 'xrot-1', old)
    const closed = closeOf(session)
    try {
      const res = await here.api('POST', '/api/devices/xrot-1/token')
      await closed
      const renewed = await connectDevice(tcpUrl(there.faultline.mqttPort), 'xrot-1', res.body.token)
      await renewed.publishAsync('devices/xrot-1/telemetry', telemetry, { qos: 1 })
      await renewed.endAsync()
    } finally {
      session.end(true)
    }
  })
})
