// The pure scheduling behind maintenance tickets: usage counters made trustworthy, and when each plan falls due.
import { describe, expect, it } from 'vitest'
import { addDays } from '../src/calendar.js'
import type { ServicePlan } from '../src/catalog/index.js'
import { accumulate, nextDue, serviceRecorded, usageLimitsFor, usageRate, type DueInput, type Reading, type UsageCounter } from '../src/maintenance/index.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR
/** an instant, from an ISO text with zone, e.g. "2025-03-17T16:30:00Z" */
const at = (iso: string) => Date.parse(iso)
/** noon UTC on a calendar day */
const noon = (date: string) => at(`${date}T12:00:00Z`)

const plan = (schedule: ServicePlan['schedule'], leadDays = 0): ServicePlan => ({
  id: 'plan',
  title: 'A plan',
  schedule,
  leadDays,
  tasks: ['Do the thing'],
  parts: [],
  labourHours: 1,
})

const annual = plan({ kind: 'calendar', everyDays: 365 }, 14)
const preSeason = plan({ kind: 'seasonal', from: '04-01', to: '05-31' }, 14)
const hours1000 = plan({ kind: 'usage', counter: 'run_hours', every: 1000 }, 0)
const hoursLimits = usageLimitsFor('run_hours')

const due = (input: Partial<DueInput> & Pick<DueInput, 'plan' | 'now'>) => nextDue({ installedAt: '2024-03-15', history: {}, timeZone: 'UTC', ...input })

/** feeds readings in order, returning the counter and each outcome */
function feed(readings: Reading[], counter?: UsageCounter, limits = hoursLimits) {
  const outcomes: string[] = []
  let current = counter
  for (const reading of readings) {
    const result = accumulate(current, reading, limits)
    current = result.counter
    outcomes.push(result.outcome)
  }
  return { counter: current, outcomes }
}

describe('addDays', () => {
  it('adds calendar days across months, leap days and years, and refuses non-dates', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29')
    expect(addDays('2023-02-28', 1)).toBe('2023-03-01')
    expect(addDays('2024-12-31', 1)).toBe('2025-01-01')
    expect(addDays('2025-04-01', -14)).toBe('2025-03-18')
    expect(() => addDays('2025-02-29', 1)).toThrow(RangeError)
    expect(() => addDays('1/2/2025', 1)).toThrow(RangeError)
  })
})

describe('calendar plans', () => {
  it('fall due everyDays after installation when never serviced', () => {
    expect(due({ plan: annual, now: noon('2024-06-01') })).toEqual({
      kind: 'calendar',
      occurrence: 'due:2025-03-15',
      dueDate: '2025-03-15',
      opensOn: '2025-03-01',
      open: false,
    })
  })

  it('fall due everyDays after the day of the last service, in the device time zone', () => {
    const history = { lastServiceAt: at('2025-03-10T20:00:00Z') }
    expect(due({ plan: annual, history, now: noon('2025-04-01') })).toMatchObject({ occurrence: 'due:2026-03-10', dueDate: '2026-03-10' })
    // 20:00 UTC is already the 11th in Shanghai
    expect(due({ plan: annual, history, now: noon('2025-04-01'), timeZone: 'Asia/Shanghai' })).toMatchObject({ dueDate: '2026-03-11' })
  })

  it('open on opensOn (due − leadDays), not the day before, judged by the local day', () => {
    // opensOn 2025-03-01 in Shanghai: 2025-02-28T16:00Z is midnight there
    const before = due({ plan: annual, now: at('2025-02-28T15:59:59Z'), timeZone: 'Asia/Shanghai' })
    const on = due({ plan: annual, now: at('2025-02-28T16:00:00Z'), timeZone: 'Asia/Shanghai' })
    expect(before).toMatchObject({ opensOn: '2025-03-01', open: false })
    expect(on).toMatchObject({ opensOn: '2025-03-01', open: true })
    // the same instant in UTC is still the 28th
    expect(due({ plan: annual, now: at('2025-02-28T16:00:00Z') })).toMatchObject({ open: false })
    expect(due({ plan: annual, now: noon('2025-02-28') })).toMatchObject({ open: false })
    expect(due({ plan: annual, now: noon('2025-03-01') })).toMatchObject({ open: true })
  })

  it('stay open past the due day until serviced', () => {
    expect(due({ plan: annual, now: noon('2025-05-01') })).toMatchObject({ occurrence: 'due:2025-03-15', open: true })
  })

  it('after a long downtime: the one occurrence that fell due, open, the same whenever asked', () => {
    const quarterly = plan({ kind: 'calendar', everyDays: 90 }, 7)
    const history = { lastServiceAt: noon('2021-01-01') }
    const expected = { occurrence: 'due:2021-04-01', dueDate: '2021-04-01', open: true }
    const installedAt = '2020-06-01'
    expect(due({ plan: quarterly, installedAt, history, now: noon('2021-05-01') })).toMatchObject(expected)
    expect(due({ plan: quarterly, installedAt, history, now: noon('2025-09-30') })).toMatchObject(expected)
  })

  it('start the next interval from the recorded service', () => {
    const before = due({ plan: annual, now: noon('2025-03-20') })
    expect(before).toMatchObject({ occurrence: 'due:2025-03-15', open: true })
    const history = serviceRecorded(annual, noon('2025-03-20'))
    expect(history).toEqual({ lastServiceAt: noon('2025-03-20') })
    expect(due({ plan: annual, history, now: noon('2025-03-21') })).toMatchObject({ occurrence: 'due:2026-03-20', opensOn: '2026-03-06', open: false })
  })
})

describe('seasonal plans', () => {
  it('before the lead window: this year, not open', () => {
    expect(due({ plan: preSeason, now: noon('2025-03-01') })).toEqual({
      kind: 'seasonal',
      occurrence: 'season:2025',
      dueDate: '2025-04-01',
      opensOn: '2025-03-18',
      open: false,
      windowEnds: '2025-05-31',
    })
  })

  it('open from opensOn (from − leadDays) through the last day of the window', () => {
    expect(due({ plan: preSeason, now: noon('2025-03-17') })).toMatchObject({ occurrence: 'season:2025', open: false })
    expect(due({ plan: preSeason, now: noon('2025-03-18') })).toMatchObject({ occurrence: 'season:2025', open: true })
    expect(due({ plan: preSeason, now: noon('2025-04-20') })).toMatchObject({ occurrence: 'season:2025', open: true })
    expect(due({ plan: preSeason, now: noon('2025-05-31') })).toMatchObject({ occurrence: 'season:2025', open: true })
  })

  it('serviced this season (within the lead window or the window): next year, not open', () => {
    for (const serviced of ['2025-03-18', '2025-04-10']) {
      const history = serviceRecorded(preSeason, noon(serviced))
      expect(due({ plan: preSeason, history, now: noon('2025-04-20') })).toMatchObject({
        occurrence: 'season:2026',
        dueDate: '2026-04-01',
        opensOn: '2026-03-18',
        open: false,
      })
    }
  })

  it('a service before this season’s lead window does not count for it', () => {
    const history = { lastServiceAt: noon('2025-03-17') }
    expect(due({ plan: preSeason, history, now: noon('2025-04-20') })).toMatchObject({ occurrence: 'season:2025', open: true })
  })

  it('a window missed entirely (Faultline down through it) is skipped: next year, no backlog', () => {
    const history = { lastServiceAt: noon('2024-04-05') }
    expect(due({ plan: preSeason, history, now: noon('2025-07-01') })).toMatchObject({ occurrence: 'season:2026', open: false })
    expect(due({ plan: preSeason, now: noon('2025-06-01') })).toMatchObject({ occurrence: 'season:2026', open: false })
  })

  it('installation on or after the window opened settles that window', () => {
    expect(due({ plan: preSeason, installedAt: '2025-04-20', now: noon('2025-04-25') })).toMatchObject({ occurrence: 'season:2026', open: false })
    expect(due({ plan: preSeason, installedAt: '2025-03-01', now: noon('2025-04-25') })).toMatchObject({ occurrence: 'season:2025', open: true })
  })

  it('takes the day in the device time zone, at both ends of the window', () => {
    const shanghaiMidnight = at('2025-03-17T16:30:00Z') // 00:30 on 03-18 in Shanghai, still 03-17 in UTC
    expect(due({ plan: preSeason, now: shanghaiMidnight })).toMatchObject({ occurrence: 'season:2025', open: false })
    expect(due({ plan: preSeason, now: shanghaiMidnight, timeZone: 'Asia/Shanghai' })).toMatchObject({ occurrence: 'season:2025', open: true })

    const afterWindowInShanghai = at('2025-05-31T16:30:00Z') // 06-01 in Shanghai, 05-31 in UTC
    expect(due({ plan: preSeason, now: afterWindowInShanghai })).toMatchObject({ occurrence: 'season:2025', open: true })
    expect(due({ plan: preSeason, now: afterWindowInShanghai, timeZone: 'Asia/Shanghai' })).toMatchObject({ occurrence: 'season:2026', open: false })
  })

  it('a window crossing the new year belongs to the year it starts in', () => {
    const winter = plan({ kind: 'seasonal', from: '11-01', to: '02-28' }, 0)
    expect(due({ plan: winter, now: noon('2026-01-15') })).toMatchObject({
      occurrence: 'season:2025',
      dueDate: '2025-11-01',
      windowEnds: '2026-02-28',
      open: true,
    })
    expect(due({ plan: winter, now: noon('2026-03-01') })).toMatchObject({ occurrence: 'season:2026', dueDate: '2026-11-01', open: false })
    expect(due({ plan: winter, history: { lastServiceAt: noon('2025-11-05') }, now: noon('2026-01-15') })).toMatchObject({
      occurrence: 'season:2026',
      open: false,
    })
    expect(due({ plan: winter, now: noon('2025-10-31') })).toMatchObject({ occurrence: 'season:2025', open: false })
  })

  it('a day the month lacks becomes its last day (02-29 in a common year)', () => {
    const february = plan({ kind: 'seasonal', from: '02-01', to: '02-29' }, 0)
    expect(due({ plan: february, now: noon('2025-02-28') })).toMatchObject({ occurrence: 'season:2025', windowEnds: '2025-02-28', open: true })
    expect(due({ plan: february, now: noon('2028-02-29') })).toMatchObject({ occurrence: 'season:2028', windowEnds: '2028-02-29', open: true })
  })
})

describe('usage counters', () => {
  const t0 = noon('2025-01-01')

  it('take the first reading as the usage since installation', () => {
    const { counter, outcome } = accumulate(undefined, { raw: 420, at: t0 }, hoursLimits)
    expect(outcome).toBe('first')
    expect(counter).toEqual({ total: 420, lastRaw: 420, lastAt: t0, sinceTotal: 420, sinceAt: t0, resets: 0 })
  })

  it('advance with plausible increases, and count whole-unit steps that arrive close together', () => {
    const { counter, outcomes } = feed([
      { raw: 100, at: t0 },
      { raw: 100, at: t0 + 59 * 60_000 },
      { raw: 101, at: t0 + 60 * 60_000 }, // an integer hours counter ticking over
      { raw: 103, at: t0 + 3 * HOUR },
    ])
    expect(outcomes).toEqual(['first', 'unchanged', 'advanced', 'advanced'])
    expect(counter).toMatchObject({ total: 103, lastRaw: 103, lastAt: t0 + 3 * HOUR })
  })

  it('ignore late and duplicate readings (device time at or before the last accepted)', () => {
    const { counter, outcomes } = feed([
      { raw: 100, at: t0 },
      { raw: 102, at: t0 + 2 * HOUR },
      { raw: 102, at: t0 + 2 * HOUR },
      { raw: 101, at: t0 + HOUR },
    ])
    expect(outcomes).toEqual(['first', 'advanced', 'ignored_late', 'ignored_late'])
    expect(counter).toMatchObject({ total: 102, lastRaw: 102, lastAt: t0 + 2 * HOUR, resets: 0 })
  })

  it('ignore negative and non-finite readings, even as the first', () => {
    expect(accumulate(undefined, { raw: -1, at: t0 })).toEqual({ counter: undefined, outcome: 'ignored_implausible' })
    const { counter, outcomes } = feed([
      { raw: 10, at: t0 },
      { raw: Number.NaN, at: t0 + HOUR },
      { raw: Number.POSITIVE_INFINITY, at: t0 + 2 * HOUR },
      { raw: -3, at: t0 + 3 * HOUR },
      { raw: 11, at: Number.NaN },
    ])
    expect(outcomes).toEqual(['first', 'ignored_implausible', 'ignored_implausible', 'ignored_implausible', 'ignored_implausible'])
    expect(counter).toMatchObject({ total: 10, lastRaw: 10, lastAt: t0 })
  })

  it('ignore a jump faster than the counter can count, and dismiss it when the counter carries on as before', () => {
    const { counter, outcomes } = feed([
      { raw: 100, at: t0 },
      { raw: 5000, at: t0 + HOUR }, // 4900 hours in an hour
      { raw: 102, at: t0 + 2 * HOUR },
    ])
    expect(outcomes).toEqual(['first', 'ignored_implausible', 'advanced'])
    expect(counter).toMatchObject({ total: 102, lastRaw: 102, resets: 0 })
    expect(counter?.pending).toBeUndefined()
  })

  it('after a jump that persists, count on from it without counting the jump itself', () => {
    const { counter, outcomes } = feed([
      { raw: 100, at: t0 },
      { raw: 5000, at: t0 + HOUR },
      { raw: 5001, at: t0 + 2 * HOUR },
      { raw: 5003, at: t0 + 4 * HOUR },
    ])
    expect(outcomes).toEqual(['first', 'ignored_implausible', 'reset', 'advanced'])
    // 100, then +1 (5000 → 5001) and +2 (5001 → 5003): the 4900 jump is not counted
    expect(counter).toMatchObject({ total: 103, lastRaw: 5003, resets: 1 })
  })

  it('limit by counter: an hours counter counts at most 1 an hour, others get a generous ceiling', () => {
    expect(usageLimitsFor('run_hours')).toEqual({ maxPerHour: 1, slack: 1 })
    expect(usageLimitsFor('runtime_h').maxPerHour).toBe(1)
    expect(usageLimitsFor('wash_cycles').maxPerHour).toBe(3600)
    const cycles = feed(
      [
        { raw: 10, at: t0 },
        { raw: 14, at: t0 + HOUR },
      ],
      undefined,
      usageLimitsFor('wash_cycles'),
    )
    expect(cycles.outcomes).toEqual(['first', 'advanced'])
    const hours = feed([
      { raw: 10, at: t0 },
      { raw: 14, at: t0 + HOUR },
    ])
    expect(hours.outcomes).toEqual(['first', 'ignored_implausible'])
  })

  it('keep the count across a reset (a replaced controller starting from about 0)', () => {
    const { counter, outcomes } = feed([
      { raw: 0, at: t0 },
      { raw: 950, at: t0 + 1000 * HOUR },
      { raw: 5, at: t0 + 1010 * HOUR }, // new controller, 5 hours since it was fitted
      { raw: 60, at: t0 + 1070 * HOUR },
    ])
    expect(outcomes).toEqual(['first', 'advanced', 'reset', 'advanced'])
    expect(counter).toMatchObject({ total: 1010, lastRaw: 60, resets: 1 })
    expect(nextDue({ plan: hours1000, installedAt: '2025-01-01', history: {}, usage: counter, now: t0 + 1070 * HOUR, timeZone: 'UTC' })).toMatchObject({
      kind: 'usage',
      occurrence: 'usage:1000',
      dueUsage: 1000,
      current: 1010,
      open: true,
    })
  })

  it('on a reset to a value the new controller cannot have counted since the last reading, count on from it without adding it', () => {
    const { counter, outcomes } = feed([
      { raw: 950, at: t0 },
      { raw: 300, at: t0 + 2 * HOUR }, // a used controller
      { raw: 301, at: t0 + 3 * HOUR },
    ])
    expect(outcomes).toEqual(['first', 'reset', 'advanced'])
    expect(counter).toMatchObject({ total: 951, lastRaw: 301, resets: 1 })
  })

  it('take a small step back for a glitch, not a reset: nothing is counted twice', () => {
    const { counter, outcomes } = feed([
      { raw: 500, at: t0 },
      { raw: 499, at: t0 + 10 * HOUR }, // lost its last unsaved hour on a power cut
      { raw: 499.5, at: t0 + 10.5 * HOUR },
      { raw: 501, at: t0 + 12 * HOUR },
    ])
    expect(outcomes).toEqual(['first', 'unchanged', 'unchanged', 'advanced'])
    expect(counter).toMatchObject({ total: 501, lastRaw: 501, resets: 0 })
  })

  it('have a usage rate only after an hour of readings with some usage', () => {
    const early = feed([
      { raw: 100, at: t0 },
      { raw: 100.5, at: t0 + 30 * 60_000 },
    ]).counter!
    expect(usageRate(early)).toBeUndefined()
    const idle = feed([
      { raw: 100, at: t0 },
      { raw: 100, at: t0 + 5 * HOUR },
    ]).counter!
    expect(usageRate(idle)).toBeUndefined()
    const busy = feed([
      { raw: 100, at: t0 },
      { raw: 102, at: t0 + 4 * HOUR },
    ]).counter!
    expect(usageRate(busy)).toBeCloseTo(0.5 / HOUR, 15)
  })
})

describe('usage plans', () => {
  const lastAt = noon('2025-06-10')
  /** a counter that has run 12 hours a day for 100 days, standing at `total` at noon on 2025-06-10 */
  const running = (total: number): UsageCounter => ({
    total,
    lastRaw: total,
    lastAt,
    sinceTotal: total - 1200,
    sinceAt: lastAt - 100 * DAY,
    resets: 0,
  })
  const hours2000 = plan({ kind: 'usage', counter: 'run_hours', every: 2000 }, 7)
  const usageDue = (usage: UsageCounter | undefined, history = {}, now = lastAt) =>
    nextDue({ plan: hours2000, installedAt: '2024-01-01', history, usage, now, timeZone: 'UTC' })

  it('without any reading: due at every units, not open, no projection', () => {
    expect(usageDue(undefined)).toEqual({ kind: 'usage', occurrence: 'usage:2000', dueUsage: 2000, open: false })
  })

  it('open once the counter reaches the due usage, counted since installation', () => {
    const plan0 = { ...hours2000, leadDays: 0 }
    const rising = (total: number) => nextDue({ plan: plan0, installedAt: '2024-01-01', history: {}, usage: running(total), now: lastAt, timeZone: 'UTC' })
    expect(rising(1000)).toMatchObject({ current: 1000, open: false })
    // 100 hours short at 12 a day: 2025-06-18; 1 hour short: due today, and open with no lead
    expect(rising(1900)).toMatchObject({ current: 1900, open: false, projectedDue: '2025-06-18' })
    expect(rising(1999)).toMatchObject({ current: 1999, open: true, projectedDue: '2025-06-10' })
    expect(rising(2000)).toMatchObject({ occurrence: 'usage:2000', current: 2000, open: true })
    expect(rising(2600)).toMatchObject({ occurrence: 'usage:2000', current: 2600, open: true })
  })

  it('open leadDays before the day projected at the usage rate', () => {
    // 12 hours a day: 96 hours short is 8 days away, 84 hours short is 7
    expect(usageDue(running(1904))).toMatchObject({ current: 1904, projectedDue: '2025-06-18', open: false })
    expect(usageDue(running(1916))).toMatchObject({ current: 1916, projectedDue: '2025-06-17', open: true })
    // a day later the first is in its lead window too
    expect(usageDue(running(1904), {}, noon('2025-06-11'))).toMatchObject({ projectedDue: '2025-06-18', open: true })
  })

  it('no projection without enough history', () => {
    const fresh: UsageCounter = { total: 1990, lastRaw: 1990, lastAt, sinceTotal: 1990, sinceAt: lastAt - 10 * 60_000, resets: 0 }
    const result = usageDue(fresh)
    expect(result).toMatchObject({ current: 1990, open: false })
    expect(result).not.toHaveProperty('projectedDue')
  })

  it('start the next interval from the usage at the recorded service', () => {
    const counter = running(2050)
    const history = serviceRecorded(hours2000, lastAt, counter)
    expect(history).toEqual({ lastServiceAt: lastAt, lastServiceUsage: 2050 })
    expect(usageDue(counter, history)).toMatchObject({ occurrence: 'usage:4050', dueUsage: 4050, current: 2050, open: false })
    expect(usageDue(running(4050), history)).toMatchObject({ occurrence: 'usage:4050', open: true })
  })

  it('record no usage for a calendar or seasonal plan', () => {
    expect(serviceRecorded(annual, lastAt, running(2050))).toEqual({ lastServiceAt: lastAt })
    expect(serviceRecorded(preSeason, lastAt)).toEqual({ lastServiceAt: lastAt })
  })
})
