// One /ws/faults client: its backfill from storage, then `caught_up`, then the live tail from the hub, with no
// duplicate and no hole across the switch; a bounded buffer; heartbeats.
import type { WebSocket } from 'ws'
import type { Metrics } from '../metrics.js'
import type { StreamMessage } from './envelope.js'
import { compileFilter, type StreamQuery } from './filter.js'
import type { StreamHub } from './hub.js'
import { cursorBeforeLast, cursorBeforeSince, expiredThrough, readAfter, type StoredEvent } from './outbox.js'

export interface SessionOptions {
  heartbeatMs: number
  /** what may wait for a client, its socket's bufferedAmount plus the frame at hand: past it, `gap` and close */
  maxBufferedBytes: number
  /** live events held while the backfill is sent: past it, the same */
  maxHeldEvents: number
  /** events read from storage at a time during the backfill */
  pageSize: number
}

export const defaultSessionOptions: SessionOptions = { heartbeatMs: 15_000, maxBufferedBytes: 1024 * 1024, maxHeldEvents: 1_000, pageSize: 200 }

export type StreamMetrics = Pick<Metrics, 'streamLatency' | 'streamClients' | 'streamFrames' | 'streamGaps' | 'streamDropped'>

/** The close code and reason of a client too slow for its buffer: it resumes from storage. */
export const TOO_SLOW = 4000

export async function serveStream(socket: WebSocket, query: StreamQuery, hub: StreamHub, metrics: StreamMetrics, options: SessionOptions): Promise<void> {
  const filter = compileFilter(query)
  const now = () => new Date().toISOString()
  /** every event up to this id has been sent, or did not pass the filter */
  let covered = 0
  /** live events heard while the backfill is still being sent; undefined once live */
  let held: StoredEvent[] | undefined = []
  let done = false

  const send = (message: StreamMessage, frame = JSON.stringify(message)) =>
    new Promise<void>((resolve) => {
      metrics.streamFrames.inc({ type: message.type })
      socket.send(frame, () => resolve())
    })
  const stop = () => {
    if (done) return
    done = true
    unsubscribe()
    clearInterval(heartbeat)
    metrics.streamClients.dec()
  }
  /** The client cannot keep up: it is told where it stopped and closed, and resumes from storage. */
  const overflow = (firstMissedId: number, missed: number) => {
    metrics.streamGaps.inc()
    metrics.streamDropped.inc(missed)
    void send({ type: 'gap', at: now(), firstMissedId })
    socket.close(TOO_SLOW, `too slow: resume with after=${firstMissedId - 1}`)
    stop()
  }
  const live = (events: StoredEvent[]) => {
    const fresh = events.filter((e) => e.event.id > covered && filter.matches(e.event))
    for (const [i, e] of fresh.entries()) {
      if (done) return
      if (socket.bufferedAmount + e.frame.length > options.maxBufferedBytes) return overflow(e.event.id, fresh.length - i)
      covered = e.event.id
      metrics.streamFrames.inc({ type: e.event.type })
      socket.send(e.frame, () => metrics.streamLatency.observe((Date.now() - e.storedAt) / 1000))
    }
  }

  metrics.streamClients.inc()
  // Subscribed before the backfill's first read: what commits meanwhile is held, then sent past what the backfill covered.
  const unsubscribe = hub.subscribe((events) => {
    if (!held) return live(events)
    held.push(...events)
    if (held.length > options.maxHeldEvents) overflow(covered + 1, held.length)
  })
  const heartbeat = setInterval(() => void send({ type: 'heartbeat', at: now() }), options.heartbeatMs)
  socket.on('close', stop)
  socket.on('error', stop)

  try {
    // With no backfill asked for, the live tail starts where the hub stood when this client subscribed (read in
    // the same turn): an event that commits after the socket opened is never lost to a read of the newest id.
    covered =
      query.after ??
      (query.since ? await cursorBeforeSince(hub.db, query.since) : query.last ? await cursorBeforeLast(hub.db, query.last, filter) : hub.delivered)
    if (query.after !== undefined && (await expiredThrough(hub.db)) > query.after) {
      // Retention deleted events this client had not seen: it hears so, and gets what is kept.
      metrics.streamGaps.inc()
      await send({ type: 'gap', at: now(), firstMissedId: query.after + 1 })
    }
    for (;;) {
      const page = await readAfter(hub.db, covered, filter, options.pageSize)
      if (done) return
      // A page at a time, each flushed to the client before the next is read: the backfill holds one page.
      await Promise.all(page.map((e) => send(e.event, e.frame)))
      if (page.length > 0) covered = page.at(-1)!.event.id
      if (page.length < options.pageSize) break
    }
    if (done) return
    await send({ type: 'caught_up', at: now(), lastId: covered })
    const backlog = held
    held = undefined
    live(backlog)
  } catch {
    // The database failed the backfill: the client reconnects and resumes where it was.
    if (!done) socket.close(1011, `stream unavailable: resume with after=${covered}`)
    stop()
  }
}
