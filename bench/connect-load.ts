// The connections case's generator (bench/connections.ts forks one or more): holds many idle device connections,
// each from a loopback source address of its own choosing (127.0.0.x: one address has ~28,000 ephemeral ports),
// and publishes one telemetry message per connection every `everyMs`, spread evenly, as a fleet reporting in does.
//
// Protocol with the parent (IPC):  parent → {cmd:'connect', config}  ← {type:'connected', startedAt, doneAt, failed, firstError}
//                                  parent → {cmd:'close'}            ← {type:'closed'}
import { connectRaw, publishPacket, type RawConnection } from './mqtt-raw.js'
import { payloadFor } from './payload.js'

export interface ConnectConfig {
  port: number
  devices: { id: string; token: string; localAddress: string }[]
  /** CONNECTs in flight at once */
  concurrency: number
  /** each connection publishes once this often */
  everyMs: number
}

export type ConnectReport = { type: 'connected'; startedAt: number; doneAt: number; failed: number; firstError: string | null } | { type: 'closed' }

const send = (m: ConnectReport) => process.send!(m)
let conns: RawConnection[] = []
let publisher: NodeJS.Timeout | undefined

process.on('message', async (msg: { cmd: 'connect'; config: ConnectConfig } | { cmd: 'close' }) => {
  if (msg.cmd === 'connect') {
    const c = msg.config
    let next = 0
    let failed = 0
    let firstError: string | null = null
    const startedAt = Date.now()
    await Promise.all(
      Array.from({ length: c.concurrency }, async () => {
        while (next < c.devices.length) {
          const d = c.devices[next++]!
          try {
            conns.push(await connectRaw(c.port, d.id, d.token, undefined, d.localAddress))
          } catch (err) {
            failed++
            firstError ??= (err as Error).message
          }
        }
      }),
    )
    send({ type: 'connected', startedAt, doneAt: Date.now(), failed, firstError })
    // Every 100 ms, the tenth of the connections due: each publishes once per `everyMs`.
    const slices = Math.max(1, Math.round(c.everyMs / 100))
    let slice = 0
    let seq = 0
    publisher = setInterval(() => {
      const now = Date.now()
      for (let i = slice; i < conns.length; i += slices) {
        const conn = conns[i]!
        if (!conn.socket.destroyed) conn.socket.write(publishPacket(Buffer.from(`devices/${conn.id}/telemetry`), payloadFor(now, seq), 0, 0))
      }
      seq++
      slice = (slice + 1) % slices
    }, 100)
  } else if (msg.cmd === 'close') {
    clearInterval(publisher)
    // Destroyed, not DISCONNECTed one by one: tens of thousands of graceful closes would outlast the case.
    for (const conn of conns) conn.socket.destroy()
    conns = []
    send({ type: 'closed' })
    process.disconnect()
  }
})
