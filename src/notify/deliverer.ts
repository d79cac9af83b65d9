// One per process: delivers each webhook the stream events after its cursor, strictly in id order, one at a time
// (so in order per ticket, issue 12), at least once: the cursor moves only after a 2xx, and a failure holds it
// and retries with backoff. Woken by the stream hub when events commit and by a timer for retries that fall due
// by the Clock; a lease in the database keeps a webhook with one process at a time.
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import type { Metrics } from '../metrics.js'
import type { Database } from '../store/index.js'
import { compileFilter, expiredThrough, lastId, readAfter, type StoredEvent, type StreamHub } from '../stream/index.js'
import { backoffMs } from '../backoff.js'
import type { BackoffPolicy } from './backoff.js'
import { payloadOf, type Contact } from './payload.js'
import { deliveryHeaders } from './signature.js'
import { WebhookStore, type LeasedWebhook } from './store.js'

export interface DelivererOptions {
  /** a request not answered in this long is a failure (and is retried) */
  timeoutMs: number
  /** how often due retries are looked for, and the lag gauge refreshed */
  pollMs: number
  backoff: BackoffPolicy
  /** how long the attempt log is kept */
  keepDeliveriesMs: number
}

export interface DelivererDeps {
  db: Database
  hub: StreamHub
  clock: Clock
  log: Logger
  metrics: Pick<Metrics, 'webhookDeliveries' | 'webhookLag'>
  /** the customer's contact on the ticket, for the notification */
  contactOf: (ticketId: number) => Promise<Contact>
}

/** Events read at a time for one webhook; webhooks delivered at once by one process. */
const PAGE = 50
const PARALLEL = 8

type Outcome = { ok: true; statusCode: number } | { ok: false; statusCode?: number; error: string }

export class WebhookDeliverer {
  readonly store: WebhookStore
  private readonly owner = randomUUID()
  /** longer than any request: a holder that died mid-request frees its webhooks after this */
  private readonly leaseMs: number
  private running?: Promise<void>
  private again = false
  private closed = false
  private failing = false
  private readonly aborts = new AbortController()
  private readonly unsubscribe: () => void
  private readonly timer: NodeJS.Timeout
  private prunedAt = 0

  constructor(
    private readonly deps: DelivererDeps,
    private readonly options: DelivererOptions,
  ) {
    this.store = new WebhookStore(deps.db)
    this.leaseMs = options.timeoutMs * 2 + 30_000
    this.unsubscribe = deps.hub.subscribe(() => this.wake())
    this.timer = setInterval(() => this.tick(), options.pollMs).unref()
    this.wake()
  }

  /** Coalesced: one pass at a time, and one more if woken meanwhile. */
  wake(): void {
    if (this.closed) return
    this.again = true
    this.running ??= this.passes().finally(() => (this.running = undefined))
  }

  private async passes(): Promise<void> {
    while (this.again && !this.closed) {
      this.again = false
      try {
        // Until closed: a pass cut short by close leaves its webhooks' events after their cursors, to lease again.
        while (!this.closed) {
          const leased = await this.store.lease(this.owner, this.leaseMs, this.deps.clock.now(), PARALLEL)
          if (leased.length === 0) break
          await Promise.all(leased.map((w) => this.deliverHeld(w)))
        }
        this.failing = false
      } catch (err) {
        // The database is away: the next wake or tick tries again from the stored cursors. One warning per outage.
        if (!this.failing) this.deps.log.warn({ err: (err as Error).message }, 'webhooks: delivery pass failed')
        this.failing = true
      }
    }
  }

  private async deliverHeld(w: LeasedWebhook): Promise<void> {
    try {
      await this.deliver(w)
    } finally {
      await this.store.release(w.id, this.owner)
    }
  }

  private async deliver(w: LeasedWebhook): Promise<void> {
    const { db, clock } = this.deps
    // Read first: every event stored after this id commits later, so passing over up to it skips nothing.
    const through = await lastId(db)
    const expired = await expiredThrough(db)
    if (expired > w.cursor) {
      // Stream retention deleted them before they could be delivered: said, in the log and the attempt log.
      this.deps.log.warn({ webhook: w.id, from: w.cursor + 1, through: expired }, 'webhooks: events expired before delivery')
      await this.store.missed(w, this.owner, expired, `events ${w.cursor + 1} to ${expired} expired (stream retention) before delivery`, clock.now())
    }
    const filter = compileFilter({ types: w.events })
    for (;;) {
      const page = await readAfter(db, w.cursor, filter, PAGE)
      for (const stored of page) {
        if (this.closed) return
        const outcome = await this.send(w, stored)
        // Aborted by close: not the receiver's failure; the next holder sends it again.
        if (this.closed) return
        this.deps.metrics.webhookDeliveries.inc({ outcome: outcome.ok ? 'delivered' : outcome.statusCode ? 'refused' : 'failed' })
        if (!outcome.ok) {
          const now = clock.now()
          const next = now + Math.round(backoffMs(w.attempts + 1, this.options.backoff.baseMs, this.options.backoff.capMs))
          await this.store.failed(w, this.owner, stored.event.id, outcome, now, next)
          return
        }
        if (!(await this.store.delivered(w, this.owner, this.leaseMs, stored.event.id, outcome.statusCode, clock.now()))) return
      }
      if (page.length < PAGE) break
    }
    await this.store.passOver(w, this.owner, through)
  }

  private async send(w: LeasedWebhook, stored: StoredEvent): Promise<Outcome> {
    const { event } = stored
    const contact = event.ticket ? await this.deps.contactOf(event.ticket.id) : null
    const body = JSON.stringify(payloadOf(event, contact))
    try {
      const res = await fetch(w.url, {
        method: 'POST',
        headers: deliveryHeaders(w.secret, body, event.id, this.deps.clock.now()),
        body,
        // A redirect is an answer to fix, not to follow with the signed body.
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.aborts.signal]),
      })
      await res.body?.cancel()
      return res.status >= 200 && res.status < 300 ? { ok: true, statusCode: res.status } : { ok: false, statusCode: res.status, error: `HTTP ${res.status}` }
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } }
      // What went wrong, never the URL or the body (they may carry credentials or a customer's contact).
      const error = e.name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message)
      return { ok: false, error }
    }
  }

  /** Retries that fell due by the Clock, the lag gauge, the attempt log's age. */
  private tick(): void {
    this.wake()
    void this.store.lags().then(
      (lags) => {
        this.deps.metrics.webhookLag.reset()
        for (const { id, lag } of lags) this.deps.metrics.webhookLag.set({ webhook: String(id) }, lag)
      },
      () => {},
    )
    const now = this.deps.clock.now()
    if (now - this.prunedAt > 3_600_000) {
      this.prunedAt = now
      void this.store.prune(now - this.options.keepDeliveriesMs).catch(() => {})
    }
  }

  /** Stops waking, aborts requests in flight (their events are tried again by the next holder), waits for the pass. */
  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    this.unsubscribe()
    this.aborts.abort()
    await this.running
  }
}
