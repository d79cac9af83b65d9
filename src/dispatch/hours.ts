// A technician's working hours and leave, in their own time zone: are they on shift, and when can they start.
// Pure: instants in, instants out (001: 根据维修人员的忙闲状态动态调整分配策略).
import { addDays, calendarDate } from '../calendar.js'

export interface WorkingHours {
  /** IANA time zone the hours are written in */
  timeZone: string
  /** ISO weekdays, 1 Monday … 7 Sunday */
  days: number[]
  /** HH:MM, local; the shift ends before `to`, on the same day */
  from: string
  to: string
}

export interface Leave {
  /** YYYY-MM-DD in the technician's time zone, both included */
  from: string
  to: string
}

const MINUTE = 60_000
/** How far ahead a next shift is looked for. */
const HORIZON_DAYS = 8

const formatters = new Map<string, Intl.DateTimeFormat>()
function localParts(epochMs: number, timeZone: string) {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' })
    formatters.set(timeZone, f)
  }
  const parts = f.formatToParts(epochMs)
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value)
  return { year: part('year'), month: part('month'), day: part('day'), hour: part('hour'), minute: part('minute') }
}

/** The zone's offset from UTC at an instant, in ms (local wall time minus UTC). */
function offsetAt(epochMs: number, timeZone: string): number {
  const p = localParts(epochMs, timeZone)
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - Math.floor(epochMs / MINUTE) * MINUTE
}

/** The instant a local date and HH:MM name in a zone (across a DST change, the offset in force then). */
function zonedInstant(date: string, time: string, timeZone: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const [hh, mm] = time.split(':').map(Number) as [number, number]
  const wall = Date.UTC(y, m - 1, d, hh, mm)
  const guess = wall - offsetAt(wall, timeZone)
  return wall - offsetAt(guess, timeZone)
}

/** ISO weekday (1 Monday … 7 Sunday) of a YYYY-MM-DD date. */
const isoWeekday = (date: string) => ((new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7) + 1

export const isValidTimeZone = (timeZone: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone })
    return true
  } catch {
    return false
  }
}

export function onLeaveOn(date: string, leave: readonly Leave[], flag: boolean): boolean {
  return flag || leave.some((l) => l.from <= date && date <= l.to)
}

export interface Availability {
  onShift: boolean
  onLeave: boolean
  /** when they can start work: `now` on shift, else the next shift on a day without leave; undefined: none within a week */
  availableAt: number | undefined
}

export function availability(hours: WorkingHours, leave: readonly Leave[], onLeaveFlag: boolean, now: number): Availability {
  const today = calendarDate(now, hours.timeZone)
  const onLeave = onLeaveOn(today, leave, onLeaveFlag)
  let onShift = false
  let availableAt: number | undefined
  for (let d = 0; d < HORIZON_DAYS && availableAt === undefined; d++) {
    const date = addDays(today, d)
    if (!hours.days.includes(isoWeekday(date)) || onLeaveOn(date, leave, onLeaveFlag)) continue
    const start = zonedInstant(date, hours.from, hours.timeZone)
    const end = zonedInstant(date, hours.to, hours.timeZone)
    if (start <= now && now < end) {
      onShift = true
      availableAt = now
    } else if (start > now) availableAt = start
  }
  return { onShift, onLeave, availableAt }
}
