// Ticket priority and its service-level deadlines.
//   P1: the unit is unusable, or a safety hazard (leak, overheating, gas, electrical)
//   P2: a core function lost · P3: a partial fault · P4: minor or informational
import { z } from 'zod'
import { duration, type Severity } from '../catalog/index.js'

export const priorities = ['P1', 'P2', 'P3', 'P4'] as const
export type Priority = (typeof priorities)[number]

/** Catalog severities are defined to line up with the priorities; a safety hazard overrides them. */
const priorityOfSeverity: Record<Severity, Priority> = { critical: 'P1', major: 'P2', minor: 'P3', info: 'P4' }

export function priorityFor({ severity, safetyHazard = false }: { severity: Severity; safetyHazard?: boolean }): Priority {
  return safetyHazard ? 'P1' : priorityOfSeverity[severity]
}

/** One level more urgent, for a repeat repair; P1 stays P1. */
export function escalate(priority: Priority): Priority {
  return priorities[Math.max(0, priorities.indexOf(priority) - 1)] ?? 'P1'
}

export interface SlaTarget {
  /** ms from the ticket's creation to the first response */
  respondWithin: number
  /** ms from the ticket's creation to work starting (in progress, remote handling or on site) */
  startWithin: number
  /** ms from the ticket's creation to the fault being fixed */
  resolveWithin: number
}
export type SlaConfig = Record<Priority, SlaTarget>

const minutes = 60_000
const hours = 60 * minutes
// 004: P1 30 分钟内响应, 2 小时内开始处理, 平均解决时间 4 小时. The documents give no other priority's numbers:
// P2–P4 are Faultline's own, each level looser than the one above (override with FAULTLINE_SLA).
export const defaultSla: SlaConfig = {
  P1: { respondWithin: 30 * minutes, startWithin: 2 * hours, resolveWithin: 4 * hours },
  P2: { respondWithin: 2 * hours, startWithin: 8 * hours, resolveWithin: 24 * hours },
  P3: { respondWithin: 8 * hours, startWithin: 24 * hours, resolveWithin: 72 * hours },
  P4: { respondWithin: 24 * hours, startWithin: 72 * hours, resolveWithin: 7 * 24 * hours },
}

const slaTargetOverride = z.strictObject({ respondWithin: duration.optional(), startWithin: duration.optional(), resolveWithin: duration.optional() })

/**
 * Overrides of the default SLA, e.g. `{ P1: { respondWithin: "15m" } }`, durations as text or milliseconds.
 * Parses to a complete SlaConfig.
 */
export const slaConfigSchema = z
  .strictObject({ P1: slaTargetOverride.optional(), P2: slaTargetOverride.optional(), P3: slaTargetOverride.optional(), P4: slaTargetOverride.optional() })
  .transform((overrides, ctx): SlaConfig => {
    const target = (p: Priority): SlaTarget => ({
      respondWithin: overrides[p]?.respondWithin ?? defaultSla[p].respondWithin,
      startWithin: overrides[p]?.startWithin ?? defaultSla[p].startWithin,
      resolveWithin: overrides[p]?.resolveWithin ?? defaultSla[p].resolveWithin,
    })
    const sla = { P1: target('P1'), P2: target('P2'), P3: target('P3'), P4: target('P4') }
    for (const p of priorities) {
      if (sla[p].respondWithin > sla[p].startWithin || sla[p].startWithin > sla[p].resolveWithin) {
        ctx.addIssue({ code: 'custom', path: [p], message: `${p} must be responded to no later than work starts, and work start no later than it is resolved` })
      }
    }
    return sla
  })
