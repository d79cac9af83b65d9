// LISTEN on a server: a dedicated connection (a pooled one would be handed to other queries, and its LISTEN lost
// or their notifications mixed in), re-established with backoff whenever it is lost.
import pg from 'pg'
import type { ServerTimeouts } from './index.js'

/** 100 ms, doubling to 5 s. */
const backoffMs = (attempt: number) => Math.min(100 * 2 ** (attempt - 1), 5_000)

export async function listenOn(
  url: string,
  channel: string,
  onNotify: (payload?: string) => void,
  onError: (err: Error) => void,
  timeouts: Pick<ServerTimeouts, 'connectMs'>,
): Promise<() => Promise<void>> {
  let current: pg.Client | undefined
  let stopped = false
  let attempt = 0
  let retry: NodeJS.Timeout | undefined
  const again = () => {
    if (!stopped) retry = setTimeout(() => void connect(), backoffMs(++attempt))
  }
  const connect = async () => {
    const client = new pg.Client({
      connectionString: url,
      application_name: 'faultline-listen',
      connectionTimeoutMillis: timeouts.connectMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    })
    // A lost connection ends the client: 'end' reconnects. Without an 'error' listener it would be an uncaught exception.
    client.on('error', onError)
    client.on('notification', (n) => n.channel === channel && onNotify(n.payload))
    client.on('end', () => {
      if (current !== client) return
      current = undefined
      again()
    })
    try {
      await client.connect()
      await client.query(`LISTEN ${client.escapeIdentifier(channel)}`)
    } catch (err) {
      onError(err as Error)
      client.end().catch(() => {})
      return again()
    }
    if (stopped) return void (await client.end())
    current = client
    attempt = 0
    // What was notified while no connection listened is read now.
    onNotify()
  }
  await connect()
  return async () => {
    stopped = true
    clearTimeout(retry)
    const client = current
    current = undefined
    await client?.end()
  }
}
