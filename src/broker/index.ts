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
import { Aedes, type AuthenticateError, type Client } from 'aedes'
import type { Logger } from 'pino'
import type { Receive } from '../ingest/index.js'
import type { DeviceRegistry } from '../devices/index.js'
import type { Metrics } from '../metrics.js'
import { DeviceAccess, remoteAddress } from './access.js'
import { capPacketSize } from './packet-cap.js'
import { ReceiveTimes } from './receive-times.js'

export interface BrokerOptions {
  host: string
  port: number
  tls?: { certFile: string; keyFile: string }
  /** a payload above maxPayloadBytes is dead-lettered; a packet above 4× that closes the connection */
  maxPayloadBytes: number
  aclViolationsMax: number
}

export interface Broker {
  readonly port: number
  /** the MQTT listener is accepting connections */
  readonly listening: boolean
  readonly maxPacketBytes: number
  /** Serves one MQTT connection, such as a WebSocket stream. */
  handle(stream: Duplex, req?: IncomingMessage): void
  /** Stops listening and disconnects every client. */
  close(): Promise<void>
}

/** CONNACK return codes (MQTT 3.1.1, 3.2.2.3) */
const IDENTIFIER_REJECTED = 2
const SERVER_UNAVAILABLE = 3
const NOT_AUTHORIZED = 5

function refusal(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError
}

export async function startBroker(
  options: BrokerOptions,
  deps: { registry: DeviceRegistry; receive: Receive; log: Logger; metrics: Metrics },
): Promise<Broker> {
  const { log, metrics } = deps
  // aedes' registry of connected clients, once the broker exists
  let clients: Record<string, Client> = {}
  const access = new DeviceAccess((id) => clients[id], deps.registry, options.aclViolationsMax, log, metrics)
  const receiveTimes = new ReceiveTimes()
  const maxPacketBytes = options.maxPayloadBytes * 4

  const aedes = await Aedes.createBroker({
    maxClientsIdLength: 64,
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
        (result) => {
          if (result === 'ok') return done(null, true)
          if (result === 'client_id_taken') return done(refusal('client id in use by another device', IDENTIFIER_REJECTED), false)
          done(refusal('not authorized', NOT_AUTHORIZED), false)
        },
        (err: Error) => {
          log.error({ err: err.message }, 'device lookup failed')
          done(refusal('server unavailable', SERVER_UNAVAILABLE), false)
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
      const receivedAt = receiveTimes.stamp(deviceId, packet, Date.now())
      // aedes authorizes the will it publishes for a lost connection as this very packet: a device switched off is not a fault.
      const will = packet === (client as { will?: unknown }).will ? { will: true as const } : {}
      // The callback is the PUBACK: for QoS 1 it waits until the message is durable, and while it waits
      // aedes reads nothing more from this client, which is the backpressure on a full write queue.
      deps.receive({ deviceId, topic: packet.topic, payload, receivedAt, ...will }, packet.qos > 0).then(
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

  clients = (aedes as unknown as { clients: Record<string, Client> }).clients
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
    get listening() {
      return server.listening
    },
    maxPacketBytes,
    handle,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      await closed
    },
  }
}
