// Who may connect, and what a connected device may touch: CONNECT authentication, token rotation, the topic
// ACL on publish, subscribe and delivery, the disconnect after repeated violations, and what the broker
// refuses to keep (retained messages, persistent sessions).
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends, eventually, startTest, type TestInstance } from './support/faultline.js'
import { metricValue } from './support/metrics.js'
import { connectDevice, tcpUrl, wsUrl } from './support/mqtt.js'
import { bareConnect, connectPacket } from './support/bare-mqtt.js'
import { closeWhenTestEnds } from './support/cleanup.js'
import { OUTCOME_WAIT_MS } from './support/waits.js'

/** Connects and reports how the attempt ended, with the CONNACK when there was one. */
function tryConnect(url: string, options: IClientOptions): Promise<{ client: MqttClient; connack?: mqtt.IConnackPacket; error?: Error & { code?: number } }> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: OUTCOME_WAIT_MS, ...options })
    closeWhenTestEnds(() => client.endAsync(true))
    client.once('connect', (connack) => resolve({ client, connack }))
    client.once('error', (error) => {
      client.end(true)
      resolve({ client, error })
    })
  })
}

/** Collects what a client receives, so a test can wait for one message and then assert on all of them. */
function inbox(client: MqttClient) {
  const messages: { topic: string; payload: string; retain: boolean }[] = []
  client.on('message', (topic, payload, packet) => messages.push({ topic, payload: payload.toString(), retain: packet.retain }))
  return {
    messages,
    waitFor: (topic: string) => eventually(async () => messages.find((m) => m.topic === topic)),
  }
}

/** The SUBACK return codes. mqtt.js 5 rejects a SUBACK holding 0x80, with the packet attached: read it from there. */
async function granted(client: MqttClient, topics: string | string[], qos: 0 | 1 = 1): Promise<number[]> {
  try {
    return (await client.subscribeAsync(topics, { qos })).map((g) => g.qos)
  } catch (err) {
    const suback = (err as { packet?: { cmd: string; granted: number[] } }).packet
    if (suback?.cmd !== 'suback') throw err
    return suback.granted
  }
}

const closeOf = (client: MqttClient) => new Promise<void>((resolve) => client.once('close', () => resolve()))

describe.each(backends())('device security on the %s backend', (backend) => {
  let fl: TestInstance
  let tcp: string
  beforeAll(async () => {
    fl = await startTest(backend)
    tcp = tcpUrl(fl.faultline.mqttPort)
  })
  afterAll(() => fl?.close())

  const metric = (name: string, labels?: Record<string, string>) => metricValue(fl.faultline.httpPort, name, labels)
  const points = async (id: string) => (await fl.api('GET', `/api/devices/${id}/telemetry`)).body.points as { metric: string; value: number }[]
  const deadLetters = async (id: string) => (await fl.api('GET', `/api/dead-letters?deviceId=${id}`)).body.deadLetters as unknown[]
  /** Waits until the device's telemetry has this metric: what it published before is in the pipeline too. */
  const stored = (id: string, name: string) => eventually(async () => ((await points(id)).some((p) => p.metric === name) ? true : undefined))
  const telemetry = (metrics: Record<string, number>) => JSON.stringify({ metrics })

  describe('CONNECT', () => {
    it('refuses an unknown device, a wrong token and missing credentials with "not authorized", and counts each reason', async () => {
      const known = await fl.registerDevice('auth-1')
      const before = {
        unknown: await metric('faultline_mqtt_auth_failures_total', { reason: 'unknown_device' }),
        wrong: await metric('faultline_mqtt_auth_failures_total', { reason: 'wrong_token' }),
        missing: await metric('faultline_mqtt_auth_failures_total', { reason: 'missing_credentials' }),
      }
      const attempts = [
        await tryConnect(tcp, { username: 'no-such-device', password: known }),
        await tryConnect(tcp, { username: 'auth-1', password: 'f'.repeat(64) }),
        await tryConnect(wsUrl(fl.faultline.httpPort), { username: 'auth-1', password: known.replace(/.$/, (c) => (c === '0' ? '1' : '0')) }),
        await tryConnect(tcp, {}),
        await tryConnect(tcp, { username: 'auth-1' }),
      ]
      for (const a of attempts) {
        expect(a.connack).toBeUndefined()
        expect(a.error?.code).toBe(5)
        expect(a.error?.message).toBe('Connection refused: Not authorized')
        expect(a.client.connected).toBe(false)
      }
      expect(await metric('faultline_mqtt_auth_failures_total', { reason: 'unknown_device' })).toBe(before.unknown + 1)
      expect(await metric('faultline_mqtt_auth_failures_total', { reason: 'wrong_token' })).toBe(before.wrong + 2)
      expect(await metric('faultline_mqtt_auth_failures_total', { reason: 'missing_credentials' })).toBe(before.missing + 2)

      // The right token still works: the refusals above are about the credentials, not the device.
      const ok = await connectDevice(tcp, 'auth-1', known)
      expect(ok.connected).toBe(true)
      await ok.endAsync()
    })

    it('gives a refused CONNECT no session: a PUBLISH pipelined behind it is neither acknowledged nor stored', async () => {
      const token = await fl.registerDevice('auth-2')
      const raw = await bareConnect(fl.faultline.mqttPort)
      raw.send(connectPacket('auth-2', 'f'.repeat(64)), {
        cmd: 'publish',
        topic: 'devices/auth-2/telemetry',
        payload: telemetry({ sneaked: 1 }),
        qos: 1,
        messageId: 1,
        retain: false,
        dup: false,
      })
      const connack = await raw.next('connack')
      expect(connack).toMatchObject({ cmd: 'connack', returnCode: 5, sessionPresent: false })
      await raw.closed // the broker closes the connection after the refusal
      expect(raw.received.map((p) => p.cmd)).toEqual(['connack'])

      // A later publish by the real device is stored; the sneaked one never is.
      const device = await connectDevice(tcp, 'auth-2', token)
      await device.publishAsync('devices/auth-2/telemetry', telemetry({ genuine: 1 }), { qos: 1 })
      await device.endAsync()
      await stored('auth-2', 'genuine')
      expect((await points('auth-2')).map((p) => p.metric)).toEqual(['genuine'])
      expect(await deadLetters('auth-2')).toEqual([])
    })

    it('forces every session clean: a clean:false CONNECT gets sessionPresent false, and nothing is kept for it', async () => {
      const token = await fl.registerDevice('sess-1')
      const persistent = { username: 'sess-1', password: token, clientId: 'sess-1-persistent', clean: false }
      const first = await tryConnect(tcp, persistent)
      expect(first.connack?.sessionPresent).toBe(false)
      expect(await granted(first.client, 'devices/sess-1/commands/#')).toEqual([1])
      await first.client.endAsync()

      // While it is away, a command arrives that a persistent session would queue for it.
      const other = await connectDevice(tcp, 'sess-1', token)
      await other.publishAsync('devices/sess-1/commands/while-away', 'queued?', { qos: 1 })

      const again = await tryConnect(tcp, persistent)
      expect(again.connack?.sessionPresent).toBe(false)
      const got = inbox(again.client)
      // Its old subscription is gone too: this one is not delivered until it subscribes again.
      await other.publishAsync('devices/sess-1/commands/before-resubscribe', 'restored?', { qos: 1 })
      await again.client.subscribeAsync('devices/sess-1/commands/#', { qos: 1 })
      await other.publishAsync('devices/sess-1/commands/probe', 'probe', { qos: 1 })
      await got.waitFor('devices/sess-1/commands/probe')
      expect(got.messages.map((m) => m.topic)).toEqual(['devices/sess-1/commands/probe'])
      await again.client.endAsync()
      await other.endAsync()
    })

    it("does not let one device take over another device's connection by reusing its client id", async () => {
      const victimToken = await fl.registerDevice('victim-1')
      const thiefToken = await fl.registerDevice('thief-1')
      const victim = await connectDevice(tcp, 'victim-1', victimToken, { clientId: 'fridge-kitchen' })
      let victimClosed = false
      victim.on('close', () => (victimClosed = true))

      // MQTT's session takeover is for the same client reconnecting, not for another device with the same id.
      const thief = await tryConnect(tcp, { username: 'thief-1', password: thiefToken, clientId: 'fridge-kitchen' })
      thief.client.end(true)

      const outcome = await victim.publishAsync('devices/victim-1/telemetry', telemetry({ still: 1 }), { qos: 1 }).then(
        () => 'acknowledged',
        (err: Error) => `failed: ${err.message}`,
      )
      expect({ outcome, victimClosed }).toEqual({ outcome: 'acknowledged', victimClosed: false })
      await stored('victim-1', 'still')
      await victim.endAsync()
    })
  })

  describe('tokens', () => {
    it('issues a 64-hex-digit token once and never returns it or its hash in a device record', async () => {
      const res = await fl.api('POST', '/api/devices', { id: 'tok-1', model: 'BCD-516WDVL', serial: 'SN-tok-1', purchasedAt: '2025-06-01' })
      expect(res.status).toBe(201)
      expect(Object.keys(res.body).sort()).toEqual(['device', 'token'])
      expect(res.body.token).toMatch(/^[0-9a-f]{64}$/)

      const records = [res.body.device, (await fl.api('GET', '/api/devices/tok-1')).body, ...(await fl.api('GET', '/api/devices?limit=1000')).body.devices]
      for (const record of records) {
        expect(Object.keys(record).sort()).toEqual(['createdAt', 'id', 'lastSeenAt', 'model', 'purchasedAt', 'serial'])
        const text = JSON.stringify(record)
        expect(text).not.toContain(res.body.token)
        expect(text).not.toMatch(/[0-9a-f]{32}:[0-9a-f]{64}/) // the stored "<salt>:<sha256>" form
      }
    })

    it('rotates a token: the old one is refused from then on, the new one works', async () => {
      const old = await fl.registerDevice('tok-2')
      const before = await connectDevice(tcp, 'tok-2', old)
      await before.endAsync()

      const res = await fl.api('POST', '/api/devices/tok-2/token')
      expect(res.status).toBe(200)
      expect(res.body.token).toMatch(/^[0-9a-f]{64}$/)
      expect(res.body.token).not.toBe(old)

      const refused = await tryConnect(tcp, { username: 'tok-2', password: old })
      expect(refused.error?.code).toBe(5)
      const device = await connectDevice(tcp, 'tok-2', res.body.token)
      await device.publishAsync('devices/tok-2/telemetry', telemetry({ rotated: 1 }), { qos: 1 })
      await device.endAsync()
      await stored('tok-2', 'rotated')
    })
  })

  describe('topic ACL', () => {
    it("does not store a device's publish to another device's telemetry, as that device's or at all", async () => {
      const a = await connectDevice(tcp, 'acl-a1', await fl.registerDevice('acl-a1'))
      await fl.registerDevice('acl-b1')
      const violations = await metric('faultline_mqtt_acl_violations_total', { action: 'publish' })

      // Acknowledged (MQTT 3.1.1 has no negative PUBACK), but goes nowhere.
      await a.publishAsync('devices/acl-b1/telemetry', telemetry({ forged: 1 }), { qos: 1 })
      await a.publishAsync('devices/acl-a1/telemetry', telemetry({ own: 1 }), { qos: 1 })
      await stored('acl-a1', 'own')
      expect(await points('acl-b1')).toEqual([])
      expect(await deadLetters('acl-b1')).toEqual([])
      expect((await points('acl-a1')).map((p) => p.metric)).toEqual(['own'])
      expect(await metric('faultline_mqtt_acl_violations_total', { action: 'publish' })).toBe(violations + 1)
      expect(a.connected).toBe(true)
      await a.endAsync()
    })

    it("never delivers a device's publish to another device's commands topic, retained or not", async () => {
      const a = await connectDevice(tcp, 'acl-a2', await fl.registerDevice('acl-a2'))
      const tokenB = await fl.registerDevice('acl-b2')
      const b = await connectDevice(tcp, 'acl-b2', tokenB)
      expect(await granted(b, 'devices/acl-b2/commands/#')).toEqual([1])
      const got = inbox(b)

      await a.publishAsync('devices/acl-b2/commands/unlock', 'forged', { qos: 1 })
      await a.publishAsync('devices/acl-b2/commands/reboot', 'forged-retained', { qos: 1, retain: true })
      // B's own publish, made after A's were acknowledged and routed, arrives; A's never do.
      await b.publishAsync('devices/acl-b2/commands/probe', 'probe', { qos: 1 })
      await got.waitFor('devices/acl-b2/commands/probe')
      expect(got.messages.map((m) => m.topic)).toEqual(['devices/acl-b2/commands/probe'])

      // Nor is the forged retained one kept for a later subscriber.
      const late = await connectDevice(tcp, 'acl-b2', tokenB)
      const lateGot = inbox(late)
      await late.subscribeAsync('devices/acl-b2/commands/#', { qos: 1 })
      await late.publishAsync('devices/acl-b2/commands/probe2', 'probe', { qos: 1 })
      await lateGot.waitFor('devices/acl-b2/commands/probe2')
      expect(lateGot.messages.map((m) => m.topic)).toEqual(['devices/acl-b2/commands/probe2'])
      await Promise.all([a.endAsync(), b.endAsync(), late.endAsync()])
    })

    it("does not publish a device's last will to another device's commands topic", async () => {
      const b = await connectDevice(tcp, 'acl-b3', await fl.registerDevice('acl-b3'))
      await b.subscribeAsync('devices/acl-b3/commands/#', { qos: 1 })
      const got = inbox(b)
      const a = await connectDevice(tcp, 'acl-a3', await fl.registerDevice('acl-a3'), {
        will: { topic: 'devices/acl-b3/commands/unlock', payload: Buffer.from('forged-will'), qos: 1, retain: false },
      })
      const violations = await metric('faultline_mqtt_acl_violations_total', { action: 'publish' })
      a.stream.destroy() // an ungraceful disconnect: the broker publishes the will
      // The will's refusal is counted: once it is, the broker has routed (or not) the will.
      await eventually(async () => ((await metric('faultline_mqtt_acl_violations_total', { action: 'publish' })) > violations ? true : undefined))
      await b.publishAsync('devices/acl-b3/commands/probe', 'probe', { qos: 1 })
      await got.waitFor('devices/acl-b3/commands/probe')
      expect(got.messages.map((m) => m.payload)).toEqual(['probe'])
      await b.endAsync()
    })

    it('refuses subscriptions outside the own commands with SUBACK 0x80 and grants the own commands', async () => {
      const a = await connectDevice(tcp, 'acl-s1', await fl.registerDevice('acl-s1'))
      const violations = await metric('faultline_mqtt_acl_violations_total', { action: 'subscribe' })
      // One SUBSCRIBE, one return code per topic, in order.
      expect(await granted(a, ['devices/acl-other/commands/#', '#', 'devices/+/telemetry', 'devices/acl-s1/commands/#'])).toEqual([128, 128, 128, 1])
      expect(await metric('faultline_mqtt_acl_violations_total', { action: 'subscribe' })).toBe(violations + 3)
      // Three violations are under the limit of five: still connected, still publishing.
      await a.publishAsync('devices/acl-s1/telemetry', telemetry({ alive: 1 }), { qos: 1 })
      expect(a.connected).toBe(true)
      await a.endAsync()
    })

    it('disconnects a client at its fifth ACL violation, and not before', async () => {
      const a = await connectDevice(tcp, 'acl-d1', await fl.registerDevice('acl-d1'))
      const disconnects = await metric('faultline_mqtt_acl_disconnects_total')
      const published = await metric('faultline_mqtt_acl_violations_total', { action: 'publish' })
      const subscribed = await metric('faultline_mqtt_acl_violations_total', { action: 'subscribe' })
      const closed = closeOf(a)
      let isClosed = false
      void closed.then(() => (isClosed = true))

      // Four violations, publishes and subscriptions mixed: the count is per client, whatever the action.
      await a.publishAsync('devices/acl-x/telemetry', telemetry({ v: 1 }), { qos: 1 })
      expect(await granted(a, 'devices/acl-x/commands/#')).toEqual([128])
      await a.publishAsync('elsewhere/topic', 'x', { qos: 1 })
      expect(await granted(a, '$SYS/#')).toEqual([128])
      await a.publishAsync('devices/acl-d1/telemetry', telemetry({ fourth: 1 }), { qos: 1 })
      expect(isClosed).toBe(false)
      expect(a.connected).toBe(true)
      expect(await metric('faultline_mqtt_acl_disconnects_total')).toBe(disconnects)

      a.publish('devices/acl-x/telemetry', telemetry({ v: 5 }), { qos: 0 })
      await closed
      expect(await metric('faultline_mqtt_acl_disconnects_total')).toBe(disconnects + 1)
      expect(await metric('faultline_mqtt_acl_violations_total', { action: 'publish' })).toBe(published + 3)
      expect(await metric('faultline_mqtt_acl_violations_total', { action: 'subscribe' })).toBe(subscribed + 2)
      await stored('acl-d1', 'fourth')
      a.end(true)
    })

    it('takes a retained publish to the own telemetry as a plain one: stored, counted, not retained', async () => {
      const token = await fl.registerDevice('ret-1')
      const a = await connectDevice(tcp, 'ret-1', token)
      const refused = await metric('faultline_mqtt_retain_refused_total')
      await a.publishAsync('devices/ret-1/telemetry', telemetry({ kept: 1 }), { qos: 1, retain: true })
      await a.publishAsync('devices/ret-1/commands/self', 'retained-command', { qos: 1, retain: true })
      await stored('ret-1', 'kept')
      expect(await metric('faultline_mqtt_retain_refused_total')).toBe(refused + 2)

      // A later subscriber to the own commands gets no retained message, only what is published after it.
      const later = await connectDevice(tcp, 'ret-1', token)
      const got = inbox(later)
      await later.subscribeAsync('devices/ret-1/commands/#', { qos: 1 })
      await a.publishAsync('devices/ret-1/commands/probe', 'probe', { qos: 1 })
      await got.waitFor('devices/ret-1/commands/probe')
      expect(got.messages).toEqual([{ topic: 'devices/ret-1/commands/probe', payload: 'probe', retain: false }])
      await Promise.all([a.endAsync(), later.endAsync()])
    })
  })
})
