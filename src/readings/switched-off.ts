// Devices whose latest status report was their own `online: false`: switched off by their owner, which is not a
// fault (issue 9). A restarted offline detector leaves them unwatched until they next report.
import type { Queryable } from '../store/index.js'

/**
 * Of `deviceIds`, those whose newest status report (by device time) is an `online: false` the device sent itself,
 * not a last will, with when it was received: the caller knows whether anything was heard after it.
 */
export async function switchedOffSince(db: Queryable, deviceIds: readonly string[]): Promise<Map<string, number>> {
  // One index probe per device on device_status (device_id, time), not a scan of the whole history.
  const { rows } = await db.query<{ device_id: string; received_at: Date }>(
    `SELECT d.id AS device_id, s.received_at
     FROM unnest($1::text[]) AS d(id)
     CROSS JOIN LATERAL (SELECT online, will, received_at FROM device_status WHERE device_id = d.id ORDER BY time DESC LIMIT 1) s
     WHERE s.online = false AND NOT s.will`,
    [deviceIds],
  )
  return new Map(rows.map((r) => [r.device_id, r.received_at.getTime()]))
}
