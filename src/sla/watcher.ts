// Watches the SLA deadlines (issue 11; 001 and 004: 预警): a warning when a deadline not met is at risk, a breach
// when it passes, each once per deadline. One pass at start reports what passed while Faultline was down, then
// one pass an interval. Each ticket is judged under its row lock and each alert kept by sla_alerts' key, so two
// processes, or a restart between the warning and the breach, never raise one twice.
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import { PeriodicPass } from '../periodic.js'
import type { Escalation } from '../rules/index.js'
import type { RaisedAlert, TicketRepository } from '../tickets/index.js'
import { dueAlerts } from './due.js'

/** Tickets judged per query: a backlog after an outage goes in pages. */
const PAGE = 100

export interface SlaWatcherDeps {
  tickets: TicketRepository
  clock: Clock
  escalation: Escalation
  log: Logger
  intervalMs: number
  /** each alert raised, once committed */
  onAlert?: (alert: RaisedAlert) => void
  onPass?: () => void
}

export class SlaWatcher {
  private readonly periodic: PeriodicPass

  constructor(private readonly deps: SlaWatcherDeps) {
    this.periodic = new PeriodicPass(() => this.runDue(), deps.intervalMs, deps.log, 'SLA pass failed; the next interval tries again')
  }

  /** Reports what fell due while Faultline was down, then looks again every interval. */
  start(): Promise<void> {
    return this.periodic.start()
  }

  close(): Promise<void> {
    return this.periodic.close()
  }

  /** One pass over every ticket whose next SLA instant has come, page by page. */
  async runDue(): Promise<void> {
    const { tickets, clock, escalation, onAlert, onPass } = this.deps
    const now = clock.now()
    for (;;) {
      const due = await tickets.slaDue(now, PAGE)
      for (const id of due) {
        const raised = await tickets.raiseSlaAlerts(id, now, (t) => dueAlerts(t, now), escalation)
        for (const alert of raised) onAlert?.(alert)
      }
      // each ticket judged has its next instant moved past now (or to none): the next page holds others
      if (due.length < PAGE) break
    }
    onPass?.()
  }
}
