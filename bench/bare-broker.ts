// The broker ceiling: aedes with nothing behind it, forked by bench/ceilings.ts and loaded by the same generator
// as Faultline. Every PUBLISH is counted in authorizePublish (where Faultline hands it to ingest) and let through
// at once: no auth, no decode, no log, no database. It prints nothing.
//
// Protocol with the parent (IPC):  ← {type:'listening', port}
//                                  parent → {cmd:'expect', n}      ← {type:'received', at} once n more have arrived
import net from 'node:net'
import { Aedes } from 'aedes'

export type BareBrokerReport = { type: 'listening'; port: number } | { type: 'received'; at: number }

const send = (m: BareBrokerReport) => process.send!(m)

const aedes = await Aedes.createBroker({
  authorizePublish(_client, _packet, done) {
    if (++count === expected) send({ type: 'received', at: Date.now() })
    done(null)
  },
})
let count = 0
let expected = -1

const server = net.createServer((s) => aedes.handle(s))
server.listen(0, '127.0.0.1', () => send({ type: 'listening', port: (server.address() as net.AddressInfo).port }))

process.on('message', (msg: { cmd: 'expect'; n: number }) => {
  if (msg.cmd === 'expect') {
    count = 0
    expected = msg.n
  }
})
// The parent going away ends the broker.
process.on('disconnect', () => process.exit(0))
