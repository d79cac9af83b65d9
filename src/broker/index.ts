// The embedded MQTT broker: aedes on TCP (or TLS) and on WebSocket at /mqtt of the HTTP server.
//
// Devices publish telemetry, nobody subscribes to it: aedes only routes commands to their own device. Its
// in-memory persistence is kept from growing by what it is never given: no retained messages, no persistent
// sessions (every session is clean), subscriptions only to the device's own commands.
import { readFile } from 'node:fs/promises'
import net, { type AddressInfo } from 'node:net'
import tls from 'node:tls'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { Aedes, type AuthenticateError } from 'aedes'
import type { Logger } from 'pino'
import type { Receive } from '../ingest/index.js'
import type { DeviceRegistry } from '../devices/index.js'
import type { Metrics } from '../metrics.js'
import { DeviceAccess, remoteAddress, type Admission } from './access.js'
import { connectedClients } from './aedes-internals.js'
import type { MqttIngress } from './ingress.js'
import { capPacketSize } from './packet-cap.js'

export type { WebSocketEndpoint } from './ingress.js'

interface BrokerOptions {
  host: string
  port: number
  tls?: { certFile: string; keyFile: string }
  /** a payload above maxPayloadBytes is dead-lettered; a packet above 4× that closes the connection */
  maxPayloadBytes: number
  aclViolationsMax: number
}

/** Each refusal's CONNACK (MQTT 3.1.1, 3.2.2.3). */
const connacks: Record<Exclude<Admission, 'ok'>, { returnCode: number; message: string }> = {
  identifier_rejected: { returnCode: 2, message: 'identifier rejected' },
  server_unavailable: { returnCode: 3, message: 'server unavailable' },
  not_authorized: { returnCode: 5, message: 'not authorized' },
}

function refusal(admission: Exclude<Admission, 'ok'>): AuthenticateError {
  const { message, returnCode } = connacks[admission]
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError
}

export async function startBroker(
  options: BrokerOptions,
  deps: { registry: DeviceRegistry; receive: Receive; log: Logger; metrics: Metrics },
): Promise<MqttIngress> {
  const { log, metrics } = deps
  const access = new DeviceAccess(deps.registry, options.aclViolationsMax, log, metrics)
  const maxPacketBytes = options.maxPayloadBytes * 4

  const aedes = await Aedes.createBroker({
    // aedes applies its limit to MQTT 3.1 only, uncounted and unlogged: access.ts applies MAX_CLIENT_ID_LENGTH
    // to every level, counted and logged like any refused CONNECT.
    maxClientsIdLength: Number.MAX_SAFE_INTEGER,
    // A device has no business queueing QoS 2 state or many packets before its CONNACK.
    maxInflightInbound: 100,
    queueLimit: 42,
    preConnect(_client, packet, done) {
      // No persistent sessions: their offline queues are unbounded in aedes' memory persistence.
      packet.clean = true
      done(null, true)
    },
    authenticate(client, username, password, done) {
      access.authenticate(client, username, password).then(
        (admission) => (admission === 'ok' ? done(null, true) : done(refusal(admission), false)),
        (err: Error) => {
          log.error({ err }, 'MQTT authentication failed')
          done(refusal('server_unavailable'), false)
        },
      )
    },
    authorizePublish(client, packet, done) {
      // A will published after its client is gone (client null) or before it authenticated has no device.
      if (!client || !access.device(client)) return done(new Error('publish without an authenticated device'))
      if (!access.mayPublish(client, packet)) return done(null)
      if (packet.retain) {
        packet.retain = false
        metrics.retainRefused.inc()
      }
      if (access.isOwnCommand(client, packet.topic)) return done(null)
      const deviceId = access.device(client)!
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
      // aedes authorizes the will it publishes for a lost connection as this very packet: a device switched off is not a fault.
      const will = packet === (client as { will?: unknown }).will ? { will: true as const } : {}
      // The callback is the PUBACK: for QoS 1 it waits until the message is durable, and while it waits
      // aedes reads nothing more from this client, which is the backpressure on a full write queue.
      deps.receive({ deviceId, topic: packet.topic, payload, qos: packet.qos, dup: packet.dup, messageId: packet.messageId, ...will }).then(
        () => done(null),
        (err: Error) => done(err),
      )
    },
    authorizeSubscribe(client, subscription, done) {
      done(null, access.maySubscribe(client, subscription) ? subscription : null)
    },
    authorizeForward(client, packet) {
      return access.mayReceive(client, packet) ? packet : null
    },
  })

  const clients = connectedClients(aedes)
  // A rotated token ends the sessions opened with the old one: those connected now, and one that authenticated
  // just before the rotation and registers just after it.
  const rotations = deps.registry.tokenRotated$.subscribe(() => {
    for (const client of clients()) access.endIfRotated(client)
  })
  aedes.on('client', (client) => access.endIfRotated(client))
  // aedes' own count, read as it changes: registered (authenticated) clients, a takeover counted once.
  const countClients = () => metrics.mqttClients.set(aedes.connectedClients)
  aedes.on('client', countClients)
  aedes.on('clientDisconnect', countClients)
  aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'MQTT client error'))
  aedes.on('connectionError', (client, err) => log.debug({ remote: remoteAddress(client), err: err.message }, 'MQTT connection error'))

  const handle = (stream: Duplex, req?: IncomingMessage) => {
    capPacketSize(aedes.handle(stream, req), maxPacketBytes)
  }
  const server = options.tls
    ? tls.createServer({ cert: await readFile(options.tls.certFile), key: await readFile(options.tls.keyFile) }, (s) => handle(s))
    : net.createServer((s) => handle(s))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  server.on('error', (err) => log.error({ err }, 'MQTT listener error'))

  return {
    port: (server.address() as AddressInfo).port,
    ready: () => (server.listening ? 'ok' : 'not listening'),
    webSocket: { maxPayload: maxPacketBytes, serve: handle },
    async close() {
      rotations.unsubscribe()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      await closed
    },
  }
}
