// When a service plan's next occurrence falls due, and whether its ticket should be open now. Pure: the plan,
// the device's service history, its usage counter and the current time are passed in.
//
// There is only ever one outstanding occurrence per device and plan: the next one counts from the last service
// (or, for a seasonal plan, is the first window not yet past and not yet serviced). After a long downtime that
// is the occurrence that fell due meanwhile, open at once, never a backlog of past ones. The occurrence string is
// stable for a given history, so it can key "exactly one ticket per device, plan and occurrence".
import { z } from 'zod'
import type { ServicePlan } from '../catalog/index.js'
import { addDays, calendarDate, dayInYear, parseDate } from '../calendar.js'
import { usageRate, type UsageCounter } from './usage.js'

export interface ServiceHistory {
  /** epoch ms */
  lastServiceAt?: number
  /** the usage total at that service */
  lastServiceUsage?: number
}

export interface DueInput {
  plan: ServicePlan
  /** YYYY-MM-DD; installation date, else purchase date: the calendar's starting point */
  installedAt: string
  history: ServiceHistory
  /** the device's usage counter for usage plans (the plan's counter), if any reading arrived */
  usage?: UsageCounter
  now: number
  timeZone: string
}

export const due = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.enum(['calendar', 'seasonal']),
    occurrence: z.string(),
    /** YYYY-MM-DD: a calendar plan's due day; a seasonal plan's window start */
    dueDate: z.string(),
    /** YYYY-MM-DD: dueDate − leadDays, the day the ticket opens */
    opensOn: z.string(),
    open: z.boolean(),
    /** seasonal only: the window's last day (YYYY-MM-DD), the visit's deadline */
    windowEnds: z.string().optional(),
  }),
  z.strictObject({
    kind: z.literal('usage'),
    occurrence: z.string(),
    dueUsage: z.number(),
    current: z.number().optional(),
    open: z.boolean(),
    /** YYYY-MM-DD, projected at the average usage rate, when the rate is known and the usage not yet reached */
    projectedDue: z.string().optional(),
  }),
])
export type Due = z.infer<typeof due>

const later = (a: string, b: string | undefined) => (b !== undefined && b > a ? b : a)

export function nextDue(input: DueInput): Due | undefined {
  const { plan, installedAt, history, usage, now, timeZone } = input
  parseDate(installedAt)
  const today = calendarDate(now, timeZone)
  const lastServiceDay = history.lastServiceAt === undefined ? undefined : calendarDate(history.lastServiceAt, timeZone)
  const schedule = plan.schedule

  switch (schedule.kind) {
    case 'calendar': {
      // Counted from the later of installation and the last service, in calendar days of the device's zone.
      const dueDate = addDays(later(installedAt, lastServiceDay), schedule.everyDays)
      const opensOn = addDays(dueDate, -plan.leadDays)
      return { kind: 'calendar', occurrence: `due:${dueDate}`, dueDate, opensOn, open: today >= opensOn }
    }

    case 'seasonal': {
      // The window of year Y runs from `from` in Y to `to` in Y, or in Y + 1 if it crosses the new year
      // (from 11-01 to 02-28). A service, or the installation, on or after a window's opening day (from − leadDays)
      // settles that window. The occurrence is the first window that is neither past nor settled: a window
      // missed entirely while Faultline was down is skipped, not owed.
      const settledFrom = later(installedAt, lastServiceDay)
      const crosses = schedule.from > schedule.to
      const startYear = Number(today.slice(0, 4)) - 1
      const lastYear = Math.max(startYear + 2, Number(settledFrom.slice(0, 4)) + 2)
      for (let year = startYear; year <= lastYear; year++) {
        const dueDate = dayInYear(year, schedule.from)
        const windowEnds = dayInYear(crosses ? year + 1 : year, schedule.to)
        const opensOn = addDays(dueDate, -plan.leadDays)
        if (windowEnds < today || settledFrom >= opensOn) continue
        return { kind: 'seasonal', occurrence: `season:${year}`, dueDate, opensOn, open: today >= opensOn, windowEnds }
      }
      return undefined
    }

    case 'usage': {
      // Counted from the usage total at the last service; counters count from 0 at installation.
      const dueUsage = (history.lastServiceUsage ?? 0) + schedule.every
      const occurrence = `usage:${dueUsage}`
      if (usage === undefined) return { kind: 'usage', occurrence, dueUsage, open: false }
      const current = usage.total
      if (current >= dueUsage) return { kind: 'usage', occurrence, dueUsage, current, open: true }
      // Projected from the last reading at the average rate; it opens leadDays before the projected day.
      const rate = usageRate(usage)
      if (rate === undefined) return { kind: 'usage', occurrence, dueUsage, current, open: false }
      const projectedDue = calendarDate(usage.lastAt + (dueUsage - current) / rate, timeZone)
      return { kind: 'usage', occurrence, dueUsage, current, open: today >= addDays(projectedDue, -plan.leadDays), projectedDue }
    }
  }
}

/**
 * What resolving a plan's maintenance ticket records: the service time, from which a calendar plan's next
 * interval runs, and for a usage plan the counter's total then, from which its next interval runs.
 */
export function serviceRecorded(plan: ServicePlan, at: number, usage?: UsageCounter): ServiceHistory {
  if (plan.schedule.kind === 'usage' && usage !== undefined) return { lastServiceAt: at, lastServiceUsage: usage.total }
  return { lastServiceAt: at }
}
