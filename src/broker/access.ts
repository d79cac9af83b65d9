// Who a connection is, and what it may touch: a device publishes only under devices/<its id>/ and subscribes
// only to devices/<its id>/commands/#. A refused publish is acknowledged (MQTT 3.1.1 has no negative PUBACK)
// but goes nowhere; a refused subscription gets SUBACK 0x80; repeated violations close the connection.
import type { Client, PublishPacket, Subscription, AedesPublishPacket } from 'aedes'
import type { Logger } from 'pino'
import type { DeviceRegistry } from '../devices/index.js'
import type { Metrics } from '../metrics.js'
import { scopeClientId } from './aedes-internals.js'
import { LogThrottle, truncated } from '../log-throttle.js'

/** Refused publishes are re-addressed here before aedes routes them: no client may subscribe to it. */
const REFUSED_TOPIC = '$faultline/refused'

/** The longest client id, on every MQTT protocol level (aedes itself checks only MQTT 3.1's). */
const MAX_CLIENT_ID_LENGTH = 64

/** A refused source gets one log line per minute, as a device sending dead letters does. */
const REFUSAL_LOG_INTERVAL_MS = 60_000

const commandsOf = (deviceId: string) => `devices/${deviceId}/commands/`

/** How a CONNECT ends; the broker turns each into its CONNACK. */
export type Admission = 'ok' | 'identifier_rejected' | 'not_authorized' | 'server_unavailable'

/** A session: the device it authenticated as, and the token (by its hash) it did so with. */
interface Session {
  deviceId: string
  tokenHash: string
}

export class DeviceAccess {
  private readonly sessions = new WeakMap<Client, Session>()
  private readonly violations = new WeakMap<Client, number>()
  private readonly refusalLog = new LogThrottle(REFUSAL_LOG_INTERVAL_MS)

  constructor(
    private readonly registry: DeviceRegistry,
    private readonly maxViolations: number,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  /** The device a connection authenticated as. */
  device(client: Client | null): string | undefined {
    return client ? this.sessions.get(client)?.deviceId : undefined
  }

  /**
   * MQTT CONNECT: username is the device id, password its token. The client id is the device's own: it is
   * scoped to the device (aedes-internals.ts), so another device using the same one is another session, never a
   * takeover nor a refusal (issue 8, item 4).
   */
  async authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<Admission> {
    if (client.id.length > MAX_CLIENT_ID_LENGTH) return this.refuse(client, username, 'client_id_too_long', 'identifier_rejected')
    if (!username || !password) return this.refuse(client, username, 'missing_credentials', 'not_authorized')
    let verdict
    try {
      verdict = await this.registry.verify(username, password.toString('utf8'))
    } catch (err) {
      return this.refuse(client, username, 'registry_unavailable', 'server_unavailable', (err as Error).message)
    }
    if (!verdict.ok) return this.refuse(client, username, verdict.reason, 'not_authorized')
    // The token may have been rotated while the database was asked: only the current one opens a session.
    if (!this.registry.isCurrent(username, verdict.tokenHash)) return this.refuse(client, username, 'wrong_token', 'not_authorized')
    this.sessions.set(client, { deviceId: username, tokenHash: verdict.tokenHash })
    scopeClientId(client, username)
    return 'ok'
  }

  /** Ends the client's session if it was opened with a token that has since been rotated (issue 8, item 6). */
  endIfRotated(client: Client): void {
    const session = this.sessions.get(client)
    if (!session || this.registry.isCurrent(session.deviceId, session.tokenHash)) return
    this.metrics.rotatedSessionsEnded.inc()
    this.log.info({ deviceId: session.deviceId }, 'closing a session opened with a token rotated since')
    client.close()
  }

  private refuse(client: Client, username: string | undefined, reason: string, admission: Admission, err?: string): Admission {
    this.metrics.authFailures.inc({ reason })
    const remote = remoteAddress(client) ?? 'unknown'
    const suppressed = this.refusalLog.admit(remote, Date.now())
    if (suppressed !== undefined) {
      this.log.warn({ clientId: truncated(client.id), username: truncated(username), reason, remote, suppressed, err }, 'MQTT connect refused')
    }
    return admission
  }

  /** True when the publish stays within the device's own topics; otherwise it is re-addressed to nowhere. */
  mayPublish(client: Client, packet: PublishPacket): boolean {
    const deviceId = this.device(client)
    if (deviceId && packet.topic.startsWith(`devices/${deviceId}/`)) return true
    this.violation(client, 'publish', packet.topic)
    packet.topic = REFUSED_TOPIC
    packet.retain = false
    return false
  }

  maySubscribe(client: Client, subscription: Subscription): boolean {
    const deviceId = this.device(client)
    const topic = subscription.topic
    if (deviceId && (topic === `devices/${deviceId}/commands/#` || topic.startsWith(commandsOf(deviceId)))) return true
    this.violation(client, 'subscribe', topic)
    return false
  }

  /** A device's own commands topic: routed back to the device's subscriptions, not data to store. */
  isOwnCommand(client: Client, topic: string): boolean {
    const deviceId = this.device(client)
    return deviceId !== undefined && topic.startsWith(commandsOf(deviceId))
  }

  /** The last guard before delivery: a device only ever receives its own commands. */
  mayReceive(client: Client, packet: AedesPublishPacket): boolean {
    const deviceId = this.device(client)
    return deviceId !== undefined && packet.topic.startsWith(commandsOf(deviceId))
  }

  private violation(client: Client, action: 'publish' | 'subscribe', topic: string) {
    const count = (this.violations.get(client) ?? 0) + 1
    this.violations.set(client, count)
    this.metrics.aclViolations.inc({ action })
    const deviceId = this.device(client)
    if (count === 1 || count >= this.maxViolations) {
      this.log.warn({ deviceId, action, topic, count }, 'ACL violation: refused')
    }
    if (count >= this.maxViolations) {
      this.metrics.aclDisconnects.inc()
      this.log.warn({ deviceId, count }, 'disconnecting client after repeated ACL violations')
      client.close()
    }
  }
}

export function remoteAddress(client: Client): string | undefined {
  const conn = client.conn as { remoteAddress?: string }
  return client.req?.socket?.remoteAddress ?? conn.remoteAddress
}
