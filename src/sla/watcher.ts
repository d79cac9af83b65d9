// Watches the SLA deadlines (issue 11; 001 and 004: 预警): a warning when a deadline not met is at risk, a breach
// when it passes, each once per deadline. One pass at start reports what passed while Faultline was down, then
// one pass an interval. A ticket's alerts are decided under its row lock and kept by sla_alerts' key, so two
// processes, or a restart between the warning and the breach, never raise one twice.
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import { deadlineKinds, escalate, type DeadlineKind, type Priority, type SlaPolicy } from '../rules/index.js'
import type { Database, Queryable } from '../store/index.js'
import { metIn, recordHistory, rewatch, type Status } from '../tickets/index.js'

const SYSTEM = 'faultline'
/** Tickets locked and judged per query: a backlog after an outage goes in pages. */
const PAGE = 100

export type AlertLevel = 'warning' | 'breach'
export interface Alert {
  ticketId: number
  deadline: DeadlineKind
  level: AlertLevel
  priority: Priority
}

export interface SlaWatcherDeps {
  db: Database
  clock: Clock
  policy: Pick<SlaPolicy, 'escalation'>
  log: Logger
  intervalMs: number
  onAlert?: (alert: Alert) => void
  onPass?: () => void
}

type Watched = { id: number; status: Status; priority: Priority; next: Date | null } & Record<`${DeadlineKind}${'By' | 'WarnAt'}`, Date>

const historyAction: Record<AlertLevel, string> = { warning: 'sla_warning', breach: 'sla_breached' }

export class SlaWatcher {
  private timer: NodeJS.Timeout | undefined
  private pass: Promise<void> = Promise.resolve()

  constructor(private readonly deps: SlaWatcherDeps) {}

  /** Reports what fell due while Faultline was down, then looks again every interval. */
  async start(): Promise<void> {
    await this.runDue()
    this.timer = setInterval(() => {
      this.pass = this.pass
        .then(() => this.runDue())
        .then(
          () => undefined,
          (err: Error) => this.deps.log.warn({ err: err.message }, 'SLA pass failed; the next interval tries again'),
        )
    }, this.deps.intervalMs)
  }

  async close(): Promise<void> {
    clearInterval(this.timer)
    await this.pass
  }

  /** One pass: every ticket whose next SLA instant has come, page by page. Returns the alerts raised. */
  async runDue(): Promise<Alert[]> {
    const now = this.deps.clock.now()
    const raised: Alert[] = []
    for (;;) {
      const { rows } = await this.deps.db.query<{ id: string }>(
        `SELECT id FROM tickets WHERE next_sla_at <= to_timestamp($1 / 1000.0) ORDER BY next_sla_at LIMIT ${PAGE}`,
        [now],
      )
      for (const { id } of rows) {
        const alerts = await this.deps.db.transaction((tx) => this.judge(tx, Number(id), now))
        // counted once committed: a rolled-back alert was not raised
        for (const alert of alerts) this.deps.onAlert?.(alert)
        raised.push(...alerts)
      }
      // each ticket judged moves its next_sla_at past now (or to none): the next page holds others
      if (rows.length < PAGE) break
    }
    this.deps.onPass?.()
    return raised
  }

  /** Raises what is due on one ticket, under its row lock, and sets its next instant. */
  private async judge(tx: Queryable, id: number, now: number): Promise<Alert[]> {
    const { rows } = await tx.query<Watched>(
      `SELECT id, status, priority, next_sla_at AS next,
         respond_by AS "respondBy", start_by AS "startBy", resolve_by AS "resolveBy",
         respond_warn_at AS "respondWarnAt", start_warn_at AS "startWarnAt", resolve_warn_at AS "resolveWarnAt"
       FROM tickets WHERE id = $1 FOR UPDATE`,
      [id],
    )
    const t = rows[0]
    // another process got here first and moved it on
    if (!t?.next || t.next.getTime() > now) return []
    const alerts: Alert[] = []
    for (const deadline of deadlineKinds) {
      if ((metIn[deadline] as readonly Status[]).includes(t.status)) continue
      const due = t[`${deadline}By`].getTime()
      // a deadline that passed unwarned (Faultline was down) is reported once, as the breach it is
      const level: AlertLevel | undefined = now >= due ? 'breach' : now >= t[`${deadline}WarnAt`].getTime() ? 'warning' : undefined
      if (!level || !(await this.claim(tx, id, deadline, level, now))) continue
      await recordHistory(
        tx,
        id,
        now,
        SYSTEM,
        historyAction[level],
        t.status,
        level === 'breach' ? `${deadline} deadline passed` : `${deadline} deadline at risk`,
        { deadline, due: new Date(due).toISOString() },
      )
      alerts.push({ ticketId: id, deadline, level, priority: t.priority })
      if (level === 'breach') t.priority = await this.escalate(tx, t, deadline, now)
    }
    await rewatch(tx, id)
    return alerts
  }

  /** True for the one process, and the one pass, whose row this is. */
  private async claim(tx: Queryable, id: number, deadline: DeadlineKind, level: AlertLevel, now: number): Promise<boolean> {
    const { rows } = await tx.query(
      `INSERT INTO sla_alerts (ticket_id, deadline, level, at) VALUES ($1, $2, $3, to_timestamp($4 / 1000.0))
       ON CONFLICT DO NOTHING RETURNING ticket_id`,
      [id, deadline, level, now],
    )
    return rows.length > 0
  }

  /** A breach escalates as the policy says: raise the priority one level, or call the supervisor (P1 has no higher level). */
  private async escalate(tx: Queryable, t: Watched, deadline: DeadlineKind, now: number): Promise<Priority> {
    const { escalation } = this.deps.policy
    if (escalation === 'none') return t.priority
    const to = escalate(t.priority)
    if (escalation === 'priority' && to !== t.priority) {
      // the deadlines promised stay: a higher priority puts the ticket ahead in the queue, it does not shorten them
      await tx.query(`UPDATE tickets SET priority = $2, updated_at = to_timestamp($3 / 1000.0) WHERE id = $1`, [t.id, to, now])
      await recordHistory(tx, t.id, now, SYSTEM, 'escalated', t.status, `${deadline} deadline breached: priority raised`, {
        deadline,
        from: t.priority,
        to,
      })
      return to
    }
    await recordHistory(tx, t.id, now, SYSTEM, 'escalated', t.status, `${deadline} deadline breached: for the supervisor`, {
      deadline,
      to: 'supervisor',
    })
    return t.priority
  }
}
