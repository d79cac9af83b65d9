// `faultline tail`'s connection rules against a scripted /ws/faults over real WebSocket: what it asks for when it
// comes back (after the last event, the filters kept), that a gap resumes at once from the first missed id, that
// nothing is handed on twice, that a silent connection is given up, and which refusals end it instead of a retry.
// The real stream's side of the same story is test/tail.test.ts, the CLI against a running Faultline.
import { createHash } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { setTimeout as delay } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer, type WebSocket } from 'ws'
import { follow, StreamRefused } from '../src/cli/tail-follow.js'
import { OUTCOME_WAIT_MS } from './support/waits.js'

/**
 * What the scripted server does with each connection, in order: a refusal, a script on the open socket, or `mute`:
 * the upgrade accepted by hand and nothing answered after it, not even a close (`mutedClosed` says when it is gone).
 */
type Visit = { refuse: number; body: unknown } | ((socket: WebSocket) => void) | 'mute'

interface Scripted {
  url: URL
  /** the query of each request, in order */
  queries: URLSearchParams[]
  /** resolves once the client has closed the muted connection's TCP socket */
  mutedClosed: Promise<void>
  close(): Promise<void>
}

const open: Scripted[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()))
})

async function scripted(visits: Visit[]): Promise<Scripted> {
  const server = http.createServer()
  const wss = new WebSocketServer({ noServer: true })
  const queries: URLSearchParams[] = []
  let mutedGone: () => void
  const muted: Duplex[] = []
  const mutedClosed = new Promise<void>((resolve) => (mutedGone = resolve))
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url!, 'http://x')
    queries.push(url.searchParams)
    const visit = visits.shift()
    if (!visit || req.headers.authorization !== 'Bearer the-token') return void socket.destroy()
    if (typeof visit === 'function') return void wss.handleUpgrade(req, socket, head, visit)
    if (visit === 'mute') {
      const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`)
      socket.on('data', () => {}) // read and ignored: the client's close frame gets no answer
      socket.on('end', () => mutedGone()) // the client's FIN (an upgraded socket is half-open: no 'close' of its own)
      muted.push(socket)
      return
    }
    const body = JSON.stringify(visit.body)
    socket.end(`HTTP/1.1 ${visit.refuse} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const s: Scripted = {
    url: new URL(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws/faults?minPriority=P2&last=5`),
    queries,
    mutedClosed,
    close: async () => {
      for (const client of wss.clients) client.terminate()
      for (const socket of muted) socket.destroy()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
  open.push(s)
  return s
}

const event = (id: number) => JSON.stringify({ id, type: 'ticket.opened', at: new Date().toISOString(), deviceId: 'd', model: 'm' })
const send = (socket: WebSocket, ...frames: (string | object)[]) => frames.forEach((f) => socket.send(typeof f === 'string' ? f : JSON.stringify(f)))

/** Follows `server` until `until` says stop (or a refusal ends it), collecting what it hands on and says. */
async function followUntil(server: Scripted, until: (ids: number[], statuses: string[]) => boolean, silenceMs?: number) {
  const ids: number[] = []
  const statuses: string[] = []
  const stop = new AbortController()
  const timeout = setTimeout(() => stop.abort(), OUTCOME_WAIT_MS)
  const check = () => until(ids, statuses) && stop.abort()
  try {
    await follow(
      server.url,
      'the-token',
      {
        event: (e) => (ids.push(e.id), check()),
        status: (line) => (statuses.push(line), check()),
      },
      stop.signal,
      silenceMs,
    )
  } finally {
    clearTimeout(timeout)
  }
  return { ids, statuses, timedOut: !until(ids, statuses) }
}

describe('faultline tail: following the stream', () => {
  it('resumes after the last event it handed on, keeping the filters and dropping the first start, and never hands one on twice', async () => {
    const server = await scripted([
      (s) => (send(s, event(1), event(2), event(3)), s.close(1001, 'going away')),
      (s) => send(s, event(3), event(4), { type: 'caught_up', at: new Date().toISOString(), lastId: 4 }, event(5)),
    ])
    const run = await followUntil(server, (ids) => ids.includes(5))
    expect(run.ids).toEqual([1, 2, 3, 4, 5])
    expect(server.queries.map((q) => q.toString())).toEqual(['minPriority=P2&last=5', 'minPriority=P2&after=3'])
    expect(run.statuses).toContainEqual(expect.stringMatching(/^connection lost \(closed by the server: 1001 going away\); reconnecting in \d/))
  })

  it('resumes from where the backfill ended when it has printed nothing yet, so the outage is not lost', async () => {
    const server = await scripted([(s) => (send(s, { type: 'caught_up', at: new Date().toISOString(), lastId: 17 }), s.close()), (s) => send(s, event(18))])
    const run = await followUntil(server, (ids) => ids.includes(18))
    expect(server.queries[1]!.get('after')).toBe('17')
    expect(run.ids).toEqual([18])
  })

  it('on a gap and the close that follows it (too slow), reconnects at once from the first missed id, without a backoff', async () => {
    const server = await scripted([
      (s) => (send(s, event(1), event(2), { type: 'gap', at: new Date().toISOString(), firstMissedId: 6 }), s.close(4000, 'too slow: resume with after=5')),
      (s) => send(s, event(6)),
    ])
    const run = await followUntil(server, (ids) => ids.includes(6))
    expect(server.queries[1]!.get('after')).toBe('5')
    expect(run.ids).toEqual([1, 2, 6])
    expect(run.statuses).toContain('fell behind at #6 (closed by the server: 4000 too slow: resume with after=5); catching up from storage')
    expect(run.statuses.filter((l) => l.startsWith('connection lost'))).toEqual([])
  })

  it('a gap the connection goes on after (events expired before this resume) is said, and the stream read on', async () => {
    const server = await scripted([(s) => send(s, { type: 'gap', at: new Date().toISOString(), firstMissedId: 1 }, event(30), event(31))])
    const run = await followUntil(server, (ids) => ids.includes(31))
    expect(run.ids).toEqual([30, 31])
    expect(server.queries).toHaveLength(1)
    expect(run.statuses).toContain('events from #1 were not sent; resuming after #0')
  })

  it('gives up a connection that has gone silent (no heartbeat) and reconnects', async () => {
    const server = await scripted([() => {}, (s) => send(s, event(1))])
    const run = await followUntil(server, (ids) => ids.includes(1), 300)
    expect(run.statuses).toContainEqual(expect.stringMatching(/^connection lost \(nothing heard for 0.3 s\)/))
    expect(run.ids).toEqual([1])
  })

  it('stops at once on request, even when the server never answers the close', async () => {
    const server = await scripted(['mute'])
    const run = await followUntil(server, (_ids, statuses) => statuses.some((l) => l.startsWith('following')))
    // ws would otherwise wait 30 s for the close to be answered, and keep the process alive as long.
    const gone = await Promise.race([server.mutedClosed.then(() => true), delay(20_000).then(() => false)])
    expect(gone).toBe(true)
    expect(run.timedOut).toBe(false)
  })

  it('retries a server that is unavailable (503), backing off', async () => {
    const server = await scripted([{ refuse: 503, body: { error: 'database_unavailable', message: 'database unavailable' } }, (s) => send(s, event(1))])
    const run = await followUntil(server, (ids) => ids.includes(1))
    expect(run.statuses).toContainEqual(expect.stringMatching(/^connection lost \(503 database unavailable\); reconnecting in/))
  })

  it('does not retry a refused token (401) or query (400): it rejects, with what the server said', async () => {
    const unauthorized = await scripted([{ refuse: 401, body: { error: 'unauthorized', message: 'the bearer token is not valid' } }])
    await expect(followUntil(unauthorized, () => false)).rejects.toThrow(
      new StreamRefused(401, 'the API token was refused (401 the bearer token is not valid): check --token or FAULTLINE_API_TOKEN'),
    )
    expect(unauthorized.queries).toHaveLength(1)
    const badQuery = await scripted([{ refuse: 400, body: { error: 'bad_request', message: 'query.minPriority: Invalid option: expected one of "P1"|"P2"' } }])
    await expect(followUntil(badQuery, () => false)).rejects.toThrow(/400 query\.minPriority: Invalid option/)
    expect(badQuery.queries).toHaveLength(1)
  })
})
