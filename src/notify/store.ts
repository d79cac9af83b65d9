// webhooks and webhook_deliveries, owned here: what a webhook is, where its delivery stands, every attempt.
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { streamEventTypes } from '../stream/index.js'
import type { Queryable } from '../store/index.js'

const instant = z.iso.datetime({ offset: true })

/** A webhook as the API shows it: never its secret. */
export const webhookJson = z.object({
  id: z.number().int(),
  url: z.string(),
  events: z.array(z.enum(streamEventTypes)),
  active: z.boolean(),
  createdAt: instant,
  delivery: z.object({
    cursor: z.number().int().describe('the last stream event id delivered or passed over'),
    lag: z.number().int().describe('stream events stored after the cursor'),
    attempts: z.number().int().describe('failed attempts at the next event'),
    lastError: z.string().nullable(),
    failingSince: instant.nullable(),
    nextAttemptAt: instant.nullable(),
  }),
})
export type WebhookJson = z.infer<typeof webhookJson>

export const deliveryJson = z.object({
  id: z.number().int(),
  eventId: z.number().int(),
  attempt: z.number().int(),
  statusCode: z.number().int().nullable(),
  error: z.string().nullable(),
  at: instant,
  nextAttemptAt: instant.nullable(),
})
export type DeliveryJson = z.infer<typeof deliveryJson>

export interface NewWebhook {
  url: string
  events: WebhookJson['events']
  secret?: string
}

/** What the deliverer needs of a webhook it holds the lease of. */
export interface LeasedWebhook {
  id: number
  url: string
  secret: string
  events: WebhookJson['events']
  cursor: number
  attempts: number
}

interface WebhookRow {
  id: number
  url: string
  events: WebhookJson['events']
  active: boolean
  created_at: Date
  cursor: number
  lag: number
  attempts: number
  last_error: string | null
  failing_since: Date | null
  next_attempt_at: Date | null
}

const iso = (d: Date | null) => d?.toISOString() ?? null
const newest = '(SELECT coalesce(max(id), 0) FROM stream_events)'
const columns = `id, url, events, active, created_at, cursor, greatest(${newest} - cursor, 0)::int AS lag, attempts, last_error, failing_since, next_attempt_at`

function toJson(r: WebhookRow): WebhookJson {
  return {
    id: r.id,
    url: r.url,
    events: r.events,
    active: r.active,
    createdAt: r.created_at.toISOString(),
    delivery: {
      cursor: r.cursor,
      lag: r.lag,
      attempts: r.attempts,
      lastError: r.last_error,
      failingSince: iso(r.failing_since),
      nextAttemptAt: iso(r.next_attempt_at),
    },
  }
}

export class WebhookStore {
  constructor(private readonly db: Queryable) {}

  /** Delivers what is stored from now on. The secret is returned here only. */
  async create(w: NewWebhook, now: number): Promise<{ webhook: WebhookJson; secret: string }> {
    const secret = w.secret ?? randomBytes(32).toString('hex')
    const { rows } = await this.db.query<WebhookRow>(
      `INSERT INTO webhooks (url, secret, events, created_at, cursor) VALUES ($1, $2, $3::text[], $4, ${newest}) RETURNING ${columns}`,
      [w.url, secret, w.events, new Date(now)],
    )
    return { webhook: toJson(rows[0]!), secret }
  }

  async list(): Promise<WebhookJson[]> {
    const { rows } = await this.db.query<WebhookRow>(`SELECT ${columns} FROM webhooks ORDER BY id`)
    return rows.map(toJson)
  }

  async get(id: number): Promise<WebhookJson | undefined> {
    const { rows } = await this.db.query<WebhookRow>(`SELECT ${columns} FROM webhooks WHERE id = $1`, [id])
    return rows[0] && toJson(rows[0])
  }

  /** Its deliveries go with it; one in flight finishes, and nothing is sent after it (the lease finds no row). */
  async delete(id: number): Promise<WebhookJson | undefined> {
    const { rows } = await this.db.query<WebhookRow>(`DELETE FROM webhooks WHERE id = $1 RETURNING ${columns}`, [id])
    return rows[0] && toJson(rows[0])
  }

  async setActive(id: number, active: boolean): Promise<WebhookJson | undefined> {
    const { rows } = await this.db.query<WebhookRow>(`UPDATE webhooks SET active = $2 WHERE id = $1 RETURNING ${columns}`, [id, active])
    return rows[0] && toJson(rows[0])
  }

  /** The next attempt is due now (the backoff forgotten, the attempt count kept). */
  async retryNow(id: number): Promise<WebhookJson | undefined> {
    const { rows } = await this.db.query<WebhookRow>(`UPDATE webhooks SET next_attempt_at = NULL WHERE id = $1 RETURNING ${columns}`, [id])
    return rows[0] && toJson(rows[0])
  }

  /** Newest first, before the delivery id `before`. */
  async deliveries(id: number, limit: number, before?: number): Promise<DeliveryJson[]> {
    const { rows } = await this.db.query<{
      id: number
      event_id: number
      attempt: number
      status_code: number | null
      error: string | null
      at: Date
      next_attempt_at: Date | null
    }>(
      `SELECT id, event_id, attempt, status_code, error, at, next_attempt_at FROM webhook_deliveries
       WHERE webhook_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
      [id, before ?? Number.MAX_SAFE_INTEGER, limit],
    )
    return rows.map((r) => ({
      id: r.id,
      eventId: r.event_id,
      attempt: r.attempt,
      statusCode: r.status_code,
      error: r.error,
      at: r.at.toISOString(),
      nextAttemptAt: iso(r.next_attempt_at),
    }))
  }

  /**
   * Takes the lease of up to `limit` active webhooks with events after their cursor and no backoff pending at
   * `now`. SKIP LOCKED and the lease: two processes never take the same webhook, so it is never sent twice at once.
   */
  async lease(owner: string, leaseMs: number, now: number, limit: number): Promise<LeasedWebhook[]> {
    const { rows } = await this.db.query<LeasedWebhook>(
      `UPDATE webhooks SET lease_owner = $1, lease_until = clock_timestamp() + make_interval(secs => $2::float8 / 1000)
       WHERE id IN (SELECT id FROM webhooks
                    WHERE active AND (lease_until IS NULL OR lease_until < clock_timestamp())
                      AND (next_attempt_at IS NULL OR next_attempt_at <= $3) AND cursor < ${newest}
                    ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
       RETURNING id, url, secret, events, cursor, attempts`,
      [owner, leaseMs, new Date(now), limit],
    )
    return rows
  }

  /**
   * Records the event delivered and moves the cursor past it, renewing the lease. False when the lease is lost,
   * or the webhook paused or deleted meanwhile: the holder stops.
   */
  async delivered(w: LeasedWebhook, owner: string, leaseMs: number, eventId: number, statusCode: number, now: number): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `WITH moved AS (
         UPDATE webhooks SET cursor = $3, attempts = 0, failing_since = NULL, next_attempt_at = NULL, last_error = NULL,
                lease_until = clock_timestamp() + make_interval(secs => $6::float8 / 1000)
         WHERE id = $1 AND lease_owner = $2 AND active RETURNING id)
       INSERT INTO webhook_deliveries (webhook_id, event_id, attempt, status_code, at) SELECT id, $3, $4, $5, $7 FROM moved`,
      [w.id, owner, eventId, w.attempts + 1, statusCode, leaseMs, new Date(now)],
    )
    w.attempts = 0
    w.cursor = eventId
    return rowCount > 0
  }

  /** Records the failed attempt; the cursor stays, so the event is tried again at `next`, before any later one. */
  async failed(w: LeasedWebhook, owner: string, eventId: number, outcome: { statusCode?: number; error: string }, now: number, next: number): Promise<void> {
    await this.db.query(
      `WITH held AS (
         UPDATE webhooks SET attempts = attempts + 1, failing_since = coalesce(failing_since, $6), next_attempt_at = $7, last_error = $5
         WHERE id = $1 AND lease_owner = $2 RETURNING id)
       INSERT INTO webhook_deliveries (webhook_id, event_id, attempt, status_code, error, at, next_attempt_at)
       SELECT id, $3, $4, $8, $5, $6, $7 FROM held`,
      [w.id, owner, eventId, w.attempts + 1, outcome.error, new Date(now), new Date(next), outcome.statusCode ?? null],
    )
  }

  /** Events the stream deleted before they were delivered: one attempt-log line says which, and the cursor moves on. */
  async missed(w: LeasedWebhook, owner: string, through: number, error: string, now: number): Promise<void> {
    await this.db.query(
      `WITH moved AS (UPDATE webhooks SET cursor = $3 WHERE id = $1 AND lease_owner = $2 AND cursor < $3 RETURNING id)
       INSERT INTO webhook_deliveries (webhook_id, event_id, attempt, error, at) SELECT id, $3, 0, $4, $5 FROM moved`,
      [w.id, owner, through, error, new Date(now)],
    )
    w.cursor = Math.max(w.cursor, through)
  }

  /** Passes over events it does not subscribe to, up to `through`, so its lag says what it still owes. */
  async passOver(w: LeasedWebhook, owner: string, through: number): Promise<void> {
    await this.db.query('UPDATE webhooks SET cursor = $3 WHERE id = $1 AND lease_owner = $2 AND cursor < $3', [w.id, owner, through])
  }

  async release(id: number, owner: string): Promise<void> {
    await this.db.query('UPDATE webhooks SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2', [id, owner])
  }

  /** Events behind, per webhook: for the lag gauge. */
  async lags(): Promise<{ id: number; lag: number }[]> {
    const { rows } = await this.db.query<{ id: number; lag: number }>(`SELECT id, greatest(${newest} - cursor, 0)::int AS lag FROM webhooks`)
    return rows
  }

  /** The attempt log is kept for `keepMs`. */
  async prune(before: number): Promise<void> {
    await this.db.query('DELETE FROM webhook_deliveries WHERE at < $1', [new Date(before)])
  }
}
