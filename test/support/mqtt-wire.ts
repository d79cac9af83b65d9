// MQTT 3.1.1 spoken by hand over a plain TCP socket, for tests that need exact packet ids and the DUP flag (test/durability.test.ts).
import net from 'node:net'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { closeWhenTestEnds } from './cleanup.js'
import { OUTCOME_WAIT_MS } from './waits.js'

export interface RawMqtt {
  /** Every packet the broker has sent, in order. */
  readonly received: Packet[]
  send(packet: Packet): void
  /** Resolves with the first received packet (already received or still to come) that matches. */
  waitFor(match: (p: Packet) => boolean, timeoutMs?: number): Promise<Packet>
  /** DISCONNECT and wait for the broker to close; the socket is destroyed if it has not closed within `graceMs`. */
  close(graceMs?: number): Promise<void>
  /** Drops the connection at once: the cleanup of a test that failed, which must not wait on the broker. */
  destroy(): void
}

/** Opens a TCP connection, sends CONNECT with the device's credentials and waits for a successful CONNACK. */
export async function rawConnect(
  port: number,
  deviceId: string,
  token: string,
  clientId = `${deviceId}-raw`,
  connackTimeoutMs = OUTCOME_WAIT_MS,
): Promise<RawMqtt> {
  const socket = net.connect(port, '127.0.0.1')
  closeWhenTestEnds(() => socket.destroy())
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  socket.on('error', () => {}) // a reset ends in 'close', which close() and the waits' timeouts handle
  const received: Packet[] = []
  const waiters: { match: (p: Packet) => boolean; resolve: (p: Packet) => void }[] = []
  const parser = mqttPacket.parser({ protocolVersion: 4 })
  parser.on('packet', (p: Packet) => {
    received.push(p)
    for (const w of [...waiters]) {
      if (w.match(p)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(p)
      }
    }
  })
  socket.on('data', (chunk) => parser.parse(chunk))
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))

  const raw: RawMqtt = {
    received,
    send: (packet) => socket.write(mqttPacket.generate(packet)),
    waitFor(match, timeoutMs = OUTCOME_WAIT_MS) {
      const seen = received.find(match)
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no matching MQTT packet in time')), timeoutMs)
        waiters.push({
          match,
          resolve: (p) => {
            clearTimeout(timer)
            resolve(p)
          },
        })
      })
    },
    async close(graceMs = 10_000) {
      if (!socket.destroyed) socket.end(mqttPacket.generate({ cmd: 'disconnect' }))
      let timer: NodeJS.Timeout | undefined
      await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))])
      clearTimeout(timer)
      socket.destroy()
    },
    destroy: () => socket.destroy(),
  }
  try {
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 60, username: deviceId, password: Buffer.from(token) })
    const connack = (await raw.waitFor((p) => p.cmd === 'connack', connackTimeoutMs)) as mqttPacket.IConnackPacket
    if (connack.returnCode !== 0) throw new Error(`CONNACK refused: ${connack.returnCode}`)
  } catch (err) {
    socket.destroy() // a refused or silent CONNECT leaves no socket behind
    throw err
  }
  return raw
}

export const isPuback = (messageId: number) => (p: Packet) => p.cmd === 'puback' && p.messageId === messageId
