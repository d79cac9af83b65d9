// One per process: wakes on the outbox's NOTIFY (from any process sharing the database), reads what was
// committed after its cursor and hands it to every subscribed socket. Nothing here runs in the ingest path: the
// stream goes through the database, so a slow socket can never hold up a PUBACK (issue 10).
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import type { Database } from '../store/index.js'
import { compileFilter } from './filter.js'
import { expire, lastId, notifiedEvents, readAfter, STREAM_CHANNEL, type StoredEvent } from './outbox.js'

const everything = compileFilter({})
const PAGE = 500

export interface HubOptions {
  /** the safety net: read (and expire) this often even with no notification */
  pollMs: number
  /** events that happened longer ago than this are deleted */
  retentionMs: number
  clock: Clock
  log: Logger
}

export class StreamHub {
  private cursor = 0
  private reading = false
  private notified = false
  private readonly listeners = new Set<(events: StoredEvent[]) => void>()
  private unlisten?: () => Promise<void>
  private poll?: NodeJS.Timeout
  private failing = false

  private constructor(
    readonly db: Database,
    private readonly options: HubOptions,
  ) {}

  static async start(db: Database, options: HubOptions): Promise<StreamHub> {
    const hub = new StreamHub(db, options)
    hub.cursor = await lastId(db)
    hub.unlisten = await db.listen(STREAM_CHANNEL, (payload) => hub.wake(payload))
    hub.poll = setInterval(() => void hub.sweep(), options.pollMs).unref()
    return hub
  }

  /** The newest id handed to subscribers: one subscribing now hears every event after it. */
  get delivered(): number {
    return this.cursor
  }

  /** Hears every event committed from now on, in id order, each once. */
  subscribe(listener: (events: StoredEvent[]) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * A notification's events are handed out at once when they follow on from the cursor (one round trip less
   * from a commit to the sockets). Otherwise, and for one that carries none, the outbox is read; reads coalesce:
   * at most one in flight, and one more if notified meanwhile (which covers what came with that notification).
   */
  wake(payload?: string): void {
    if (payload && !this.reading) {
      const page = notifiedEvents(payload).filter((e) => e.event.id > this.cursor)
      if (page.length === 0) return
      // Ids follow on in commit order, and notifications arrive in commit order: one that does not follow on
      // comes after one that carried nothing (too big), or after an id a rolled-back insert drew. Read then.
      if (page[0]!.event.id === this.cursor + 1) {
        this.cursor = page.at(-1)!.event.id
        for (const listener of this.listeners) this.deliver(listener, page)
        return
      }
    }
    this.notified = true
    if (!this.reading) void this.read()
  }

  private async read(): Promise<void> {
    this.reading = true
    try {
      while (this.notified) {
        this.notified = false
        for (;;) {
          const page = await readAfter(this.db, this.cursor, everything, PAGE)
          if (page.length === 0) break
          this.cursor = page.at(-1)!.event.id
          for (const listener of this.listeners) this.deliver(listener, page)
          if (page.length < PAGE) break
        }
      }
      this.recovered()
    } catch (err) {
      // The next notification or poll tries again from the same cursor: nothing is skipped.
      this.failed(err as Error, 'stream: reading new events failed')
    } finally {
      this.reading = false
    }
  }

  /** One socket failing is its own problem: the others still hear the page. */
  private deliver(listener: (events: StoredEvent[]) => void, page: StoredEvent[]) {
    try {
      listener(page)
    } catch (err) {
      this.options.log.error({ err }, 'stream: a subscriber failed')
    }
  }

  private async sweep(): Promise<void> {
    try {
      const deleted = await expire(this.db, this.options.clock.now() - this.options.retentionMs)
      if (deleted > 0) this.options.log.debug({ deleted }, 'stream: expired events deleted')
    } catch (err) {
      this.failed(err as Error, 'stream: expiring old events failed')
    }
    this.wake()
  }

  /** One warning per outage, not one per poll. */
  private failed(err: Error, what: string) {
    if (!this.failing) this.options.log.warn({ err: err.message }, what)
    this.failing = true
  }
  private recovered() {
    this.failing = false
  }

  async close(): Promise<void> {
    clearInterval(this.poll)
    this.listeners.clear()
    await this.unlisten?.()
  }
}
