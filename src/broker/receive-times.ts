// A QoS 1 message resent after a lost PUBACK (DUP set, same packet id) must land on the same rows as the first
// delivery. When the device sent no timestamp, its time is the receive time: remember it per device and packet id.
const LIMIT = 100_000

export class ReceiveTimes {
  private readonly seen = new Map<string, number>()

  stamp(deviceId: string, packet: { qos: number; dup?: boolean; messageId?: number }, now: number): number {
    if (packet.qos === 0 || packet.messageId === undefined) return now
    const key = `${deviceId}\u0000${packet.messageId}`
    const first = packet.dup ? this.seen.get(key) : undefined
    if (first !== undefined) return first
    this.seen.delete(key) // re-inserted at the end: the map is ordered by last use and evicts the oldest
    this.seen.set(key, now)
    if (this.seen.size > LIMIT) this.seen.delete(this.seen.keys().next().value!)
    return now
  }
}
