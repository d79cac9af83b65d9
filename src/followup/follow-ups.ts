// The follow-up call after each resolution (issue 12). 000 二.5: 一周内回访, re-dispatched if the device still has
// the problem; 002 二.4: 满意 closes the ticket automatically, 一般/不满意 sends it back to the supervisor (主管);
// 004 (四)3/(五)1: 回访 after the repair, the ticket closed only once solved and the customer satisfied. An
// unanswered call closes the ticket at its deadline, with the reason in the history.
import { z } from 'zod'
import type { Database, Queryable } from '../store/index.js'
import { recordTicketChange, type LockedTicket, type Status, type Ticket, type TicketRepository } from '../tickets/index.js'
import { answerScale, ratings, type Rating } from './rating.js'

const SYSTEM = 'faultline'

/** How the customer was reached (004: 电话或短信; 002: 短信/消息). */
export const followUpChannels = ['phone', 'sms', 'wechat', 'web', 'email', 'on_site'] as const
export const followUpOutcomes = ['closed', 'reopened', 'expired'] as const

export const followUpSchema = z.object({
  id: z.number(),
  /** 1 for the first resolution, 2 after a reopen, ... */
  round: z.number(),
  dueAt: z.string(),
  answeredAt: z.string().nullable(),
  rating: z.enum(ratings).nullable(),
  score: z.number().nullable(),
  comment: z.string().nullable(),
  by: z.string().nullable(),
  channel: z.enum(followUpChannels).nullable(),
  /** null while waiting for the answer */
  outcome: z.enum(followUpOutcomes).nullable(),
  closedAt: z.string().nullable(),
})
export type FollowUp = z.infer<typeof followUpSchema>

/** The customer's answer, on 002's scale or as a score. */
export type FollowUpAnswer = ({ rating: Rating } | { score: number }) & {
  comment?: string
  by: string
  channel?: (typeof followUpChannels)[number]
}

/** A follow-up asked of a ticket that has none waiting (it is not resolved). */
export class FollowUpRefused extends Error {
  override name = 'FollowUpRefused'
}
/** The watcher's close found the follow-up answered or expired meanwhile (by another process): nothing to do. */
class AlreadySettled extends Error {}

const iso = (ms: number) => new Date(ms).toISOString()
const at = (ms: number) => `to_timestamp(${ms} / 1000.0)`
const instant = (d: Date | null) => d?.toISOString() ?? null

interface FollowUpRow {
  id: string
  round: number
  due_at: Date
  answered_at: Date | null
  rating: FollowUp['rating']
  score: number | null
  comment: string | null
  by: string | null
  channel: FollowUp['channel']
  outcome: FollowUp['outcome']
  closed_at: Date | null
}

/**
 * For the transaction that resolves a ticket (TicketRepository's onResolved): the next round's call, due
 * `withinMs` (FAULTLINE_FOLLOW_UP_WITHIN) after the resolution, and a `follow_up` history entry, which the
 * webhooks send the customer (src/notify).
 */
export const followUpScheduler =
  (withinMs: number) =>
  async (tx: Queryable, ticket: Ticket): Promise<void> => {
    const resolvedAt = Date.parse(ticket.resolvedAt!)
    const dueAt = resolvedAt + withinMs
    const { rows } = await tx.query<{ round: number }>(
      `INSERT INTO follow_ups (ticket_id, round, due_at)
       SELECT $1, coalesce(max(round), 0) + 1, ${at(dueAt)} FROM follow_ups WHERE ticket_id = $1 RETURNING round`,
      [ticket.id],
    )
    await recordTicketChange(tx, ticket.id, resolvedAt, SYSTEM, 'follow_up', `follow-up call due by ${iso(dueAt)}`, {
      round: rows[0]!.round,
      dueAt: iso(dueAt),
    })
  }

export class FollowUps {
  constructor(
    private readonly db: Database,
    private readonly tickets: TicketRepository,
  ) {}

  /**
   * The customer's answer to the waiting call: satisfied closes the ticket; neutral or dissatisfied reopens it for
   * the supervisor with the comment (002). The score is the ticket's satisfaction. Refused unless resolved.
   */
  async answer(ref: string, answer: FollowUpAnswer): Promise<Ticket> {
    const { rating, score } = answerScale(answer)
    const to = rating === 'satisfied' ? 'closed' : 'reopened'
    const note = `${rating} at the follow-up call${to === 'reopened' ? ', for the supervisor' : ''}${answer.comment ? `: ${answer.comment}` : ''}`
    return this.tickets.transition(ref, { to, by: answer.by, note, satisfaction: score, comment: answer.comment }, async (tx, current, now) => {
      if (current.status !== 'resolved') throw new FollowUpRefused(`the ticket is ${current.status}: only a resolved ticket has a follow-up call to answer`)
      const { rows } = await tx.query<{ round: number }>(
        `UPDATE follow_ups SET answered_at = ${at(now)}, closed_at = ${at(now)}, rating = $2, score = $3, comment = $4, by = $5, channel = $6, outcome = $7
         WHERE ticket_id = $1 AND outcome IS NULL RETURNING round`,
        [current.id, rating, score, answer.comment ?? null, answer.by, answer.channel ?? null, to],
      )
      // every resolution schedules one (and 0014 one for each ticket resolved before): none is a broken invariant
      if (!rows[0]) throw new Error(`resolved ticket ${current.id} has no follow-up waiting`)
      await recordTicketChange(tx, current.id, now, answer.by, 'follow_up_answered', answer.comment, {
        round: rows[0].round,
        rating,
        score,
        channel: answer.channel,
      })
    })
  }

  /**
   * For a person's move of a ticket (POST /transitions), under its lock: a resolved ticket taken back to work by
   * hand ends its waiting call, reopened without an answer, so the watcher never closes a ticket being worked on.
   */
  readonly settleOnMove =
    (to: Status) =>
    async (tx: Queryable, current: LockedTicket, now: number): Promise<void> => {
      if (current.status !== 'resolved' || to !== 'in_progress') return
      await tx.query(`UPDATE follow_ups SET outcome = 'reopened', closed_at = ${at(now)} WHERE ticket_id = $1 AND outcome IS NULL`, [current.id])
    }

  /** For the watcher: the tickets whose call is unanswered at its deadline, soonest first (follow_ups_pending_due). */
  async due(now: number, limit: number): Promise<number[]> {
    const { rows } = await this.db.query<{ ticket_id: string }>(
      `SELECT ticket_id FROM follow_ups WHERE outcome IS NULL AND due_at <= ${at(now)} ORDER BY due_at, ticket_id LIMIT $1`,
      [limit],
    )
    return rows.map((r) => Number(r.ticket_id))
  }

  /**
   * Closes the ticket if its call is still unanswered past its deadline, with the reason. Under the ticket's row
   * lock the follow-up is claimed by a conditional update: of two processes, the one that finds it already
   * settled closes nothing. Returns whether this call closed it.
   */
  async expire(ticketId: number): Promise<boolean> {
    try {
      await this.tickets.transition(
        String(ticketId),
        { to: 'closed', by: SYSTEM, note: 'no answer to the follow-up call by its deadline' },
        async (tx, current, now) => {
          const { rows } = await tx.query<{ round: number; due_at: Date }>(
            `UPDATE follow_ups SET outcome = 'expired', closed_at = ${at(now)} WHERE ticket_id = $1 AND outcome IS NULL AND due_at <= ${at(now)}
           RETURNING round, due_at`,
            [current.id],
          )
          if (!rows[0]) throw new AlreadySettled()
          const dueAt = rows[0].due_at.toISOString()
          await recordTicketChange(tx, current.id, now, SYSTEM, 'follow_up_expired', `unanswered by ${dueAt}`, { round: rows[0].round, dueAt })
        },
      )
      return true
    } catch (err) {
      if (err instanceof AlreadySettled) return false
      throw err
    }
  }

  /** A ticket's follow-ups, first round first. */
  async of(ticketId: number): Promise<FollowUp[]> {
    const { rows } = await this.db.query<FollowUpRow>(
      `SELECT id, round, due_at, answered_at, rating, score, comment, by, channel, outcome, closed_at FROM follow_ups WHERE ticket_id = $1 ORDER BY round`,
      [ticketId],
    )
    return rows.map((r) => ({
      id: Number(r.id),
      round: r.round,
      dueAt: r.due_at.toISOString(),
      answeredAt: instant(r.answered_at),
      rating: r.rating,
      score: r.score,
      comment: r.comment,
      by: r.by,
      channel: r.channel,
      outcome: r.outcome,
      closedAt: instant(r.closed_at),
    }))
  }
}
