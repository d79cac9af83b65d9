// aedes' MQTT parser buffers a packet until it is complete, whatever length its header claims. A client that
// announces a 256 MB packet would make the broker hold 256 MB: cut such a connection as soon as the header is read.
import type { Client } from 'aedes'
import { parserOf } from './aedes-internals.js'

export function capPacketSize(client: Client, maxBytes: number): void {
  const parser = parserOf(client)
  const parse = parser.parse.bind(parser)
  parser.parse = (buf: Buffer) => {
    const buffered = parse(buf)
    if (parser.packet.length > maxBytes || buffered > maxBytes + 5) {
      client.conn.destroy(new Error(`packet larger than ${maxBytes} bytes`))
    }
    return buffered
  }
}
