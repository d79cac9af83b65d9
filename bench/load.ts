// The benchmark's load generator, forked by bench/run.ts so it does not share Faultline's (or the runner's) event
// loop. MQTT 3.1.1 by hand over raw TCP sockets: packets are built with a few buffer writes, not a client
// library, so the generator stays cheap (ceilings.md: mqtt.js publishers bind before aedes does).
//
// Protocol with the parent (IPC):  parent → {cmd:'start', config}  ← {type:'connected'}
//                                  parent → {cmd:'go'}             ← {type:'sent', ...timings}
//                                  parent → {cmd:'close'}          ← {type:'closed'}
import net from 'node:net'
import mqttPacket from 'mqtt-packet'

export interface LoadConfig {
  port: number
  devices: { id: string; token: string }[]
  qos: 0 | 1
  /** messages each connection publishes */
  perConnection: number
  /** QoS 1: unacknowledged publishes allowed per connection */
  window: number
  /** QoS 0: publishes per socket write */
  batch: number
}

export type LoadReport =
  | { type: 'connected' }
  | { type: 'sent'; firstPublishAt: number; lastWrittenAt: number; allAckedAt: number | null; messages: number; payloadBytes: number }
  | { type: 'closed' }
  | { type: 'error'; message: string }

const send = (m: LoadReport) => process.send!(m)

/** A telemetry payload of ~120 bytes with 3 metrics, unique (device, time) per message. */
export function payloadFor(ts: number, seq: number): string {
  const t = 4 + (seq % 40) / 10
  return `{"ts":${ts},"seq":${seq},"metrics":{"cabinet_temp_c":${t.toFixed(2)},"freezer_temp_c":${(-18 - t / 10).toFixed(2)},"compressor_power_w":${(90 + (seq % 17)).toFixed(1)}}}`
}

/** A PUBLISH packet: fixed header, remaining length, topic, packet id (QoS 1), payload. */
function publishPacket(topic: Buffer, payload: string, qos: 0 | 1, messageId: number): Buffer {
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

/** Splits the broker's byte stream into packets: [type nibble, body]. Only small packets come back (CONNACK, PUBACK). */
function packetReader(onPacket: (type: number, body: Buffer) => void) {
  let pending: Buffer = Buffer.alloc(0)
  return (chunk: Buffer) => {
    let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk
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

interface Conn {
  id: string
  socket: net.Socket
  topic: Buffer
  sent: number
  acked: number
  /** messages' ts start here and go up by 1 ms per message: (device, metric, time) stays unique */
  tsBase: number
  onAck?: () => void
}

async function connect(port: number, id: string, token: string): Promise<Conn> {
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  const conn: Conn = { id, socket, topic: Buffer.from(`devices/${id}/telemetry`), sent: 0, acked: 0, tsBase: 0 }
  const connack = new Promise<void>((resolve, reject) => {
    socket.on(
      'data',
      packetReader((type, body) => {
        if (type === 2) {
          if (body[1] === 0) resolve()
          else reject(new Error(`${id}: CONNACK return code ${body[1]}`))
        } else if (type === 4) {
          conn.acked++
          conn.onAck?.()
        }
      }),
    )
    socket.once('close', () => reject(new Error(`${id}: connection closed before CONNACK`)))
  })
  socket.on('error', (err) => send({ type: 'error', message: `${id}: ${err.message}` }))
  socket.write(
    mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: id, keepalive: 600, username: id, password: Buffer.from(token) }),
  )
  await connack
  return conn
}

const drained = (socket: net.Socket) => new Promise<void>((resolve) => socket.once('drain', resolve))
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

/** QoS 0: batches of publishes per write, waiting for the socket to drain; resolves when the last byte is handed to the kernel. */
async function pumpQos0(conn: Conn, total: number, batch: number): Promise<void> {
  while (conn.sent < total) {
    const n = Math.min(batch, total - conn.sent)
    const packets: Buffer[] = new Array(n)
    for (let k = 0; k < n; k++) {
      const seq = conn.sent + k
      packets[k] = publishPacket(conn.topic, payloadFor(conn.tsBase + seq, seq), 0, 0)
    }
    conn.sent += n
    const flushed = conn.socket.write(Buffer.concat(packets))
    if (!flushed) await drained(conn.socket)
    else await yieldToLoop() // let the other connections have their turn
  }
  await new Promise<void>((resolve) => conn.socket.write(Buffer.alloc(0), () => resolve()))
}

/** QoS 1: keeps `window` publishes unacknowledged; resolves when every PUBACK is in. */
function pumpQos1(conn: Conn, total: number, window: number): Promise<number> {
  return new Promise((resolve) => {
    let lastWrittenAt = 0
    const fill = () => {
      const n = Math.min(window - (conn.sent - conn.acked), total - conn.sent)
      if (n <= 0) return
      const packets: Buffer[] = new Array(n)
      for (let k = 0; k < n; k++) {
        const seq = conn.sent + k
        packets[k] = publishPacket(conn.topic, payloadFor(conn.tsBase + seq, seq), 1, (seq % 65_535) + 1)
      }
      conn.sent += n
      conn.socket.write(packets.length === 1 ? packets[0]! : Buffer.concat(packets))
      if (conn.sent === total) lastWrittenAt = Date.now()
    }
    // Refill in chunks of a quarter window, not one packet per PUBACK.
    const refillAt = Math.max(1, Math.floor(window / 4))
    conn.onAck = () => {
      if (conn.acked === total) return resolve(lastWrittenAt)
      if (conn.sent - conn.acked <= window - refillAt) fill()
    }
    fill()
  })
}

let conns: Conn[] = []

process.on('message', async (msg: { cmd: 'start'; config: LoadConfig } | { cmd: 'go' } | { cmd: 'close' }) => {
  try {
    if (msg.cmd === 'start') {
      config = msg.config
      conns = await Promise.all(config.devices.map((d) => connect(config!.port, d.id, d.token)))
      send({ type: 'connected' })
    } else if (msg.cmd === 'go') {
      const c = config!
      const firstPublishAt = Date.now()
      for (const conn of conns) conn.tsBase = firstPublishAt - c.perConnection - 1_000
      let allAckedAt: number | null = null
      let lastWrittenAt = 0
      if (c.qos === 0) {
        await Promise.all(conns.map((conn) => pumpQos0(conn, c.perConnection, c.batch)))
        lastWrittenAt = Date.now()
      } else {
        const written = await Promise.all(conns.map((conn) => pumpQos1(conn, c.perConnection, c.window)))
        allAckedAt = Date.now()
        lastWrittenAt = Math.max(...written)
      }
      const sample = payloadFor(firstPublishAt, 12_345)
      send({ type: 'sent', firstPublishAt, lastWrittenAt, allAckedAt, messages: c.perConnection * conns.length, payloadBytes: Buffer.byteLength(sample) })
    } else if (msg.cmd === 'close') {
      await Promise.all(
        conns.map(
          (conn) =>
            new Promise<void>((resolve) => {
              conn.socket.once('close', () => resolve())
              conn.socket.end(mqttPacket.generate({ cmd: 'disconnect' }))
              setTimeout(() => conn.socket.destroy(), 2_000).unref()
            }),
        ),
      )
      send({ type: 'closed' })
      process.disconnect()
    }
  } catch (err) {
    send({ type: 'error', message: (err as Error).message })
  }
})

let config: LoadConfig | undefined
