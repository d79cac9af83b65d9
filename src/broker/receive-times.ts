// The receive time is a message's time when the device sent none, so it is part of the stored row's key:
// - two messages from one device in the same millisecond must not share it (the second would be taken for a
//   duplicate and skipped), so each device's receive times strictly increase;
// - a QoS 1 message resent after a lost PUBACK (DUP set, same packet id) must land on the same rows as the
//   first delivery, so it gets the first delivery's time back.
const LIMIT = 100_000

/** A map that forgets its least recently set key beyond LIMIT entries. */
function remember<K, V>(map: Map<K, V>, key: K, value: V) {
  map.delete(key)
  map.set(key, value)
  if (map.size > LIMIT) map.delete(map.keys().next().value!)
}

export class ReceiveTimes {
  private readonly byPacket = new Map<string, number>()
  private readonly latest = new Map<string, number>()

  stamp(deviceId: string, packet: { qos: number; dup?: boolean; messageId?: number }, now: number): number {
    const key = packet.qos > 0 && packet.messageId !== undefined ? `${deviceId}\u0000${packet.messageId}` : undefined
    const first = key && packet.dup ? this.byPacket.get(key) : undefined
    if (first !== undefined) return first
    const time = Math.max(now, (this.latest.get(deviceId) ?? 0) + 1)
    remember(this.latest, deviceId, time)
    if (key) remember(this.byPacket, key, time)
    return time
  }
}
