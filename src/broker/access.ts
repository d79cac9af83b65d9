// Who a connection is, and what it may touch: a device publishes only under devices/<its id>/ and subscribes
// only to devices/<its id>/commands/#. A refused publish is acknowledged (MQTT 3.1.1 has no negative PUBACK)
// but goes nowhere; a refused subscription gets SUBACK 0x80; repeated violations close the connection.
import type { Client, PublishPacket, Subscription, AedesPublishPacket } from 'aedes'
import type { Logger } from 'pino'
import type { DeviceRegistry } from '../devices/index.js'
import type { Metrics } from '../metrics.js'

/** Refused publishes are re-addressed here before aedes routes them: no client may subscribe to it. */
const REFUSED_TOPIC = '$faultline/refused'

const commandsOf = (deviceId: string) => `devices/${deviceId}/commands/`

export class DeviceAccess {
  private readonly deviceOf = new WeakMap<Client, string>()
  private readonly violations = new WeakMap<Client, number>()

  constructor(
    /** the connected client with an id, if any: aedes' own registry of clients */
    private readonly connected: (clientId: string) => Client | undefined,
    private readonly registry: DeviceRegistry,
    private readonly maxViolations: number,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  /** The device a connection authenticated as. */
  device(client: Client | null): string | undefined {
    return client ? this.deviceOf.get(client) : undefined
  }

  /**
   * MQTT CONNECT: username is the device id, password its token. A client id in use by another device is
   * refused: aedes would otherwise disconnect that device in favour of this one.
   */
  async authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<'ok' | 'refused' | 'client_id_taken'> {
    let result = username && password ? await this.registry.verify(username, password.toString('utf8')) : 'missing_credentials'
    const holder = this.connected(client.id)
    if (result === 'ok' && holder && holder !== client && this.deviceOf.get(holder) !== username) result = 'client_id_taken'
    if (result === 'ok') {
      this.deviceOf.set(client, username!)
      return 'ok'
    }
    this.metrics.authFailures.inc({ reason: result })
    this.log.warn({ clientId: client.id, username, reason: result, remote: remoteAddress(client) }, 'MQTT connect refused')
    return result === 'client_id_taken' ? result : 'refused'
  }

  /** True when the publish stays within the device's own topics; otherwise it is re-addressed to nowhere. */
  mayPublish(client: Client, packet: PublishPacket): boolean {
    const deviceId = this.deviceOf.get(client)
    if (deviceId && packet.topic.startsWith(`devices/${deviceId}/`)) return true
    this.violation(client, 'publish', packet.topic)
    packet.topic = REFUSED_TOPIC
    packet.retain = false
    return false
  }

  maySubscribe(client: Client, subscription: Subscription): boolean {
    const deviceId = this.deviceOf.get(client)
    const topic = subscription.topic
    if (deviceId && (topic === `devices/${deviceId}/commands/#` || topic.startsWith(commandsOf(deviceId)))) return true
    this.violation(client, 'subscribe', topic)
    return false
  }

  /** A device's own commands topic: routed back to the device's subscriptions, not data to store. */
  isOwnCommand(client: Client, topic: string): boolean {
    const deviceId = this.deviceOf.get(client)
    return deviceId !== undefined && topic.startsWith(commandsOf(deviceId))
  }

  /** The last guard before delivery: a device only ever receives its own commands. */
  mayReceive(client: Client, packet: AedesPublishPacket): boolean {
    const deviceId = this.deviceOf.get(client)
    return deviceId !== undefined && packet.topic.startsWith(commandsOf(deviceId))
  }

  private violation(client: Client, action: 'publish' | 'subscribe', topic: string) {
    const count = (this.violations.get(client) ?? 0) + 1
    this.violations.set(client, count)
    this.metrics.aclViolations.inc({ action })
    const deviceId = this.deviceOf.get(client)
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
