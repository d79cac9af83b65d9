// A /ws/faults client for the benchmark, as a duty engineer's screen would be one: it keeps every event frame
// with the time it arrived, and when the server says it fell behind (`gap`) or closes the socket, it reconnects
// with `after=<the last id it holds>` (the contract's resume), so what it holds in the end can be checked for holes.
// `pause()` stops reading the socket (the kernel buffers fill, then the server's per-socket buffer): a stalled client.
import WebSocket from 'ws'

/** What the benchmark reads of a frame: stored events have an id; control frames (heartbeat, caught_up, gap) none. */
export interface Frame {
  id?: number
  type: string
  deviceId?: string
  lastId?: number
  firstMissedId?: number
}

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
  readonly events: (Frame & { id: number; receivedAt: number })[] = []
  /** ids that arrived twice */
  duplicates = 0
  gaps = 0
  reconnects = 0
  /** the highest id held (what a resume asks to follow) */
  lastId: number
  onEvent?: (e: Frame & { id: number; receivedAt: number }) => void
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
    ws.on('message', (data) => this.receive(JSON.parse(data.toString()) as Frame))
    ws.on('close', () => {
      if (!this.closing && this.ws === ws) void this.reconnect()
    })
    return new Promise((resolve, reject) => {
      ws.once('error', reject)
      this.caughtUpWaiters.push(resolve)
    })
  }

  private receive(f: Frame) {
    if (f.type === 'caught_up') {
      for (const w of this.caughtUpWaiters.splice(0)) w()
    } else if (f.type === 'gap') {
      this.gaps++
      void this.reconnect()
    } else if (f.id !== undefined) {
      const receivedAt = performance.timeOrigin + performance.now()
      if (this.arrivals.has(f.id)) {
        this.duplicates++
        return
      }
      this.arrivals.set(f.id, receivedAt)
      this.lastId = Math.max(this.lastId, f.id)
      const e = { ...f, id: f.id, receivedAt }
      this.events.push(e)
      this.onEvent?.(e)
    }
  }

  /** The contract's catch-up: drop this socket and reconnect after the last id held. */
  private async reconnect() {
    if (this.closing) return
    this.reconnects++
    const old = this.ws
    this.ws = undefined
    old?.removeAllListeners('close')
    old?.terminate()
    await this.connect(this.lastId)
  }

  /** Stops reading the socket: what the server sends piles up in the kernel, then in its buffer for this client. */
  pause() {
    this.ws?.pause()
  }

  /** Reads the socket again. */
  read() {
    this.ws?.resume()
  }

  /** Resolves once it holds every id up to `id` (after any gap's reconnect). */
  async holds(id: number, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs
    while (this.lastId < id) {
      if (Date.now() > until) throw new Error(`stream client: holds up to id ${this.lastId}, not ${id}, after ${timeoutMs} ms`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  close() {
    this.closing = true
    this.ws?.terminate()
  }
}
