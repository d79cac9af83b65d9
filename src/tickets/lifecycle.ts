// A ticket's life: open → acknowledged → assigned → in_progress → resolved → closed, or cancelled. Between
// assignment and resolution the work steps of 002 (远程处理中, 已上门检测, 等待配件到货) and a wait on the customer.
// The follow-up call (src/followup) closes a resolved ticket or reopens it for the supervisor (002: 一般/不满意 转回
// 售后主管); a person may also take a resolved ticket back to in_progress (000: 重新派单).
import type { DeadlineKind } from '../rules/index.js'

export const statuses = [
  'open',
  'acknowledged',
  'assigned',
  'in_progress',
  'remote_handling',
  'on_site',
  'waiting_parts',
  'waiting_customer',
  'resolved',
  'reopened',
  'closed',
  'cancelled',
] as const
export type Status = (typeof statuses)[number]

/** Working on it: any of these may follow another, the two waits included. */
const working = ['in_progress', 'remote_handling', 'on_site', 'waiting_parts', 'waiting_customer'] as const satisfies readonly Status[]
const others = (s: Status) => working.filter((w) => w !== s)

export const allowedTransitions: Record<Status, readonly Status[]> = {
  open: ['acknowledged', 'assigned', 'cancelled'],
  acknowledged: ['assigned', 'cancelled'],
  // 002: 远程协助 for a simple problem, 上门服务 for a complex one
  assigned: ['assigned', 'in_progress', 'remote_handling', 'on_site', 'cancelled'],
  in_progress: [...others('in_progress'), 'resolved', 'cancelled'],
  remote_handling: [...others('remote_handling'), 'resolved', 'cancelled'],
  on_site: [...others('on_site'), 'resolved', 'cancelled'],
  // a wait ends when the part arrives or the customer answers: work resumes, it is not resolved by waiting
  waiting_parts: [...others('waiting_parts'), 'cancelled'],
  waiting_customer: [...others('waiting_customer'), 'cancelled'],
  // closed and reopened are the follow-up's outcomes (POST /api/tickets/:id/follow-up)
  resolved: ['closed', 'reopened', 'in_progress'],
  // the supervisor re-dispatches (002: 安排二次服务), takes it on, or cancels it
  reopened: ['assigned', 'in_progress', 'cancelled'],
  closed: [],
  cancelled: [],
}

/** Each status in the words of the documents (002's 已受理-处理中-待确认-已完成 and its work steps). */
export const statusLabels: Record<Status, { label: string; zh: string }> = {
  open: { label: 'Open', zh: '待受理' },
  acknowledged: { label: 'Acknowledged', zh: '已受理' },
  assigned: { label: 'Assigned', zh: '已派单' },
  in_progress: { label: 'In progress', zh: '处理中' },
  remote_handling: { label: 'Remote handling', zh: '远程处理中' },
  on_site: { label: 'On site', zh: '已上门检测' },
  waiting_parts: { label: 'Waiting for parts', zh: '等待配件到货' },
  // issue 11: the clock pauses while the ticket waits on the customer (002: 预约上门, the customer's time)
  waiting_customer: { label: 'Waiting for the customer', zh: '等待客户' },
  resolved: { label: 'Resolved, awaiting confirmation', zh: '待客户确认' },
  // 002: 工单转回售后主管跟进处理
  reopened: { label: 'Reopened for the supervisor', zh: '主管复核' },
  closed: { label: 'Closed', zh: '已完成' },
  cancelled: { label: 'Cancelled', zh: '已取消' },
}

/** Statuses in which a ticket no longer counts as open for its device and condition (see tickets_one_open). */
export const finishedStatuses: readonly Status[] = ['resolved', 'closed', 'cancelled']

/** The SLA clock stands still while the ticket waits on someone else (issue 11). */
export const pausedStatuses: readonly Status[] = ['waiting_parts', 'waiting_customer']

/**
 * The statuses in which each deadline has been met: responded once acknowledged or assigned, started once worked on.
 * A reopened ticket was responded to and started in its first round; its resolve deadline is unmet again, as the
 * repair did not hold (004: 直至问题彻底解决).
 */
export const metIn = {
  respond: statuses.filter((s) => s !== 'open'),
  start: statuses.filter((s) => !['open', 'acknowledged', 'assigned'].includes(s)),
  resolve: ['resolved', 'closed', 'cancelled'] as Status[],
} satisfies Record<DeadlineKind, readonly Status[]>
