// Closes the tickets whose follow-up call went unanswered past its deadline (issue 12: no answer by the deadline
// closes, with the reason recorded). One pass at start (what fell due while Faultline was down), then one an
// interval, as the SLA watcher; several processes on one database close each ticket once (FollowUps.expire).
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import { PeriodicPass } from '../periodic.js'
import type { FollowUps } from './follow-ups.js'

/** Tickets closed per query: a backlog after an outage goes in pages. */
const PAGE = 100

export interface FollowUpWatcherDeps {
  followUps: FollowUps
  clock: Clock
  log: Logger
  intervalMs: number
  /** each ticket this process closed, once committed */
  onExpired?: () => void
  onPass?: () => void
}

export class FollowUpWatcher {
  private readonly periodic: PeriodicPass

  constructor(private readonly deps: FollowUpWatcherDeps) {
    this.periodic = new PeriodicPass(() => this.runDue(), deps.intervalMs, deps.log, 'follow-up pass failed; the next interval tries again')
  }

  start(): Promise<void> {
    return this.periodic.start()
  }

  close(): Promise<void> {
    return this.periodic.close()
  }

  /** One pass over every follow-up unanswered at its deadline, page by page. */
  async runDue(): Promise<void> {
    const { followUps, clock, onExpired, onPass } = this.deps
    const now = clock.now()
    for (;;) {
      const due = await followUps.due(now, PAGE)
      for (const ticketId of due) if (await followUps.expire(ticketId)) onExpired?.()
      // each one looked at is settled now (here or by another process): the next page holds others
      if (due.length < PAGE) break
    }
    onPass?.()
  }
}
