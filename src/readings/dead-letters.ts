// Reading refused messages back, newest first.
import { z } from 'zod'
import type { Queryable } from '../store/index.js'

export const deadLetter = z.strictObject({
  id: z.string(),
  time: z.string(),
  deviceId: z.string().nullable(),
  topic: z.string(),
  reason: z.string(),
  payloadHead: z.string(),
})
export type DeadLetter = z.infer<typeof deadLetter>

export async function deadLetters(db: Queryable, q: { deviceId?: string; limit: number }): Promise<DeadLetter[]> {
  const { rows } = await db.query<{ id: string; time: Date; device_id: string | null; topic: string; reason: string; payload_head: string }>(
    `SELECT id, time, device_id, topic, reason, payload_head FROM dead_letters
     WHERE $1::text IS NULL OR device_id = $1 ORDER BY n DESC LIMIT $2`,
    [q.deviceId ?? null, q.limit],
  )
  return rows.map((r) => ({ id: r.id, time: r.time.toISOString(), deviceId: r.device_id, topic: r.topic, reason: r.reason, payloadHead: r.payload_head }))
}
