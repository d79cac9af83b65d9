// The private parts of aedes Faultline relies on (src/broker/aedes-internals.ts), checked against the installed
// aedes over real TCP: if an upgrade changes one of them, this fails by name instead of a protection quietly
// going away (the packet size cap, client ids scoped per device, ending sessions of a rotated token).
import net, { type AddressInfo } from 'node:net'
import { Aedes, type Client } from 'aedes'
import mqttPacket from 'mqtt-packet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectedClients, parserOf, scopeClientId } from '../src/broker/aedes-internals.js'
import { bareConnect, connectPacket } from './support/bare-mqtt.js'
import { connectDevice, tcpUrl } from './support/mqtt.js'

describe('aedes internals', () => {
  let aedes: Aedes
  let server: net.Server
  let url: string
  let port: number
  const handled: Client[] = []
  beforeAll(async () => {
    aedes = await Aedes.createBroker({
      authenticate(client, username, _password, done) {
        scopeClientId(client, username!)
        done(null, true)
      },
    })
    server = net.createServer((socket) => handled.push(aedes.handle(socket)))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
    url = tcpUrl(port)
  })
  afterAll(async () => {
    await new Promise<void>((resolve) => aedes.close(() => resolve()))
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('lists the connected clients, under the client ids scoped in authenticate', async () => {
    const clients = connectedClients(aedes)
    const a = await connectDevice(url, 'dev-a', 'x', { clientId: 'shared' })
    const b = await connectDevice(url, 'dev-b', 'x', { clientId: 'shared' })
    try {
      expect([...clients()].map((c) => c.id).sort()).toEqual(['dev-a/shared', 'dev-b/shared'])
      // aedes keys its takeover on the scoped id: the same id from two usernames is two sessions...
      expect([a.connected, b.connected]).toEqual([true, true])
      // ...and the same username again takes over its own.
      const aClosed = new Promise<void>((resolve) => a.once('close', () => resolve()))
      const again = await connectDevice(url, 'dev-a', 'x', { clientId: 'shared' })
      await aClosed
      expect(b.connected).toBe(true)
      await again.endAsync()
    } finally {
      a.end(true)
      b.end(true)
    }
  })

  it("gives each client's parser, which reads a packet's announced length from its fixed header", async () => {
    const raw = await bareConnect(port)
    try {
      raw.send(connectPacket('dev-c', 'x'))
      await raw.next('connack')
      const client = handled.at(-1)!
      const parser = parserOf(client)
      // A PUBLISH header announcing 10 MB, and none of its body.
      const header = mqttPacket
        .generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(10 * 1024 * 1024), qos: 0, retain: false, dup: false })
        .subarray(0, 5)
      const length = parser.packet.length
      raw.write(header)
      await expect.poll(() => parser.packet.length, { timeout: 5_000 }).not.toBe(length)
      expect(parser.packet.length).toBeGreaterThan(10 * 1024 * 1024)
    } finally {
      raw.destroy()
    }
  })

  it('says which internal changed when one is missing', () => {
    expect(() => connectedClients({} as Aedes)).toThrow(/aedes internals changed: Aedes#clients/)
    expect(() => parserOf({} as Client)).toThrow(/aedes internals changed: Client#_parser/)
    expect(() => scopeClientId({} as Client, 'd')).toThrow(/aedes internals changed: Client#id/)
  })
})
