// A /ws/faults client for the benchmark, as a duty engineer's screen would be one: it keeps every event frame
// with the time it arrived, and when the server says it fell behind (`gap`) or closes the socket, it reconnects
// with `after=<the last id it holds>` (the contract's resume), so what it holds in the end can be checked for holes.
// `pause()` stops reading the socket (the kernel buffers fill, then the server's per-socket buffer): a stalled client,
// which comes back with `reconnect()`.
import WebSocket from 'ws'
import type { StreamEvent, StreamMessage } from '../src/stream/index.js'

/** A stored event as it arrived. */
export type Arrived = StreamEvent & { receivedAt: number }

export interface StreamClientOptions {
  httpPort: number
  token: string
  /** resume after this id (default: the live tail only, from the moment it connects) */
  after?: number
}

export class StreamClient {
  /** event id → when it arrived (performance.timeOrigin-based ms) */
  readonly arrivals = new Map<number, number>()
  /** every event frame, in arrival order */
  readonly events: Arrived[] = []
  /** ids that arrived twice */
  duplicates = 0
  reconnects = 0
  /** why the last reconnect failed, if it did */
  failure?: Error
  /** the highest id held (what a resume asks to follow) */
  lastId: number
  onEvent?: (e: Arrived) => void
  private ws?: WebSocket
  private closing = false
  private caughtUpWaiters: (() => void)[] = []

  constructor(private readonly o: StreamClientOptions) {
    this.lastId = o.after ?? 0
  }

  /** Connects (or reconnects) and resolves once the server says the backfill is sent (`caught_up`). */
  connect(after: number | undefined = this.o.after): Promise<void> {
    const query = after === undefined ? '' : `?after=${after}`
    const ws = new WebSocket(`ws://127.0.0.1:${this.o.httpPort}/ws/faults${query}`, { headers: { authorization: `Bearer ${this.o.token}` } })
    this.ws = ws
    ws.on('message', (data) => this.receive(JSON.parse(data.toString()) as StreamMessage))
    ws.on('close', () => {
      if (!this.closing && !this.failure && this.ws === ws) void this.reconnect()
    })
    return new Promise((resolve, reject) => {
      // A refused or broken socket also closes: the close reconnects, this only fails a connect still waiting.
      ws.on('error', reject)
      this.caughtUpWaiters.push(resolve)
    })
  }

  private receive(m: StreamMessage) {
    if ('id' in m) {
      const receivedAt = performance.timeOrigin + performance.now()
      if (this.arrivals.has(m.id)) {
        this.duplicates++
        return
      }
      this.arrivals.set(m.id, receivedAt)
      this.lastId = Math.max(this.lastId, m.id)
      const e = { ...m, receivedAt }
      this.events.push(e)
      this.onEvent?.(e)
    } else if (m.type === 'caught_up') {
      for (const w of this.caughtUpWaiters.splice(0)) w()
    } else if (m.type === 'gap') {
      void this.reconnect()
    }
  }

  /** The contract's catch-up: drop this socket (and whatever it has not read) and reconnect after the last id held. */
  async reconnect(): Promise<void> {
    if (this.closing) return
    this.reconnects++
    const old = this.ws
    this.ws = undefined
    // Frames the old socket still had parsed must not arrive after the resume's backfill (they would count twice).
    old?.removeAllListeners('close')
    old?.removeAllListeners('message')
    old?.terminate()
    try {
      await this.connect(this.lastId)
    } catch (err) {
      this.failure = err as Error
    }
  }

  /** Stops reading the socket: what the server sends piles up in the kernel, then in its buffer for this client. */
  pause() {
    this.ws?.pause()
  }

  /** Resolves once it holds every id up to `id` (after any gap's reconnect). */
  async holds(id: number, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs
    while (this.lastId < id) {
      if (this.failure) throw this.failure
      if (Date.now() > until) throw new Error(`stream client: holds up to id ${this.lastId}, not ${id}, after ${timeoutMs} ms`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  close() {
    this.closing = true
    this.ws?.terminate()
  }
}
