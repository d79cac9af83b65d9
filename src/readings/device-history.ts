// Reading a device's stored events and status reports back, oldest first within a time range, a page at a time.
// The cursor is the last row's unique key (events: time, code, type; status: time), so a page boundary between
// rows of the same time neither repeats nor skips one.
import { z } from 'zod'
import { isoInstant, storableText, type Queryable } from '../store/index.js'

export interface HistoryQuery {
  deviceId: string
  from: Date
  to: Date
  /** the previous page's `next` */
  after?: string
  limit: number
}

export interface Page<T> {
  items: T[]
  /** the cursor of the next page, null on the last */
  next: string | null
}

export const deviceEvent = z.strictObject({
  time: z.string(),
  receivedAt: z.string(),
  type: z.enum(['fault', 'fault_cleared']),
  code: z.string(),
  seq: z.number().nullable(),
  detail: z.string().nullable(),
})
export type DeviceEvent = z.infer<typeof deviceEvent>

export const statusReport = z.strictObject({
  time: z.string(),
  receivedAt: z.string(),
  online: z.boolean().nullable(),
  fw: z.string().nullable(),
  /** every other key the device sent */
  details: z.record(z.string(), z.unknown()),
})
export type DeviceStatus = z.infer<typeof statusReport>

/** A cursor the client hands back untouched: the row key, opaque. */
const encode = (key: string[]) => Buffer.from(JSON.stringify(key)).toString('base64url')

export class BadCursor extends Error {
  override name = 'BadCursor'
}

/**
 * The row key a cursor holds, each part as the database can compare it: anything else, however it came to be (a
 * forged or edited cursor), is a BadCursor, the route's 400, never a statement the database refuses as a 500.
 */
const eventKey = z.tuple([isoInstant, storableText, z.enum(['fault', 'fault_cleared'])])
const statusKey = z.tuple([isoInstant])

function decode<K extends z.ZodType<string[]>>(cursor: string | undefined, key: K): z.infer<K> | undefined {
  if (cursor === undefined) return undefined
  let json: unknown
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString())
  } catch {
    // falls through to the error below
  }
  const parsed = key.safeParse(json)
  if (parsed.success) return parsed.data
  throw new BadCursor('not a cursor this route gave out')
}

const pageOf = <T>(items: T[], limit: number, keyOf: (item: T) => string[]): Page<T> => ({
  items,
  next: items.length === limit ? encode(keyOf(items.at(-1)!)) : null,
})

export async function deviceEvents(db: Queryable, q: HistoryQuery): Promise<Page<DeviceEvent>> {
  const [time, code, type] = decode(q.after, eventKey) ?? [null, null, null]
  const { rows } = await db.query<{ time: Date; received_at: Date; type: DeviceEvent['type']; code: string; seq: string | null; detail: string | null }>(
    `SELECT time, received_at, type, code, seq, detail FROM device_events
     WHERE device_id = $1 AND time >= $2 AND time < $3 AND ($4::timestamptz IS NULL OR (time, code, type) > ($4, $5, $6))
     ORDER BY time, code, type LIMIT $7`,
    [q.deviceId, q.from, q.to, time, code, type, q.limit],
  )
  const items = rows.map((r) => ({
    time: r.time.toISOString(),
    receivedAt: r.received_at.toISOString(),
    type: r.type,
    code: r.code,
    seq: r.seq === null ? null : Number(r.seq),
    detail: r.detail,
  }))
  return pageOf(items, q.limit, (e) => [e.time, e.code, e.type])
}

export async function deviceStatus(db: Queryable, q: HistoryQuery): Promise<Page<DeviceStatus>> {
  const [time] = decode(q.after, statusKey) ?? [null]
  const { rows } = await db.query<{ time: Date; received_at: Date; online: boolean | null; fw: string | null; details: Record<string, unknown> }>(
    `SELECT time, received_at, online, fw, details FROM device_status
     WHERE device_id = $1 AND time >= $2 AND time < $3 AND ($4::timestamptz IS NULL OR time > $4)
     ORDER BY time LIMIT $5`,
    [q.deviceId, q.from, q.to, time, q.limit],
  )
  const items = rows.map((r) => ({ time: r.time.toISOString(), receivedAt: r.received_at.toISOString(), online: r.online, fw: r.fw, details: r.details }))
  return pageOf(items, q.limit, (s) => [s.time])
}
