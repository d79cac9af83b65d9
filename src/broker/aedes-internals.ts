// The places Faultline reaches past aedes' public API, kept in one adapter. Each checks the shape it relies on
// and throws when an aedes upgrade has changed it, so the upgrade fails loudly (here and in
// test/aedes-internals.test.ts) instead of quietly losing the protection built on it.
import type { Aedes, Client } from 'aedes'

/** aedes' MQTT parser of one connection: it buffers a packet until it is complete. */
export interface BufferingParser {
  parse(buf: Buffer): number
  packet: { length: number }
}

function changed(what: string): never {
  throw new Error(`aedes internals changed: ${what} (see src/broker/aedes-internals.ts)`)
}

/** Every client aedes has registered as connected (its private registry, keyed by client id). */
export function connectedClients(aedes: Aedes): () => Iterable<Client> {
  const holder = aedes as unknown as { clients?: Record<string, Client> }
  if (typeof holder.clients !== 'object' || holder.clients === null) changed('Aedes#clients is not an object')
  // aedes may replace the object: read it at each call.
  return () => Object.values(holder.clients!)
}

/** The parser a client's bytes go through. */
export function parserOf(client: Client): BufferingParser {
  const parser = (client as unknown as { _parser?: Partial<BufferingParser> })._parser
  if (typeof parser?.parse !== 'function' || typeof parser.packet !== 'object') changed('Client#_parser has no parse() and packet')
  return parser as BufferingParser
}

/**
 * Puts a client id in the namespace of the device that authenticated, during authenticate: aedes keys the
 * session on client.id from then on (takeover of a previous connection, will, subscriptions), so the same
 * client id from two devices is two sessions, and a device can only ever take over its own.
 */
export function scopeClientId(client: Client, deviceId: string): void {
  if (typeof client.id !== 'string') changed('Client#id is not set before authenticate')
  ;(client as { id: string }).id = `${deviceId}/${client.id}`
}
