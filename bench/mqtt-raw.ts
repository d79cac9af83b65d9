// MQTT 3.1.1 by hand over raw TCP sockets, for the benchmark's load generators: packets are built with a few
// buffer writes, not a client library, so the generator stays cheap (measured: mqtt.js publishers bind
// before aedes does). Only small packets come back from the broker (CONNACK, PUBACK, PINGRESP).
import net from 'node:net'
import mqttPacket from 'mqtt-packet'

export const PUBACK = 4
export const PINGRESP = 13

/** A PUBLISH packet: fixed header, remaining length, topic, packet id (QoS 1), payload. */
export function publishPacket(topic: Buffer, payload: string, qos: 0 | 1, messageId: number): Buffer {
  const payloadLen = Buffer.byteLength(payload)
  const remaining = 2 + topic.length + (qos ? 2 : 0) + payloadLen
  const lenBytes = remaining < 128 ? 1 : remaining < 16_384 ? 2 : 3
  const buf = Buffer.allocUnsafe(1 + lenBytes + remaining)
  let o = 0
  buf[o++] = 0x30 | (qos << 1)
  let r = remaining
  do {
    let byte = r % 128
    r = Math.floor(r / 128)
    if (r > 0) byte |= 0x80
    buf[o++] = byte
  } while (r > 0)
  buf.writeUInt16BE(topic.length, o)
  o += 2
  topic.copy(buf, o)
  o += topic.length
  if (qos) {
    buf.writeUInt16BE(messageId, o)
    o += 2
  }
  buf.write(payload, o)
  return buf
}

/** Splits the broker's byte stream into packets: [type nibble, body]. */
export function packetReader(onPacket: (type: number, body: Buffer) => void) {
  let pending: Buffer = Buffer.alloc(0)
  return (chunk: Buffer) => {
    const buf = pending.length ? Buffer.concat([pending, chunk]) : chunk
    let o = 0
    for (;;) {
      if (buf.length - o < 2) break
      let len = 0
      let mult = 1
      let i = o + 1
      let complete = false
      for (; i < buf.length && i < o + 5; i++) {
        len += (buf[i]! & 0x7f) * mult
        mult *= 128
        if ((buf[i]! & 0x80) === 0) {
          complete = true
          i++
          break
        }
      }
      if (!complete || buf.length - i < len) break
      onPacket(buf[o]! >> 4, buf.subarray(i, i + len))
      o = i + len
    }
    pending = o < buf.length ? Buffer.from(buf.subarray(o)) : Buffer.alloc(0)
  }
}

export interface RawConnection {
  id: string
  socket: net.Socket
  /** called for every packet after CONNACK (PUBACK: body holds the packet id) */
  onPacket?: (type: number, body: Buffer) => void
  /** DISCONNECT and wait for the close (destroyed after 2 s) */
  close(): Promise<void>
}

/** Connects as a device (username = client id = device id, password = its token) and waits for a successful CONNACK; from `localAddress` if given (127.0.0.x). */
export async function connectRaw(port: number, id: string, token: string, onError?: (message: string) => void, localAddress?: string): Promise<RawConnection> {
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true, localAddress })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  const conn: RawConnection = {
    id,
    socket,
    close: () =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve()
        socket.once('close', () => resolve())
        socket.end(mqttPacket.generate({ cmd: 'disconnect' }))
        setTimeout(() => socket.destroy(), 2_000).unref()
      }),
  }
  const connack = new Promise<void>((resolve, reject) => {
    socket.on(
      'data',
      packetReader((type, body) => {
        if (type === 2) {
          if (body[1] === 0) resolve()
          else reject(new Error(`${id}: CONNACK return code ${body[1]}`))
        } else conn.onPacket?.(type, body)
      }),
    )
    socket.once('close', () => reject(new Error(`${id}: connection closed before CONNACK`)))
  })
  socket.on('error', (err) => onError?.(`${id}: ${err.message}`))
  socket.write(
    mqttPacket.generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      clientId: id,
      keepalive: 600,
      username: id,
      password: Buffer.from(token),
    }),
  )
  await connack
  return conn
}
