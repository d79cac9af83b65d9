// stream_events, owned here: the outbox of the live stream (issue 10). Events are queued by whatever changes
// something in a transaction (the rules stage, the ticket repository) and appended as that transaction's last
// statement, so an event is stored if and only if its change commits.
import type { Database, Queryable } from '../store/index.js'
import type { NewStreamEvent, StreamEvent } from './envelope.js'
import type { CompiledFilter } from './filter.js'

/** The channel every emitting transaction notifies at commit: each Faultline process's hub reads then. */
export const STREAM_CHANNEL = 'faultline_stream'
/** The advisory lock that orders the outbox's ids (any constant unique to it): "FLST". */
const STREAM_LOCK = 0x464c5354

/** The columns of a stored event, as read and as a notification carries them. */
const eventColumns = 'id, type, at, device_id, model, region, site, severity, priority, body, stored_at'
/** What a notification may carry (PostgreSQL's limit is 8,000 bytes); a bigger page is notified empty and read. */
const NOTIFY_MAX_BYTES = 7_900

/** A stored event, its frame serialized once for every socket, and when it was written (for the latency). */
export interface StoredEvent {
  event: StreamEvent
  frame: string
  storedAt: number
}

const queued = new WeakMap<Queryable, NewStreamEvent[]>()

/**
 * Runs fn in a transaction whose queued stream events are appended at its end, after fn's last statement.
 * Every transaction that queues events runs through here.
 */
export function inStreamTransaction<T>(db: Pick<Database, 'transaction'>, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    queued.set(tx, [])
    const result = await fn(tx)
    await appendStreamEvents(tx, queued.get(tx)!)
    return result
  })
}

/** Queues an event for the end of the transaction; one not opened by inStreamTransaction is refused, never lost. */
export function queueStreamEvent(tx: Queryable, event: NewStreamEvent): void {
  const events = queued.get(tx)
  if (!events) throw new Error('a stream event is queued outside inStreamTransaction: it would be lost')
  events.push(event)
}

/** The events as the JSON array the append reads, one row per event, in order. */
function streamRows(events: readonly NewStreamEvent[]): string {
  return JSON.stringify(
    events.map(({ type, at, deviceId, model, region, site, severity, priority, ...body }) => ({
      type,
      at,
      device_id: deviceId,
      model,
      region,
      site,
      severity,
      priority,
      body,
    })),
  )
}

/**
 * The CTEs of an append, ending in `notified`, which the statement's main query must read: the events in
 * parameter `$rows` (streamRows), or only those whose position (n, from 1) the CTE named `kept` holds.
 *
 * bigserial alone hands out ids in the order of the inserts, not of the commits: a transaction holding id 10 may
 * commit after another's 11, and a reader that saw 11 would skip 10 forever. The advisory lock, taken before any
 * id is drawn and held until commit (xact lock), makes the emitting transactions take and commit their ids one at
 * a time, so ids are strictly increasing in commit order across processes. The NOTIFY (delivered at commit, in
 * commit order, to every listening process; in-process embedded) carries the appended events when they fit, so
 * a hub hands them out without reading them back (one round trip less).
 */
function appendCtes(rows: number, kept?: string): string {
  return `stream_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock(${STREAM_LOCK})),
     appended AS (
       INSERT INTO stream_events (at, type, device_id, model, region, site, severity, priority, body)
       SELECT (e->>'at')::timestamptz, e->>'type', e->>'device_id', e->>'model', e->>'region', e->>'site', e->>'severity', e->>'priority', e->'body'
       FROM stream_lock, jsonb_array_elements($${rows}::jsonb) WITH ORDINALITY AS r(e, n)${kept ? ` WHERE n IN (SELECT n FROM ${kept})` : ''} ORDER BY n
       RETURNING ${eventColumns}),
     notified AS (
       SELECT pg_notify('${STREAM_CHANNEL}', CASE WHEN octet_length(page) <= ${NOTIFY_MAX_BYTES} THEN page ELSE '' END)
       FROM (SELECT json_agg(appended ORDER BY id)::text AS page FROM appended) AS events WHERE page IS NOT NULL)`
}

/**
 * Appends events, as the LAST statement of the transaction (one round trip, since every emitting transaction
 * waits on the lock): being the last statement, the lock is held only for the commit itself.
 */
export async function appendStreamEvents(tx: Queryable, events: readonly NewStreamEvent[]): Promise<void> {
  if (events.length === 0) return
  await tx.query(`WITH ${appendCtes(1)} SELECT count(*) FROM notified`, [streamRows(events)])
}

/**
 * Runs a change given as CTEs (its parameters first; the positions, from 1, of the rows it changed in a CTE named
 * `kept`) and appends, in the same statement and so the same commit, the event of each position kept. Resolves
 * to those positions.
 */
export async function withStreamEvents(
  db: Pick<Queryable, 'query'>,
  change: { ctes: string; params: unknown[] },
  events: readonly NewStreamEvent[],
): Promise<number[]> {
  const { rows } = await db.query<{ n: number }>(`WITH ${change.ctes}, ${appendCtes(change.params.length + 1, 'kept')} SELECT n FROM kept, notified`, [
    ...change.params,
    streamRows(events),
  ])
  return rows.map((r) => Number(r.n))
}

/** A stored event's row; its times are strings in a notification's JSON. */
interface EventRow {
  id: number
  type: string
  at: Date | string
  device_id: string
  model: string
  region: string | null
  site: string | null
  severity: StreamEvent['severity']
  priority: StreamEvent['priority']
  body: Pick<StreamEvent, 'detection' | 'ticket'>
  stored_at: Date | string
}

function stored(r: EventRow): StoredEvent {
  const event: StreamEvent = {
    id: r.id,
    type: r.type,
    at: new Date(r.at).toISOString(),
    deviceId: r.device_id,
    model: r.model,
    region: r.region,
    site: r.site,
    severity: r.severity,
    priority: r.priority,
    ...r.body,
  }
  return { event, frame: JSON.stringify(event), storedAt: new Date(r.stored_at).getTime() }
}

/** The events a notification carries, oldest first; none for one that carries none (read them instead). */
export function notifiedEvents(payload: string | undefined): StoredEvent[] {
  return payload ? (JSON.parse(payload) as EventRow[]).map(stored) : []
}

/** Up to `limit` events after id `after` that pass the filter, oldest first. */
export async function readAfter(db: Queryable, after: number, filter: CompiledFilter, limit: number): Promise<StoredEvent[]> {
  const where = filter.where(3)
  const { rows } = await db.query<EventRow>(
    `SELECT ${eventColumns} FROM stream_events
     WHERE id > $1 AND ${where.sql} ORDER BY id LIMIT $2`,
    [after, limit, ...where.params],
  )
  return rows.map(stored)
}

/** The newest id (0 for none): a client with no backfill starts after it. */
export async function lastId(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ id: number }>('SELECT coalesce(max(id), 0) AS id FROM stream_events')
  return rows[0]!.id
}

/** Where `last=n` starts: just before the n-th newest event that passes the filter (0 if there are fewer). */
export async function cursorBeforeLast(db: Queryable, n: number, filter: CompiledFilter): Promise<number> {
  const where = filter.where(2)
  const { rows } = await db.query<{ id: number }>(`SELECT id FROM stream_events WHERE ${where.sql} ORDER BY id DESC OFFSET $1 LIMIT 1`, [
    n - 1,
    ...where.params,
  ])
  return rows[0] ? rows[0].id - 1 : 0
}

/** Where `since=` starts: just before the first event that happened at or after it (the newest id if none). */
export async function cursorBeforeSince(db: Queryable, since: Date): Promise<number> {
  const { rows } = await db.query<{ id: number | null }>('SELECT min(id) AS id FROM stream_events WHERE at >= $1', [since])
  return rows[0]?.id != null ? rows[0].id - 1 : lastId(db)
}

/** The newest id retention has deleted (0 for none). */
export async function expiredThrough(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ through: number }>('SELECT through FROM stream_expired')
  return rows[0]?.through ?? 0
}

/**
 * Deletes the oldest events, up to the first one that happened at or after `olderThan` (epoch ms), and notes the
 * newest id deleted. Only ever a prefix of the ids: "everything after id N" stays whole for what is kept. Returns
 * how many were deleted.
 */
export async function expire(db: Queryable, olderThan: number): Promise<number> {
  const { rows } = await db.query<{ deleted: number }>(
    `WITH kept AS (SELECT id FROM stream_events WHERE at >= to_timestamp($1 / 1000.0) ORDER BY id LIMIT 1),
          gone AS (DELETE FROM stream_events WHERE id < coalesce((SELECT id FROM kept), 9223372036854775807) RETURNING id),
          noted AS (UPDATE stream_expired SET through = greatest(through, (SELECT max(id) FROM gone)) WHERE EXISTS (SELECT 1 FROM gone))
     SELECT count(*)::int AS deleted FROM gone`,
    [olderThan],
  )
  return rows[0]!.deleted
}
