// Where each of a ticket's deadlines stands at an instant: met, on track, at risk (past its warning) or breached.
import { deadlineKinds, type DeadlineKind } from '../rules/index.js'
import { metIn, type Status } from './lifecycle.js'
import type { Ticket } from './ticket.js'

export const slaStates = ['met', 'on_track', 'at_risk', 'breached'] as const
export type SlaState = (typeof slaStates)[number]

/** A paused ticket is judged at the instant its clock stopped. */
export function slaStateAt(sla: Omit<Ticket['sla'], 'state'>, status: Status, now: number): Record<DeadlineKind, SlaState> {
  const at = sla.pausedAt === null ? now : Date.parse(sla.pausedAt)
  const state = {} as Record<DeadlineKind, SlaState>
  for (const kind of deadlineKinds) {
    state[kind] = (metIn[kind] as readonly Status[]).includes(status)
      ? 'met'
      : at >= Date.parse(sla[`${kind}By`])
        ? 'breached'
        : at >= Date.parse(sla[`${kind}WarnAt`])
          ? 'at_risk'
          : 'on_track'
  }
  return state
}
