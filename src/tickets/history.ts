// A ticket's history: every change, with who and when. Each entry becomes a live-stream event (src/stream).
import type { Queryable } from '../store/index.js'
import type { Status } from './lifecycle.js'

export async function recordHistory(
  tx: Queryable,
  ticketId: number,
  at: number,
  by: string,
  action: string,
  status: Status,
  note?: string,
  details?: unknown,
) {
  await tx.query(`INSERT INTO ticket_history (ticket_id, at, by, action, status, note, details) VALUES ($1, to_timestamp($2 / 1000.0), $3, $4, $5, $6, $7)`, [
    ticketId,
    at,
    by,
    action,
    status,
    note ?? null,
    details === undefined ? null : JSON.stringify(details),
  ])
}
