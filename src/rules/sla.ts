// A ticket's three service-level deadlines (respond, start work, resolve) and the instants their warnings fall
// due, counted round the clock or on a business calendar. No I/O: the watcher (src/sla) and the ticket's
// opening and priority change all compute them here.
import { z } from 'zod'
import { calendarDate } from '../calendar.js'
import { defaultSla, type Priority, type SlaConfig } from './priority.js'

export const deadlineKinds = ['respond', 'start', 'resolve'] as const
export type DeadlineKind = (typeof deadlineKinds)[number]

const hhmm = /^([01]\d|2[0-3]):([0-5]\d)$/
const minutesOf = (text: string) => {
  const [, h, m] = hhmm.exec(text)!
  return Number(h) * 60 + Number(m)
}

/**
 * Working hours on working days, in the configured time zone, e.g. 004's 工作日:
 * `{"hours":"09:00-18:00","days":[1,2,3,4,5],"holidays":["2026-10-01"]}` (days: 1 Monday … 7 Sunday).
 */
export const businessCalendarSchema = z
  .strictObject({
    hours: z.string().regex(/^\d\d:\d\d-\d\d:\d\d$/, 'expected working hours such as "09:00-18:00"'),
    days: z.array(z.number().int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5]),
    holidays: z.array(z.iso.date()).max(1000).default([]),
  })
  .transform((c, ctx) => {
    const [from, to] = c.hours.split('-') as [string, string]
    if (!hhmm.test(from) || !hhmm.test(to) || minutesOf(from) >= minutesOf(to)) {
      ctx.addIssue({ code: 'custom', path: ['hours'], message: 'expected opening before closing, within one day, such as "09:00-18:00"' })
      return z.NEVER
    }
    return { opensMs: minutesOf(from) * 60_000, closesMs: minutesOf(to) * 60_000, days: new Set(c.days), holidays: new Set(c.holidays) }
  })
export type BusinessCalendar = z.output<typeof businessCalendarSchema>

/** How breaches escalate: a history entry for the supervisor, the priority raised one level, or neither. */
export const escalations = ['supervisor', 'priority', 'none'] as const
export type Escalation = (typeof escalations)[number]

export interface SlaPolicy {
  sla: SlaConfig
  /** the fraction of the allowed time after which a deadline is at risk and warned of (001, 004: 预警) */
  warnAt: number
  /** absent: round the clock */
  calendar?: BusinessCalendar
  timeZone: string
  escalation: Escalation
}

/** Round the clock, warned at 80 % (issue 11's default), breaches for the supervisor. */
export const defaultSlaPolicy = (sla: SlaConfig = defaultSla): SlaPolicy => ({ sla, warnAt: 0.8, timeZone: 'UTC', escalation: 'supervisor' })

/** Each deadline (`respondBy`…) and the instant its warning is due (`respondWarnAt`…), epoch ms. */
export type SlaDeadlines = Record<`${DeadlineKind}${'By' | 'WarnAt'}`, number>

const DAY_MS = 86_400_000
const weekday = new Map(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].map((d, i) => [d, i + 1]))
const clockFormatters = new Map<string, Intl.DateTimeFormat>()

/** The local weekday and time of day of an instant. */
function localTime(t: number, timeZone: string): { weekday: number; msOfDay: number } {
  let f = clockFormatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en', { timeZone, weekday: 'short', hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23' })
    clockFormatters.set(timeZone, f)
  }
  const parts = f.formatToParts(t)
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '0'
  const msOfDay = ((Number(part('hour')) * 60 + Number(part('minute'))) * 60 + Number(part('second'))) * 1000 + (t % 1000)
  return { weekday: weekday.get(part('weekday'))!, msOfDay }
}

/**
 * The instant `ms` of working time after `start`: time outside working hours, on other days and on holidays does
 * not count. A day is taken to keep one UTC offset over its working hours (a DST change at night is fine).
 */
export function addWorkingTime(start: number, ms: number, calendar: BusinessCalendar, timeZone: string): number {
  let t = start
  let left = ms
  // Each turn reaches the next opening or uses a day's hours, at most three a day: bounded by the weeks `ms` of
  // working time takes, and the holidays in between.
  const weeks = Math.ceil(ms / (calendar.days.size * (calendar.closesMs - calendar.opensMs))) + 1
  for (let turn = 0; turn < 3 * (7 * weeks + calendar.holidays.size); turn++) {
    const { weekday, msOfDay } = localTime(t, timeZone)
    const working = calendar.days.has(weekday) && !calendar.holidays.has(calendarDate(t, timeZone))
    // after hours or a day off: on to the next local midnight
    if (!working || msOfDay >= calendar.closesMs) t += DAY_MS - msOfDay
    else if (msOfDay < calendar.opensMs) t += calendar.opensMs - msOfDay
    else {
      const open = calendar.closesMs - msOfDay
      if (left <= open) return t + left
      left -= open
      t += open
    }
  }
  throw new RangeError('the business calendar has no working time left in reach')
}

/** The deadlines of a ticket of `priority` opened at `openedAt`, moved on by the time it was paused. */
export function slaDeadlines(priority: Priority, openedAt: number, policy: SlaPolicy, pausedMs = 0): SlaDeadlines {
  const target = policy.sla[priority]
  const after = (ms: number) =>
    (policy.calendar ? addWorkingTime(openedAt, Math.round(ms), policy.calendar, policy.timeZone) : openedAt + Math.round(ms)) + pausedMs
  const within = { respond: target.respondWithin, start: target.startWithin, resolve: target.resolveWithin }
  const deadlines = {} as SlaDeadlines
  for (const kind of deadlineKinds) {
    deadlines[`${kind}By`] = after(within[kind])
    deadlines[`${kind}WarnAt`] = after(within[kind] * policy.warnAt)
  }
  return deadlines
}
