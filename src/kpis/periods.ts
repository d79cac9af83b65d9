// The periods of the daily, weekly and monthly reports (002 五: 系统每日/每周/每月自动服务报表), as calendar days in the
// deployment's time zone (FAULTLINE_TIME_ZONE): a day from its local midnight, a week from Monday (ISO 8601), a
// month from its first.
import { addDays, addMonths, isoWeekday, startOfDay } from '../calendar.js'

export const periods = ['daily', 'weekly', 'monthly'] as const
export type Period = (typeof periods)[number]

/** The period of that kind holding `date` (YYYY-MM-DD): its first day, and the first day after it. */
export function periodDays(period: Period, date: string): { first: string; next: string } {
  if (period === 'daily') return { first: date, next: addDays(date, 1) }
  if (period === 'weekly') {
    const first = addDays(date, 1 - isoWeekday(date))
    return { first, next: addDays(first, 7) }
  }
  const first = `${date.slice(0, 7)}-01`
  return { first, next: addMonths(first, 1) }
}

/** The period as instants, [from, to), epoch ms. */
export function periodRange(period: Period, date: string, timeZone: string): { from: number; to: number } {
  const { first, next } = periodDays(period, date)
  return { from: startOfDay(first, timeZone), to: startOfDay(next, timeZone) }
}
