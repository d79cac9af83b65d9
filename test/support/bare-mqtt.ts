// A bare TCP MQTT connection driven with mqtt-packet, for what mqtt.js will not send: a PUBLISH pipelined right
// behind a refused CONNECT, a fixed header announcing a huge packet, arbitrary bytes. Unlike mqtt-wire.ts it
// does not CONNECT by itself and treats the broker closing the connection as an outcome to assert on.
import net from 'node:net'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { closeWhenTestEnds } from './cleanup.js'
import { OUTCOME_WAIT_MS } from './waits.js'

export interface BareConnection {
  /** every packet the broker sent, in order */
  readonly received: Packet[]
  /** generates the packets and sends them in one write */
  send(...packets: Packet[]): void
  /** raw bytes, sent as they are */
  write(bytes: Buffer): void
  /** the first received packet of this type (already received or yet to come); rejects if the connection closes first */
  next(cmd: Packet['cmd'], timeoutMs?: number): Promise<Packet>
  /** resolves when the connection has closed */
  readonly closed: Promise<void>
  isClosed(): boolean
  destroy(): void
}

export async function bareConnect(port: number, host = '127.0.0.1'): Promise<BareConnection> {
  const socket = net.connect(port, host)
  closeWhenTestEnds(() => socket.destroy())
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  socket.on('error', () => {}) // a reset by the broker is an outcome the tests assert on
  const received: Packet[] = []
  let waiters: (() => void)[] = []
  const wake = () => {
    const w = waiters
    waiters = []
    for (const f of w) f()
  }
  const parser = mqttPacket.parser({ protocolVersion: 4 })
  parser.on('packet', (p: Packet) => {
    received.push(p)
    wake()
  })
  socket.on('data', (d) => parser.parse(d))
  let isClosed = false
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      isClosed = true
      wake()
      resolve()
    }),
  )
  return {
    received,
    send: (...packets) => socket.write(Buffer.concat(packets.map((p) => mqttPacket.generate(p)))),
    write: (bytes) => socket.write(bytes),
    next(cmd, timeoutMs = OUTCOME_WAIT_MS) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${cmd} within ${timeoutMs} ms`)), timeoutMs)
        const check = () => {
          const found = received.find((p) => p.cmd === cmd)
          if (found || isClosed) clearTimeout(timer)
          if (found) return resolve(found)
          if (isClosed) return reject(new Error(`connection closed before a ${cmd}`))
          waiters.push(check)
        }
        check()
      })
    },
    closed,
    isClosed: () => isClosed,
    destroy: () => socket.destroy(),
  }
}

export const connectPacket = (username?: string, password?: string, clientId = `bare-${Math.random().toString(36).slice(2, 10)}`): Packet => ({
  cmd: 'connect',
  protocolId: 'MQTT',
  protocolVersion: 4,
  clean: true,
  clientId,
  keepalive: 30,
  ...(username === undefined ? {} : { username }),
  ...(password === undefined ? {} : { password: Buffer.from(password) }),
})
