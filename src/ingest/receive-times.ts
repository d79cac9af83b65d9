// The receive time is a message's time when the device sent none, so it is part of the stored row's key:
// - two messages from one device in the same millisecond must not share it (the second would be taken for a
//   duplicate and skipped), so each device's receive times strictly increase;
// - a QoS 1 message resent after a lost PUBACK (DUP set, same packet id) must land on the same rows as the
//   first delivery, so it gets the first delivery's time back. The write-ahead log keeps each QoS 1 entry's
//   receipt, so a restart rebuilds what the resend needs (README, Delivery guarantees).
import { RecentMap } from './recent-map.js'

const LIMIT = 100_000

/** What a QoS 1 message's redelivery needs to land on the rows of its first delivery. */
export interface PacketReceipt {
  deviceId: string
  messageId: number
  receivedAt: number
}

/** The packet fields that tell a redelivery from a new message. */
export interface DeliveryFlags {
  qos: number
  dup?: boolean
  messageId?: number
}

const packetKey = (deviceId: string, messageId: number) => `${deviceId}\u0000${messageId}`

export class ReceiveTimes {
  /** packets and devices seen recently: at least the last LIMIT of each are remembered */
  private readonly byPacket = new RecentMap<string, number>(LIMIT)
  private readonly latest = new RecentMap<string, number>(LIMIT)

  /** Starts from the receipts an earlier run logged, oldest first. */
  constructor(logged: Iterable<PacketReceipt> = []) {
    for (const r of logged) {
      this.byPacket.set(packetKey(r.deviceId, r.messageId), r.receivedAt)
      this.latest.set(r.deviceId, Math.max(r.receivedAt, this.latest.get(r.deviceId) ?? 0))
    }
  }

  /** The message's receive time, and for QoS 1 the receipt to log with it. */
  stamp(deviceId: string, packet: DeliveryFlags, now: number): { receivedAt: number; receipt?: PacketReceipt } {
    const messageId = packet.qos > 0 ? packet.messageId : undefined
    if (messageId === undefined) return { receivedAt: this.next(deviceId, now) }
    const key = packetKey(deviceId, messageId)
    const receivedAt = (packet.dup ? this.byPacket.get(key) : undefined) ?? this.next(deviceId, now)
    this.byPacket.set(key, receivedAt)
    return { receivedAt, receipt: { deviceId, messageId, receivedAt } }
  }

  private next(deviceId: string, now: number): number {
    const time = Math.max(now, (this.latest.get(deviceId) ?? 0) + 1)
    this.latest.set(deviceId, time)
    return time
  }
}
