// Calendar days, one implementation for warranty terms, service schedules and ticket numbers: dates are
// YYYY-MM-DD strings (they compare as strings), instants become a day in a named time zone.

const isoDate = /^(\d{4})-(\d{2})-(\d{2})$/
const DAY_MS = 86_400_000
const pad = (n: number, width = 2) => String(n).padStart(width, '0')
const format = (year: number, month: number, day: number) => `${pad(year, 4)}-${pad(month)}-${pad(day)}`

/** month 1–12 */
const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate()

/** The parts of a YYYY-MM-DD date; a RangeError for anything else, 2025-02-29 included. */
export function parseDate(text: string): { year: number; month: number; day: number } {
  const match = isoDate.exec(text)
  if (match) {
    const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
    if (month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)) return { year, month, day }
  }
  throw new RangeError(`not a date (YYYY-MM-DD): ${text}`)
}

/** The same day `months` later, or the month's last day if it is shorter: Jan 31 + 1 month is Feb 28 (29). */
export function addMonths(date: string, months: number): string {
  const { year, month, day } = parseDate(date)
  const index = year * 12 + (month - 1) + months
  const [y, m] = [Math.floor(index / 12), (index % 12) + 1]
  return format(y, m, Math.min(day, daysInMonth(y, m)))
}

/** The calendar date `days` later (earlier if negative), e.g. addDays('2024-02-28', 2) is '2024-03-01'. */
export function addDays(date: string, days: number): string {
  const { year, month, day } = parseDate(date)
  return new Date(Date.UTC(year, month - 1, day) + days * DAY_MS).toISOString().slice(0, 10)
}

/** MM-DD in a year; a day the month lacks (02-29 in a common year, 04-31) becomes the month's last day. */
export function dayInYear(year: number, monthDay: string): string {
  const [month, day] = monthDay.split('-').map(Number) as [number, number]
  return format(year, month, Math.min(day, daysInMonth(year, month)))
}

/** One formatter per time zone: building one costs ~0.6 ms, and every ticket needs a date or two. */
const formatters = new Map<string, Intl.DateTimeFormat>()
const formatterFor = (timeZone: string) => {
  let formatter = formatters.get(timeZone)
  if (!formatter) formatters.set(timeZone, (formatter = new Intl.DateTimeFormat('en', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' })))
  return formatter
}

/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function calendarDate(epochMs: number, timeZone = 'UTC'): string {
  const parts = formatterFor(timeZone).formatToParts(epochMs)
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value)
  return format(part('year'), part('month'), part('day'))
}

/** Whether `timeZone` is an IANA zone this runtime knows (UTC, Asia/Shanghai): settings and devices are checked with it. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone)
    return true
  } catch {
    return false
  }
}

const clockFormatters = new Map<string, Intl.DateTimeFormat>()
/** How far a time zone's wall clock is ahead of UTC at an instant, in ms (Asia/Shanghai: 8 h). */
function offsetAt(epochMs: number, timeZone: string): number {
  let formatter = clockFormatters.get(timeZone)
  if (!formatter) {
    const fields = { year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' } as const
    clockFormatters.set(timeZone, (formatter = new Intl.DateTimeFormat('en', { timeZone, hourCycle: 'h23', ...fields })))
  }
  const parts = formatter.formatToParts(epochMs)
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value)
  const wall = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'))
  return wall - Math.floor(epochMs / 1000) * 1000
}

/** The instant a calendar date begins in a time zone: its local midnight (reports' periods, issue 12). */
export function startOfDay(date: string, timeZone = 'UTC'): number {
  const { year, month, day } = parseDate(date)
  const midnight = Date.UTC(year, month - 1, day)
  // The offset at midnight UTC may differ from the one at local midnight (a change of summer time between the two):
  // the second step reads it where the day really begins.
  return midnight - offsetAt(midnight - offsetAt(midnight, timeZone), timeZone)
}

/** The ISO weekday of a date: 1 Monday … 7 Sunday. */
export function isoWeekday(date: string): number {
  const { year, month, day } = parseDate(date)
  return ((new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7) + 1
}
