// The benchmark's load generator, forked by bench/run.ts so it does not share Faultline's (or the runner's) event
// loop. MQTT 3.1.1 by hand over raw TCP sockets (bench/mqtt-raw.ts), so the generator stays cheap.
//
// Protocol with the parent (IPC):  parent → {cmd:'start', config}  ← {type:'connected'}
//                                  parent → {cmd:'go'}             ← {type:'sent', ...timings}
//                                  parent → {cmd:'close'}          ← {type:'closed'}
import type net from 'node:net'
import { connectRaw, publishPacket, PUBACK, type RawConnection } from './mqtt-raw.js'

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

interface Conn extends RawConnection {
  topic: Buffer
  sent: number
  acked: number
  /** messages' ts start here and go up by 1 ms per message: (device, metric, time) stays unique */
  tsBase: number
  onAck?: () => void
}

async function connect(port: number, id: string, token: string): Promise<Conn> {
  const raw = await connectRaw(port, id, token, (message) => send({ type: 'error', message }))
  const conn: Conn = Object.assign(raw, { topic: Buffer.from(`devices/${id}/telemetry`), sent: 0, acked: 0, tsBase: 0 })
  conn.onPacket = (type) => {
    if (type === PUBACK) {
      conn.acked++
      conn.onAck?.()
    }
  }
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
      await Promise.all(conns.map((conn) => conn.close()))
      send({ type: 'closed' })
      process.disconnect()
    }
  } catch (err) {
    send({ type: 'error', message: (err as Error).message })
  }
})

let config: LoadConfig | undefined
