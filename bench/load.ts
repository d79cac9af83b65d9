// The benchmark's load generator, forked by bench/run.ts so it does not share Faultline's (or the runner's) event
// loop. MQTT 3.1.1 by hand over raw TCP sockets (bench/mqtt-raw.ts), so the generator stays cheap.
//
// Protocol with the parent (IPC):  parent → {cmd:'start', config}  ← {type:'connected'}
//                                  parent → {cmd:'go'}             ← {type:'sent', ...timings}
//                                  parent → {cmd:'stop'}           (offered rate only: ends the run, then 'sent')
//                                  parent → {cmd:'close'}          ← {type:'closed'}
//
// Two ways to load: a backlog (every connection writes `perConnection` messages as fast as the broker takes them)
// or an offered rate (QoS 0 at `ratePerS` in all, on a 10 ms schedule, until 'stop'), which is what a fleet does.
import type net from 'node:net'
import { connectRaw, publishPacket, PUBACK, type RawConnection } from './mqtt-raw.js'
import { payloadFor } from './payload.js'

export interface LoadConfig {
  port: number
  devices: { id: string; token: string }[]
  qos: 0 | 1
  /** messages each connection publishes (a backlog), or at most publishes (an offered rate) */
  perConnection: number
  /** QoS 0 only: offer this many messages a second across all connections instead of a backlog, until 'stop' */
  ratePerS?: number
  /** QoS 1: unacknowledged publishes allowed per connection */
  window: number
  /** QoS 0: publishes per socket write */
  batch: number
}

export type LoadReport =
  | { type: 'connected' }
  | { type: 'sent'; firstPublishAt: number; lastWrittenAt: number; allAckedAt: number | null; messages: number; payloadBytes: number; behindAtStop?: number }
  | { type: 'closed' }
  | { type: 'error'; message: string }

const send = (m: LoadReport) => process.send!(m)

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

/**
 * Offered rate: every 10 ms each connection gets the publishes now due on its share of the schedule. A connection
 * whose socket is full (the broker applying backpressure) waits for 'drain' and falls behind: the messages it
 * owes are reported as `behindAtStop`, so an offered rate the broker did not take shows as such.
 */
function pumpOffered(c: LoadConfig, isStopped: () => boolean): Promise<number> {
  const perConnRate = c.ratePerS! / conns.length
  const start = performance.now()
  const blocked = new Set<Conn>()
  return new Promise((resolve) => {
    const tick = () => {
      const elapsedS = (performance.now() - start) / 1000
      const due = Math.min(c.perConnection, Math.floor(elapsedS * perConnRate))
      let behind = 0
      for (const conn of conns) {
        if (blocked.has(conn)) {
          behind += due - conn.sent
          continue
        }
        const n = due - conn.sent
        if (n <= 0) continue
        const packets: Buffer[] = new Array(n)
        for (let k = 0; k < n; k++) {
          const seq = conn.sent + k
          packets[k] = publishPacket(conn.topic, payloadFor(conn.tsBase + seq, seq), 0, 0)
        }
        conn.sent += n
        if (!conn.socket.write(packets.length === 1 ? packets[0]! : Buffer.concat(packets))) {
          blocked.add(conn)
          conn.socket.once('drain', () => blocked.delete(conn))
        }
      }
      if (isStopped() || due >= c.perConnection) resolve(behind)
      else setTimeout(tick, 10)
    }
    tick()
  })
}

let conns: Conn[] = []
let stopped = false

process.on('message', async (msg: { cmd: 'start'; config: LoadConfig } | { cmd: 'go' } | { cmd: 'stop' } | { cmd: 'close' }) => {
  try {
    if (msg.cmd === 'start') {
      config = msg.config
      conns = await Promise.all(config.devices.map((d) => connect(config!.port, d.id, d.token)))
      send({ type: 'connected' })
    } else if (msg.cmd === 'go') {
      const c = config!
      // An offered rate may run again on the same connections (bench/stream.ts: a run without, then with a stalled client).
      stopped = false
      for (const conn of conns) conn.sent = conn.acked = 0
      const firstPublishAt = Date.now()
      // Backlog: every ts in the past. Offered rate: ts moves 1 ms a message from a second ago, so it stays behind
      // the clock while a connection offers at most 1,000 messages a second (bench/run.ts checks).
      for (const conn of conns) conn.tsBase = firstPublishAt - (c.ratePerS === undefined ? c.perConnection : 0) - 1_000
      let allAckedAt: number | null = null
      let lastWrittenAt = 0
      let behindAtStop: number | undefined
      if (c.ratePerS !== undefined) {
        behindAtStop = await pumpOffered(c, () => stopped)
        lastWrittenAt = Date.now()
      } else if (c.qos === 0) {
        await Promise.all(conns.map((conn) => pumpQos0(conn, c.perConnection, c.batch)))
        lastWrittenAt = Date.now()
      } else {
        const written = await Promise.all(conns.map((conn) => pumpQos1(conn, c.perConnection, c.window)))
        allAckedAt = Date.now()
        lastWrittenAt = Math.max(...written)
      }
      const sample = payloadFor(firstPublishAt, 12_345)
      const messages = conns.reduce((n, conn) => n + conn.sent, 0)
      send({ type: 'sent', firstPublishAt, lastWrittenAt, allAckedAt, messages, payloadBytes: Buffer.byteLength(sample), behindAtStop })
    } else if (msg.cmd === 'stop') {
      stopped = true
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
