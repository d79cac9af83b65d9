// Which of a ticket's deadlines call for an alert at an instant. Pure: the watcher asks it under the row lock.
import { deadlineKinds } from '../rules/index.js'
import type { SlaAlert, Ticket } from '../tickets/index.js'

/**
 * A breach for each deadline not met that has passed, else a warning for each past its warning instant. A deadline
 * that passed unwarned (Faultline was down) is reported once, as the breach it is. Raising each only once is the
 * repository's (sla_alerts); a paused ticket is never asked (its next instant is none).
 */
export function dueAlerts(t: Ticket, now: number): SlaAlert[] {
  return deadlineKinds.flatMap((deadline): SlaAlert[] => {
    if (t.sla.state[deadline] === 'met') return []
    const due = Date.parse(t.sla[`${deadline}By`])
    if (now >= due) return [{ deadline, level: 'breach', due }]
    if (now >= Date.parse(t.sla[`${deadline}WarnAt`])) return [{ deadline, level: 'warning', due }]
    return []
  })
}
