// What the SLA watcher (src/sla) reads: next_sla_at, the next instant a ticket's deadlines need a look, kept
// current by every change to the ticket and by the watcher's own alerts, so that its query is one index range.
import { deadlineKinds, type DeadlineKind } from '../rules/index.js'
import type { Queryable } from '../store/index.js'
import { finishedStatuses, metIn } from './lifecycle.js'

const list = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ')
const unmet = (kind: DeadlineKind, t = 'tickets') => `${t}.status NOT IN (${list(metIn[kind])})`
const alerted = (kind: DeadlineKind, level: 'warning' | 'breach') =>
  `EXISTS (SELECT 1 FROM sla_alerts a WHERE a.ticket_id = t.id AND a.deadline = '${kind}' AND a.level = '${level}')`

/**
 * Sets next_sla_at from the ticket's status, pause and alerts: for each deadline not met and not breached, its
 * warning instant until warned, then the deadline itself; nothing while paused or finished.
 */
export async function rewatch(tx: Queryable, ticketId: number): Promise<void> {
  const next = deadlineKinds.map(
    (k) => `CASE WHEN ${unmet(k, 't')} AND NOT ${alerted(k, 'breach')} THEN CASE WHEN ${alerted(k, 'warning')} THEN t.${k}_by ELSE t.${k}_warn_at END END`,
  )
  await tx.query(
    `UPDATE tickets t SET next_sla_at = CASE WHEN t.paused_at IS NULL AND t.status NOT IN (${list(finishedStatuses)}) THEN least(${next.join(', ')}) END
     WHERE t.id = $1`,
    [ticketId],
  )
}

/** SQL true when a deadline not yet met compares so, e.g. `unmetDeadline('< $8')` for one due before $8. */
export const unmetDeadline = (comparison: string) =>
  `(tickets.status NOT IN (${list(finishedStatuses)}) AND (${deadlineKinds.map((k) => `(${unmet(k)} AND tickets.${k}_by ${comparison})`).join(' OR ')}))`
