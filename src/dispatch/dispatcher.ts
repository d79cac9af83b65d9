// Automatic dispatch, off the rules stage's hot path: a pass over the tickets waiting for a technician, run when
// something may have changed in this process (a ticket opened or moved, a technician added or changed, a decline)
// and every interval (another process's changes, a shift starting). Each ticket is decided in its own transaction
// under its row lock, taken with SKIP LOCKED: two processes never decide the same ticket at once, and the load
// row lock with the tickets trigger keeps every technician within capacity.
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/index.js'
import type { Clock } from '../clock.js'
import { DatabaseUnavailable, type Database, type Queryable } from '../store/index.js'
import { inStreamTransaction } from '../stream/index.js'
import { finishedStatuses, TicketNotFound, type DispatchDecision } from '../tickets/index.js'
import {
  assignTicket,
  declineTicket,
  flaggedTickets,
  lockTicket,
  nextToDispatch,
  recordDecision,
  type DispatchTicket,
  type FlaggedTicket,
} from './assignments.js'
import { rank, whyWinner } from './score.js'
import type { TechnicianRepository } from './technicians.js'

export type DispatchMode = 'auto' | 'propose' | 'off'

/** Who dispatch writes into the history. */
const DISPATCH = 'dispatch'

export class AssignmentRefused extends Error {
  override name = 'AssignmentRefused'
}
export class UnknownTechnician extends Error {
  override name = 'UnknownTechnician'
}

export interface DispatcherDeps {
  db: Database
  technicians: TechnicianRepository
  catalog: Catalog
  clock: Clock
  /** the calendar a provider's qualification date is read in */
  timeZone: string
  mode: DispatchMode
  intervalMs: number
  log: Logger
  /** after each pass that ran to its end */
  onPass?: () => void
}

export class Dispatcher {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private again = false
  /** the next pass looks at the unassigned tickets again, not only the new ones */
  private retry = false
  private closed = false

  constructor(private readonly deps: DispatcherDeps) {}

  /** Looks once now, then every interval. */
  start(): void {
    if (this.deps.mode === 'off') return
    this.wake()
    this.timer = setInterval(() => this.wake(), this.deps.intervalMs)
  }

  /**
   * Something changed: a pass now, or right after the one running. A ticket opening needs only the new tickets
   * decided (`'opened'`); anything that can free or add a technician has the unassigned ones looked at again.
   */
  wake(change: 'opened' | 'technicians' = 'technicians'): void {
    if (this.deps.mode === 'off' || this.closed) return
    this.retry ||= change === 'technicians'
    if (this.running) {
      this.again = true
      return
    }
    this.running = (async () => {
      do {
        this.again = false
        const retry = this.retry
        this.retry = false
        await this.pass(retry).catch((err: Error) => {
          // looked at again at the next wake-up
          this.retry ||= retry
          if (!(err instanceof DatabaseUnavailable)) this.deps.log.warn({ err: err.message }, 'dispatch pass failed; the next one tries again')
        })
      } while (this.again && !this.closed)
      this.running = undefined
    })()
  }

  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    await this.running
  }

  /** Every ticket waiting for a decision (and, on `retry`, every unassigned one), the most urgent first, each in its own transaction. */
  private async pass(retry: boolean): Promise<void> {
    // An empty directory means dispatch is not in use yet: tickets wait, unflagged, for the first technician.
    if (!(await this.deps.technicians.anyActive())) return this.deps.onPass?.()
    let after = { priority: '', id: 0 }
    for (;;) {
      const ticket = await inStreamTransaction(this.deps.db, async (tx) => {
        const t = await nextToDispatch(tx, this.deps.catalog, after, retry)
        if (t) await this.decide(tx, t)
        return t
      })
      if (!ticket) return this.deps.onPass?.()
      if (this.closed) return
      after = { priority: ticket.priority, id: ticket.id }
    }
  }

  private async decide(tx: Queryable, t: DispatchTicket): Promise<void> {
    const now = this.deps.clock.now()
    const ranking = rank(t.need, await this.deps.technicians.dispatchable(tx), now, this.deps.timeZone)
    const base = {
      decidedAt: new Date(now).toISOString(),
      by: DISPATCH,
      ticket: ranking.ticket,
      rule: ranking.rule,
      candidates: ranking.candidates,
      rejected: ranking.rejected,
    }
    // Proposing takes no slot; assigning takes the first candidate who still has room under their row lock.
    let index = this.deps.mode === 'propose' && ranking.candidates.length > 0 ? 0 : -1
    if (this.deps.mode === 'auto' && ranking.candidates.length > 0) {
      const room = await this.deps.technicians.withRoom(
        tx,
        ranking.candidates.map((c) => c.technicianId),
      )
      index = ranking.candidates.findIndex((c) => room.has(c.technicianId))
    }
    const winner = ranking.candidates[index]
    if (!winner) {
      const reason = ranking.noCandidate ?? 'everyone qualified is at capacity'
      // Looked at again on every pass: recorded once per reason, not once per pass.
      if (t.dispatch?.outcome === 'unassigned' && t.dispatch.reason === reason) return
      const decision: DispatchDecision = { ...base, outcome: 'unassigned', technicianId: null, reason }
      return recordDecision(tx, t, decision, 'dispatch_failed', now)
    }
    const decision: DispatchDecision = {
      ...base,
      outcome: this.deps.mode === 'auto' ? 'assigned' : 'proposed',
      technicianId: winner.technicianId,
      reason: whyWinner(ranking, index),
    }
    if (decision.outcome === 'proposed') return recordDecision(tx, t, decision, 'dispatch_proposed', now)
    await assignTicket(
      tx,
      t,
      { id: winner.technicianId, name: winner.name },
      decision,
      'assigned',
      { action: 'assigned', by: DISPATCH, note: decision.reason, details: { technicianId: winner.technicianId, score: winner.score } },
      now,
    )
  }

  /** A supervisor's choice, with the reason (002: 手动调整工单分配,并注明调整原因). */
  async assign(ref: string, a: { technicianId: string; reason: string; by: string }): Promise<void> {
    await inStreamTransaction(this.deps.db, async (tx) => {
      const t = await this.locked(tx, ref)
      const tech = await this.deps.technicians.technician(a.technicianId, tx)
      if (!tech) throw new UnknownTechnician(`body.technicianId: no technician ${a.technicianId}`)
      if (!tech.active) throw new AssignmentRefused(`technician ${tech.id} is inactive`)
      if (t.technicianId === tech.id) throw new AssignmentRefused(`ticket ${t.number} is already assigned to ${tech.id}`)
      if (!(await this.deps.technicians.withRoom(tx, [tech.id])).has(tech.id)) {
        throw new AssignmentRefused(`technician ${tech.id} is at capacity (${tech.openTickets}/${tech.capacity})`)
      }
      const now = this.deps.clock.now()
      const ranking = rank(t.need, [], now, this.deps.timeZone)
      const decision: DispatchDecision = {
        outcome: 'manual',
        decidedAt: new Date(now).toISOString(),
        by: a.by,
        technicianId: tech.id,
        reason: a.reason,
        ticket: ranking.ticket,
        rule: "a supervisor's choice (002: 售后主管手动调整工单分配,并注明调整原因)",
        candidates: [],
        rejected: [],
      }
      await assignTicket(
        tx,
        t,
        tech,
        decision,
        'manual',
        { action: t.technicianId ? 'reassigned' : 'assigned', by: a.by, note: a.reason, details: { technicianId: tech.id, from: t.technicianId } },
        now,
      )
    })
    this.wake()
  }

  /** The assigned technician gives the ticket back with a reason; dispatch offers it to someone else. */
  async decline(ref: string, d: { reason: string; by: string }): Promise<void> {
    await inStreamTransaction(this.deps.db, async (tx) => {
      const t = await this.locked(tx, ref)
      if (!t.technicianId || t.status !== 'assigned') {
        throw new AssignmentRefused(
          `ticket ${t.number} is ${t.status}${t.technicianId ? '' : ' with no directory technician'}: only an assigned technician who has not started can decline`,
        )
      }
      await declineTicket(tx, t, d.by, d.reason, this.deps.clock.now())
    })
    this.wake()
  }

  flagged(): Promise<FlaggedTicket[]> {
    return flaggedTickets(this.deps.db)
  }

  private async locked(tx: Queryable, ref: string): Promise<DispatchTicket> {
    const t = await lockTicket(tx, this.deps.catalog, ref)
    if (!t) throw new TicketNotFound(`ticket ${ref} does not exist`)
    if (finishedStatuses.includes(t.status)) throw new AssignmentRefused(`ticket ${t.number} is ${t.status}`)
    return t
  }
}
